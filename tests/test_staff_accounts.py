"""Staff accounts: login, sessions, passwords, roles, and the create-staff command."""

from __future__ import annotations

import time

from tests.conftest import STAFF_PASSWORD, login

from coalition.extensions import db
from coalition.models import AuditEntry, StaffUser
from coalition.services import staff as staff_service


def test_login_goes_to_the_dashboard_and_hashes_with_argon2id(client, make_staff):
    staff = make_staff()
    assert staff.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in staff.password_hash
    response = login(client, staff)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "Dashboard" in page.get_data(as_text=True)
    assert db.session.get(StaffUser, staff.id).last_login_at is not None


def test_every_failure_gets_the_same_generic_message(client, make_staff):
    staff = make_staff()
    disabled = make_staff(active=False)
    wrong_password = login(client, staff, password="not the right one")
    unknown = client.post("/staff/login", data={"email": "nobody@example.org", "password": STAFF_PASSWORD})
    disabled_account = login(client, disabled)
    texts = [r.get_data(as_text=True) for r in (wrong_password, unknown, disabled_account)]
    for response, text in zip((wrong_password, unknown, disabled_account), texts):
        assert response.status_code == 200
        assert "Email or password is not correct, or the account is disabled." in text
        assert STAFF_PASSWORD not in text
    assert client.get("/staff/").status_code == 302


def test_only_a_relative_next_is_followed(client, make_staff):
    staff = make_staff()
    assert login(client, staff, next="/staff/account/password").headers["Location"] == "/staff/account/password"
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        other = client.application.test_client()
        assert login(other, staff, next=target).headers["Location"] == "/staff/"


def test_anonymous_visit_is_sent_to_login_and_back(client, make_staff):
    staff = make_staff()
    response = client.get("/staff/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login?next=/staff/account/password")
    follow = login(client, staff, next="/staff/account/password")
    assert follow.headers["Location"] == "/staff/account/password"


def test_the_session_is_renewed_at_login(client, make_staff):
    staff = make_staff()
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"
    login(client, staff)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == staff.get_id()


def test_the_session_ends_after_the_idle_time(app, client, make_staff):
    staff = make_staff()
    login(client, staff)
    assert client.get("/staff/").status_code == 200
    with client.session_transaction() as sess:
        sess["staff_seen"] = int(time.time()) - 31 * 60
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    # Logged out for good, not just redirected once.
    assert client.get("/staff/").status_code == 302
    app.config["STAFF_IDLE_MINUTES"] = 60
    login(client, staff)
    with client.session_transaction() as sess:
        sess["staff_seen"] = int(time.time()) - 31 * 60
    assert client.get("/staff/").status_code == 200


def test_staff_pages_are_not_cached(client, make_staff):
    login(client, make_staff())
    for path in ("/staff/", "/staff/login", "/staff/account/password"):
        assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_login_is_limited_per_account_across_addresses(app_factory, make_staff):
    staff = make_staff()
    limited = app_factory(RATELIMIT_ENABLED=True, STAFF_LOGIN_RATE_LIMIT_ACCOUNT="3 per hour")
    client = limited.test_client()
    for n in range(3):
        response = client.post(
            "/staff/login",
            data={"email": staff.email.upper(), "password": "wrong password!"},
            environ_base={"REMOTE_ADDR": f"10.0.0.{n + 1}"},
        )
        assert response.status_code == 200
    blocked = client.post(
        "/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert blocked.status_code == 429
    # Another account from the same addresses is not affected.
    other = make_staff()
    ok = client.post(
        "/staff/login", data={"email": other.email, "password": STAFF_PASSWORD}, environ_base={"REMOTE_ADDR": "10.0.0.1"}
    )
    assert ok.status_code == 302


def test_login_is_limited_per_address(app_factory, make_staff):
    make_staff()
    limited = app_factory(RATELIMIT_ENABLED=True, STAFF_LOGIN_RATE_LIMIT_ADDRESS="4 per hour")
    client = limited.test_client()
    codes = [
        client.post("/staff/login", data={"email": f"guess{n}@example.org", "password": "wrong password!"}).status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 200, 429]
    other_address = client.post(
        "/staff/login", data={"email": "x@example.org", "password": "y"}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
    )
    assert other_address.status_code == 200


def test_password_change_ends_the_other_sessions(app, make_staff):
    staff = make_staff()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, staff)
    login(phone, staff)
    short = laptop.post(
        "/staff/account/password",
        data={"current_password": STAFF_PASSWORD, "new_password": "short", "confirm_password": "short"},
    )
    assert "Use at least 12 characters." in short.get_data(as_text=True)
    wrong = laptop.post(
        "/staff/account/password",
        data={"current_password": "not it at all", "new_password": "a new long password", "confirm_password": "a new long password"},
    )
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    done = laptop.post(
        "/staff/account/password",
        data={"current_password": STAFF_PASSWORD, "new_password": "a new long password", "confirm_password": "a new long password"},
    )
    assert done.status_code == 302
    assert laptop.get("/staff/").status_code == 200
    assert phone.get("/staff/").status_code == 302
    assert login(app.test_client(), staff).status_code == 200  # old password refused
    assert login(app.test_client(), staff, password="a new long password").status_code == 302
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="staff.password")).actor_id == staff.id


