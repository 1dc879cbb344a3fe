"""Partners' embedded petitions: the address, the framing rules, no cookie, attribution, counts."""

from __future__ import annotations

import pytest

from coalition.extensions import db
from coalition.models import Endorsement, Organization, Signature
from coalition.models.types import utcnow
from coalition.services import embeds
from tests.conftest import login
from tests.public_forms import sign_data


@pytest.fixture
def make_partner(app):
    """Factory: an organization with an endorsement of ``campaign`` (verified by default)."""

    def build(campaign, domain="harlemreentry.org", name="Harlem Reentry Circle", status="verified",
              website=None, public_consent=True, show_embed_count=False):
        organization = Organization(domain=domain, name=name, website=website or f"https://{domain}",
                                    org_type="community-group")
        db.session.add(organization)
        db.session.flush()
        endorsement = Endorsement(
            organization_id=organization.id, campaign_id=campaign.id, status=status, contact_name="Ana",
            contact_role="Director", contact_email=f"ana@{domain}", contact_email_normalized=f"ana@{domain}",
            authorized=True, public_consent=public_consent, show_embed_count=show_embed_count,
            confirmed_at=utcnow(), reviewed_at=utcnow() if status == "verified" else None,
        )
        db.session.add(endorsement)
        db.session.commit()
        return endorsement

    return build


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if part.strip().startswith("frame-ancestors"))


def test_a_partners_embed_may_be_framed_by_that_partner_alone_and_sets_no_cookie(client, make_campaign, make_partner):
    campaign = make_campaign(title="Fund alternatives")
    make_partner(campaign, website="http://localhost:8123/about")
    response = client.get(f"/embed/harlemreentry.org/campaigns/{campaign.slug}")
    assert response.status_code == 200
    assert frame_ancestors(response) == (
        "frame-ancestors https://harlemreentry.org https://www.harlemreentry.org http://localhost:8123"
    )
    assert "Set-Cookie" not in response.headers and "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
    html = response.get_data(as_text=True)
    assert "Harlem Reentry Circle and the Coalition for Women Prisoners" in html
    assert 'name="csrf_token"' not in html
    assert f'action="/embed/harlemreentry.org/campaigns/{campaign.slug}"' in html
    assert 'target="_blank" rel="noopener"' in html
    # Every other page still refuses every frame.
    other = client.get(f"/campaigns/{campaign.slug}")
    assert frame_ancestors(other) == "frame-ancestors 'none'" and other.headers["X-Frame-Options"] == "DENY"
    # In Spanish too.
    spanish = client.get(f"/es/embed/harlemreentry.org/campaigns/{campaign.slug}")
    assert spanish.status_code == 200 and 'lang="es"' in spanish.get_data(as_text=True)


def test_only_a_verified_partner_has_an_embed_address(client, make_campaign, make_partner):
    campaign = make_campaign()
    make_partner(campaign, domain="waiting.example.org", status="confirmed")
    assert client.get(f"/embed/waiting.example.org/campaigns/{campaign.slug}").status_code == 404
    assert client.get(f"/embed/nobody.example.org/campaigns/{campaign.slug}").status_code == 404
    assert client.get("/embed/bad%20host;/campaigns/x").status_code == 404


def test_a_signature_through_the_embed_records_the_partner_and_thanks_inside_the_frame(
    client, make_campaign, make_partner, make_staff
):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    client.get(f"/embed/harlemreentry.org/campaigns/{campaign.slug}")
    # No cookie sent, and none needed.
    client.delete_cookie("session")
    response = client.post(f"/embed/harlemreentry.org/campaigns/{campaign.slug}", data=sign_data(email="e1@example.org"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/embed/harlemreentry.org/campaigns/{campaign.slug}/thanks"
    assert "Set-Cookie" not in response.headers
    thanks = client.get(response.headers["Location"])
    assert frame_ancestors(thanks).startswith("frame-ancestors https://harlemreentry.org")
    html = thanks.get_data(as_text=True)
    assert "check your email" in html
    assert f'href="/campaigns/{campaign.slug}" target="_blank" rel="noopener"' in html
    signature = db.session.scalars(db.select(Signature)).one()
    assert signature.partner_id == endorsement.organization_id and signature.referral is None
    # Staff see it per partner.
    login(client, make_staff())
    staff_page = client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert "Embedded on the website of Harlem Reentry Circle</th>" in staff_page


def test_the_campaign_page_shows_a_partners_count_only_if_staff_choose(client, make_campaign, make_partner, make_signature_row):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    for n in range(3):
        make_signature_row(campaign, email=f"p{n}@example.org", partner_id=endorsement.organization_id)
    make_signature_row(campaign, email="pending@example.org", status="pending", partner_id=endorsement.organization_id)
    assert "signed through" not in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    embeds.set_show_embed_count(endorsement.id, None, True)
    db.session.commit()
    assert "3 signed through Harlem Reentry Circle" in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    # Not without the contact's consent to be shown.
    endorsement.public_consent = False
    db.session.commit()
    assert embeds.public_partner_counts(campaign.id) == []


def test_the_embed_snippet(app, make_campaign, make_partner):
    campaign = make_campaign(title="Fund <alternatives> & more")
    endorsement = make_partner(campaign)
    with app.app_context():
        snippet = embeds.embed_snippet(endorsement)
        spanish = embeds.embed_snippet(endorsement, language="es")
    site = app.config["SITE_URL"]
    assert snippet.startswith(
        f'<iframe src="{site}/embed/harlemreentry.org/campaigns/{campaign.slug}" '
        'title="Fund &lt;alternatives&gt; &amp; more · Coalition for Women Prisoners" loading="lazy" '
    )
    assert 'height="1200"' in snippet and 'width="100%"' in snippet
    assert "keep allow-same-origin allow-forms allow-scripts" in snippet and "Origin: null" in snippet
    assert f'src="{site}/es/embed/harlemreentry.org/campaigns/{campaign.slug}"' in spanish
    assert "mantenga allow-same-origin" in spanish


def test_staff_see_each_partners_snippet_and_choose_to_show_its_count(client, make_campaign, make_partner, make_staff):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    make_partner(campaign, domain="private.example.org", name="Private Org", public_consent=False)
    login(client, make_staff())
    html = client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert f"&lt;iframe src=&#34;http://localhost/embed/harlemreentry.org/campaigns/{campaign.slug}&#34;" in html
    assert "Its contact did not agree to be shown: its count stays private." in html
    client.post(f"/staff/endorsements/{endorsement.id}/embed-count", data={"action": "show"})
    db.session.expire_all()
    assert db.session.get(Endorsement, endorsement.id).show_embed_count is True
    client.post(f"/staff/endorsements/{endorsement.id}/embed-count", data={"action": "hide"})
    db.session.expire_all()
    assert db.session.get(Endorsement, endorsement.id).show_embed_count is False
