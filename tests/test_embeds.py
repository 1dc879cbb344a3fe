"""Partners' embedded petitions: the address, the framing rules, no cookie, attribution, counts."""

from __future__ import annotations

import pytest

from coalition.extensions import db
from coalition.models import AuditEntry, Endorsement, Organization, PartnerSite, Signature
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


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("harlemreentry.squarespace.com", ("https", "harlemreentry.squarespace.com")),
        ("https://www.Harlem-Reentry.NET/petition?x=1", ("https", "harlem-reentry.net")),
        ("http://localhost:8123/about", ("http", "localhost:8123")),
        ("https://example.org:443/", ("https", "example.org")),
        ("círculo.example", ("https", "xn--crculo-3va.example")),
    ],
)
def test_a_site_staff_type_is_read_as_its_scheme_and_domain(typed, parsed):
    assert embeds.parse_site(typed) == parsed


@pytest.mark.parametrize(
    "typed",
    ["", "not a site", "javascript:alert(1)", "ftp://example.org", "https://user@example.org", "example",
     "https://example.org:99999", "exa\nmple.org", "x" * 301 + ".org", "https://ex*ample.org"],
)
def test_what_is_not_a_sites_address_is_refused(typed):
    with pytest.raises(embeds.PartnerSiteRefused) as refused:
        embeds.parse_site(typed)
    assert refused.value.reason == "not-an-address"


def test_a_site_staff_add_gets_an_embed_address_that_it_alone_may_frame(client, make_campaign, make_partner, make_staff):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    login(client, make_staff())
    added = client.post(f"/staff/endorsements/{endorsement.id}/sites",
                        data={f"site-{endorsement.id}-address": "https://harlemreentry.squarespace.com/sign"})
    assert added.status_code == 302 and added.headers["Location"].endswith(f"/staff/campaigns/{campaign.id}/edit#site-1")
    staff_page = client.get(f"/staff/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert "Snippet for its website harlemreentry.squarespace.com" in staff_page
    assert f"/embed/harlemreentry.squarespace.com/campaigns/{campaign.slug}&#34;" in staff_page
    client.post("/staff/logout")

    own = client.get(f"/embed/harlemreentry.org/campaigns/{campaign.slug}")
    site = client.get(f"/embed/harlemreentry.squarespace.com/campaigns/{campaign.slug}")
    assert frame_ancestors(own) == "frame-ancestors https://harlemreentry.org https://www.harlemreentry.org"
    assert frame_ancestors(site) == (
        "frame-ancestors https://harlemreentry.squarespace.com https://www.harlemreentry.squarespace.com"
    )
    html = site.get_data(as_text=True)
    assert f'action="/embed/harlemreentry.squarespace.com/campaigns/{campaign.slug}"' in html
    assert "Harlem Reentry Circle and the Coalition for Women Prisoners" in html
    signed = client.post(f"/embed/harlemreentry.squarespace.com/campaigns/{campaign.slug}",
                         data=sign_data(email="site@example.org"))
    assert signed.headers["Location"] == f"/embed/harlemreentry.squarespace.com/campaigns/{campaign.slug}/thanks"
    thanks = client.get(signed.headers["Location"])
    assert frame_ancestors(thanks) == frame_ancestors(site)
    # Counted for the partner organization, like its own address.
    assert db.session.scalars(db.select(Signature.partner_id)).one() == endorsement.organization_id
    audit = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("partner_site.%"))).all()
    assert audit == ["partner_site.add"]


def test_a_site_that_is_refused_says_why_beside_the_field_and_saves_nothing(client, make_campaign, make_partner, make_staff):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    make_partner(campaign, domain="otherorg.example.org", name="Other Org")
    login(client, make_staff())
    field = f"site-{endorsement.id}-address"
    for typed, message in [
        ("www.harlemreentry.org", "That is the organization’s own domain"),
        ("https://otherorg.example.org/", "That website is already another organization’s"),
        ("not a website", "That is not a website’s address"),
        ("", "Type the website’s address."),
    ]:
        response = client.post(f"/staff/endorsements/{endorsement.id}/sites", data={field: typed})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        error = html.split(f'id="{field}-error"', 1)[1].split("</", 1)[0]
        assert message in error, (typed, error)
    assert db.session.scalars(db.select(PartnerSite)).all() == []


def test_a_removed_site_loses_its_address_and_an_unverified_partners_site_has_none(
    client, make_campaign, make_partner, make_staff
):
    campaign = make_campaign()
    endorsement = make_partner(campaign)
    site = embeds.add_partner_site(endorsement.organization_id, "reentry.example.net", None)
    waiting = make_partner(campaign, domain="waiting.example.org", status="confirmed")
    embeds.add_partner_site(waiting.organization_id, "waiting.example.net", None)
    db.session.commit()
    assert client.get(f"/embed/reentry.example.net/campaigns/{campaign.slug}").status_code == 200
    assert client.get(f"/embed/waiting.example.net/campaigns/{campaign.slug}").status_code == 404
    # A site of another organization cannot be removed through this endorsement's address.
    login(client, make_staff())
    other_site = db.session.scalars(db.select(PartnerSite).filter_by(domain="waiting.example.net")).one()
    assert client.post(f"/staff/endorsements/{endorsement.id}/sites/{other_site.id}/remove").status_code == 404
    removed = client.post(f"/staff/endorsements/{endorsement.id}/sites/{site.id}/remove")
    assert removed.status_code == 302
    assert client.get(f"/embed/reentry.example.net/campaigns/{campaign.slug}").status_code == 404
    assert client.get(f"/embed/harlemreentry.org/campaigns/{campaign.slug}").status_code == 200
