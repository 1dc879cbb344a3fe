"""Public pages every HTTP cache can serve: no session, no per-visitor bytes, cacheable and
revalidated; private pages say so; the language is in the address; the form's time stamp
stays a robot check on a page that a cache kept."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from coalition.extensions import db
from coalition.forms import antispam
from coalition.models import Signature
from coalition.models.types import utcnow
from coalition.tokens import make_token, read_token
from tests.conftest import login
from tests.public_forms import GOAL, form_started, last_link, sign_data

PUBLIC = "public, max-age=0, s-maxage=30"


@pytest.fixture
def public_paths(make_campaign):
    campaign = make_campaign(slug="keep-families-together")
    return [
        "/", "/campaigns", "/about", "/contact", "/privacy", "/accessibility", "/endorsements",
        f"/goals/{GOAL}", f"/campaigns/{campaign.slug}", f"/campaigns/{campaign.slug}/endorse",
        "/es/", "/es/campaigns", f"/es/goals/{GOAL}", f"/es/campaigns/{campaign.slug}",
    ]


@pytest.fixture
def frozen_stamp(monkeypatch):
    """The signed form time of one fixed second, so two renders can be compared byte for byte."""
    now = int(time.time())
    monkeypatch.setattr(antispam.time, "time", lambda: now)


def test_every_public_page_is_cacheable_and_sets_no_cookie(client, public_paths):
    for path in public_paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == PUBLIC, path
        assert re.fullmatch(r'"[0-9a-f]{40}"', response.headers["ETag"]), path
        assert "Set-Cookie" not in response.headers, path
        assert "Vary" not in response.headers, path


def test_a_public_page_is_the_same_bytes_for_every_visitor(app, public_paths, frozen_stamp):
    for path in public_paths:
        first = app.test_client().get(path, headers={"User-Agent": "Firefox/140", "Accept-Language": "es"},
                                      environ_base={"REMOTE_ADDR": "198.51.100.7"})
        second = app.test_client().get(path + "?utm_source=x", headers={"User-Agent": "curl/8"},
                                       environ_base={"REMOTE_ADDR": "203.0.113.9"})
        assert first.get_data() == second.get_data(), path


def test_a_revalidation_is_a_304_until_the_page_changes(client, make_campaign, make_signature_row):
    campaign = make_campaign()
    path = f"/campaigns/{campaign.slug}"
    first = client.get(path)
    etag = first.headers["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make_signature_row(campaign)  # a confirmation: the count changes
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_a_campaign_page_is_never_kept_past_the_campaign_closing(client, make_campaign):
    closing = make_campaign(closes_at=utcnow() + timedelta(seconds=12))
    seconds = int(re.search(r"s-maxage=(\d+)", client.get(f"/campaigns/{closing.slug}").headers["Cache-Control"]).group(1))
    assert 0 <= seconds <= 12
    open_long = make_campaign(closes_at=None)
    assert client.get(f"/campaigns/{open_long.slug}").headers["Cache-Control"] == PUBLIC


def test_the_shared_cache_lifetime_is_a_setting(app_factory, make_campaign):
    app = app_factory(PUBLIC_CACHE_SECONDS=5)
    assert app.test_client().get("/about").headers["Cache-Control"] == "public, max-age=0, s-maxage=5"


def test_personal_pages_are_private_and_never_stored(client, make_campaign, make_staff):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    confirm_path = last_link("/confirm/")
    private = {
        "thank-you": client.get(f"/campaigns/{campaign.slug}/thanks"),
        "confirmation page": client.get(confirm_path),
        "confirmed": client.post(confirm_path),
        "form with errors": client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="nope")),
        "pledge thank-you": client.get(f"/goals/{GOAL}/pledge/thanks"),
        "form stamp": client.get("/form-stamp"),
        "not found": client.get("/campaigns/nothing-here"),
        "staff login": client.get("/staff/login"),
    }
    for name, response in private.items():
        assert response.headers["Cache-Control"] == "private, no-store", name
        assert "ETag" not in response.headers, name


def test_a_page_seen_with_a_staff_session_is_private(client, make_campaign, make_staff):
    campaign = make_campaign()
    login(client, make_staff())
    response = client.get(f"/campaigns/{campaign.slug}")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_public_page_that_shows_a_flashed_message_is_private(client, make_staff):
    staff = make_staff()
    login(client, staff)
    client.post("/staff/logout")  # flashes "You are logged out" for the next page
    response = client.get("/staff/login")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "You are logged out." in response.get_data(as_text=True)


# --- Language in the address -------------------------------------------------------------------


def test_each_page_links_to_itself_in_both_languages(client, make_campaign):
    campaign = make_campaign()
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert f'<link rel="alternate" hreflang="en" href="http://localhost/campaigns/{campaign.slug}">' in html
    assert f'<link rel="alternate" hreflang="es" href="http://localhost/es/campaigns/{campaign.slug}">' in html
    assert f'<a href="/es/campaigns/{campaign.slug}" hreflang="es" lang="es">Español</a>' in html
    spanish = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert '<html lang="es">' in spanish
    assert f'<a href="/campaigns/{campaign.slug}" hreflang="en" lang="en">English</a>' in spanish
    assert f'<link rel="alternate" hreflang="en" href="http://localhost/campaigns/{campaign.slug}">' in spanish
    # Links and the form stay in Spanish; static files have one address for both languages.
    assert f'action="/es/campaigns/{campaign.slug}' in spanish or f'action=""' in spanish or "<form" in spanish
    assert 'href="/es/about"' in spanish
    assert re.search(r'href="/static/css/site\.css\?v=[0-9a-f]{12}"', spanish)


def test_a_query_string_a_visitor_adds_never_reaches_the_page(client, make_campaign):
    campaign = make_campaign()
    html = client.get(f"/campaigns/{campaign.slug}?ref=%22tracking-id").get_data(as_text=True)
    assert "tracking-id" not in html


def test_a_spanish_signer_is_emailed_links_to_the_spanish_pages(client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/es/campaigns/{campaign.slug}", data=sign_data())
    assert response.headers["Location"] == f"/es/campaigns/{campaign.slug}/thanks"
    confirm_path = last_link("/es/confirm/")
    assert '<html lang="es">' in client.get(confirm_path).get_data(as_text=True)
    signature = db.session.execute(db.select(Signature)).scalar_one()
    assert signature.language == "es"


def test_static_files_are_served_with_their_fingerprint(client):
    html = client.get("/").get_data(as_text=True)
    path = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', html).group(1)
    response = client.get(path)
    assert response.status_code == 200 and b"{" in response.get_data()
    response.close()
    old = client.get("/es/static/css/site.css")  # an old link still works
    assert old.status_code == 200
    old.close()


# --- The form's time stamp on a page a cache kept --------------------------------------------


def test_the_form_stamp_address_gives_a_fresh_signed_time_and_is_never_kept(client):
    response = client.get("/form-stamp")
    assert response.headers["Cache-Control"] == "private, no-store"
    stamp = response.json["stamp"]
    assert abs(int(read_token("form-time", stamp, 60)) - time.time()) <= 2
    assert "Set-Cookie" not in response.headers


def test_the_form_asks_for_a_fresh_stamp_when_shown(client, make_campaign):
    campaign = make_campaign()
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert re.search(r'<input data-stamp-url="/form-stamp" id="form_started" name="form_started" type="hidden" value="[^"]+">', html)
    spanish = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert 'data-stamp-url="/es/form-stamp"' in spanish


def _signatures() -> int:
    db.session.rollback()
    return len(db.session.execute(db.select(Signature)).scalars().all())


def test_a_robot_posting_seconds_after_fetching_the_stamp_is_caught(app_factory, make_campaign):
    app = app_factory(FORM_MIN_FILL_SECONDS=3)
    with app.app_context():
        slug = make_campaign().slug
    client = app.test_client()
    stamp = client.get("/form-stamp").json["stamp"]
    response = client.post(f"/campaigns/{slug}", data=sign_data(form_started=stamp))
    assert response.status_code == 200
    assert "Please check your details below and press “Sign” again." in response.get_data(as_text=True)
    with app.app_context():
        assert _signatures() == 0
    # The same form a person took a minute over (a stamp 60 s old, as a cached page's may be) is taken.
    response = client.post(f"/campaigns/{slug}", data=sign_data(form_started=form_started(60)))
    assert response.status_code == 303
    with app.app_context():
        assert _signatures() == 1


def test_a_forged_or_ancient_stamp_is_not_a_pass(app_factory, make_campaign):
    app = app_factory(FORM_MIN_FILL_SECONDS=3)
    with app.app_context():
        slug = make_campaign().slug
    client = app.test_client()
    for stamp in ("", "12345", make_token("confirm", int(time.time()) - 600)):
        response = client.post(f"/campaigns/{slug}", data=sign_data(form_started=stamp))
        assert response.status_code == 200, stamp
    with app.app_context():
        assert _signatures() == 0
