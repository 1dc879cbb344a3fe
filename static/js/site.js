// Small enhancements only: every form and link works without this script.
(function () {
  "use strict";

  // Move focus to an error summary, so screen reader and keyboard users hear it first.
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }

  // "Copy link" buttons: copy the address they carry.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.getAttribute("data-copy");
      var done = button.getAttribute("data-copied") || "Copied";
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () {
          button.textContent = done;
        });
      }
    });
  });
})();
