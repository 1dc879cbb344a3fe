"""Organizations' endorsements: the form, its rules, and the whole life cycle."""

import os
import re
import time

import pytest
from flask import current_app, render_template
from itsdangerous import TimestampSigner

from coalition.extensions import db
from coalition.models import AuditEntry, Endorsement, Organization, OutgoingMail
from coalition.services import confirmations, endorsing
from coalition.tokens import make_token
from coalition.web.endorsements import campaign_section


def _form_time(seconds_ago=60):
    return make_token("form-time", int(time.time()) - seconds_ago)


def _endorse_data(**overrides):
    data = {
        "organization_name": "Women in Prison Project",
        "website": "https://www.WIPP.example.org/about",
        "org_type": "advocacy-group",
        "locality": "New York County",
        "contact_name": "Tamar Kraft-Stolar",
        "contact_role": "Director",
        "contact_email": "director@wipp.example.org",
        "contact_phone": "212-254-5700",
        "statement": "We stand with women in prison and their families.",
        "authorized": "y",
        "public_consent": "y",
        "homepage": "",
        "form_started": _form_time(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _details(**overrides):
    values = {
        "organization_name": "Women in Prison Project",
        "website": "https://www.wipp.example.org",
        "org_type": "advocacy-group",
        "locality": "New York County",
        "contact_name": "Tamar K",
        "contact_role": "Director",
        "contact_email": "director@wipp.example.org",
        "authorized": True,
        "public_consent": True,
        "statement": "We endorse.",
    }
    values.update(overrides)
    return endorsing.EndorsementDetails(**values)


def _endorsements():
    db.session.expire_all()
    return list(db.session.execute(db.select(Endorsement).order_by(Endorsement.id)).scalars())


def _mail_rows():
    """Mail queued or already written to the outbox (tests send inline)."""
    outbox = current_app.config["OUTBOX_DIR"]
    written = os.listdir(outbox) if os.path.isdir(outbox) else []
    return list(db.session.execute(db.select(OutgoingMail)).scalars()) + written


def _links(message):
    body = message.get_content()
    confirm = re.search(r"http://localhost(/endorsements/confirm/\S+)", body).group(1)
    withdraw = re.search(r"http://localhost(/endorsements/withdraw/\S+)", body).group(1)
    return confirm, withdraw


def _audit_actions(endorsement_id):
    rows = db.session.execute(
        db.select(AuditEntry)
        .where(AuditEntry.subject == f"endorsement:{endorsement_id}")
        .order_by(AuditEntry.id)
    ).scalars()
    return [(row.action, row.actor_id) for row in rows]


# Websites and organizations


@pytest.mark.parametrize(
    "typed, address, domain",
    [
        ("https://www.WIPP.org/about?x=1#top", "https://www.wipp.org/about?x=1", "wipp.org"),
        ("wipp.org", "https://wipp.org", "wipp.org"),
        ("http://Example.ORG:8080/x", "http://example.org:8080/x", "example.org"),
        ("  HTTPS://WWW.example.org  ", "https://www.example.org", "example.org"),
        ("https://ny.aclu.org", "https://ny.aclu.org", "ny.aclu.org"),
        ("https://bücher.example", "https://xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_website_addresses_and_the_domain_that_identifies_an_organization(app, typed, address, domain):
    assert endorsing.website_address(typed) == address
    assert endorsing.website_domain(typed) == domain


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ftp://wipp.org",
        "javascript:alert(1)",
        "mailto:info@wipp.org",
        "https://user:pw@wipp.org",
        "not a website",
        "https://localhost",
        "https://10.0.0.1",
        "https://wipp..org",
        "http://-bad-.org",
    ],
)
def test_only_http_and_https_website_addresses_are_accepted(app, typed):
    with pytest.raises(endorsing.InvalidWebsite):
        endorsing.website_address(typed)


def test_every_organization_type_has_a_label(app):
    from coalition.models.endorsements import ORGANIZATION_TYPES

    assert set(endorsing.ORGANIZATION_TYPE_LABELS) == set(ORGANIZATION_TYPES)


def test_one_organization_record_across_campaigns_matched_by_domain(app, make_campaign):
    first, second = make_campaign(), make_campaign()
    endorsing.submit_endorsement(first, _details(website="https://www.wipp.example.org"))
    endorsing.submit_endorsement(
        second,
        _details(website="http://WIPP.example.org/contact", organization_name="WIPP", org_type="other"),
    )
    organizations = list(db.session.execute(db.select(Organization)).scalars())
    assert [(o.domain, o.name, o.org_type) for o in organizations] == [
        ("wipp.example.org", "Women in Prison Project", "advocacy-group")
    ]
    assert [(e.organization_id, e.campaign_id) for e in _endorsements()] == [
        (organizations[0].id, first.id),
        (organizations[0].id, second.id),
    ]
    # Each endorsement keeps the name its contact gave, for display.
    assert [e.display_name for e in _endorsements()] == ["Women in Prison Project", "WIPP"]


def test_losing_the_race_to_create_an_organization_uses_the_winners_record(app, make_campaign, monkeypatch):
    endorsing.submit_endorsement(make_campaign(), _details())
    real_lookup = endorsing._organization_by_domain
    calls = {"n": 0}

    def miss_once(domain):
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(domain)

    monkeypatch.setattr(endorsing, "_organization_by_domain", miss_once)
    outcome = endorsing.submit_endorsement(make_campaign(), _details())
    assert outcome.stored
    assert db.session.execute(db.select(db.func.count(Organization.id))).scalar_one() == 1
    assert len(_endorsements()) == 2


# The form


def test_standalone_page_and_campaign_partial_show_the_form(client, make_campaign):
    campaign = make_campaign()
    html = client.get(f"/campaigns/{campaign.slug}/endorse").get_data(as_text=True)
    assert "Endorse as an organization" in html
    for name in (
        "organization_name",
        "website",
        "org_type",
        "locality",
        "contact_name",
        "contact_role",
        "contact_email",
        "contact_phone",
        "statement",
        "authorized",
        "public_consent",
        "homepage",
    ):
        assert f'name="{name}"' in html
    assert "Faith community" in html and "Legal services" in html

    with client.application.test_request_context(f"/campaigns/{campaign.slug}"):
        partial = render_template(
            "endorsements/_campaign_section.html", campaign=campaign, **campaign_section(campaign)
        )
    assert f'action="/campaigns/{campaign.slug}/endorse"' in partial
    assert 'name="form_started"' in partial
    assert "No organization’s endorsement has been published yet." in partial


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"organization_name": ""}, "organization_name", "Enter the organization’s name."),
        ({"website": ""}, "website", "Enter the organization’s website."),
        ({"website": "ftp://wipp.example.org"}, "website", "such as https://www.example.org"),
        ({"website": "javascript:alert(1)"}, "website", "such as https://www.example.org"),
        ({"org_type": ""}, "org_type", "Choose the type of organization."),
        ({"org_type": "cartel"}, "org_type", "Choose from the list."),
        ({"locality": ""}, "locality", "Enter the city or county"),
        ({"contact_name": ""}, "contact_name", "Enter your name."),
        ({"contact_role": ""}, "contact_role", "Enter your role"),
        ({"contact_email": "director@"}, "contact_email", "Enter an email address like name@example.org."),
        ({"contact_phone": "call me"}, "contact_phone", "Enter a phone number"),
        ({"statement": "x" * 1001}, "statement", "Use 1000 characters at most."),
        ({"authorized": None}, "authorized", "Only someone authorized by the organization may endorse"),
    ],
)
def test_each_rule_is_explained_beside_its_field_and_nothing_typed_is_lost(
    client, make_campaign, overrides, field, message
):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data(**overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True).replace("&#8217;", "’")
    errors = re.search(rf'<ul class="field-errors" id="{field}-error">(.*?)</ul>', html, re.DOTALL)
    assert errors, f"no error beside {field}"
    assert message in errors.group(1)
    if field != "statement":
        assert "We stand with women in prison and their families.</textarea>" in html
    if field != "contact_role":
        assert 'value="Director"' in html
    assert _endorsements() == []
    assert _mail_rows() == []