def test_admin_adds_a_staff_member_and_sees_the_password_once(client, make_staff):
    admin = make_staff(role="admin")
    login(client, admin)
    response = client.post("/staff/accounts", data={"email": "New.Person@Example.org", "role": "organizer"})
    html = response.get_data(as_text=True)
    assert "shown only this once" in html
    created = db.session.scalar(db.select(StaffUser).filter_by(email="new.person@example.org"))
    assert created.role == "organizer"
    assert "shown only this once" not in client.get("/staff/accounts").get_data(as_text=True)
    duplicate = client.post("/staff/accounts", data={"email": "new.person@example.org", "role": "admin"})
    assert "already a staff account" in duplicate.get_data(as_text=True)
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="staff.create", subject=f"staff:{created.id}"))
    assert entry.actor_id == admin.id and entry.details == {"role": "organizer"}
    assert "new.person" not in str(entry.details)


def test_disabling_an_account_ends_its_session(app, make_staff):
    admin = make_staff(role="admin")
    organizer = make_staff()
    admin_client, organizer_client = app.test_client(), app.test_client()
    login(admin_client, admin)
    login(organizer_client, organizer)
    assert organizer_client.get("/staff/").status_code == 200
    admin_client.post(f"/staff/accounts/{organizer.id}/active", data={"active": "0"})
    assert organizer_client.get("/staff/").status_code == 302
    assert login(app.test_client(), organizer).status_code == 200
    admin_client.post(f"/staff/accounts/{organizer.id}/active", data={"active": "1"})
    assert login(app.test_client(), organizer).status_code == 302


def test_role_changes_take_effect_and_the_last_admin_stays(app, make_staff):
    admin = make_staff(role="admin")
    organizer = make_staff()
    admin_client = app.test_client()
    login(admin_client, admin)
    admin_client.post(f"/staff/accounts/{organizer.id}/role", data={"role": "admin"})
    assert db.session.get(StaffUser, organizer.id).role == "admin"
    admin_client.post(f"/staff/accounts/{organizer.id}/role", data={"role": "organizer"})
    refused = admin_client.post(f"/staff/accounts/{admin.id}/role", data={"role": "organizer"}, follow_redirects=True)
    assert "the last active admin cannot lose the admin role" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(StaffUser, admin.id).role == "admin"
    refused = admin_client.post(f"/staff/accounts/{admin.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "you cannot disable your own account" in refused.get_data(as_text=True)


def test_an_outdated_hash_is_upgraded_at_login(app, client, make_staff):
    staff = make_staff()
    old_hash = staff.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert login(client, staff).status_code == 302
    db.session.expire_all()
    new_hash = db.session.get(StaffUser, staff.id).password_hash
    assert new_hash != old_hash and "t=2" in new_hash


def test_create_staff_command_prompts_for_a_password(app, runner):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
    result = runner.invoke(
        args=["create-staff", "Admin@Example.org", "--role", "admin"],
        input="a long enough password\na long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = staff_service.find_by_email("admin@example.org")
    assert user.role == "admin"
    assert staff_service.authenticate("admin@example.org", "a long enough password") is not None
    short = runner.invoke(args=["create-staff", "b@example.org", "--role", "organizer"], input="short\nshort\n")
    assert short.exit_code != 0
    assert "at least 12 characters" in short.output
    assert staff_service.find_by_email("b@example.org") is None


def test_create_staff_command_can_generate_the_password(app, runner):
    app.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
    result = runner.invoke(args=["create-staff", "c@example.org", "--role", "organizer", "--generate-password"])
    assert result.exit_code == 0, result.output
    password = result.output.split("shown only this once): ")[1].strip()
    assert len(password) >= 12
    assert staff_service.authenticate("c@example.org", password).role == "organizer"


def test_staff_forms_carry_and_need_csrf_tokens(app_factory, make_staff):
    import re

    staff = make_staff()
    protected = app_factory(WTF_CSRF_ENABLED=True)
    client = protected.test_client()
    assert client.post("/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD}).status_code == 400
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/staff/login", data={"email": staff.email, "password": STAFF_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # Logging out is a POST with the page's token; without it nothing happens.
    dashboard = client.get("/staff/").get_data(as_text=True)
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/").status_code == 200
    logout_token = re.search(r'name="csrf_token" value="([^"]+)"', dashboard).group(1)
    assert client.post("/staff/logout", data={"csrf_token": logout_token}).status_code == 302
    assert client.get("/staff/").status_code == 302
