"""The campaign page cache: served again to anonymous visitors with their own CSRF token
and form time, dropped when something the page shows changes, never for staff."""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta

import pytest
from flask import template_rendered

from coalition.extensions import db
from coalition.models import Signature
from coalition.models.types import utcnow
from coalition.services import confirmations
from coalition.web import page_cache as page_cache_module
from tests.conftest import login
from tests.public_forms import sign_data

_HIDDEN = re.compile(r'name="(csrf_token|form_started)"[^>]*value="([^"]*)"')


@pytest.fixture
def renders(app):
    """How many times the campaign page template was rendered."""
    seen = []

    def record(sender, template, context, **extra):
        if template.name == "petitions/campaign.html":
            seen.append(template.name)

    template_rendered.connect(record)
    yield seen
    template_rendered.disconnect(record)


def count_on(html: str) -> int:
    return int(re.search(r'class="progress-text"[^>]*>\s*([\d,]+)', html).group(1).replace(",", ""))


def hidden_fields(html: str) -> list[tuple[str, str]]:
    return _HIDDEN.findall(html)


@pytest.fixture
def csrf_app(app_factory):
    """An app with CSRF protection on, as in production."""
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        yield app


def test_each_visitor_gets_the_kept_page_with_their_own_token_and_can_sign(csrf_app, make_campaign, renders):
    campaign = make_campaign()
    first, second = csrf_app.test_client(), csrf_app.test_client()
    page_one = first.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    page_two = second.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert len(renders) == 1  # the second visitor got the kept copy
    fields_one, fields_two = dict(hidden_fields(page_one)), dict(hidden_fields(page_two))
    assert fields_one["csrf_token"] != fields_two["csrf_token"]
    assert page_cache_module.CSRF_MARK not in page_two and page_cache_module.STARTED_MARK not in page_two
    # Both forms on the page (sign and endorse) carry the visitor's values.
    assert {value for name, value in hidden_fields(page_two) if name == "csrf_token"} == {fields_two["csrf_token"]}
    assert page_one.replace(fields_one["csrf_token"], "T").replace(fields_one["form_started"], "S") == page_two.replace(
        fields_two["csrf_token"], "T"
    ).replace(fields_two["form_started"], "S")

    # The kept page's form works: the second visitor signs with the token it was given.
    response = second.post(
        f"/campaigns/{campaign.slug}",
        data=sign_data(csrf_token=fields_two["csrf_token"], form_started=fields_two["form_started"]),
    )
    assert response.status_code == 303
    # ...and the first visitor's token is not valid in the second's session.
    response = first.post(
        f"/campaigns/{campaign.slug}",
        data=sign_data(email="other@example.org", csrf_token=fields_two["csrf_token"], form_started=fields_one["form_started"]),
    )
    assert response.status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature)) == 1


def test_a_new_pending_signature_keeps_the_page_and_a_confirmation_drops_it(client, make_campaign, renders):
    campaign = make_campaign()
    assert count_on(client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)) == 0
    assert client.post(f"/campaigns/{campaign.slug}", data=sign_data()).status_code == 303
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 1  # a pending signature shows nowhere: the copy stays

    signature = db.session.scalars(db.select(Signature)).one()
    token = confirmations.confirmation_token([signature])
    assert client.post(f"/confirm/{token}").status_code in (200, 303)
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert len(renders) == 2 and count_on(html) == 1


def test_staff_edits_and_moderation_show_at_once(client, make_campaign, make_signature_row, renders):
    campaign = make_campaign(title="Before")
    assert "Before" in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    campaign.title = "After"
    db.session.commit()
    assert "After" in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)

    signature = make_signature_row(campaign, full_name="Zelda Publicly", show_publicly=True)
    assert "Zelda" in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    signature.show_publicly = False
    db.session.commit()
    assert "Zelda" not in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert len(renders) == 4


