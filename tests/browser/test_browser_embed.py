"""A partner's embedded petition in a real browser that blocks third-party cookies.

The partner's page is served from another loopback origin (``localhost`` on a port of its
own, another site than the live server's ``127.0.0.1``), so the frame is a third-party
context: Chromium is started with third-party cookies blocked, as Safari and Firefox do.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import uuid
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.pages import ARTIFACTS, DESKTOP, OPEN_CAMPAIGN, PHONE
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SCREENSHOTS = ARTIFACTS / "screenshots"

#: A verified partner whose website is the partner page's origin.
PARTNER = """
from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Organization
from coalition.models.types import utcnow
campaign = db.session.execute(db.select(Campaign).filter_by(slug="{slug}")).scalar_one()
organization = Organization(domain="{domain}", name="Partner {mark}", website="{website}", org_type="community-group")
db.session.add(organization)
db.session.flush()
db.session.add(Endorsement(organization_id=organization.id, campaign_id=campaign.id, status="verified",
    contact_name="Ana", contact_role="Director", contact_email="ana@{domain}", contact_email_normalized="ana@{domain}",
    authorized=True, public_consent=True, confirmed_at=utcnow(), reviewed_at=utcnow()))
db.session.commit()
print("MADE", organization.id)
"""

PARTNER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Partner {mark}</title></head>
<body><main><h1>Partner {mark}</h1>{snippet}</main></body></html>
"""


def serve(folder) -> tuple[ThreadingHTTPServer, int]:
    """A plain HTTP server for the partner's page, on a port of its own."""
    port = free_port()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


@pytest.fixture
def blocking_context(browser, tmp_path):
    """A Chromium profile that blocks third-party cookies (the setting people choose);
    ``browser`` skips, or fails in CI, without Chromium."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}})
    )
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, "--test-third-party-cookie-phaseout"],
        viewport=DESKTOP,
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def make_partner(live_server, tmp_path, name: str, website_port: int) -> str:
    """A verified partner of the open demo campaign whose website is http://localhost:<port>;
    returns its embed snippet's address."""
    mark = uuid.uuid4().hex[:8]
    domain = f"partner-{mark}.example.org"
    code = PARTNER.format(slug=OPEN_CAMPAIGN, domain=domain, mark=mark, website=f"http://localhost:{website_port}/")
    result = live_server.flask("shell", input=f"exec({code!r})\n")
    assert "MADE" in result.stdout, result.stdout + result.stderr
    return domain


def snippet_for(live_server, domain: str) -> str:
    code = (
        "from coalition.extensions import db\n"
        "from coalition.models import Endorsement, Organization\n"
        "from coalition.services.embeds import embed_snippet\n"
        f"e = db.session.scalars(db.select(Endorsement).join(Organization).where(Organization.domain == '{domain}')).one()\n"
        "print('SNIPPET', repr(embed_snippet(e)))\n"
    )
    result = live_server.flask("shell", input=f"exec({code!r})\n")
    found = re.search(r"SNIPPET (.*)", result.stdout)
    assert found, result.stdout + result.stderr
    import ast

    return ast.literal_eval(found.group(1))


def sign_in_frame(frame, who: str) -> str:
    """Sign the embedded form as a person would, by its labels; returns the email used."""
    email = f"{who}-{uuid.uuid4().hex[:8]}@example.org"
    frame.get_by_label("Full name").fill(f"{who.title()} Signer")
    frame.get_by_label("Email", exact=True).fill(email)
    frame.get_by_label("ZIP code").fill("10027")
    frame.get_by_role("button", name="Sign").click()
    expect(frame.locator("h1")).to_have_text("Thank you! One more step: check your email")
    return email


def partner_site(tmp_path, snippet: str) -> tuple[ThreadingHTTPServer, int]:
    folder = tmp_path / f"site-{uuid.uuid4().hex[:6]}"
    folder.mkdir()
    (folder / "index.html").write_text(PARTNER_PAGE.format(mark=folder.name, snippet=snippet), encoding="utf-8")
    return serve(folder)


def test_signing_in_a_partners_frame_with_third_party_cookies_blocked(live_server, blocking_context, tmp_path):
    # The partner's site first (its port names the website), then the partner, then its page.
    folder = tmp_path / "partner"
    folder.mkdir()
    server, port = serve(folder)
    try:
        domain = make_partner(live_server, tmp_path, "allowed", port)
        snippet = snippet_for(live_server, domain)
        assert "127.0.0.1" in snippet and 'loading="lazy"' in snippet
        (folder / "index.html").write_text(PARTNER_PAGE.format(mark="allowed", snippet=snippet), encoding="utf-8")

        page = blocking_context.new_page()
        page.goto(f"http://localhost:{port}/index.html")
        frame_element = page.locator("iframe")
        frame_element.scroll_into_view_if_needed()
        frame = page.frame_locator("iframe")
        expect(frame.locator("h1")).to_contain_text("Fund alternatives")
        expect(frame.locator(".embed-attribution")).to_contain_text("Partner")
        inner = next(f for f in page.frames if "/embed/" in f.url)
        # Third-party cookies really are blocked in this frame: one it sets does not stick.
        assert inner.evaluate("() => { document.cookie = 'probe=1; SameSite=None; Secure'; return document.cookie; }") == ""
        email = sign_in_frame(frame, "embed")
        # Still inside the partner's page; the full campaign page opens in a new tab.
        assert page.url == f"http://localhost:{port}/index.html"
        link = frame.get_by_role("link", name=re.compile("See the full campaign page"))
        assert link.get_attribute("target") == "_blank"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "embed-thanks-desktop.png"), full_page=True)
        (message,) = live_server.wait_for_mail(to=email)
        assert "confirm" in message["Subject"].lower()
        # Attributed to the partner (never trusted for anything else).
        check = (
            "from coalition.extensions import db\nfrom coalition.models import Signature, Organization\n"
            f"s = db.session.scalars(db.select(Signature).filter_by(email_normalized='{email}')).one()\n"
            "print('PARTNER', db.session.get(Organization, s.partner_id).domain)\n"
        )
        result = live_server.flask("shell", input=f"exec({check!r})\n")
        assert f"PARTNER {domain}" in result.stdout, result.stdout + result.stderr
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_the_embed_on_its_own_is_accessible(live_server, new_page, tmp_path, viewport):
    domain = make_partner(live_server, tmp_path, "look", free_port())
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if viewport == "phone" else {"viewport": DESKTOP}
    page = new_page(**options)
    page.goto(f"/embed/{domain}/campaigns/{OPEN_CAMPAIGN}")
    page.screenshot(path=str(SCREENSHOTS / f"embed-{viewport}.png"), full_page=True)
    assert_no_axe_violations(page)
    # The whole form fits the snippet's height, so the frame needs no scroll bar on a phone.
    from coalition.services.embeds import SNIPPET_HEIGHT

    assert page.evaluate("() => document.documentElement.scrollHeight") <= SNIPPET_HEIGHT


