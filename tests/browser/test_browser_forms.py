"""Forms sent with mistakes, and the rate limit, as a visitor meets them in a real browser.

Each error must sit next to its own field (in the field's box, just above the input, and
announced with it through ``aria-describedby``), everything typed must still be there, and
the page with its errors must pass axe on a phone and on a desktop.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import running_live_server
from tests.browser.journeys import CAMPAIGN, CAMPAIGN_GOALS, GOAL, screenshot, unique_email
from tests.browser.pages import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VISITORS = {
    "desktop": {},
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
    "no-js": {"java_script_enabled": False},
}
#: The box each form field sits in, with its label, hint and errors.
FIELD_BOX = "xpath=ancestor::*[contains(concat(' ', normalize-space(@class), ' '), ' field ')][1]"


def assert_error_beside(control, message: str, invalid: bool = True) -> None:
    """The message is in the control's own field box, just above it, and describes it."""
    box = control.locator(FIELD_BOX)
    error = box.locator(".field-errors")
    expect(error).to_have_text(message)
    expect(control).to_have_accessible_description(re.compile(re.escape(message)))
    if invalid:
        expect(control).to_have_attribute("aria-invalid", "true")
    error_box, control_box = error.bounding_box(), control.bounding_box()
    gap = control_box["y"] - (error_box["y"] + error_box["height"])
    assert 0 <= gap <= 48, f"the error is {gap}px from its field"


def assert_group_error(group, message: str) -> None:
    """A group of checkboxes: the message is inside its fieldset, and describes the group."""
    expect(group.locator(".field-errors")).to_have_text(message)
    expect(group).to_have_accessible_description(re.compile(re.escape(message)))


def check_error_page(page, visitor: str, name: str, summary_count: int) -> None:
    """The summary lists every mistake; with script it has the focus; photographed; axe passes."""
    summary = page.locator("#error-summary")
    expect(summary.get_by_role("heading")).to_have_text("Please correct the highlighted fields")
    expect(summary.get_by_role("listitem")).to_have_count(summary_count)
    screenshot(page, f"{name}-errors-{visitor}")
    if visitor != "no-js":
        expect(summary).to_be_focused()
        assert_no_axe_violations(page)


@pytest.mark.parametrize("visitor", VISITORS)
def test_signing_with_mistakes_shows_each_error_beside_its_field_and_keeps_the_input(new_page, visitor):
    page = new_page(**VISITORS[visitor])
    page.goto(f"/campaigns/{CAMPAIGN}")
    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Email", exact=True).fill("rosa@example")
    form.get_by_label("ZIP code").fill("1234")
    form.get_by_label("Comment").fill("Para mi familia.")
    form.get_by_label("Show my first name and city on this page").check()
    goal_title = next(iter(CAMPAIGN_GOALS.values()))
    form.get_by_label(goal_title).check()
    form.get_by_role("button", name="Sign").click()

    form = page.get_by_role("region", name="Sign this petition")
    check_error_page(page, visitor, "sign", summary_count=3)
    assert_error_beside(form.get_by_label("Full name"), "Please enter your name.")
    assert_error_beside(
        form.get_by_label("Email", exact=True), "Please enter a real email address, like name@example.com."
    )
    assert_error_beside(form.get_by_label("ZIP code"), "Please enter a 5-digit ZIP code, like 10027.")
    # What was typed and ticked is all still there.
    expect(form.get_by_label("Email", exact=True)).to_have_value("rosa@example")
    expect(form.get_by_label("ZIP code")).to_have_value("1234")
    expect(form.get_by_label("Comment")).to_have_value("Para mi familia.")
    expect(form.get_by_label("Show my first name and city on this page")).to_be_checked()
    expect(form.get_by_label(goal_title)).to_be_checked()
    expect(form.get_by_label("Keep me updated by email")).not_to_be_checked()


@pytest.mark.parametrize("visitor", VISITORS)
def test_pledging_with_mistakes_shows_each_error_beside_its_field_and_keeps_the_input(new_page, visitor):
    page = new_page(**VISITORS[visitor])
    page.goto(f"/goals/{GOAL}")
    form = page.get_by_role("region", name="Pledge your support for this goal")
    form.get_by_label("Your name").fill("Imani Brooks")
    form.get_by_label("Email", exact=True).fill("imani.example.org")
    form.get_by_label("ZIP code").fill("99999")
    form.get_by_label("A message to the Coalition").fill("I can help on weekends.")
    form.get_by_role("button", name="Pledge my support").click()

    form = page.get_by_role("region", name="Pledge your support for this goal")
    check_error_page(page, visitor, "pledge", summary_count=3)
    assert_error_beside(form.get_by_label("Email", exact=True), "Enter an email address like name@example.org.")
    assert_error_beside(form.get_by_label("ZIP code"), "We do not know this ZIP code. Please check it.")
    assert_group_error(form.get_by_role("group", name="I pledge to:"), "Choose at least one thing you pledge to do.")
    expect(form.get_by_label("Your name")).to_have_value("Imani Brooks")
    expect(form.get_by_label("Email", exact=True)).to_have_value("imani.example.org")
    expect(form.get_by_label("ZIP code")).to_have_value("99999")
    expect(form.get_by_label("A message to the Coalition")).to_have_value("I can help on weekends.")


