"""The emailed confirmation link in a real browser: real mail, real CSRF cookie, keyboard only."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.accessibility import assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CAMPAIGN = "keep-families-connected"

#: Made in the site's own shell: a pending signature and its confirmation email, sent now.
PENDING_SIGNATURE = """
from coalition import mail
from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.services import confirmations
campaign = db.session.execute(db.select(Campaign).filter_by(slug="{slug}")).scalar_one()
signature = Signature(campaign_id=campaign.id, full_name="Dana Example", email="{email}", email_normalized="{email}", zip_code="10027")
db.session.add(signature)
confirmations.queue_confirmation_email("{email}", "en", [signature])
db.session.commit()
print("sent", mail.send_pending_mail())
"""


def signature_count(page) -> int:
    text = page.locator(".progress-text").first.inner_text()
    return int(re.match(r"([\d,]+) signatures", text).group(1).replace(",", ""))


def test_confirming_from_the_email_counts_the_signature_once(live_server, page):
    page.goto(f"/campaigns/{CAMPAIGN}")
    before = signature_count(page)

    email = f"dana-{uuid.uuid4().hex[:8]}@example.org"
    result = live_server.flask("shell", input=PENDING_SIGNATURE.format(slug=CAMPAIGN, email=email))
    assert "sent (1, 0)" in result.stdout, result.stdout + result.stderr
    (message,) = live_server.wait_for_mail(to=email)
    assert message["Subject"] == "Please confirm your signature: “Keep families connected during incarceration”"
    link = re.search(re.escape(live_server.url) + r"/confirm/\S+", message.get_content()).group(0)

    page.goto(link)
    assert page.locator("h1").inner_text() == "Confirm your signature"
    assert_no_axe_violations(page)

    button = page.get_by_role("button", name="Confirm my signature")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Thank you, it is confirmed")
    assert_no_axe_violations(page)

    page.locator("main").get_by_role("link", name="Keep families connected during incarceration").click()
    page.wait_for_url(f"**/campaigns/{CAMPAIGN}")
    assert signature_count(page) == before + 1

    page.goto(link)  # the link again: already confirmed, counted once
    assert page.locator("h1").inner_text() == "Already confirmed"
    page.goto(f"/campaigns/{CAMPAIGN}")
    assert signature_count(page) == before + 1


def test_a_broken_confirmation_link_explains_what_to_do(page):
    response = page.goto("/confirm/not-a-real-token")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "This link does not work"
    assert_no_axe_violations(page)
