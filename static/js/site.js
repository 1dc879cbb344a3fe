// Small enhancements only: every form and link works without this script.
(function () {
  "use strict";

  // Move focus to an error summary, so screen reader and keyboard users hear it first.
  // Wait for "load": a form re-shown at an address ending in #sign or #pledge is
  // scrolled to that section once the page has loaded, and that would take the focus away.
  var summary = document.getElementById("error-summary");
  if (summary) {
    window.addEventListener("load", function () {
      summary.focus();
    });
  }

  // Forms carry the signed time they were shown, as a check against robots. A page a
  // cache kept carries the time it was drawn; ask for the time of this visit instead.
  document.querySelectorAll("input[name='form_started'][data-stamp-url]").forEach(function (field) {
    if (!window.fetch) {
      return;
    }
    fetch(field.getAttribute("data-stamp-url"), { credentials: "omit", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data && data.stamp) {
          field.value = data.stamp;
        }
      })
      .catch(function () {});
  });

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

  // "Share…": the device's own share sheet, where the browser offers one.
  if (navigator.share) {
    document.querySelectorAll("[data-share-url]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.share({
          title: button.getAttribute("data-share-title"),
          text: button.getAttribute("data-share-text"),
          url: button.getAttribute("data-share-url")
        }).catch(function () {
          // Dismissed by the person, or refused by the browser: the links above still work.
        });
      });
    });
  }
})();