@pytest.mark.parametrize("visitor", VISITORS)
def test_endorsing_with_mistakes_shows_each_error_beside_its_field_and_keeps_the_input(new_page, visitor):
    page = new_page(**VISITORS[visitor])
    page.goto(f"/campaigns/{CAMPAIGN}")
    section = page.get_by_role("region", name="Organizations that endorse this campaign")
    section.get_by_text("Endorse as an organization").click()
    section.get_by_label("Organization’s name", exact=True).fill("Bronx Sisters Network")
    section.get_by_label("Organization’s website", exact=True).fill("our facebook page")
    section.get_by_label("Your name", exact=True).fill("Lena Ortiz")
    section.get_by_label("Your email", exact=True).fill("lena@")
    section.get_by_label("Your phone number").fill("call me")
    section.get_by_label("The organization’s statement of support").fill("We stand with the women we serve.")
    section.get_by_label("Show the organization’s name and statement publicly on this site").check()
    section.get_by_role("button", name="Endorse this campaign").click()

    expect(page.locator("h1")).to_have_text("Endorse as an organization")
    check_error_page(page, visitor, "endorse", summary_count=7)
    main = page.get_by_role("main")
    assert_error_beside(
        main.get_by_label("Organization’s website", exact=True),
        "Enter the address of the organization’s website, such as https://www.example.org.",
    )
    assert_error_beside(main.get_by_label("Type of organization"), "Choose the type of organization.")
    assert_error_beside(
        main.get_by_label("City or county where it works"), "Enter the city or county where the organization works."
    )
    assert_error_beside(
        main.get_by_label("Your role in the organization"), "Enter your role, such as Executive Director."
    )
    assert_error_beside(main.get_by_label("Your email", exact=True), "Enter an email address like name@example.org.")
    assert_error_beside(
        main.get_by_label("Your phone number"), "Enter a phone number such as 212\u2011254\u20115700, or leave it empty."
    )
    assert_error_beside(
        main.get_by_label("I am authorized to endorse on behalf of this organization"),
        "Only someone authorized by the organization may endorse for it.",
    )
    expect(main.get_by_label("Organization’s name", exact=True)).to_have_value("Bronx Sisters Network")
    expect(main.get_by_label("Organization’s website", exact=True)).to_have_value("our facebook page")
    expect(main.get_by_label("Your name", exact=True)).to_have_value("Lena Ortiz")
    expect(main.get_by_label("Your email", exact=True)).to_have_value("lena@")
    expect(main.get_by_label("Your phone number")).to_have_value("call me")
    expect(main.get_by_label("The organization’s statement of support")).to_have_value(
        "We stand with the women we serve."
    )
    expect(main.get_by_label("Show the organization’s name and statement publicly on this site")).to_be_checked()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory, live_mailbox):
    """A second site, one process, that takes two signatures a minute from one address."""
    with running_live_server(
        tmp_path_factory.mktemp("strict-server"), live_mailbox, workers=1, COALITION_SIGN_RATE_LIMIT="2 per minute"
    ) as server:
        yield server


def test_signing_too_often_shows_the_friendly_slow_down_page(strict_server, new_page):
    page = new_page(base_url=strict_server.url)
    for attempt in range(3):
        page.goto(f"/campaigns/{CAMPAIGN}")
        form = page.get_by_role("region", name="Sign this petition")
        form.get_by_label("Full name").fill(f"Neighbour {'ABC'[attempt]} Lee")
        form.get_by_label("Email", exact=True).fill(unique_email("neighbour"))
        form.get_by_label("ZIP code").fill("10027")
        with page.expect_response(lambda response: response.request.method == "POST") as sent:
            form.get_by_role("button", name="Sign").click()
        if attempt < 2:  # two people on one connection sign
            assert sent.value.status == 303
            expect(page.locator("h1")).to_have_text("Thank you! One more step: check your email")

    assert sent.value.status == 429
    expect(page.locator("h1")).to_have_text("Please slow down")
    expect(page.get_by_role("main")).to_contain_text(re.compile(r"Please try again in \d+ seconds?\."))
    expect(page.get_by_role("main")).to_contain_text("it was not saved: please send it again after that time")
    screenshot(page, "rate-limited-desktop")
    assert_no_axe_violations(page)
