"""A newcomer's journeys, clicked through in a real browser: sign, pledge, both at once, endorse.

Each starts on the home page and goes on by links, labels and buttons as a person would;
the confirmation email arrives at a real SMTP server and its link is opened in the browser.
The same journeys run on a desktop, on a phone and with JavaScript switched off; pages are
checked with axe (where script runs) and photographed to ``test-artifacts/screenshots``.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.journeys import (
    CAMPAIGN,
    CAMPAIGN_GOALS,
    CAMPAIGN_TITLE,
    GOAL,
    GOAL_TITLE,
    KeyboardWalker,
    emailed_link,
    pledge_count,
    screenshot,
    signature_count,
    unique_email,
    unique_first_name,
    wall_names,
)
from tests.browser.pages import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Who visits: browser context options for each.
VISITORS = {
    "desktop": {},
    "phone": {"viewport": PHONE, "is_mobile": True, "has_touch": True},
    "no-js": {"java_script_enabled": False},
}


def check_page(page, visitor: str, name: str) -> None:
    """Photograph the page; where script runs, check it with axe too."""
    screenshot(page, f"{name}-{visitor}")
    if visitor != "no-js":
        assert_no_axe_violations(page)


def open_campaign_from_home(page) -> None:
    """Home page, then the campaign's card."""
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Coalition for Women Prisoners")
    page.get_by_role("main").get_by_role("link", name=CAMPAIGN_TITLE, exact=True).click()
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    expect(page.locator("h1")).to_have_text(CAMPAIGN_TITLE)


def confirm_from_email(page, live_server, email: str, subject: str, heading: str, button: str) -> None:
    """Open the emailed link, check what it asks, press its button, and see it confirmed."""
    page.goto(emailed_link(live_server, email, "/confirm/", subject))
    expect(page.locator("h1")).to_have_text(heading)
    page.get_by_role("button", name=button).click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")


@pytest.mark.parametrize("visitor, shown", [("desktop", True), ("phone", False), ("no-js", True)])
def test_a_newcomer_signs_a_campaign_and_confirms_from_the_email(live_server, new_page, visitor, shown):
    page = new_page(**VISITORS[visitor])
    open_campaign_from_home(page)
    before = signature_count(page)
    first_name = unique_first_name("Rosalind")
    email = unique_email("signer")

    jump = page.get_by_role("link", name="Sign this petition")
    if jump.is_visible():  # on a phone the form comes after the text; a desktop shows it beside
        jump.click()
    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Full name").fill(f"{first_name} Okafor")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("ZIP code").fill("11216")
    if shown:
        form.get_by_label("Show my first name and city on this page").check()
    form.get_by_role("button", name="Sign").click()

    expect(page.locator("h1")).to_have_text("Thank you! One more step: check your email")
    check_page(page, visitor, "sign-thanks")

    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your signature"))
    expect(page.locator("h1")).to_have_text("Confirm your signature")
    expect(page.get_by_role("main")).to_contain_text(f"signed “{CAMPAIGN_TITLE}”")
    check_page(page, visitor, "confirm-signature")
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    check_page(page, visitor, "confirmed")

    page.get_by_role("main").get_by_role("link", name=CAMPAIGN_TITLE).click()
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    assert signature_count(page) == before + 1
    if shown:
        assert wall_names(page)[0] == first_name
        expect(page.locator(".signer-wall li").first).to_contain_text("Brooklyn")
    else:
        assert first_name not in wall_names(page)
        assert first_name not in page.content()


@pytest.mark.parametrize("visitor", VISITORS)
def test_a_newcomer_pledges_to_a_goal_and_confirms_from_the_email(live_server, new_page, visitor):
    page = new_page(**VISITORS[visitor])
    page.goto("/")
    # Its accessible name is "Pledge your support" and the goal (hidden text tells which goal).
    page.get_by_role("link", name=re.compile(rf"^Pledge your support\W+{re.escape(GOAL_TITLE)}$")).click()
    page.wait_for_url(f"**/goals/{GOAL}#pledge")
    expect(page.locator("h1")).to_have_text(GOAL_TITLE)
    before = pledge_count(page)
    email = unique_email("pledger")

    form = page.get_by_role("region", name="Pledge your support for this goal")
    form.get_by_label("Your name").fill("Imani Brooks")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("ZIP code").fill("10451")
    form.get_by_label("Contact my state legislators").check()
    form.get_by_label("Host a conversation in my community").check()
    form.get_by_role("button", name="Pledge my support").click()

    expect(page.locator("h1")).to_have_text("Thank you. Please check your email")
    check_page(page, visitor, "pledge-thanks")

    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your pledge"))
    expect(page.locator("h1")).to_have_text("Confirm your pledge")
    expect(page.get_by_role("main")).to_contain_text(f"pledged to support “{GOAL_TITLE}”")
    check_page(page, visitor, "confirm-pledge")
    page.get_by_role("button", name="Confirm my pledge").click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")

    page.get_by_role("main").get_by_role("link", name=GOAL_TITLE).click()
    page.wait_for_url(f"**/goals/{GOAL}")
    assert pledge_count(page) == before + 1


