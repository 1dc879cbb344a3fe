"""The staff area in a real browser: the endorsement journey from the public form to the
campaign page, a CSV download, both without JavaScript too, login and review by keyboard
alone, and every staff page checked with axe at desktop and phone sizes.

Screenshots of every staff page go to ``test-artifacts/screenshots/staff-<page>-<size>.png``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations, focus_is_visible
from tests.browser.pages import ARTIFACTS, DESKTOP, OPEN_CAMPAIGN, PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = ARTIFACTS / "screenshots"

#: The columns of the signatories export, as the README documents them.
SIGNATURE_COLUMNS = [
    "campaign", "signature_id", "status", "source", "full_name", "email", "zip_code", "city", "county",
    "state", "country", "wants_updates", "updates_consented_at", "show_publicly", "comment", "language",
    "signed_at", "confirmed_at", "paper_source", "invalidated_at", "invalidation_reason",
    "senate_district", "assembly_district",
]  # fmt: skip

#: Run in the site's shell: a campaign of our own, signatures in every state (and one in
#: another campaign with the same marker), two confirmed endorsements waiting for review,
#: and an admin. Prints the ids and the admin's login, as JSON.
SEED = """
import json
from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Organization, Signature
from coalition.services import counting, staff
from coalition.models.types import utcnow
now = utcnow()
campaign = Campaign(
    slug="{slug}", title="Staff test campaign {mark}", summary="A campaign for the staff tests.",
    body="First paragraph.\\n\\nSecond, with **bold**.", target=100, status="open", opens_at=now,
)
other = db.session.execute(db.select(Campaign).filter_by(slug="{other}")).scalar_one()
db.session.add(campaign)
db.session.flush()
def sign(campaign_id, name, email, status="confirmed", **extra):
    if extra.get("wants_updates"):
        extra["updates_consented_at"] = now
    if status == "invalidated":
        extra["invalidated_at"] = now
    signature = Signature(campaign_id=campaign_id, full_name=name, email=email, email_normalized=email,
                          status=status, confirmed_at=now if status != "pending" else None, **extra)
    db.session.add(signature)
    return signature
rows = {rows}
for name, email, status, extra in rows:
    sign(campaign.id, name, email, status, **extra)
sign(other.id, "{mark} Elsewhere", "elsewhere-{mark}@example.org")
counting.add_to_signature_count(campaign.id, sum(1 for row in rows if row[2] == "confirmed"))
counting.add_to_signature_count(other.id, 1)
def endorse(campaign_id, prefix):
    domain = f"{{prefix}}-{mark}.example.org"
    organization = Organization(
        domain=domain, name=f"{{prefix.title()}} Org {mark}", website=f"https://{{domain}}",
        org_type="community-group", locality="Albany",
    )
    db.session.add(organization)
    db.session.flush()
    endorsement = Endorsement(
        organization_id=organization.id, campaign_id=campaign_id, status="confirmed",
        contact_name="Rosa Contact", contact_role="Director", contact_email=f"rosa@{{domain}}",
        contact_email_normalized=f"rosa@{{domain}}", statement="We support this.",
        authorized=True, public_consent=True, confirmed_at=now,
    )
    db.session.add(endorsement)
    db.session.flush()
    return endorsement.id
