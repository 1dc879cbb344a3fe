"""Unsubscribing (RFC 8058 one click, or the page's button), the suppression list, opting in again."""

from __future__ import annotations

import re
from datetime import timedelta

from coalition.extensions import db
from coalition.models import MailSuppression, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import subscriptions
from coalition.services.addresses import normalize_email
from tests.public_forms import pledge_data, sign_data

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


def _consenting(make_campaign, make_signature_row, email="Rosa.Lane+news@gmail.com", language="en"):
    first, second = make_campaign(), make_campaign()
    a = make_signature_row(first, email=email, wants_updates=True, language=language)
    b = make_signature_row(second, email=email.replace("+news", ""), wants_updates=True, language=language)
    return a, b


def _token(kind, record) -> str:
    token = subscriptions.unsubscribe_token(kind, record.id, record.email_normalized)
    db.session.commit()  # the suppression key, made on first use
    return token


def _consents(email_normalized: str) -> list[bool]:
    db.session.expire_all()
    rows = db.session.scalars(db.select(Signature).where(Signature.email_normalized == email_normalized))
    return sorted(row.wants_updates for row in rows)


def test_the_one_click_post_unsubscribes_the_whole_mailbox_without_a_cookie_or_form_stamp(
    app, make_campaign, make_signature_row
):
    a, b = _consenting(make_campaign, make_signature_row)
    token = _token("s", a)
    # The mail provider's servers: a bare body, no cookie, no Origin, no Sec-Fetch-Site.
    app.config["WTF_CSRF_ENABLED"] = True
    app.config["RATELIMIT_ENABLED"] = True
    response = app.test_client(use_cookies=False).post(f"/unsubscribe/{token}", data=ONE_CLICK)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "no-store" in response.headers["Cache-Control"]
    assert _consents(a.email_normalized) == [False, False]
    assert subscriptions.is_suppressed(normalize_email("rosa.lane@gmail.com"))
    # The list holds a hash, never the address.
    [entry] = db.session.scalars(db.select(MailSuppression)).all()
    assert "rosa" not in entry.mailbox_hash and len(entry.mailbox_hash) == 64
    # Repeating it is harmless.
    again = app.test_client(use_cookies=False).post(f"/unsubscribe/{token}", data=ONE_CLICK)
    assert again.status_code == 200
    assert db.session.scalar(db.select(db.func.count()).select_from(MailSuppression)) == 1


def test_a_get_never_unsubscribes(client, make_campaign, make_signature_row):
    a, _ = _consenting(make_campaign, make_signature_row)
    token = _token("s", a)
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Stop email updates?" in page.get_data(as_text=True)
    assert _consents(a.email_normalized) == [True, True]
    assert not subscriptions.is_suppressed(a.email_normalized)


def test_the_button_says_so_in_spanish_and_undo_subscribes_again(client, make_campaign, make_signature_row):
    a, _ = _consenting(make_campaign, make_signature_row, language="es")
    token = _token("s", a)
    page = client.post(f"/es/unsubscribe/{token}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Canceló la suscripción" in text
    assert f'action="/es/unsubscribe/{token}/undo"' in text
    assert _consents(a.email_normalized) == [False, False]
    undone = client.post(f"/es/unsubscribe/{token}/undo")
    assert undone.status_code == 200
    assert _consents(a.email_normalized) == [True, True]
    assert not subscriptions.is_suppressed(a.email_normalized)


def test_pledge_consents_go_too(app, client, content, make_campaign, make_signature_row):
    a, _ = _consenting(make_campaign, make_signature_row)
    goal = content.goals_in_order()[0]
    pledge = Pledge(goal_id=goal.id, status="confirmed", confirmed_at=utcnow(), full_name="Rosa", email="rosalane@gmail.com",
                    email_normalized=a.email_normalized, wants_updates=True, updates_consented_at=utcnow())
    db.session.add(pledge)
    db.session.commit()
    token = _token("p", pledge)
    assert client.post(f"/unsubscribe/{token}", data=ONE_CLICK).status_code == 200
    db.session.expire_all()
    assert db.session.get(Pledge, pledge.id).wants_updates is False
    assert _consents(a.email_normalized) == [False, False]


def test_a_link_altered_or_naming_another_mailbox_is_refused_with_a_page(client, make_campaign, make_signature_row):
    a, _ = _consenting(make_campaign, make_signature_row)
    other = make_signature_row(make_campaign(), email="someone.else@example.org", wants_updates=True)
    token = _token("s", a)
    bad = client.post(f"/unsubscribe/{token[:-3]}xyz", data=ONE_CLICK)
    assert bad.status_code == 404 and "This link is not valid" in bad.get_data(as_text=True)
    # A link whose record now holds another mailbox (say, an id reused) suppresses only
    # the link's own mailbox hash and withdraws nobody else's consent.
    forged = subscriptions.unsubscribe_token("s", other.id, a.email_normalized)
    assert client.post(f"/unsubscribe/{forged}", data=ONE_CLICK).status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, other.id).wants_updates is True


