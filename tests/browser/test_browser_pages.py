"""Every public page in a real browser, on a phone and on a desktop: accessible, no sideways scroll.

Each visit also saves a full-page screenshot to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import pytest

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.pages import ARTIFACTS, DESKTOP, PHONE, PUBLIC_PAGES

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SCREENSHOTS = ARTIFACTS / "screenshots"


def visit(page, name: str):
    """Open a public page by name and check it answered as expected."""
    path, status = PUBLIC_PAGES[name]
    response = page.goto(path)
    assert response is not None and response.status == status, f"{path} answered {response and response.status}"
    return response


def unexpected_console_errors(page, name: str) -> list[str]:
    """Console errors (a blocked inline script or style, a script error), less the 404's own."""
    errors = page.console_errors
    if PUBLIC_PAGES[name][1] == 404:
        errors = [e for e in errors if "status of 404" not in e]
    return errors


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_public_page_is_accessible(new_page, name, viewport):
    options = {"viewport": VIEWPORTS[viewport]}
    if viewport == "phone":
        options.update(is_mobile=True, has_touch=True)
    page = new_page(**options)
    visit(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{viewport}.png"), full_page=True)

    assert page.locator("h1").count() == 1
    assert page.locator("main#main").is_visible()
    assert unexpected_console_errors(page, name) == []
    assert_no_axe_violations(page)


OVERFLOWING_JS = """
(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > limit + 0.5)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))
"""


def test_no_public_page_scrolls_sideways_on_a_phone(phone_page):
    # One page visits them all: a sideways scroll shows in layout, not in cookies or state.
    assert_no_page_wider_than(phone_page, PHONE["width"])


def test_no_public_page_scrolls_sideways_at_320px(new_page):
    # WCAG 1.4.10 (reflow): 320 CSS pixels, what a desktop shows when zoomed to 400%.
    assert_no_page_wider_than(new_page(viewport={"width": 320, "height": 640}), 320)


def assert_no_page_wider_than(page, limit: int) -> None:
    """Visit every public page and fail, naming them, where the page is wider than ``limit``."""
    problems = {}
    for name in PUBLIC_PAGES:
        visit(page, name)
        width = page.evaluate("document.documentElement.scrollWidth")
        overflowing = page.evaluate(OVERFLOWING_JS, limit)
        if width > limit or overflowing:
            problems[name] = {"scrollWidth": width, "too wide": overflowing[:10]}
    assert problems == {}, f"pages wider than {limit}px: {problems}"