queued, for_keyboard = endorse(campaign.id, "queue"), endorse(campaign.id, "keyboard")
admin, password = staff.create_staff("admin-{mark}@example.org", "admin")
db.session.commit()
print("SEEDED", json.dumps({{
    "campaign_id": campaign.id, "endorsement_id": queued, "keyboard_endorsement_id": for_keyboard,
    "email": admin.email, "password": password,
}}))
"""


@dataclass
class StaffWorld:
    """What the seed made on the live server, and the admin who may look at it."""

    mark: str
    slug: str
    campaign_id: int
    endorsement_id: int
    keyboard_endorsement_id: int
    confirmed_names: list[str]
    email: str  # an admin's
    password: str


def unique_mark() -> str:
    return uuid.uuid4().hex[:8]


def create_admin(live_server, mark: str) -> tuple[str, str]:
    """A new admin account, through the command line; returns its email and generated password."""
    email = f"admin-{mark}@example.org"
    result = live_server.flask("create-staff", email, "--role", "admin", "--generate-password")
    password = re.search(r"Password \(shown only this once\): (\S+)", result.stdout).group(1)
    return email, password


def seed_world(live_server) -> StaffWorld:
    """An admin, a campaign with known signatures, and endorsements in the review queue."""
    mark = unique_mark()
    slug = f"staff-test-{mark}"
    rows = [
        (
            f"Ana {mark} Rivera", f"ana-{mark}@example.org", "confirmed",
            {"zip_code": "12207", "county": "Albany County", "state": "NY", "client_hash": "c0ffee" * 10},
        ),
        (f"Bea {mark} Núñez", f"bea-{mark}@example.org", "confirmed", {"wants_updates": True}),
        (f"=HYPERLINK(\"http://x\") {mark}", f"formula-{mark}@example.org", "confirmed", {}),
        (f"Pat {mark} Pending", f"pending-{mark}@example.org", "pending", {}),
        (f"Ivy {mark} Invalid", f"invalid-{mark}@example.org", "invalidated", {"invalidation_reason": "dup"}),
    ]
    code = SEED.format(slug=slug, mark=mark, other=OPEN_CAMPAIGN, rows=repr(rows))
    # One exec() line: the interactive shell would stumble on the blank-line rules of blocks.
    result = live_server.flask("shell", input=f"exec({code!r})\n")
    found = re.search(r"SEEDED (\{.*\})", result.stdout)
    assert found and "Traceback" not in result.stderr, result.stdout + result.stderr
    made = json.loads(found.group(1))
    return StaffWorld(
        mark=mark,
        slug=slug,
        confirmed_names=[name for name, _email, status, _extra in rows if status == "confirmed"],
        **made,
    )


def log_in(page, email: str, password: str) -> None:
    """Log in through the form, by its labels."""
    page.goto("/staff/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("h1")).to_have_text("Dashboard")


@pytest.fixture(scope="module")
def world(live_server) -> StaffWorld:
    """One seeded world for the tests that only read it, or change only what is theirs."""
    return seed_world(live_server)


@pytest.fixture(scope="module")
def admin_state(browser, live_server, world) -> dict:
    """The cookies of the world's admin, logged in once: a page made with them starts logged in."""
    context = browser.new_context(base_url=live_server.url)
    try:
        log_in(context.new_page(), world.email, world.password)
        return context.storage_state()
    finally:
        context.close()


# --- Journey: an organization endorses, staff verify, the endorsement shows -------------


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_an_organization_endorses_and_staff_verify_it(live_server, new_page, javascript):
    mark = unique_mark()
    org_name = f"Sisters Reentry Network {mark}"
    contact = f"director-{mark}@example.org"
    visitor = new_page(java_script_enabled=javascript)

    visitor.goto(f"/campaigns/{OPEN_CAMPAIGN}")
    visitor.get_by_text("Endorse as an organization", exact=True).click()
    visitor.get_by_label("Organization’s name", exact=True).fill(org_name)
    visitor.get_by_label("Organization’s website", exact=True).fill(f"https://reentry-{mark}.example.org")
    visitor.get_by_label("Type of organization", exact=True).select_option(label="Service provider")
    visitor.get_by_label("City or county where it works", exact=True).fill("Bronx")
    visitor.get_by_label("Your name", exact=True).fill("Maria Director")
    visitor.get_by_label("Your role in the organization", exact=True).fill("Executive Director")
    visitor.get_by_label("Your email", exact=True).fill(contact)
    statement = "Alternatives keep families together."
    visitor.get_by_label("The organization’s statement of support", exact=True).fill(statement)
    visitor.get_by_label("I am authorized to endorse on behalf of this organization", exact=True).check()
    visitor.get_by_label("Show the organization’s name and statement publicly on this site").check()
    visitor.get_by_role("button", name="Endorse this campaign").click()
    expect(visitor.locator("h1")).to_have_text("Thank you. Please check your email")

    (message,) = live_server.wait_for_mail(to=contact)
    assert message["Subject"] == "Please confirm your organization’s endorsement"
    confirm_link = re.escape(live_server.url) + r"/endorsements/confirm/\S+"
    link = re.search(confirm_link, message.get_content()).group(0)
    visitor.goto(link)
    visitor.get_by_role("button", name="Confirm the endorsement").click()
    expect(visitor.locator("h1")).to_have_text("Thank you, the endorsement is confirmed")
    visitor.goto(f"/campaigns/{OPEN_CAMPAIGN}")
    assert org_name not in visitor.locator("#endorsements").inner_text(), "shown before staff checked it"

    # A staff member (in their own browser) checks and verifies it.
    staff_email, password = create_admin(live_server, mark)
    staff = new_page(java_script_enabled=javascript)
    log_in(staff, staff_email, password)
    staff.get_by_role("navigation", name="Staff area").get_by_role("link", name="Endorsements").click()
    expect(staff.locator("h1")).to_have_text("Endorsements to review")
    card = staff.locator("article.review-card").filter(has=staff.get_by_role("heading", name=org_name))
    expect(card).to_contain_text("Maria Director, Executive Director")
    card.get_by_role("button", name="Verify").click()
    expect(staff.locator(".flashes")).to_contain_text("Endorsement verified.")
    expect(staff.get_by_role("heading", name=org_name)).to_have_count(0)

    visitor.goto(f"/campaigns/{OPEN_CAMPAIGN}")
    endorsers = visitor.locator("#endorsements .endorser-list")
    expect(endorsers.get_by_role("link", name=org_name)).to_be_visible()
    expect(endorsers).to_contain_text(statement)
    visitor.goto("/endorsements")
    expect(visitor.get_by_role("heading", name=org_name)).to_be_visible()