def test_phone_and_statement_are_optional_and_consent_may_be_withheld(client, make_campaign):
    campaign = make_campaign()
    data = _endorse_data(contact_phone="", statement="", public_consent=None)
    assert client.post(f"/campaigns/{campaign.slug}/endorse", data=data).status_code == 302
    [endorsement] = _endorsements()
    assert (endorsement.contact_phone, endorsement.statement, endorsement.public_consent) == ("", "", False)


def test_a_campaign_that_is_not_open_takes_no_endorsements(client, make_campaign):
    campaign = make_campaign(status="closed")
    html = client.get(f"/campaigns/{campaign.slug}/endorse").get_data(as_text=True)
    assert "not taking endorsements now" in html
    assert 'name="organization_name"' not in html
    client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data())
    assert _endorsements() == []
    with pytest.raises(endorsing.EndorsementError):
        endorsing.submit_endorsement(campaign, _details())
    draft = make_campaign(status="draft")
    assert client.get(f"/campaigns/{draft.slug}/endorse").status_code == 404


def test_honeypot_gets_the_thank_you_page_and_nothing_is_saved(client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data(homepage="spam"))
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.slug}/endorse/thanks")
    assert _endorsements() == []
    assert _mail_rows() == []


def test_a_form_sent_too_fast_comes_back_with_what_was_typed(app_factory):
    from coalition.services import campaigns as campaign_service
    from coalition.services import content as content_service

    app = app_factory(FORM_MIN_FILL_SECONDS=3)
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        client = app.test_client()
        response = client.post("/campaigns/c/endorse", data=_endorse_data(form_started=_form_time(0)))
        html = response.get_data(as_text=True)
        assert "press the button again" in html
        assert 'value="Women in Prison Project"' in html
        assert _endorsements() == []
        assert (
            client.post("/campaigns/c/endorse", data=_endorse_data(form_started=_form_time(5))).status_code
            == 302
        )
        assert len(_endorsements()) == 1


