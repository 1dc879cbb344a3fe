"""With JavaScript switched off, pages render and links (including the language switch) work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import OPEN_CAMPAIGN

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_home_and_a_campaign_work_without_javascript(no_js_page):
    page = no_js_page
    response = page.goto("/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Coalition for Women Prisoners"
    assert page.locator(".goal-list > li").count() == 6

    page.locator(f'main a[href="/campaigns/{OPEN_CAMPAIGN}"]').first.click()
    page.wait_for_url(f"**/campaigns/{OPEN_CAMPAIGN}")
    assert page.locator("h1").inner_text() == "Fund alternatives to incarceration for women"
    # The count itself depends on what other tests signed on the shared server.
    progress = " ".join(page.locator(".progress-text").inner_text().split())
    assert re.fullmatch(r"[\d,]+ signatures, next milestone [\d,]+\. Target: 5,000 signatures", progress), progress

    page.locator("main a[href^='/goals/']").first.click()
    page.wait_for_url("**/goals/*")
    assert page.locator("h1").is_visible()

    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