# --- Journey: the keyboard alone ---------------------------------------------------------

FOCUSED_JS = """
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const card = el.closest('article');
  return {tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.trim(),
          card: card ? card.id : null, inStaffNav: Boolean(el.closest('nav.staff-nav'))};
}
"""


def tab_until(page, wanted: Callable[[dict], bool], limit: int = 150) -> dict:
    """Press Tab until the focused element is the one wanted; each stop must show its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED_JS)
        assert focused is not None, "the focus left the page"
        assert focus_is_visible(page), f"no visible focus indicator on {focused}"
        if wanted(focused):
            return focused
    raise AssertionError(f"not reached with {limit} presses of Tab")


def test_staff_log_in_and_verify_with_the_keyboard_alone(world, page):
    page.goto("/staff/login")
    tab_until(page, lambda f: f["id"] == "email")
    page.keyboard.type(world.email)
    tab_until(page, lambda f: f["id"] == "password", limit=1)
    page.keyboard.type(world.password)
    tab_until(page, lambda f: f["tag"] == "button" and f["text"] == "Log in", limit=1)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Dashboard")

    tab_until(page, lambda f: f["inStaffNav"] and f["text"] == "Endorsements")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Endorsements to review")
    card_id = f"endorsement-{world.keyboard_endorsement_id}"
    tab_until(page, lambda f: f["card"] == card_id and f["text"] == "Verify", limit=400)
    page.keyboard.press("Space")
    expect(page.locator(".flashes")).to_contain_text("Endorsement verified.")
    expect(page.locator(f"#{card_id}")).to_have_count(0)


# --- Journey: a CSV export of a campaign's signatures ------------------------------------


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_staff_download_a_campaigns_signatures_as_csv(world, admin_state, new_page, tmp_path, javascript):
    page = new_page(java_script_enabled=javascript, storage_state=admin_state)
    page.goto("/staff/")
    page.get_by_role("navigation", name="Staff area").get_by_role("link", name="Exports").click()
    section = page.locator("section").filter(has=page.get_by_role("heading", name="Signatories"))
    section.get_by_label("Campaign").select_option(label=f"Staff test campaign {world.mark}")
    with page.expect_download() as info:
        section.get_by_role("button", name="Download signatories (CSV)").click()
    download = info.value
    assert re.fullmatch(rf"signatures-{world.slug}-\d{{4}}-\d{{2}}-\d{{2}}\.csv", download.suggested_filename)
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == SIGNATURE_COLUMNS
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert {r["campaign"] for r in records} == {world.slug}
    assert {r["status"] for r in records} == {"confirmed"}
    formula = next(name for name in world.confirmed_names if name.startswith("="))
    expected = sorted("'" + name if name == formula else name for name in world.confirmed_names)
    assert sorted(r["full_name"] for r in records) == expected  # no pending, invalidated, other campaign
    assert not any(r["full_name"].startswith("=") for r in records)
    ana = next(r for r in records if r["full_name"].startswith("Ana "))
    assert ana["email"] == f"ana-{world.mark}@example.org"
    assert (ana["county"], ana["source"]) == ("Albany County", "online")


# --- Every staff page, with axe, at both sizes --------------------------------------------


def _goto(path: str) -> Callable:
    def visit(page, world: StaffWorld) -> None:
        response = page.goto(path.format(w=world))
        status = response.status if response else None
        assert status == 200, f"{path} answered {status}"

    return visit


def _log_in_as_admin(page, world: StaffWorld) -> None:
    log_in(page, world.email, world.password)


def _login_failed(page, world: StaffWorld) -> None:
    page.goto("/staff/login")
    page.get_by_label("Email").fill(f"nobody-{unique_mark()}@example.org")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error-summary")).to_contain_text("Email or password is not correct")


def _new_campaign_errors(page, world: StaffWorld) -> None:
    page.goto("/staff/campaigns/new")
    page.get_by_label("Target (confirmed signatures)").fill("0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text("Give the campaign a title.")


def _edit_campaign_errors(page, world: StaffWorld) -> None:
    page.goto(f"/staff/campaigns/{world.campaign_id}/edit")
    page.get_by_label("Title", exact=True).fill("")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".error-summary")).to_contain_text("Give the campaign a title.")


def _campaign_preview(page, world: StaffWorld) -> None:
    page.goto(f"/staff/campaigns/{world.campaign_id}/edit")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".preview")).to_contain_text("Second, with bold.")


def _goal_edit(page, world: StaffWorld) -> None:
    page.goto("/staff/goals")
    page.locator(".goal-admin-list a").first.click()
    expect(page.get_by_role("heading", name="What supporters can pledge to do")).to_be_visible()


def _bulk_preview(page, world: StaffWorld) -> None:
    page.goto(f"/staff/signatures/bulk?campaign={world.campaign_id}")
    page.get_by_label("Email domain").fill("example.org")
    page.get_by_role("button", name="Preview how many").click()
    expect(page.locator("#preview")).to_contain_text("would be invalidated")


def _paper_errors(page, world: StaffWorld) -> None:
    page.goto("/staff/paper")
    page.get_by_role("button", name="Add this signature").click()
    expect(page.locator(".error-summary")).to_contain_text("Enter the name.")


def _paper_upload_errors(page, world: StaffWorld) -> None:
    page.goto("/staff/paper")
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".error-summary")).to_contain_text("Choose the CSV file.")


def _erasure_preview(page, world: StaffWorld) -> None:
    page.goto("/staff/privacy")
    page.get_by_label("The supporter's email").fill(f"bea-{world.mark}@example.org")
    page.get_by_role("button", name="Show what would be erased").click()
    expect(page.locator("#preview")).to_contain_text("Signatures: 1 anonymised")


def _password_errors(page, world: StaffWorld) -> None:
    page.goto("/staff/account/password")
    page.get_by_label("Current password").fill("wrong current password")
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password again").fill("different")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator(".error-summary")).to_be_visible()


#: name -> how to get there, in the order visited: logged out first, then in as an admin
#: (logging in leads to the dashboard).
STAFF_PAGES: dict[str, Callable] = {
    "login": _goto("/staff/login"),
    "login-failed": _login_failed,
    "dashboard": _log_in_as_admin,
    "campaigns": _goto("/staff/campaigns"),
    "campaign-new": _goto("/staff/campaigns/new"),
    "campaign-new-errors": _new_campaign_errors,
    "campaign-edit": _goto("/staff/campaigns/{w.campaign_id}/edit"),
    "campaign-edit-errors": _edit_campaign_errors,
    "campaign-preview": _campaign_preview,
    "goals": _goto("/staff/goals"),
    "goal-edit": _goal_edit,
    "endorsements": _goto("/staff/endorsements"),
    "endorsement-edit": _goto("/staff/endorsements/{w.endorsement_id}"),
    "signatures-search": _goto("/staff/signatures?q={w.mark}"),
    "invalidate-preview": _bulk_preview,
    "paper-errors": _paper_errors,
    "paper-upload-errors": _paper_upload_errors,
    "exports": _goto("/staff/exports"),
    "export-columns": _goto("/staff/exports/columns"),
    "privacy": _goto("/staff/privacy"),
    "privacy-preview": _erasure_preview,
    "accounts": _goto("/staff/accounts"),
    "audit": _goto("/staff/audit"),
    "password-errors": _password_errors,
}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}

OVERFLOWING_JS = """
(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(el => el.getBoundingClientRect().right > limit + 0.5)
  .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''))