def test_endorsing_is_rate_limited_per_client_address(app_factory):
    from coalition.services import campaigns as campaign_service
    from coalition.services import content as content_service

    app = app_factory(RATELIMIT_ENABLED=True, ENDORSE_RATE_LIMIT="2 per hour")
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        client = app.test_client()
        for n in range(2):
            data = _endorse_data(website=f"https://org{n}.example.org")
            assert client.post("/campaigns/c/endorse", data=data).status_code == 302
        assert client.post("/campaigns/c/endorse", data=_endorse_data()).status_code == 429
        assert len(_endorsements()) == 2
        assert client.get("/campaigns/c/endorse").status_code == 200


def test_with_csrf_protection_on_endorsing_needs_no_token_and_no_cookie(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from coalition.services import campaigns as campaign_service
        from coalition.services import content as content_service

        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        client = app.test_client()
        response = client.post("/campaigns/c/endorse", data=_endorse_data(), headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code in (302, 303)
        assert "Set-Cookie" not in response.headers
        assert db.session.execute(db.select(Endorsement)).scalar_one().status == "submitted"


# The life cycle


def test_whole_life_cycle_submitted_confirmed_verified_rejected_withdrawn(
    mail_app, smtp_server, make_campaign, staff_id
):
    client = mail_app.test_client()
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data())
    assert response.headers["Location"].endswith(f"/campaigns/{campaign.slug}/endorse/thanks")
    assert "Please check your email" in client.get(response.headers["Location"]).get_data(as_text=True)

    # Submitted: stored, an email with two links, nothing public.
    [endorsement] = _endorsements()
    assert endorsement.status == "submitted"
    assert endorsement.organization.domain == "wipp.example.org"
    assert endorsement.contact_email_normalized == "director@wipp.example.org"
    assert endorsement.client_hash
    [message] = smtp_server.messages
    assert message["To"] == "director@wipp.example.org"
    assert message["Subject"] == "Please confirm your organization’s endorsement"
    confirm_link, withdraw_link = _links(message)
    assert endorsing.public_endorsements(campaign.id) == []

    # Opening the confirmation link changes nothing; the button confirms.
    page = client.get(confirm_link).get_data(as_text=True)
    assert "Confirm the endorsement" in page
    assert _endorsements()[0].status == "submitted"
    assert "the endorsement is confirmed" in client.post(confirm_link).get_data(as_text=True)
    endorsement = _endorsements()[0]
    assert endorsement.status == "confirmed" and endorsement.confirmed_at
    assert "Already confirmed" in client.get(confirm_link).get_data(as_text=True)
    assert endorsing.endorsements_awaiting_review() == [endorsement]
    assert endorsing.public_endorsements(campaign.id) == []  # confirmed is not yet shown

    # Verified by staff: shown on the campaign's endorse page, in the partial and on /endorsements.
    endorsing.verify_endorsement(endorsement.id, staff_id)
    db.session.commit()
    endorsement = _endorsements()[0]
    assert (endorsement.status, endorsement.reviewed_by_id) == ("verified", staff_id)
    assert endorsing.endorsements_awaiting_review() == []
    [shown] = endorsing.public_endorsements(campaign.id)
    assert (shown.name, shown.statement) == (
        "Women in Prison Project",
        "We stand with women in prison and their families.",
    )
    assert "Women in Prison Project" in client.get(f"/campaigns/{campaign.slug}/endorse").get_data(
        as_text=True
    )
    directory = client.get("/endorsements").get_data(as_text=True)
    assert "Women in Prison Project" in directory and campaign.title in directory
    assert "director@wipp.example.org" not in directory and "Tamar" not in directory

    # Staff edit what shows.
    endorsing.edit_endorsement_display(endorsement.id, staff_id, "WIPP", "Edited statement.")
    db.session.commit()
    assert [(e.name, e.statement) for e in endorsing.public_endorsements(campaign.id)] == [
        ("WIPP", "Edited statement.")
    ]
    assert _endorsements()[0].statement == "We stand with women in prison and their families."

    # Rejected (staff changed their mind): gone from the public pages; then verified again.
    endorsing.reject_endorsement(endorsement.id, staff_id, "Could not reach the organization.")
    db.session.commit()
    assert _endorsements()[0].rejection_reason == "Could not reach the organization."
    assert endorsing.public_endorsements(campaign.id) == []
    assert "WIPP" not in client.get("/endorsements").get_data(as_text=True)
    endorsing.verify_endorsement(endorsement.id, staff_id)
    db.session.commit()
    assert _endorsements()[0].rejection_reason is None
    assert len(endorsing.public_endorsements(campaign.id)) == 1

    # Withdrawn by the contact from the second link: a page with a button, then gone.
    assert "Withdraw the endorsement?" in client.get(withdraw_link).get_data(as_text=True)
    assert _endorsements()[0].status == "verified"
    assert "The endorsement is withdrawn" in client.post(withdraw_link).get_data(as_text=True)
    endorsement = _endorsements()[0]
    assert endorsement.status == "withdrawn" and endorsement.withdrawn_at
    assert endorsing.public_endorsements(campaign.id) == []
    assert "WIPP" not in client.get("/endorsements").get_data(as_text=True)
    assert "Already withdrawn" in client.get(withdraw_link).get_data(as_text=True)
    with pytest.raises(endorsing.TransitionNotAllowed):
        endorsing.verify_endorsement(endorsement.id, staff_id)

    # Every step is in the audit log, with who acted and no personal data.
    assert _audit_actions(endorsement.id) == [
        ("endorsement.submit", None),
        ("endorsement.confirm", None),
        ("endorsement.verify", staff_id),
        ("endorsement.edit_display", staff_id),
        ("endorsement.reject", staff_id),
        ("endorsement.verify", staff_id),
        ("endorsement.withdraw", None),
    ]
    for entry in db.session.execute(db.select(AuditEntry)).scalars():
        assert "wipp.example.org" not in str(entry.details) and "Tamar" not in str(entry.details)


@pytest.fixture
def staff_id(app):
    from coalition.models import StaffUser

    staff = StaffUser(email="organizer@example.org", password_hash="not-a-real-hash", role="organizer")
    db.session.add(staff)
    db.session.commit()
    return staff.id


@pytest.mark.parametrize(
    "status, verify, reject, edit",
    [
        ("submitted", False, False, True),
        ("confirmed", True, True, True),
        ("verified", False, True, True),
        ("rejected", True, False, True),
        ("withdrawn", False, False, False),
    ],
)
def test_staff_review_allows_only_these_changes(app, make_campaign, staff_id, status, verify, reject, edit):
    outcome = endorsing.submit_endorsement(make_campaign(), _details())
    endorsement_id = outcome.endorsement.id
    db.session.execute(
        db.update(Endorsement)
        .where(Endorsement.id == endorsement_id)
        .values(status=status, rejection_reason="r" if status == "rejected" else None)
    )
    db.session.commit()

    def attempt(change):
        try:
            change()
        except endorsing.TransitionNotAllowed:
            return False
        finally:
            db.session.execute(
                db.update(Endorsement)
                .where(Endorsement.id == endorsement_id)
                .values(status=status, rejection_reason="r" if status == "rejected" else None)
            )
            db.session.commit()
        return True

    assert attempt(lambda: endorsing.verify_endorsement(endorsement_id, staff_id)) is verify
    assert (
        attempt(lambda: endorsing.reject_endorsement(endorsement_id, staff_id, "No such organization"))
        is reject
    )
    assert attempt(lambda: endorsing.edit_endorsement_display(endorsement_id, staff_id, "Name", "")) is edit


def test_staff_review_checks_its_input(app, make_campaign, staff_id):
    endorsement = endorsing.submit_endorsement(make_campaign(), _details()).endorsement
    db.session.execute(
        db.update(Endorsement).where(Endorsement.id == endorsement.id).values(status="confirmed")
    )
    db.session.commit()
    with pytest.raises(endorsing.EndorsementError):
        endorsing.reject_endorsement(endorsement.id, staff_id, "   ")
    with pytest.raises(endorsing.EndorsementError):
        endorsing.reject_endorsement(endorsement.id, staff_id, "x" * 501)
    with pytest.raises(endorsing.EndorsementError):
        endorsing.edit_endorsement_display(endorsement.id, staff_id, "", "statement")
    with pytest.raises(endorsing.EndorsementError):
        endorsing.edit_endorsement_display(endorsement.id, staff_id, "Name", "x" * 1001)
    with pytest.raises(endorsing.EndorsementNotFound):
        endorsing.verify_endorsement(999999, staff_id)
    assert _endorsements()[0].status == "confirmed"


def test_awaiting_review_lists_confirmed_ones_oldest_first(app, make_campaign):
    campaign = make_campaign()
    ids = [
        endorsing.submit_endorsement(campaign, _details(website=f"https://org{n}.example.org")).endorsement.id
        for n in range(3)
    ]
    for endorsement_id in (ids[2], ids[0]):
        endorsing.confirm_endorsement(
            endorsing.confirmation_token(db.session.get(Endorsement, endorsement_id))
        )
    assert [e.id for e in endorsing.endorsements_awaiting_review()] == [ids[2], ids[0]]


def test_without_consent_a_verified_endorsement_is_not_shown(app, make_campaign, staff_id):
    campaign = make_campaign()
    endorsement = endorsing.submit_endorsement(campaign, _details(public_consent=False)).endorsement
    endorsing.confirm_endorsement(endorsing.confirmation_token(endorsement))
    endorsing.verify_endorsement(endorsement.id, staff_id)
    assert endorsing.public_endorsements(campaign.id) == []
    assert endorsing.public_endorsers() == []


def test_the_endorsements_page_lists_each_organization_once_with_its_campaigns(
    client, make_campaign, staff_id
):
    first, second = make_campaign(title="Fund alternatives"), make_campaign(title="Keep families connected")
    draft = make_campaign(title="Draft campaign", status="open")
    for campaign, website in (
        (first, "https://wipp.example.org"),
        (second, "https://www.wipp.example.org/x"),
        (draft, "https://wipp.example.org"),
        (first, "https://legal.example.org"),
    ):
        name = "Legal Aid" if "legal" in website else "Women in Prison Project"
        endorsement = endorsing.submit_endorsement(
            campaign, _details(website=website, organization_name=name)
        ).endorsement
        endorsing.confirm_endorsement(endorsing.confirmation_token(endorsement))
        endorsing.verify_endorsement(endorsement.id, staff_id)
    draft.status = "draft"
    db.session.commit()
    endorsers = endorsing.public_endorsers()
    assert [(e.name, [c.title for c in e.campaigns]) for e in endorsers] == [
        ("Legal Aid", ["Fund alternatives"]),
        ("Women in Prison Project", ["Fund alternatives", "Keep families connected"]),
    ]
    html = client.get("/endorsements").get_data(as_text=True)
    assert "2 organizations" in html
    assert html.count(">Women in Prison Project</a>") == 1
    assert "Draft campaign" not in html
    assert 'href="https://wipp.example.org"' in html
    assert 'rel="nofollow noopener noreferrer"' in html
    assert 'href="/endorsements"' in client.get("/").get_data(as_text=True)  # in the footer


def test_a_second_submission_replaces_an_unconfirmed_one_and_old_links_stop_working(
    mail_app, smtp_server, make_campaign
):
    client = mail_app.test_client()
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data())
    client.post(
        f"/campaigns/{campaign.slug}/endorse",
        data=_endorse_data(contact_name="Real Director", contact_email="real@wipp.example.org"),
    )
    [endorsement] = _endorsements()
    assert (endorsement.contact_name, endorsement.status) == ("Real Director", "submitted")
    old_confirm, old_withdraw = _links(smtp_server.messages[0])
    new_confirm, _new_withdraw = _links(smtp_server.messages[1])
    assert smtp_server.messages[1]["To"] == "real@wipp.example.org"
    assert client.get(old_confirm).status_code == 404
    assert client.post(old_withdraw).status_code == 404
    client.post(new_confirm)
    assert _endorsements()[0].status == "confirmed"

    # Once confirmed, a further submission changes nothing and sends nothing, on the same page.
    response = client.post(
        f"/campaigns/{campaign.slug}/endorse", data=_endorse_data(contact_name="Prankster")
    )
    assert response.headers["Location"].endswith("/endorse/thanks")
    assert _endorsements()[0].contact_name == "Real Director"
    assert len(smtp_server.messages) == 2


