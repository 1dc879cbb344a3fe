"""The public face in a real browser: the phone's first screen, the next steps, the wall, share images."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.pages import ARTIFACTS, DESKTOP, OPEN_CAMPAIGN, PHONE

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


WALL_SEED = """
from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.models.types import utcnow
from coalition.services import counting
campaign = db.session.execute(db.select(Campaign).filter_by(slug="{slug}")).scalar_one()
for name, email in {rows!r}:
    db.session.add(Signature(campaign_id=campaign.id, full_name=name, email=email, email_normalized=email,
                             status="confirmed", confirmed_at=utcnow(), show_publicly=True, city="Albany"))
counting.add_to_signature_count(campaign.id, {n})
db.session.commit()
print("SEEDED")
"""


def test_staff_hide_a_name_from_the_wall_and_it_still_counts(live_server, new_page):
    from tests.browser.test_browser_staff import create_admin, log_in, unique_mark

    mark = unique_mark()
    shown, hidden = f"Shown{mark}", f"Hidden{mark}"
    rows = [(f"{shown} Rivera", f"shown-{mark}@example.org"), (f"{hidden} Troll", f"hidden-{mark}@example.org")]
    result = live_server.flask("shell", input=f"exec({WALL_SEED.format(slug=OPEN_CAMPAIGN, rows=rows, n=2)!r})\n")
    assert "SEEDED" in result.stdout, result.stderr

    visitor = new_page()
    visitor.goto(f"/campaigns/{OPEN_CAMPAIGN}")
    names = visitor.locator(".signer-name").all_inner_texts()
    assert shown in names and hidden in names
    before = visitor.locator("#campaign-progress").get_attribute("value")

    staff = new_page()
    email, password = create_admin(live_server, mark)
    log_in(staff, email, password)
    staff.goto(f"/staff/signatures?q={hidden}")
    staff.locator("form.wall-form button[value=hide]").click()
    expect(staff.get_by_text("The name is hidden from the wall; the signature still counts.")).to_be_visible()
    staff.screenshot(path=str(SCREENSHOTS / "staff-signatures-wall-desktop.png"), full_page=True)
    assert_no_axe_violations(staff)

    visitor.goto(f"/campaigns/{OPEN_CAMPAIGN}")
    names = visitor.locator(".signer-name").all_inner_texts()
    assert shown in names and hidden not in names
    assert visitor.locator("#campaign-progress").get_attribute("value") == before


#: A pending signature on the demo campaign, and its confirmation link's token, printed.
PENDING_FOR_TOKEN = """
from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.services import confirmations
campaign = db.session.execute(db.select(Campaign).filter_by(slug="{slug}")).scalar_one()
signature = Signature(campaign_id=campaign.id, full_name="Dana Example", email="{email}", email_normalized="{email}", zip_code="10027")
db.session.add(signature)
db.session.commit()
print("TOKEN", confirmations.confirmation_token([signature]))
"""


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_confirmation_page_offers_the_next_steps(live_server, new_page, viewport):
    import re
    import uuid

    email = f"next-{uuid.uuid4().hex[:8]}@example.org"
    result = live_server.flask("shell", input=PENDING_FOR_TOKEN.format(slug=OPEN_CAMPAIGN, email=email))
    token = re.search(r"TOKEN (\S+)", result.stdout).group(1)
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if viewport == "phone" else {"viewport": DESKTOP}
    page = new_page(**options)
    page.goto(f"/confirm/{token}")
    page.get_by_role("button", name="Confirm my signature").click()
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    steps = page.locator(".next-steps")
    expect(steps.get_by_role("heading", level=2)).to_contain_text("What you can do next for")
    whatsapp = steps.get_by_role("link", name="Share by WhatsApp")
    assert f"campaigns%2F{OPEN_CAMPAIGN}%3Fsource%3Dshare-whatsapp" in whatsapp.get_attribute("href")
    # The copy button and, where the browser has a share sheet, its button: shown by the script.
    expect(steps.get_by_role("button", name="Copy link")).to_be_visible()
    has_share_sheet = page.evaluate("() => typeof navigator.share === 'function'")
    native = steps.locator("button.share-native")
    assert native.is_visible() == has_share_sheet
    assert native.get_attribute("data-share-url").endswith(f"/campaigns/{OPEN_CAMPAIGN}?source=share-native")
    pledge = steps.locator(".pledge-next a").first
    assert re.fullmatch(r"/goals/[a-z-]+#pledge", pledge.get_attribute("href"))
    page.screenshot(path=str(SCREENSHOTS / f"confirm-next-steps-{viewport}.png"), full_page=True)
    assert_no_axe_violations(page)


#: A campaign of the test's own with a known count.
COUNTED_CAMPAIGN = """
from coalition.extensions import db
from coalition.models import Signature
from coalition.models.types import utcnow
from coalition.services import campaigns, counting
campaign = campaigns.create_campaign(slug="{slug}", title="Campaña {slug}", summary="For the card.", target=500, status="open")
for n in range({count}):
    email = f"card{{n}}-{slug}@example.org"
    db.session.add(Signature(campaign_id=campaign.id, full_name="Card Signer", email=email, email_normalized=email,
                             status="confirmed", confirmed_at=utcnow()))