def test_email_bookkeeping_and_rolled_back_writes_keep_the_page(client, make_campaign, make_signature_row, renders):
    campaign = make_campaign()
    signature = make_signature_row(campaign)
    client.get(f"/campaigns/{campaign.slug}")
    signature.confirmation_sends = 2
    db.session.commit()
    campaign.title = "Never saved"
    db.session.flush()
    db.session.rollback()
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert len(renders) == 1 and "Never saved" not in html


def test_staff_messages_and_query_strings_always_get_a_fresh_page(client, make_campaign, make_staff, renders):
    campaign = make_campaign()
    client.get(f"/campaigns/{campaign.slug}")
    client.get(f"/campaigns/{campaign.slug}?utm_source=flyer")
    assert len(renders) == 2
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Something to tell you")]
    assert "Something to tell you" in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert len(renders) == 3
    staff_client = client.application.test_client()
    login(staff_client, make_staff())
    staff_client.get(f"/campaigns/{campaign.slug}")
    staff_client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 5


def test_each_language_has_its_own_copy(client, make_campaign, renders):
    campaign = make_campaign()
    english = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    spanish = client.get(f"/campaigns/{campaign.slug}", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert 'lang="en"' in english and 'lang="es"' in spanish
    client.get(f"/campaigns/{campaign.slug}", headers={"Accept-Language": "es"})
    assert len(renders) == 2


def test_another_workers_change_shows_after_the_grace_period(app, client, make_campaign, renders, monkeypatch):
    campaign = make_campaign()
    clock = [1000.0]
    monkeypatch.setattr(page_cache_module.time, "monotonic", lambda: clock[0])
    client.get(f"/campaigns/{campaign.slug}")
    # Another worker commits a change: it sets the stamp file's time.
    stamp = app.extensions["page_cache"].stamp_path
    open(stamp, "a").close()
    os.utime(stamp, ns=(time.time_ns() + 5, time.time_ns() + 5))
    clock[0] += 0.5  # within the grace period: the copy still serves
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 1
    clock[0] += 0.6
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 2
    # The new copy was rendered after the change: it lives its full time.
    clock[0] += 20
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 2
    clock[0] += 11
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 3


def test_a_copy_never_outlives_the_campaign_closing(client, make_campaign, renders, monkeypatch):
    campaign = make_campaign(closes_at=utcnow() + timedelta(seconds=5))
    clock = [1000.0]
    monkeypatch.setattr(page_cache_module.time, "monotonic", lambda: clock[0])
    client.get(f"/campaigns/{campaign.slug}")
    clock[0] += 6
    client.get(f"/campaigns/{campaign.slug}")
    assert len(renders) == 2


def test_the_cache_can_be_turned_off(app_factory, make_config):
    app = app_factory(PAGE_CACHE_SECONDS=0)
    assert not app.extensions["page_cache"].enabled


def test_a_kept_page_is_served_before_the_limiter_and_the_view_but_after_the_security_checks(
    app_factory, make_campaign, monkeypatch
):
    """The limiter's check and the view's dispatch cost as much as serving the copy."""
    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        campaign = make_campaign()
        client = app.test_client()
        assert client.get(f"/campaigns/{campaign.slug}").status_code == 200  # rendered and kept

        def must_not_run(*args, **kwargs):
            raise AssertionError("reached for a kept page")

        monkeypatch.setitem(app.view_functions, "petitions.campaign", must_not_run)
        checks = app.before_request_funcs[None]
        names = [getattr(f, "__name__", "") for f in checks]
        checks[names.index("_check_request_limit")] = must_not_run  # this app only: made for this test
        kept = client.get(f"/campaigns/{campaign.slug}")
        assert kept.status_code == 200 and campaign.title in kept.get_data(as_text=True)
        assert kept.headers["X-Content-Type-Options"] == "nosniff"  # the response hooks still ran
        # The security checks come first.
        assert names.index("refuse_nul_characters") < names.index("_serve_a_kept_page")
        assert names.index("refuse_json_that_is_not_form_data") < names.index("_serve_a_kept_page")