def test_unconfirmed_resubmissions_are_capped(mail_app, smtp_server, make_campaign):
    campaign = make_campaign()
    outcomes = []
    for _ in range(endorsing.MAX_SUBMISSIONS + 2):
        outcomes.append(endorsing.submit_endorsement(campaign, _details()))
        db.session.commit()
    assert [o.emailed for o in outcomes] == [True] * endorsing.MAX_SUBMISSIONS + [False, False]
    assert len(smtp_server.messages) == endorsing.MAX_SUBMISSIONS


def test_a_withdrawn_endorsement_may_be_submitted_again(app, make_campaign):
    campaign = make_campaign()
    endorsement = endorsing.submit_endorsement(campaign, _details()).endorsement
    endorsing.withdraw_endorsement(endorsing.withdrawal_token(endorsement))
    assert _endorsements()[0].status == "withdrawn"
    outcome = endorsing.submit_endorsement(campaign, _details(statement="Again."))
    assert outcome.emailed
    endorsement = _endorsements()[0]
    assert (endorsement.status, endorsement.statement, endorsement.withdrawn_at) == (
        "submitted",
        "Again.",
        None,
    )


def test_links_have_their_own_purposes_and_lifetimes(client, make_campaign, monkeypatch):
    campaign = make_campaign()
    endorsement = endorsing.submit_endorsement(campaign, _details()).endorsement
    db.session.commit()
    confirm_token = endorsing.confirmation_token(endorsement)
    withdraw_token = endorsing.withdrawal_token(endorsement)
    # A token for one purpose is refused for the other, and a supporter's link is not an endorsement's.
    assert client.get(f"/endorsements/withdraw/{confirm_token}").status_code == 404
    assert client.get(f"/endorsements/confirm/{withdraw_token}").status_code == 404
    assert (
        client.get(
            f"/endorsements/confirm/{confirmations.confirmation_token(pledges=[endorsement])}"
        ).status_code
        == 404
    )
    assert client.get(f"/confirm/{confirm_token}").status_code == 404
    assert client.get(f"/endorsements/confirm/{confirm_token}x").status_code == 404

    # Thirty days later the confirmation link has expired; the withdrawal link still works.
    month_ago = int(time.time()) - 30 * 24 * 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: month_ago)
    old_confirm = endorsing.confirmation_token(endorsement)
    old_withdraw = endorsing.withdrawal_token(endorsement)
    monkeypatch.undo()
    expired = client.get(f"/endorsements/confirm/{old_confirm}")
    assert expired.status_code == 410
    assert "expired" in expired.get_data(as_text=True)
    assert client.post(f"/endorsements/withdraw/{old_withdraw}").status_code == 200
    assert _endorsements()[0].status == "withdrawn"