@pytest.mark.parametrize("visitor", ["desktop", "no-js"])
def test_signing_and_pledging_to_the_campaigns_goals_in_one_go(live_server, new_page, visitor):
    page = new_page(**VISITORS[visitor])
    pledges_before = {}
    for slug in CAMPAIGN_GOALS:
        page.goto(f"/goals/{slug}")
        pledges_before[slug] = pledge_count(page)
    open_campaign_from_home(page)
    signatures_before = signature_count(page)
    email = unique_email("both")

    form = page.get_by_role("region", name="Sign this petition")
    form.get_by_label("Full name").fill("Carmen Ruiz")
    form.get_by_label("Email", exact=True).fill(email)
    form.get_by_label("ZIP code").fill("12203")
    offered = form.get_by_role("group", name="I also pledge to support")
    for title in CAMPAIGN_GOALS.values():
        offered.get_by_label(title).check()
    form.get_by_role("button", name="Sign").click()
    expect(page.locator("h1")).to_have_text("Thank you! One more step: check your email")

    # One email, one link, one button for all three.
    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your signature"))
    items = page.get_by_role("main").get_by_role("listitem")
    expect(items).to_have_text(
        [f"signed “{CAMPAIGN_TITLE}”"] + [f"pledged to support “{title}”" for title in CAMPAIGN_GOALS.values()]
    )
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    check_page(page, visitor, "confirmed-signature-and-pledges")

    done = page.url
    page.get_by_role("main").get_by_role("link", name=CAMPAIGN_TITLE).click()
    assert signature_count(page) == signatures_before + 1
    for slug, title in CAMPAIGN_GOALS.items():
        page.goto(done)  # the confirmed page again: "Already confirmed", with the same links
        expect(page.locator("h1")).to_have_text("Already confirmed")
        page.get_by_role("main").get_by_role("link", name=title).click()
        page.wait_for_url(f"**/goals/{slug}")
        assert pledge_count(page) == pledges_before[slug] + 1


@pytest.mark.parametrize("visitor", VISITORS)
def test_an_organization_endorses_from_the_campaign_page_and_confirms(live_server, new_page, visitor):
    page = new_page(**VISITORS[visitor])
    open_campaign_from_home(page)
    tag = uuid.uuid4().hex[:8]
    organization = f"Harlem Mothers Circle {tag}"
    email = unique_email("director")

    section = page.get_by_role("region", name="Organizations that endorse this campaign")
    section.get_by_text("Endorse as an organization").click()  # opens the <details>
    section.get_by_label("Organization’s name", exact=True).fill(organization)
    section.get_by_label("Organization’s website", exact=True).fill(f"https://mothers-{tag}.example.org")
    section.get_by_label("Type of organization").select_option(label="Community group")
    section.get_by_label("City or county where it works").fill("Harlem")
    section.get_by_label("Your name", exact=True).fill("Alicia Grant")
    section.get_by_label("Your role in the organization").fill("Director")
    section.get_by_label("Your email", exact=True).fill(email)
    section.get_by_label("Your phone number").fill("212-254-5700")
    section.get_by_label("The organization’s statement of support").fill("Families belong together.")
    section.get_by_label("I am authorized to endorse on behalf of this organization").check()
    section.get_by_label("Show the organization’s name and statement publicly on this site").check()
    section.get_by_role("button", name="Endorse this campaign").click()

    expect(page.locator("h1")).to_have_text("Thank you. Please check your email")
    check_page(page, visitor, "endorse-thanks")

    link = emailed_link(live_server, email, "/endorsements/confirm/", "Please confirm your organization’s endorsement")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Confirm the endorsement")
    expect(page.get_by_role("main")).to_contain_text(organization)
    check_page(page, visitor, "endorse-confirm")
    page.get_by_role("button", name="Confirm the endorsement").click()
    expect(page.locator("h1")).to_have_text("Thank you, the endorsement is confirmed")
    expect(page.get_by_role("main")).to_contain_text("Our staff will now check it")
    check_page(page, visitor, "endorse-confirmed")

    # Not public until staff have verified it: neither on the campaign nor in the list.
    page.get_by_role("main").get_by_role("link", name=CAMPAIGN_TITLE).click()
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    expect(page.get_by_role("main")).not_to_contain_text(organization)
    page.get_by_role("contentinfo").get_by_role("link", name="Endorsements").click()
    expect(page.locator("h1")).to_have_text("Organizations that endorse our campaigns")
    expect(page.get_by_role("main")).not_to_contain_text(organization)


# The keyboard alone: Tab and Shift+Tab to move, typing, Space to tick, Enter to follow and press.
# Every stop on the way must be on screen with a visible focus indicator (KeyboardWalker checks).


#: Keys pressed rather than typed in ``fill_by_keyboard``.
KEYS = {"Space", "ArrowDown"}