def test_the_embed_is_refused_in_a_frame_on_an_unlisted_site(live_server, blocking_context, tmp_path):
    domain = make_partner(live_server, tmp_path, "listed", free_port())
    snippet = snippet_for(live_server, domain)
    server, port = partner_site(tmp_path, snippet)  # another port: not the partner's website
    try:
        page = blocking_context.new_page()
        refused = []
        page.on("console", lambda message: "frame-ancestors" in message.text and refused.append(message.text))
        page.goto(f"http://localhost:{port}/index.html")
        page.locator("iframe").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        expect(page.locator("h1")).to_have_text(re.compile("Partner"))
        inner = [f for f in page.frames if f is not page.main_frame]
        assert inner, "the iframe is there"
        # Chromium shows its own error page instead of the embed, and says why.
        print("FRAMES", [(f.url, f.is_detached()) for f in inner], refused)
        assert all(f.locator("form.embed-form").count() == 0 for f in inner)
        assert refused and "frame-ancestors" in refused[0]
    finally:
        server.shutdown()
        server.server_close()


def test_a_website_staff_add_by_hand_frames_its_own_address_alone(live_server, new_page, blocking_context, tmp_path):
    from tests.browser.test_browser_staff import create_admin, log_in

    folder = tmp_path / "hosted"
    folder.mkdir()
    server, port = serve(folder)
    try:
        domain = make_partner(live_server, tmp_path, "hand", free_port())
        name = "Partner " + domain.split("-", 1)[1].split(".", 1)[0]
        found = live_server.flask("shell", input=(
            "exec('from coalition.extensions import db\\nfrom coalition.models import Campaign\\n"
            f"print(\"ID\", db.session.execute(db.select(Campaign.id).filter_by(slug=\"{OPEN_CAMPAIGN}\")).scalar_one())')\n"
        ))
        campaign_id = re.search(r"ID (\d+)", found.stdout).group(1)

        # Staff add the partner's other website on the campaign's page, as a person would.
        staff = new_page(viewport=DESKTOP)
        log_in(staff, *create_admin(live_server, uuid.uuid4().hex[:8]))
        staff.goto(f"/staff/campaigns/{campaign_id}/edit#embeds")
        block = staff.locator(".embed-partner").filter(has=staff.get_by_role("heading", name=name))
        block.get_by_label("Another website of this organization").fill(f"http://localhost:{port}/petitions")
        block.get_by_role("button", name=re.compile("Add this website")).click()
        expect(staff.locator(".flash, [role=status]").first).to_contain_text(f"localhost:{port} has an embed address of its own")
        site_snippet = staff.get_by_label(f"Snippet for its website localhost:{port}").input_value()
        own_snippet = staff.get_by_label(f"Snippet for {name}").input_value()
        assert f"/embed/localhost:{port}/campaigns/{OPEN_CAMPAIGN}" in site_snippet
        staff.locator(f"#embeds").screenshot(path=str(SCREENSHOTS / "staff-embed-sites-desktop.png"))
        assert_no_axe_violations(staff)

        (folder / "index.html").write_text(PARTNER_PAGE.format(mark="hosted", snippet=site_snippet), encoding="utf-8")
        (folder / "own.html").write_text(PARTNER_PAGE.format(mark="own", snippet=own_snippet), encoding="utf-8")
        page = blocking_context.new_page()
        page.goto(f"http://localhost:{port}/index.html")
        page.locator("iframe").scroll_into_view_if_needed()
        frame = page.frame_locator("iframe")
        expect(frame.locator(".embed-attribution")).to_contain_text(name)
        email = sign_in_frame(frame, "hosted")
        live_server.wait_for_mail(to=email)

        # The partner's own address is not framed by this website: each address names one site.
        refused = []
        own = blocking_context.new_page()
        own.on("console", lambda message: "frame-ancestors" in message.text and refused.append(message.text))
        own.goto(f"http://localhost:{port}/own.html")
        own.locator("iframe").scroll_into_view_if_needed()
        own.wait_for_timeout(500)
        assert all(f.locator("form.embed-form").count() == 0 for f in own.frames if f is not own.main_frame)
        assert refused and "frame-ancestors" in refused[0]
    finally:
        server.shutdown()
        server.server_close()
