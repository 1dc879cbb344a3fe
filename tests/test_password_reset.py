"""Staff password reset by email: the same answer for any address, one use, one hour,
rate limits, and every session of the account ended."""

from __future__ import annotations

import re
import time

import itsdangerous.timed

from coalition.extensions import db
from coalition.models import AuditEntry, StaffUser
from coalition.services import staff as staff_service
from tests.conftest import STAFF_PASSWORD, login

NEW_PASSWORD = "a brand new passphrase"


def _link(message) -> str:
    return re.search(r"http://localhost(/staff/password-reset/\S+)", message.get_content()).group(1)


def test_the_answer_is_the_same_for_a_staff_address_and_any_other(client, make_staff, smtp_server):
    staff = make_staff(email="organizer@example.org")
    known = client.post("/staff/password-reset", data={"email": "Organizer@example.org"})
    unknown = client.post("/staff/password-reset", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    [message] = smtp_server.messages
    assert message["To"] == "organizer@example.org" and message["Subject"] == "Reset your staff password"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="staff.password_reset_request"))
    assert entry.subject == f"staff:{staff.id}"


def test_a_disabled_account_gets_no_link(client, make_staff, smtp_server):
    make_staff(email="gone@example.org", active=False)
    assert client.post("/staff/password-reset", data={"email": "gone@example.org"}).status_code == 200
    assert smtp_server.messages == []


def test_the_link_works_once_and_ends_every_session(app, client, make_staff, smtp_server):
    staff = make_staff(email="organizer@example.org")
    elsewhere = app.test_client()
    login(elsewhere, staff)
    assert elsewhere.get("/staff/").status_code == 200
    client.post("/staff/password-reset", data={"email": "organizer@example.org"})
    link = _link(smtp_server.messages[0])
    assert "Choose a new password" in client.get(link).get_data(as_text=True)
    done = client.post(link, data={"new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/staff/login")
    # The other session has ended; the old password no longer opens the account, the new one does.
    assert elsewhere.get("/staff/").headers["Location"].startswith("/staff/login")
    assert login(app.test_client(), staff).status_code == 200
    assert login(app.test_client(), staff, password=NEW_PASSWORD).status_code == 302
    # Used once: the same link is refused, with a page that says so.
    again = client.post(link, data={"new_password": "yet another passphrase", "confirm_password": "yet another passphrase"})
    assert again.status_code == 404 and "already used" in again.get_data(as_text=True)
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="staff.password_reset")).actor_id == staff.id


def test_the_link_expires_after_an_hour(app, client, make_staff, monkeypatch):
    staff = make_staff()
    real = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 3601)
    token = staff_service.password_reset_token(staff)
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", real)
    page = client.get(f"/staff/password-reset/{token}")
    assert page.status_code == 404 and "this link has expired" in page.get_data(as_text=True)
    fresh = staff_service.password_reset_token(db.session.get(StaffUser, staff.id))
    assert client.get(f"/staff/password-reset/{fresh}").status_code == 200


def test_a_weak_password_or_a_mismatch_is_explained(client, make_staff):
    staff = make_staff()
    token = staff_service.password_reset_token(staff)
    page = client.post(f"/staff/password-reset/{token}", data={"new_password": "short", "confirm_password": "short"})
    assert page.status_code == 200 and "Use at least 12 characters." in page.get_data(as_text=True)
    page = client.post(f"/staff/password-reset/{token}", data={"new_password": NEW_PASSWORD, "confirm_password": "other"})
    assert "The two new passwords differ." in page.get_data(as_text=True)
    db.session.expire_all()
    assert staff_service.authenticate(staff.email, STAFF_PASSWORD) is not None


def _post(client, email, address):
    return client.post("/staff/password-reset", data={"email": email}, environ_base={"REMOTE_ADDR": address})


def test_requests_are_limited_per_account_from_any_address(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, STAFF_PASSWORD_RESET_RATE_LIMIT_ACCOUNT="3 per hour",
                      STAFF_PASSWORD_RESET_RATE_LIMIT_ADDRESS="100 per hour")
    with app.app_context():
        client = app.test_client()
        assert [_post(client, "target@example.org", f"10.0.0.{n}").status_code for n in range(1, 5)] == [200, 200, 200, 429]
        assert _post(client, "other@example.org", "10.0.0.1").status_code == 200


def test_requests_are_limited_per_address_whatever_the_account(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, STAFF_PASSWORD_RESET_RATE_LIMIT_ACCOUNT="100 per hour",
                      STAFF_PASSWORD_RESET_RATE_LIMIT_ADDRESS="2 per hour")
    with app.app_context():
        client = app.test_client()
        assert [_post(client, f"a{n}@example.org", "10.0.0.1").status_code for n in range(3)] == [200, 200, 429]
        assert _post(client, "a9@example.org", "10.0.0.2").status_code == 200
