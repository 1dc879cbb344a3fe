"""The home page with the keyboard alone: the skip link, then every link in order, always visibly focused."""

from __future__ import annotations

import pytest

from tests.browser.accessibility import focus_is_visible
from tests.browser.pages import goal_slugs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAIN_NAV = ["/campaigns", "/#goals", "/about", "/contact"]

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  return {tag: el.tagName.toLowerCase(), id: el.id, href: el.getAttribute('href'),
          text: el.textContent.trim(), inNav: Boolean(el.closest('nav.main-nav'))};
}
"""


def test_first_tab_shows_the_skip_link_and_enter_moves_to_main(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED_JS)
    assert focused["href"] == "#main" and focused["text"] == "Skip to main content"

    skip = page.locator("a.skip-link")
    box = skip.bounding_box()
    assert box is not None and box["y"] >= 0 and box["height"] > 0, f"skip link is off screen: {box}"
    assert skip.is_visible()
    assert focus_is_visible(page)

    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'", timeout=2000)
    # The next Tab goes on from the main content, past the header.
    page.keyboard.press("Tab")
    after = page.evaluate(FOCUSED_JS)
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), after


def test_tabbing_through_the_home_page_reaches_the_nav_and_every_goal_visibly(page):
    page.goto("/")
    reached = []
    not_visible = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        if focused is None or (reached and focused == reached[0]):
            break  # back to the start of the page
        reached.append(focused)
        if not focus_is_visible(page):
            not_visible.append(focused)

    hrefs = [item["href"] for item in reached]
    nav_hrefs = [item["href"] for item in reached if item["inNav"]]
    assert nav_hrefs == MAIN_NAV
    for slug in goal_slugs():
        assert f"/goals/{slug}" in hrefs, f"goal {slug} not reachable with Tab"
    # Document order: skip link, then the header, then the goals in the main content.
    assert hrefs[0] == "#main"
    assert hrefs.index("/contact") < hrefs.index(f"/goals/{goal_slugs()[0]}")
    assert not_visible == [], f"no visible focus indicator on: {not_visible}"