def fill_by_keyboard(page, keys: KeyboardWalker, plan: list[tuple[str, str | None]]) -> list[str]:
    """Tab once per step: type the step's text, or press its key (Space, ArrowDown); returns the ids reached.

    A link or button without an id is reported by its tag ("a", "button").
    """
    reached = []
    for _field_id, action in plan:
        here = keys.tab()
        reached.append(here["id"] or here["tag"])
        if action in KEYS:
            page.keyboard.press(action)
        elif action:
            page.keyboard.type(action)
    return reached


def assert_top_to_bottom(stops: list[dict]) -> None:
    """The focus moves down the page as the fields are laid out (never back up)."""
    tops = [stop["top"] for stop in stops]
    assert tops == sorted(tops), f"focus order does not follow the layout: {[(s['id'], s['top']) for s in stops]}"


def test_signing_and_confirming_with_the_keyboard_alone(live_server, page):
    page.goto("/")
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["href"] == f"/campaigns/{CAMPAIGN}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    before = signature_count(page)
    first_name = unique_first_name("Odessa")
    email = unique_email("keyboard-signer")

    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["id"] == "full_name")
    page.keyboard.type(f"{first_name} Wells")
    keys.tab()
    page.keyboard.type(email)
    assert keys.tab(backwards=True)["id"] == "full_name"  # Shift+Tab goes back, and on again
    start = len(keys.stops) - 1
    plan = [
        ("email", None),
        ("zip_code", "10027"),
        ("country", None),
        ("comment", "My sister is inside."),
        ("show_publicly", "Space"),
        ("wants_updates", None),
        ("deliver_name", None),
        ("also_pledge-0", None),
        ("also_pledge-1", None),
        ("button", None),
    ]
    assert fill_by_keyboard(page, keys, plan) == [field_id for field_id, _ in plan]
    assert keys.stops[-1]["text"] == "Sign"
    assert_top_to_bottom(keys.stops[start:])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you! One more step: check your email")

    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your signature"))
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["tag"] == "button" and here["text"] == "Confirm my signature")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")

    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["href"] == f"/campaigns/{CAMPAIGN}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    assert signature_count(page) == before + 1
    assert wall_names(page)[0] == first_name


def test_pledging_and_confirming_with_the_keyboard_alone(live_server, page):
    page.goto("/")
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["href"] == f"/goals/{GOAL}#pledge")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/goals/{GOAL}#pledge")
    before = pledge_count(page)
    email = unique_email("keyboard-pledger")

    # Following the link to #pledge puts the next Tab in the pledge form.
    keys = KeyboardWalker(page)
    assert keys.tab()["id"] == "full_name"
    page.keyboard.type("Yvette Moreno")
    start = len(keys.stops) - 1
    plan = [
        ("email", email),
        ("zip_code", "14620"),
        ("country", None),
        ("actions-0", "Space"),
        ("actions-1", None),
        ("actions-2", "Space"),
        ("actions-3", None),
        ("message", "Count me in."),
        ("wants_updates", None),
        ("a", None),  # the privacy notice, in the hint above the button
        ("button", None),
    ]
    assert fill_by_keyboard(page, keys, plan) == [field_id for field_id, _ in plan]
    assert keys.stops[-1]["text"] == "Pledge my support"
    assert_top_to_bottom(keys.stops[start:])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you. Please check your email")

    page.goto(emailed_link(live_server, email, "/confirm/", "Please confirm your pledge"))
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["tag"] == "button" and here["text"] == "Confirm my pledge")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["href"] == f"/goals/{GOAL}")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/goals/{GOAL}")
    assert pledge_count(page) == before + 1


def test_endorsing_with_the_keyboard_alone(live_server, page):
    page.goto(f"/campaigns/{CAMPAIGN}")
    tag = uuid.uuid4().hex[:8]
    email = unique_email("keyboard-director")
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["tag"] == "summary")
    page.keyboard.press("Enter")  # opens the form
    start = len(keys.stops)
    plan = [
        ("organization_name", f"Queens Reentry Project {tag}"),
        ("website", f"https://reentry-{tag}.example.org"),
        ("org_type", "ArrowDown"),
        ("locality", "Queens"),
        ("zip_code", None),
        ("contact_name", "Bea Nolan"),
        ("contact_role", "Coordinator"),
        ("contact_email", email),
        ("contact_phone", None),
        ("statement", None),
        ("authorized", "Space"),
        ("public_consent", None),
        ("a", None),  # the privacy notice
        ("button", None),
    ]
    assert fill_by_keyboard(page, keys, plan) == [field_id for field_id, _ in plan]
    assert keys.stops[-1]["text"] == "Endorse this campaign"
    assert_top_to_bottom(keys.stops[start:])
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you. Please check your email")

    page.goto(emailed_link(live_server, email, "/endorsements/confirm/", "Please confirm your organization’s endorsement"))
    keys = KeyboardWalker(page)
    keys.tab_to(lambda here: here["tag"] == "button" and here["text"] == "Confirm the endorsement")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you, the endorsement is confirmed")
