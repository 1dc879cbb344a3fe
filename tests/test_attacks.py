"""Attacks on the public side: forged posts (cross-site requests), script payloads, SQL injection,
enumeration.

The route-wide tests read the routes from ``app.url_map`` when they run, so routes added
later (the staff area's) are covered without changing this file.
"""

from __future__ import annotations

import re
import time
from urllib.parse import quote

import pytest
from flask import current_app

from coalition import mail
from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Signature, StaffUser
from coalition.services import endorsing, signing
from coalition.web.staff import LAST_SEEN_KEY
from tests.public_forms import (
    GOAL,
    build_path,
    database_snapshot,
    endorse_data,
    last_link,
    pledge_data,
    post_rules,
    sign_data,
    staff_rules,
)

_CSRF_VALUE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_EXPIRED_TEXTS = ("The form expired", "This form expired")


# --- Cross-site requests on every POST route --------------------------------------------------


@pytest.fixture
def csrf_app(app_factory):
    """An app with CSRF protection on (as in production), an open campaign, a pending signature
    with its emailed link, and an endorsement with its links.

    No app context stays pushed: each test request gets its own, as in production (a
    shared one would share ``g``, and with it Flask-WTF's cached token).
    """
    app = app_factory(WTF_CSRF_ENABLED=True, SITE_URL="https://coalition.example.org")
    with app.app_context():
        from coalition.services import campaigns as campaign_service
        from coalition.services import content as content_service

        content_service.load_content(app.config["CONTENT_FILE"])
        campaign = campaign_service.create_campaign(
            slug="open-campaign", title="Open campaign", summary="s", body="b", target=10,
            status="open", goal_slugs=[GOAL],
        )
        db.session.commit()
        signing.sign_petition(campaign, signing.SignerDetails(full_name="Ana Ruiz", email="ana@example.org",
                                                             zip_code="10027"))
        mail.wake_sender()
        endorsing.submit_endorsement(campaign, endorsing.EndorsementDetails(
            organization_name="Org", website="https://org.example.org", org_type="advocacy-group",
            locality="Kings County", contact_name="Lee", contact_role="Director",
            contact_email="lee@org.example.org", authorized=True, public_consent=True, statement="Yes.",
        ))
        endorsement = db.session.execute(db.select(Endorsement)).scalar_one()
        app.route_values = {
            "slug": campaign.slug,
            "pledges.pledge:slug": GOAL,
            "public.goal:slug": GOAL,
            "confirm.confirm:token": last_link("/confirm/", to="ana@example.org").rsplit("/", 1)[1],
            "endorsements.confirm:token": endorsing.confirmation_token(endorsement),
            "endorsements.withdraw:token": endorsing.withdrawal_token(endorsement),
        }
        db.session.remove()
    return app


#: What each form would send if it were genuine: a forged post carries it all.
FORM_DATA = {
    "petitions.campaign": sign_data,
    "pledges.pledge": pledge_data,
    "endorsements.endorse": lambda: endorse_data(contact_email="new@org2.example.org",
                                                 website="https://org2.example.org"),
}

