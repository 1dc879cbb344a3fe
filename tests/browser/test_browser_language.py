"""The page's language is in its address: English at /..., Spanish at /es/..., and the switcher
goes to the same page in the other language."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def test_the_switcher_goes_to_the_same_page_in_the_other_language_and_links_stay_in_it(page, live_server):
    page.goto("/about")
    assert html_lang(page) == "en"

    switcher = page.get_by_role("navigation", name="Language")
    switcher.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    assert page.url == live_server.url + "/es/about", "the switcher brings the reader to the same page"
    assert page.get_by_role("link", name="Español").count() == 0  # now the current language, not a link

    page.locator('.main-nav a[href="/es/campaigns"]').click()
    page.wait_for_url("**/es/campaigns")
    assert html_lang(page) == "es"

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url == live_server.url + "/campaigns"
    assert page.context.cookies() == [], "choosing a language sets no cookie"


def test_a_spanish_browser_gets_the_english_address_in_english_with_a_link_to_spanish(new_page):
    page = new_page(locale="es-US")
    page.goto("/")
    assert html_lang(page) == "en"
    alternate = page.locator('link[rel="alternate"][hreflang="es"]').get_attribute("href")
    assert alternate.endswith("/es/")
    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
