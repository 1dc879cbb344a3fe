"""The public face in a real browser: the phone's first screen, the next steps, the wall, share images."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.pages import ARTIFACTS, DESKTOP, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = ARTIFACTS / "screenshots"


def test_the_phones_first_screen_holds_the_featured_campaigns_sign_button(phone_page):
    page = phone_page
    page.goto("/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home-first-screen-phone.png"))
    button = page.locator("a.featured-sign")
    box = button.bounding_box()
    assert box is not None
    # Wholly inside the first 360x740 screen, without scrolling, and at least 44 px tall.
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert box["height"] >= 44
    # The mission's one line is above it, the featured campaign's count beside it.
    assert page.locator(".tagline").bounding_box()["y"] < box["y"]
    assert page.locator("#progress-featured-text").is_visible()
    # It goes straight to that campaign's form.
    href = button.get_attribute("href")
    assert href.startswith("/campaigns/") and href.endswith("#sign")
    button.click()
    page.wait_for_url("**" + href)
    expect(page.locator("#sign-heading")).to_be_in_viewport()


def test_the_home_page_on_a_desktop(new_page):
    page = new_page(viewport=DESKTOP)
    page.goto("/")
    page.screenshot(path=str(SCREENSHOTS / "home-first-screen-desktop.png"))
    box = page.locator("a.featured-sign").bounding_box()
    assert box["y"] + box["height"] <= DESKTOP["height"]
    assert_no_axe_violations(page)