counting.add_to_signature_count(campaign.id, {count})
db.session.commit()
print("MADE")
"""


def test_the_share_image_is_a_1200_by_630_png_with_the_count(live_server, new_page):
    import io
    import uuid

    from PIL import Image, ImageChops

    from coalition.services.share_images import draw_card

    slug = f"card-{uuid.uuid4().hex[:8]}"
    result = live_server.flask("shell", input=f"exec({COUNTED_CAMPAIGN.format(slug=slug, count=37)!r})\n")
    assert "MADE" in result.stdout, result.stderr
    page = new_page()
    page.goto(f"/campaigns/{slug}")
    image_url = page.locator('meta[property="og:image"]').get_attribute("content")
    assert image_url == f"{live_server.url}/campaigns/{slug}/share.png"
    assert page.locator('meta[name="twitter:card"]').get_attribute("content") == "summary_large_image"
    response = page.request.get(image_url)
    assert response.ok and response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.body())) as card:
        assert card.format == "PNG" and card.size == (1200, 630)
        # The very picture drawn with this title, the coalition's name and "37 signatures".
        expected = Image.open(io.BytesIO(draw_card(f"Campaña {slug}", "Coalition for Women Prisoners", "37 signatures")))
        assert ImageChops.difference(card.convert("RGB"), expected.convert("RGB")).getbbox() is None
        other = Image.open(io.BytesIO(draw_card(f"Campaña {slug}", "Coalition for Women Prisoners", "38 signatures")))
        assert ImageChops.difference(card.convert("RGB"), other.convert("RGB")).getbbox() is not None
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "screenshots" / "share-card.png").write_bytes(response.body())


TARGET_SIZES_JS = """
(selector) => Array.from(document.querySelectorAll(selector))
  .filter(el => el.offsetParent !== null)
  .map(el => { const r = el.getBoundingClientRect();
               return {what: el.outerHTML.slice(0, 80), width: r.width, height: r.height}; })
"""


@pytest.mark.parametrize("path", ["/", f"/campaigns/{OPEN_CAMPAIGN}", "/goals/alternatives-to-incarceration", "/es/"])
def test_tap_targets_are_at_least_24_by_24_on_a_phone(phone_page, path):
    # WCAG 2.2, 2.5.8: checkboxes, buttons, the footer's and the header's links (links
    # inside a sentence are exempt).
    phone_page.goto(path)
    selector = (
        "input[type=checkbox], button, .button, .site-footer a, .main-nav a, .share-link, "
        ".goal-item-title, .goal-item-pledge, .embed-more summary"
    )
    targets = phone_page.evaluate(TARGET_SIZES_JS, selector)
    assert targets, "no targets found"
    small = [t for t in targets if t["width"] < 24 or t["height"] < 24]
    assert small == []