def test_the_confirmation_email_names_the_organization_and_never_the_address_in_the_log(
    mail_app, smtp_server, make_campaign
):
    campaign = make_campaign(title="Fund alternatives")
    endorsing.submit_endorsement(campaign, _details())
    db.session.commit()
    [message] = smtp_server.messages
    body = message.get_content()
    assert "Hello Tamar," in body
    assert 'name you wrote as “Women in Prison Project” endorses the campaign "Fund alternatives"' in " ".join(body.split())
    assert "withdraw the endorsement at any time" in body


def test_a_verified_endorsement_gets_one_notice_with_where_it_shows_and_its_withdrawal_link(
    mail_app, smtp_server, make_campaign, make_staff
):
    from tests.conftest import login

    client = mail_app.test_client()
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data())
    confirm_link, withdraw_link = _links(smtp_server.messages[0])
    client.post(confirm_link)
    [endorsement] = _endorsements()
    staff_client = mail_app.test_client()
    login(staff_client, make_staff())
    staff_client.post(f"/staff/endorsements/{endorsement.id}/verify")
    assert _endorsements()[0].status == "verified"
    notice = smtp_server.messages[-1]
    assert notice["To"] == "director@wipp.example.org"
    assert notice["Subject"] == "Your organization’s endorsement is verified"
    body = notice.get_content()
    assert "Women in Prison Project" in body and campaign.title in body
    assert f"http://localhost/campaigns/{campaign.slug}" in body and "http://localhost/endorsements" in body
    withdraw = re.search(r"http://localhost(/endorsements/withdraw/\S+)", body).group(1)
    assert "Withdraw" in client.get(withdraw).get_data(as_text=True)
    # The code that puts the petition on the organization's own website, and it works.
    embed = re.search(r'<iframe src="http://localhost(/embed/[^"]+)" title="([^"]+)" loading="lazy"', body)
    assert embed and embed.group(1) == f"/embed/wipp.example.org/campaigns/{campaign.slug}"
    assert "allow-same-origin allow-forms allow-scripts" in body
    framed = client.get(embed.group(1))
    assert framed.status_code == 200
    assert "frame-ancestors https://wipp.example.org https://www.wipp.example.org" in framed.headers["Content-Security-Policy"]
    # Rejected, then verified again: no second notice.
    count = len(smtp_server.messages)
    endorsing.reject_endorsement(endorsement.id, None, "Checking again")
    db.session.commit()
    staff_client.post(f"/staff/endorsements/{endorsement.id}/verify")
    assert _endorsements()[0].status == "verified"
    assert len(smtp_server.messages) == count