"""


def page_problems(page, name: str, viewport: str) -> list[str]:
    """Photograph the page, then list what is wrong with it: axe violations, console errors, width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"staff-{name}-{viewport}.png"), full_page=True)
    problems = []
    if page.locator("h1").count() != 1:
        problems.append("not exactly one h1")
    # A form sent back with errors answers 400, which the console reports; anything else is a fault.
    errors = [e for e in page.console_errors if "status of 400" not in e]
    if errors:
        problems.append(f"console errors: {errors}")
    limit = VIEWPORTS[viewport]["width"]
    if page.evaluate("document.documentElement.scrollWidth") > limit:
        problems.append(f"scrolls sideways: {page.evaluate(OVERFLOWING_JS, limit)[:8]}")
    try:
        assert_no_axe_violations(page)
    except AssertionError as exc:
        problems.append(str(exc))
    page.console_errors.clear()
    return problems


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_staff_page_is_accessible(new_page, world, viewport):
    # One page visits them all in turn (logged out, then in as an admin): each visit is
    # photographed and checked, and every problem is reported at the end, page by page.
    options = {"viewport": VIEWPORTS[viewport]}
    if viewport == "phone":
        options.update(is_mobile=True, has_touch=True)
    page = new_page(**options)
    problems = {}
    for name, visit in STAFF_PAGES.items():
        visit(page, world)
        found = page_problems(page, name, viewport)
        if found:
            problems[name] = found
    assert problems == {}, "\n".join(f"{name}:\n  " + "\n  ".join(found) for name, found in problems.items())