def test_rotating_the_secret_key_re_subscribes_no_one(app, make_campaign, make_signature_row):
    a, _ = _consenting(make_campaign, make_signature_row)
    subscriptions.unsubscribe(_token("s", a))
    db.session.commit()
    app.config["SECRET_KEY"] = "another-secret-key-that-is-long-enough-9876543210"
    assert subscriptions.is_suppressed(a.email_normalized)


def test_a_later_signature_with_the_tick_does_not_re_subscribe_silently(
    client, smtp_server, make_campaign, make_signature_row
):
    a, _ = _consenting(make_campaign, make_signature_row, email="ana.ruiz@example.org")
    subscriptions.unsubscribe(_token("s", a))
    db.session.commit()
    later = make_campaign()
    response = client.post(f"/campaigns/{later.slug}", data=sign_data(email="ana.ruiz@example.org", wants_updates="y"))
    assert response.status_code == 303
    new = db.session.scalar(db.select(Signature).filter_by(campaign_id=later.id))
    assert new.wants_updates is False and new.updates_consented_at is None
    # The confirmation email says so and offers the way back in.
    [message] = smtp_server.messages
    body = message.get_content()
    assert "unsubscribed from our updates before" in body
    link = re.search(r"http://localhost(/unsubscribe/\S+)", body).group(1)
    assert client.post(link + "/undo").status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, new.id).wants_updates is True
    assert not subscriptions.is_suppressed(new.email_normalized)


def test_a_pledge_keeps_its_tick_and_a_suppressed_mailbox_is_not_re_subscribed(client, content, smtp_server):
    goal = content.goals_in_order()[0]
    client.post(f"/goals/{goal.slug}/pledge", data=pledge_data(wants_updates="y"))
    pledge = db.session.scalar(db.select(Pledge))
    assert pledge.wants_updates is True and pledge.updates_consented_at is not None
    subscriptions.unsubscribe(_token("p", pledge))
    db.session.commit()
    other = content.goals_in_order()[1]
    client.post(f"/goals/{other.slug}/pledge", data=pledge_data(wants_updates="y", actions=[other.actions[0].key]))
    second = db.session.scalar(db.select(Pledge).filter_by(goal_id=other.id))
    assert second.wants_updates is False
    assert "unsubscribed from our updates before" in smtp_server.messages[-1].get_content()


def test_the_purge_keeps_only_the_mailbox_of_a_consent_and_only_for_its_time(app, make_campaign, make_signature_row):
    from coalition.services import privacy

    now = utcnow()
    closed = make_campaign(status="closed", closed_at=now - timedelta(days=400), closes_at=now - timedelta(days=400))
    consenting = make_signature_row(closed, full_name="Rosa Lane", email="rosa@example.org", wants_updates=True, language="es")
    silent = make_signature_row(closed, full_name="Ana Lane", email="ana@example.org")
    privacy.purge_personal_data(12, now=now)
    db.session.commit()
    db.session.expire_all()
    kept, gone = db.session.get(Signature, consenting.id), db.session.get(Signature, silent.id)
    assert (kept.full_name, kept.zip_code, kept.email, kept.wants_updates, kept.language) == ("", None, "rosa@example.org", True, "es")
    assert gone.email is None and gone.full_name == ""
    # Past UPDATES_RETENTION_MONTHS (24) the mailbox goes too.
    privacy.purge_personal_data(12, now=now + timedelta(days=400))
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Signature, consenting.id)
    assert kept.email is None and kept.email_normalized is None and kept.wants_updates is False