#: How a browser marks a request another site made it send.
CROSS_SITE = {
    "Sec-Fetch-Site cross-site": {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    "Sec-Fetch-Site same-site": {"Sec-Fetch-Site": "same-site", "Origin": "https://www.coalition.example.org"},
    "Origin alone": {"Origin": "https://evil.example"},
    "Origin null (a sandboxed frame)": {"Origin": "null"},
    "the site's origin over plain http": {"Origin": "http://coalition.example.org"},
}


def _snapshot(app) -> dict:
    with app.app_context():
        snapshot = database_snapshot()
        db.session.remove()
    return snapshot


def _form_data(app, endpoint: str) -> dict:
    with app.app_context():
        return FORM_DATA.get(endpoint, dict)()


def _token_of(client, path: str) -> str:
    return _CSRF_VALUE.search(client.get(path).get_data(as_text=True)).group(1)


@pytest.mark.parametrize("variant", sorted(CROSS_SITE))
def test_every_post_route_refuses_a_cross_site_post_and_writes_nothing(csrf_app, variant):
    rules = post_rules(csrf_app)
    assert {"petitions.campaign", "pledges.pledge", "endorsements.endorse", "confirm.confirm",
            "endorsements.confirm", "endorsements.withdraw", "staff.login"} <= {rule.endpoint for rule in rules}
    for rule in rules:
        with csrf_app.app_context():
            path = build_path(rule, csrf_app.route_values)
        before = _snapshot(csrf_app)
        response = csrf_app.test_client().post(path, data=_form_data(csrf_app, rule.endpoint),
                                               headers=CROSS_SITE[variant])
        assert response.status_code == 403, (rule.rule, response.status_code)
        html = response.get_data(as_text=True)
        assert "This form was sent from another website" in html and 'class="site-header"' in html, rule.rule
        assert "Set-Cookie" not in response.headers, rule.rule
        assert _snapshot(csrf_app) == before, rule.rule


def test_put_patch_and_delete_from_another_site_are_refused_too(csrf_app):
    client = csrf_app.test_client()
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.open("/campaigns/open-campaign", method=method, headers={"Sec-Fetch-Site": "cross-site"})
        assert response.status_code == 403, method


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "https://coalition.example.org"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "https://coalition.example.org"},
        {"Origin": "HTTPS://Coalition.Example.org"},
        {},
    ],
    ids=["fetch metadata and origin", "fetch metadata only", "typed by the person", "origin only",
         "origin in capitals", "neither (a script, curl)"],
)
def test_a_post_from_the_site_itself_or_from_no_browser_signs_without_any_cookie(csrf_app, headers):
    client = csrf_app.test_client()
    response = client.post("/campaigns/open-campaign", data=dict(_form_data(csrf_app, "petitions.campaign"),
                                                                 email="bea@example.org"), headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"].endswith("/campaigns/open-campaign/thanks")
    assert "Set-Cookie" not in response.headers
    with csrf_app.app_context():
        assert db.session.execute(db.select(Signature).filter_by(email="bea@example.org")).scalar_one()
        db.session.remove()


def test_a_configured_second_origin_may_send_forms(app_factory, make_campaign):
    app = app_factory(SITE_URL="https://coalition.example.org", TRUSTED_ORIGINS="https://cfwp.example.net")
    with app.app_context():
        slug = make_campaign().slug
        data = sign_data()
    client = app.test_client()
    assert client.post(f"/campaigns/{slug}", data=data, headers={"Origin": "https://cfwp.example.net"}).status_code == 303
    assert client.post(f"/campaigns/{slug}", data=data, headers={"Origin": "https://other.example.net"}).status_code == 403


def test_a_json_post_that_is_not_form_data_is_refused(csrf_app):
    client = csrf_app.test_client()
    for body in (0, [1, 2], {"full_name": {"a": 1}}):
        response = client.post(f"/campaigns/{csrf_app.route_values['slug']}", json=body)
        assert response.status_code == 400
        assert "Something was wrong with that request" in response.get_data(as_text=True)


def test_every_staff_post_route_refuses_a_forged_token_even_from_a_logged_in_admin(csrf_app):
    """Staff forms keep their session-bound token as well (defence in depth): a same-origin
    POST without it is refused too."""
    from coalition.services import staff as staff_service

    rules = [rule for rule in staff_rules(csrf_app) if "POST" in rule.methods and rule.endpoint != "staff.login"]
    password = "a long enough password 123"
    with csrf_app.app_context():
        csrf_app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
        staff_service.create_staff("admin@example.org", "admin", password)
        db.session.commit()
        paths = [build_path(rule, csrf_app.route_values) for rule in rules]
        db.session.remove()
    for rule, path in zip(rules, paths):
        client = csrf_app.test_client()
        token = _token_of(client, "/staff/login")
        logged_in = client.post("/staff/login", data={"email": "admin@example.org", "password": password, "csrf_token": token})
        assert logged_in.status_code == 302 and "/staff/login" not in logged_in.headers["Location"]
        before = _snapshot(csrf_app)
        response = client.post(path, data={"csrf_token": "forged"}, headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 400, rule.rule
        assert any(text in response.get_data(as_text=True) for text in _EXPIRED_TEXTS), rule.rule
        assert _snapshot(csrf_app) == before, rule.rule


# --- Script payloads are shown escaped --------------------------------------------------------

#: Payloads with no spaces, so a first name on the wall is the whole payload.
PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img/src=x/onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "'><iframe/src=javascript:alert(1)>",
]


def _assert_escaped(html: str, where: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html, f"raw {payload!r} on {where}"
    assert 'href="javascript:' not in html, where


def _sign_and_confirm(client, slug, payload, number):
    response = client.post(f"/campaigns/{slug}", data=sign_data(
        full_name=payload, email=f"xss{number}@example.org", zip_code="", country=payload,
        comment=payload, show_publicly="y", also_pledge=[GOAL],
    ))
    assert response.status_code == 303, response.get_data(as_text=True)
    confirm = last_link("/confirm/", to=f"xss{number}@example.org")
    _assert_escaped(client.get(confirm).get_data(as_text=True), confirm)
    done = client.post(confirm)
    assert done.status_code == 200
    _assert_escaped(done.get_data(as_text=True), "the confirmed page")


def test_script_payloads_in_every_public_field_are_shown_escaped(client, make_campaign):
    campaign = make_campaign(goal_slugs=[GOAL])
    slug = campaign.slug
    for number, payload in enumerate(PAYLOADS):
        _sign_and_confirm(client, slug, payload, number)
        assert client.post(f"/goals/{GOAL}/pledge", data=pledge_data(
            full_name=payload, email=f"pledge{number}@example.org", zip_code="", country=payload, message=payload,
        )).status_code == 302
        response = client.post(f"/campaigns/{slug}/endorse", data=endorse_data(
            organization_name=payload, website=f"https://org{number}.example.org/{quote(payload)}",
            locality=payload, contact_name=payload, contact_role=payload,
            contact_email=f"contact@org{number}.example.org", statement=payload,
        ))
        assert response.status_code == 302, response.get_data(as_text=True)
        confirm = last_link("/endorsements/confirm/", to=f"contact@org{number}.example.org")
        _assert_escaped(client.get(confirm).get_data(as_text=True), confirm)
        _assert_escaped(client.post(confirm).get_data(as_text=True), "the endorsement confirmed page")
        withdraw = last_link("/endorsements/withdraw/", to=f"contact@org{number}.example.org")
        _assert_escaped(client.get(withdraw).get_data(as_text=True), withdraw)
    for endorsement in db.session.execute(db.select(Endorsement)).scalars().all():
        endorsing.verify_endorsement(endorsement.id, None)
    db.session.commit()

    pages = ["/", "/campaigns", f"/campaigns/{slug}", f"/campaigns/{slug}/endorse", "/endorsements",
             f"/goals/{GOAL}", f"/campaigns/{slug}/thanks", f"/goals/{GOAL}/pledge/thanks",
             f"/campaigns/{slug}/endorse/thanks", f"/api/campaigns/{slug}.json", "/api/campaigns.json"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        _assert_escaped(response.get_data(as_text=True), page)
    # The payloads are really there, as text: escaped, not dropped.
    wall = client.get(f"/campaigns/{slug}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in wall
    assert "&#34;&gt;&lt;img/src=x/onerror=alert(1)&gt;" in wall
    endorsers = client.get("/endorsements").get_data(as_text=True)
    assert "&lt;svg/onload=alert(1)&gt;" in endorsers


def test_script_payloads_are_escaped_when_a_form_comes_back_with_errors(client, make_campaign):
    slug = make_campaign().slug
    for payload in PAYLOADS:
        # A bad email: the form comes back with everything else as typed.
        sign = client.post(f"/campaigns/{slug}", data=sign_data(full_name=payload, email=payload, comment=payload,
                                                                country=payload))
        assert sign.status_code == 200 and "real email address" in sign.get_data(as_text=True)
        _assert_escaped(sign.get_data(as_text=True), "the sign form")
        pledge = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(full_name=payload, email=payload,
                                                                        message=payload))
        assert pledge.status_code == 200
        _assert_escaped(pledge.get_data(as_text=True), "the pledge form")
        endorse = client.post(f"/campaigns/{slug}/endorse", data=endorse_data(
            organization_name=payload, website=payload, statement=payload, contact_email=payload))
        assert endorse.status_code == 200
        _assert_escaped(endorse.get_data(as_text=True), "the endorsement form")


def test_a_javascript_website_is_refused(client, make_campaign):
    slug = make_campaign().slug
    for website in ("javascript:alert(1)", "JaVaScRiPt:alert(1)//x.org", "data:text/html,<script>alert(1)</script>"):
        response = client.post(f"/campaigns/{slug}/endorse", data=endorse_data(website=website))
        assert response.status_code == 200
        assert "address of the organization’s website" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Endorsement)).first() is None


# --- SQL injection ----------------------------------------------------------------------------

SQL_PAYLOADS = [
    "' OR 1=1 --",
    "Robert'); DROP TABLE signatures;--",
    "1; UPDATE campaigns SET status='closed'",
    "\" OR \"\"=\"",
    "x' UNION SELECT email FROM staff_users --",
]


def test_sql_in_fields_is_saved_as_text_and_changes_nothing_else(client, make_campaign):
    slug = make_campaign().slug
    other = make_campaign().slug
    for number, payload in enumerate(SQL_PAYLOADS):
        response = client.post(f"/campaigns/{slug}", data=sign_data(
            full_name=f"Ana {payload}", email=f"sql{number}@example.org", zip_code="", country=f"Peru {payload}",
            comment=payload,
        ))
        assert response.status_code == 303
    rows = db.session.execute(db.select(Signature).order_by(Signature.id)).scalars().all()
    assert [row.comment for row in rows] == SQL_PAYLOADS
    assert [row.full_name for row in rows] == [f"Ana {payload}" for payload in SQL_PAYLOADS]
    statuses = db.session.execute(db.select(Campaign.slug, Campaign.status)).all()
    assert sorted(statuses) == sorted([(slug, "open"), (other, "open")])
    assert client.get(f"/campaigns/{other}").status_code == 200


@pytest.mark.parametrize("payload", SQL_PAYLOADS + ["%27%20OR%201=1--", "..%2F..%2Fetc%2Fpasswd"])
def test_sql_in_addresses_finds_nothing_and_changes_nothing(client, make_campaign, payload):
    slug = make_campaign().slug
    before = database_snapshot()
    part = quote(payload, safe="")
    for method, path in [
        ("GET", f"/campaigns/{part}"), ("POST", f"/campaigns/{part}"), ("GET", f"/campaigns/{part}/thanks"),
        ("POST", f"/campaigns/{part}/endorse"), ("GET", f"/goals/{part}"), ("POST", f"/goals/{part}/pledge"),
        ("GET", f"/api/campaigns/{part}.json"), ("GET", f"/confirm/{part}"), ("POST", f"/confirm/{part}"),
        ("GET", f"/endorsements/confirm/{part}"), ("POST", f"/endorsements/withdraw/{part}"),
        ("GET", f"/language/{part}"),
    ]:
        response = client.open(path, method=method, data=sign_data() if method == "POST" else None)
        assert response.status_code == 404, (method, path, response.status_code)
    assert database_snapshot() == before
    assert client.get(f"/campaigns/{slug}").status_code == 200


# --- No enumeration: a repeat looks like a first time -------------------------------------------

_VOLATILE = [
    re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+'),
    re.compile(r'(name="form_started" type="hidden" value=")[^"]+'),
]


def _seen(response) -> tuple:
    """What a visitor (or a script) can see of a response, minus per-request tokens."""
    body = response.get_data(as_text=True)
    for pattern in _VOLATILE:
        body = pattern.sub(r"\1<masked>", body)
    return response.status_code, response.headers.get("Location"), body


def _follow(client, response) -> tuple:
    target = response.headers.get("Location")
    return _seen(client.get(target)) if target else None


def test_signing_twice_looks_the_same_as_signing_once(client, make_campaign):
    slug = make_campaign().slug
    first = client.post(f"/campaigns/{slug}", data=sign_data(email="once@example.org"))
    first_page = _follow(client, first)
    again = client.post(f"/campaigns/{slug}", data=sign_data(email="Once@Example.org"))
    assert _seen(again) == _seen(first)
    assert _follow(client, again) == first_page
    # After confirming, signing again still looks the same.
    client.post(last_link("/confirm/", to="once@example.org"))
    confirmed = client.post(f"/campaigns/{slug}", data=sign_data(email="once@example.org"))
    assert _seen(confirmed) == _seen(first)
    # And the same as a stranger's first signature.
    stranger = client.post(f"/campaigns/{slug}", data=sign_data(email="stranger@example.org"))
    assert _seen(stranger) == _seen(first)
    count = db.session.scalar(db.select(db.func.count(Signature.id)).filter_by(email_normalized="once@example.org"))
    assert count == 1


def test_pledging_twice_looks_the_same_as_pledging_once(client, content):
    first = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(email="p@example.org"))
    again = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(email="P@example.org"))
    stranger = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(email="q@example.org"))
    assert _seen(first) == _seen(again) == _seen(stranger)
    assert _follow(client, first) == _follow(client, again)


def test_endorsing_twice_looks_the_same_as_endorsing_once(client, make_campaign):
    slug = make_campaign().slug
    first = client.post(f"/campaigns/{slug}/endorse", data=endorse_data())
    again = client.post(f"/campaigns/{slug}/endorse", data=endorse_data())
    client.post(last_link("/endorsements/confirm/", to="director@wipp.example.org"))
    after_confirming = client.post(f"/campaigns/{slug}/endorse", data=endorse_data())
    stranger = client.post(f"/campaigns/{slug}/endorse", data=endorse_data(
        website="https://other.example.org", contact_email="x@other.example.org"))
    assert _seen(first) == _seen(again) == _seen(after_confirming) == _seen(stranger)
    assert _follow(client, first) == _follow(client, after_confirming)
    assert current_app.config["WTF_CSRF_ENABLED"] is False  # the token is not what makes them alike
