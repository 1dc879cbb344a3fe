"""'Your legislators' on a phone: sign with a ZIP split between districts, confirm, choose."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.journeys import CAMPAIGN, emailed_link, screenshot, unique_email
from tests.test_districts import ASSEMBLY_FILE, SENATE_FILE
from tests.test_legislators import SAMPLE_CSV

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_signer_between_districts_sees_their_legislators_and_chooses(live_server, phone_page):
    live_server.flask("load-districts", "--senate", str(SENATE_FILE), "--assembly", str(ASSEMBLY_FILE))
    live_server.flask("load-legislators", str(SAMPLE_CSV))
    page = phone_page
    email = unique_email("between")
    page.goto(f"/campaigns/{CAMPAIGN}")
    page.get_by_role("link", name="Sign this petition").click()
    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Full name").fill("Marisol Peña")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("ZIP code").fill("10027")
    form.get_by_label("Deliver my name and city to my state legislators with the petition").check()
    form.get_by_role("button", name="Sign").click()
    expect(page.locator("h1")).to_have_text("Thank you! One more step: check your email")

    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your signature"))
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    section = page.get_by_role("region", name="Your legislators")
    expect(section.get_by_role("group", name="Your state senator")).to_be_visible()
    # 95% of ZIP 10027 is in Assembly District 70, whose member the sample file does not list.
    expect(section.get_by_role("group", name="Your assembly member")).to_have_count(0)
    assert_no_axe_violations(page)
    screenshot(page, "your-legislators-choice-phone")

    section.get_by_label("State Senate District 31").check()
    section.get_by_role("button", name="Save my answer").click()
    expect(page.get_by_role("status")).to_contain_text("your answer is saved")
    screenshot(page, "your-legislators-saved-phone")


def test_a_signer_in_one_district_can_call_and_write(live_server, phone_page):
    live_server.flask("load-districts", "--senate", str(SENATE_FILE), "--assembly", str(ASSEMBLY_FILE))
    live_server.flask("load-legislators", str(SAMPLE_CSV))
    page = phone_page
    email = unique_email("albany")
    page.goto(f"/campaigns/{CAMPAIGN}")
    page.get_by_role("link", name="Sign this petition").click()
    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Full name").fill("Dana Albany")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("ZIP code").fill("12207")
    form.get_by_role("button", name="Sign").click()
    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your signature"))
    page.get_by_role("button", name="Confirm my signature").click()
    section = page.get_by_role("region", name="Your legislators")
    call = section.get_by_role("link", name="Call 518-455-2225")
    expect(call).to_have_attribute("href", "tel:+15184552225")
    write = section.get_by_role("link", name="Write an email").first
    assert write.get_attribute("href").startswith("mailto:fahy@nysenate.gov?subject=")
    box = call.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 280  # one tap on a 360-pixel screen
    assert_no_axe_violations(page)
    screenshot(page, "your-legislators-phone")
