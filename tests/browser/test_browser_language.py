"""The page's language: English by default, Spanish after the switcher, remembered on the next page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def test_language_switcher_sets_lang_and_the_choice_persists(page):
    page.goto("/about")
    assert html_lang(page) == "en"

    switcher = page.get_by_role("navigation", name="Language")
    switcher.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url.endswith("/about"), "the switcher brings the reader back to the same page"
    assert page.get_by_role("link", name="Español").count() == 0  # now the current language, not a link

    page.locator('.main-nav a[href="/campaigns"]').click()
    page.wait_for_url("**/campaigns")
    assert html_lang(page) == "es"

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/campaigns")


def test_a_spanish_browser_gets_spanish_without_choosing(new_page):
    page = new_page(locale="es-US")
    page.goto("/")
    assert html_lang(page) == "es"
