"""What the journey tests share: unique supporters, the counts a visitor reads, the emailed links,
screenshots, and a keyboard walker that checks every focus stop on the way."""

from __future__ import annotations

import re
import uuid

from tests.browser.accessibility import focus_is_visible
from tests.browser.pages import ARTIFACTS

SCREENSHOTS = ARTIFACTS / "screenshots"

#: An open demo campaign with two goals, used by the journeys; the page test counts its
#: neighbour ``alternatives-not-prison``, so the journeys leave that one alone.
CAMPAIGN = "keep-families-connected"
CAMPAIGN_TITLE = "Keep families connected during incarceration"
#: The goals ``CAMPAIGN`` advances, as its sign form offers them.
CAMPAIGN_GOALS = {
    "family-and-community-ties": "Keep families and communities together",
    "conditions-and-reentry": "Improve prison conditions and re-entry",
}
#: A goal no campaign journey pledges to, for the pledge journeys.
GOAL = "public-education"
GOAL_TITLE = "Educate the public, press and policymakers"


def unique_email(who: str) -> str:
    """An address no other test uses, so mail and the one-signature-per-email rule never collide."""
    return f"{who}-{uuid.uuid4().hex[:10]}@example.org"


def unique_first_name(stem: str) -> str:
    """A first name only this test uses (letters only), to find it on the signer wall."""
    letters = "".join(chr(ord("a") + int(ch, 16) % 26) for ch in uuid.uuid4().hex[:6])
    return stem + letters


def signature_count(page) -> int:
    """The confirmed signatures a campaign page shows, read from its progress text."""
    text = page.locator(".progress-text").first.inner_text()
    return int(re.match(r"([\d,]+) signatures", text).group(1).replace(",", ""))


def pledge_count(page) -> int:
    """The confirmed pledges a goal page shows."""
    text = page.locator("#pledge .pledge-count-text").inner_text()
    return int(re.match(r"([\d,]+) confirmed pledge", text).group(1).replace(",", ""))


def wall_names(page) -> list[str]:
    """The first names on a campaign's wall of recent signers."""
    return page.locator(".signer-wall .signer-name").all_inner_texts()


def emailed_link(live_server, to: str, path: str, subject: str) -> str:
    """Wait for the one message to ``to``, check its subject, and return its link under ``path``."""
    (message,) = live_server.wait_for_mail(to=to)
    assert message["Subject"].startswith(subject)
    body = message.get_content()
    found = re.search(re.escape(live_server.url + path) + r"\S+", body)
    assert found, f"no {path} link in the email:\n{body}"
    return found.group(0)


def screenshot(page, name: str) -> None:
    """Save a full-page picture of what the visitor sees to ``test-artifacts/screenshots``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


#: What has the focus: enough to name it in a failure, and whether it is on screen.
FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0
    && box.top < window.innerHeight && box.left < window.innerWidth;
  return {tag: el.tagName.toLowerCase(), id: el.id || null, name: el.getAttribute('name'),
          type: el.getAttribute('type'), value: el.getAttribute('value'),
          href: el.getAttribute('href'), text: (el.innerText || '').trim().slice(0, 80), top: box.top + window.scrollY, onScreen};
}
"""


def focused(page) -> dict | None:
    """A description of the focused element (None when nothing is)."""
    return page.evaluate(FOCUSED_JS)


class KeyboardWalker:
    """Moves the focus with Tab alone, and checks at every stop that it is on screen and visibly marked.

    ``stops`` keeps each element reached, in order, so a test can check the order.
    """

    def __init__(self, page, limit: int = 80):
        self.page = page
        self.limit = limit
        self.stops: list[dict] = []

    def tab(self, backwards: bool = False) -> dict:
        """Press Tab (or Shift+Tab) once; the focus must land somewhere visible, with an indicator."""
        self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
        here = focused(self.page)
        assert here is not None, f"Tab left the focus nowhere after {self.stops[-3:]}"
        assert here["onScreen"], f"the focused element is off screen: {here}"
        assert focus_is_visible(self.page), f"no visible focus indicator on {here}"
        self.stops.append(here)
        return here

    def tab_to(self, matches) -> dict:
        """Tab until ``matches(focused)`` is true, checking every stop on the way; returns that element."""
        for _ in range(self.limit):
            here = self.tab()
            if matches(here):
                return here
        raise AssertionError(f"Tab never reached the element; stops were: {self.stops[-self.limit:]}")
