"""Issue 16's attacks, each turned into a test: what a request could break, it no longer can."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
import zipcodes

from coalition import PROJECT_ROOT
from coalition.extensions import db
from coalition.models import Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import addresses
from coalition.services.addresses import lookup_zip, normalize_zip_code
from tests.conftest import free_port, login
from tests.public_forms import GOAL, pledge_data, sign_data


class FakePanic(BaseException):
    """What PyO3 raises for a Rust panic: a ``BaseException`` that is not an ``Exception``."""


# ---- 1. one request kills a worker ----

FULLWIDTH_ZIP = "\uff11\uff10\uff10\uff12\uff17"  # １００２７


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        (FULLWIDTH_ZIP, "10027"),
        ("\u0661\u0660\u0660\u0662\u0667", "10027"),  # Arabic-Indic digits
        (" 10027\uff0d1234 ", "10027-1234"),
        ("10027", "10027"),
        ("\u00b9\u00b2", "\u00b9\u00b2"),  # superscripts are not decimal digits: left for the check to refuse
    ],
)
def test_zip_codes_in_other_digits_are_written_in_ascii(typed, normal):
    assert normalize_zip_code(typed) == normal


def test_only_five_ascii_digits_ever_reach_the_zip_library(monkeypatch):
    seen = []
    real = zipcodes.matching

    def recording(code, *args, **kwargs):
        seen.append(code)
        return real(code, *args, **kwargs)

    monkeypatch.setattr(addresses.zipcodes, "matching", recording)
    addresses._place_of.cache_clear()
    try:
        for typed in (FULLWIDTH_ZIP, "1002\u0037", "\u00b9\u00b2\u00b3\u2074\u2075", "10027\u200b", "１００２７-１２３４", "abcde"):
            lookup_zip(typed)
    finally:
        addresses._place_of.cache_clear()
    assert seen and all(code.isascii() and code.isdigit() and len(code) == 5 for code in seen), seen
    assert lookup_zip(FULLWIDTH_ZIP).zip_code == "10027"


def test_a_fullwidth_zip_code_signs_and_pledges_as_its_ascii_digits(client, make_campaign):
    campaign = make_campaign(slug="zip-width", goal_slugs=[GOAL])
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code=FULLWIDTH_ZIP))
    assert response.status_code in (302, 303)
    response = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(zip_code=FULLWIDTH_ZIP))
    assert response.status_code in (302, 303)
    signature = db.session.execute(db.select(Signature)).scalar_one()
    pledge = db.session.execute(db.select(Pledge)).scalar_one()
    assert (signature.zip_code, signature.county) == ("10027", "New York County")
    assert (pledge.zip_code, pledge.county) == ("10027", "New York County")


def test_a_zip_code_in_superscripts_gets_a_clear_message(client, make_campaign):
    campaign = make_campaign(slug="zip-super")
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code="\u00b9\u00b2\u00b3\u2074\u2075"))
    assert response.status_code == 200
    assert "Please enter a 5-digit ZIP code, like 10027." in response.get_data(as_text=True)


def test_a_fullwidth_zip_code_in_a_paper_csv_is_stored_in_ascii(client, make_staff, make_campaign):
    campaign = make_campaign(slug="zip-paper")
    login(client, make_staff())
    sheet = f"full_name,zip_code\nDenise Walker,{FULLWIDTH_ZIP}\n".encode()
    response = client.post(
        "/staff/paper/upload",
        data={
            "csv-campaign": str(campaign.id),
            "csv-event": "Mail from Bedford Hills",
            "csv-event_date": "2026-02-01",
            "csv-mode": "all",
            "csv-file": (io.BytesIO(sheet), "sheets.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    signature = db.session.execute(db.select(Signature)).scalar_one()
    assert signature.zip_code == "10027"


def test_a_library_failure_that_is_not_an_exception_is_a_500_page(client, make_campaign, monkeypatch):
    campaign = make_campaign(slug="panic")

    def panicking(code, *args, **kwargs):
        raise FakePanic("end byte index 5 is not a char boundary")

    monkeypatch.setattr(addresses.zipcodes, "matching", panicking)
    addresses._place_of.cache_clear()
    try:
        response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code="10026"))
    finally:
        addresses._place_of.cache_clear()
    assert response.status_code == 500
    assert "Content-Security-Policy" in response.headers  # the site's own page, through its handlers
    assert 'lang="en"' in response.get_data(as_text=True)
    assert client.get(f"/campaigns/{campaign.slug}").status_code == 200


def test_a_failure_while_streaming_cuts_the_response_and_nothing_else(app):
    from coalition.containment import ContainLibraryFailures

    def streaming_app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])

        def body():
            yield b"first "
            raise FakePanic("boom")

        return body()

    def failing_app(environ, start_response):
        raise FakePanic("boom")

    started = []
    sent = b"".join(ContainLibraryFailures(streaming_app)({}, lambda *a: started.append(a)))
    assert sent == b"first "
    sent = b"".join(ContainLibraryFailures(failing_app)({}, lambda *a: started.append(a)))
    assert started[-1][0].startswith("500") and sent.startswith(b"Internal Server Error")
    with pytest.raises(SystemExit):  # a process told to exit still exits
        ContainLibraryFailures(lambda e, s: sys.exit(0))({}, None)


def _form_post(url: str, fields: dict) -> int:
    from urllib.parse import urlencode

    request = urllib.request.Request(url, data=urlencode(fields, doseq=True).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_no_post_ends_a_gunicorn_worker(tmp_path):
    """Under the real server, one worker: fullwidth ZIP codes on every public form (no token
    needed: the form-expired page validates the form too), and a view that panics."""
    from tests.test_scale_out import _wait_for

    env = dict(
        os.environ,
        COALITION_DATABASE_URL=f"sqlite:///{tmp_path}/site.sqlite",
        COALITION_SECRET_KEY="s" * 40,
        COALITION_PAGE_CACHE_STAMP_FILE=str(tmp_path / "stamp"),
    )
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    subprocess.run([*flask, "setup-if-empty"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--error-logfile", str(log_path), "tests.panicking_app:app"],
        env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/healthz")
        with urllib.request.urlopen(f"{base}/api/campaigns.json", timeout=10) as response:
            import json

            slug = json.load(response)["campaigns"][0]["slug"]
        person = {"full_name": "Rosa Martínez", "email": "rosa@example.org", "zip_code": FULLWIDTH_ZIP}
        codes = []
        for _ in range(3):
            codes.append(_form_post(f"{base}/campaigns/{slug}", person))
            codes.append(_form_post(f"{base}/goals/{GOAL}/pledge", {**person, "actions": "contact-legislators"}))
            codes.append(_form_post(f"{base}/test-panic", {}))
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert all(code < 500 for code in codes[0::3] + codes[1::3]), codes
    assert codes[2::3] == [500, 500, 500]
    log = log_path.read_text()
    assert "Booting worker" in log and log.count("Booting worker") == 1, log  # the one worker lived


# ---- 2. a confirmation link can confirm someone else ----

from tests.public_forms import endorse_data, last_link  # noqa: E402


def _give_ids_again(table: str) -> None:
    """Let the next row take the lowest free id again, as SQLite does (PostgreSQL's sequences
    never would, except after a restore or a sequence reset)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), coalesce(max(id), 0) + 1, false) FROM {table}"
        ))
        db.session.commit()


def _erase(email: str) -> None:
    from coalition.services import privacy

    privacy.erase_supporter(email, None)
    db.session.commit()


def test_a_link_to_an_erased_signature_never_confirms_the_next_one_with_its_id(client, make_campaign):
    campaign = make_campaign(slug="reused")
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="first@example.org"))
    first_id = db.session.execute(db.select(Signature.id)).scalar_one()
    old_link = last_link("/confirm/", to="first@example.org")
    _erase("first@example.org")
    _give_ids_again("signatures")
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name="Other Person", email="other@example.org"))
    other = db.session.execute(db.select(Signature)).scalar_one()
    assert other.id == first_id  # SQLite gave the erased row's id again
    response = client.post(old_link)
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(Signature, other.id).status == "pending"
    assert client.post(last_link("/confirm/", to="other@example.org")).status_code == 200
    db.session.expire_all()
    assert db.session.get(Signature, other.id).status == "confirmed"


def test_a_link_to_an_erased_pledge_never_confirms_the_next_one_with_its_id(client, content):
    client.post(f"/goals/{GOAL}/pledge", data=pledge_data(email="first@example.org"))
    first_id = db.session.execute(db.select(Pledge.id)).scalar_one()
    old_link = last_link("/confirm/", to="first@example.org")
    _erase("first@example.org")
    _give_ids_again("pledges")
    client.post(f"/goals/{GOAL}/pledge", data=pledge_data(full_name="Other Person", email="other@example.org"))
    other = db.session.execute(db.select(Pledge)).scalar_one()
    assert other.id == first_id
    assert client.post(old_link).status_code == 404
    db.session.expire_all()
    assert db.session.get(Pledge, other.id).status == "pending"


def test_a_link_to_a_deleted_endorsement_never_confirms_the_next_one_with_its_id(client, make_campaign):
    from coalition.models import Endorsement

    campaign = make_campaign(slug="endorsed")
    client.post(f"/campaigns/{campaign.slug}/endorse", data=endorse_data())
    first = db.session.execute(db.select(Endorsement)).scalar_one()
    first_id = first.id
    old_confirm = last_link("/endorsements/confirm/")
    old_withdraw = last_link("/endorsements/withdraw/")
    db.session.delete(first)
    db.session.commit()
    _give_ids_again("endorsements")
    client.post(
        f"/campaigns/{campaign.slug}/endorse",
        data=endorse_data(organization_name="Another Group", website="https://another.example.org",
                          contact_email="someone@another.example.org"),
    )
    other = db.session.execute(db.select(Endorsement)).scalar_one()
    assert other.id == first_id
    assert client.post(old_confirm).status_code == 404
    assert client.post(old_withdraw).status_code == 404
    db.session.expire_all()
    assert db.session.get(Endorsement, other.id).status == "submitted"


def test_links_made_before_link_keys_still_work_and_only_for_their_own_rows(app, make_campaign, make_signature_row):
    from coalition.services import confirmations
    from coalition.tokens import make_token

    campaign = make_campaign(slug="legacy")
    old = make_signature_row(campaign, status="pending")
    new = make_signature_row(campaign, status="pending")
    db.session.execute(sa.update(Signature).where(Signature.id == old.id).values(link_key=None))
    db.session.commit()
    assert new.link_key and len(new.link_key) >= 20
    id_only = {n: make_token(confirmations.TOKEN_PURPOSE, {"s": [n], "p": []}) for n in (old.id, new.id)}
    assert [s.id for s in confirmations.load_submission(id_only[old.id]).signatures] == [old.id]
    assert confirmations.load_submission(id_only[new.id]).empty
    assert [s.id for s in confirmations.load_submission(confirmations.confirmation_token([new])).signatures] == [new.id]


# ---- 3. email bombing through pledges and endorsements ----

from tests.public_forms import outbox_texts  # noqa: E402


@pytest.fixture
def limited_client(app_factory):
    """A client of an app with the mailbox limit on (6 per hour) and the per-address form
    limits out of the way, as for many people behind one address."""
    app = app_factory(
        RATELIMIT_ENABLED=True,
        CONFIRMATION_EMAIL_RATE_LIMIT="6 per hour;20 per day",
        SIGN_RATE_LIMIT="1000 per minute",
        PLEDGE_RATE_LIMIT="1000 per hour",
        ENDORSE_RATE_LIMIT="1000 per hour",
        CONFIRMATION_RESEND_MIN_SECONDS=0,
    )
    with app.app_context():
        yield app.test_client()


def _mail_to(address: str) -> int:
    """How many messages in the outbox went to the mailbox of ``address``."""
    import re

    from coalition.services.addresses import normalize_email

    mailbox = normalize_email(address)
    return sum(
        1 for text in outbox_texts() if normalize_email(re.search(r"(?m)^To: (.*)$", text).group(1)) == mailbox
    )


def test_pledges_to_one_mailbox_stop_at_the_mailbox_limit(limited_client, content):
    from coalition.models import Goal, PledgeAction

    goals = db.session.execute(
        db.select(Goal.slug, db.func.min(PledgeAction.key)).join(PledgeAction).group_by(Goal.slug)
    ).all()
    assert len(goals) >= 6
    for n in range(24):
        goal, action = goals[n % len(goals)]
        response = limited_client.post(f"/goals/{goal}/pledge", data=pledge_data(email="target@example.org", actions=[action]))
        assert response.status_code in (302, 303)
    assert _mail_to("target@example.org") == 6


def test_endorsements_under_many_domains_to_one_contact_stop_at_the_mailbox_limit(limited_client, make_campaign):
    campaign = make_campaign(slug="bomb")
    for n in range(12):
        response = limited_client.post(
            f"/campaigns/{campaign.slug}/endorse",
            data=endorse_data(organization_name=f"Group {n}", website=f"https://group{n}.example.org",
                              contact_email="target@example.org"),
        )
        assert response.status_code in (302, 303)
    assert _mail_to("target@example.org") == 6


def test_signatures_pledges_and_endorsements_share_one_limit_per_mailbox(limited_client, make_campaign):
    campaigns = [make_campaign(slug=f"shared-{n}") for n in range(3)]
    for campaign in campaigns:
        limited_client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="Target+tag@Example.org"))
    limited_client.post(f"/goals/{GOAL}/pledge", data=pledge_data(email="target@example.org"))
    for n in range(3):
        limited_client.post(
            f"/campaigns/{campaigns[n].slug}/endorse",
            data=endorse_data(website=f"https://org{n}.example.org", contact_email="target@example.org"),
        )
    assert _mail_to("target@example.org") == 6


@pytest.mark.parametrize(
    "name",
    ["Rosa www.evil.example", "Rosa evil.example/win", "https://evil.example", "Rosa\nVisit us", "Ro\u200bsa",
     "'><iframe/src=javascript:alert(1)>"],
)
def test_a_pledger_name_with_a_link_or_a_line_break_is_refused(client, content, name):
    response = client.post(f"/goals/{GOAL}/pledge", data=pledge_data(full_name=name))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Please give just your name here." in html or "invisible control characters" in html
    assert db.session.execute(db.select(Pledge)).first() is None


@pytest.mark.parametrize("field", ["organization_name", "contact_name", "contact_role", "locality"])
def test_an_endorsement_with_a_link_in_a_name_is_refused(client, make_campaign, field):
    campaign = make_campaign(slug="named")
    response = client.post(f"/campaigns/{campaign.slug}/endorse", data=endorse_data(**{field: "Claim prizes at win.example"}))
    assert response.status_code == 200
    assert outbox_texts() == []


def test_the_endorsement_email_quotes_the_organization_as_written(client, make_campaign):
    campaign = make_campaign(slug="quoted")
    client.post(f"/campaigns/{campaign.slug}/endorse", data=endorse_data())
    import email

    (text,) = outbox_texts()
    body = email.message_from_string(text).get_payload(decode=True).decode()
    assert "the organization whose name you wrote as “Women in Prison Project” endorses" in " ".join(body.split())


# ---- 4. logout does not end the session ----


def _copy_session(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie(cookie.key, cookie.value)


def _logged_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def test_logout_ends_every_copy_of_the_session(app, make_staff):
    staff = make_staff()
    browser, thief = app.test_client(), app.test_client()
    login(browser, staff)
    _copy_session(browser, thief)
    assert _logged_in(thief)
    browser.post("/staff/logout")
    assert not _logged_in(thief)
    assert not _logged_in(browser)
    login(browser, staff)  # a new login works again
    assert _logged_in(browser)


# A password change and disabling already end the other sessions: see test_staff_accounts.py.


def test_a_session_survives_a_change_of_network_and_ignores_forwarded_addresses(app, make_staff):
    staff = make_staff()
    phone = app.test_client()
    login(phone, staff)
    # The same cookie from another network, with another user agent: still the same person.
    moved = phone.get("/staff/", environ_base={"REMOTE_ADDR": "198.51.100.7"}, headers={"User-Agent": "Other/1.0"})
    assert moved.status_code == 200
    assert phone.get("/staff/", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200


# ---- 7. raw client addresses kept after all ----

def _hit_the_sign_limit(app, slug: str, address: str = "127.0.0.10") -> None:
    client = app.test_client()
    environ = {"REMOTE_ADDR": address}
    for n in range(3):
        client.post(f"/campaigns/{slug}", data=sign_data(email=f"limit{n}@example.org"), environ_base=environ)


def test_rate_limit_keys_and_log_lines_hold_the_hashed_address_only(app_factory, caplog):
    from coalition.extensions import limiter
    from coalition.services.addresses import hash_client_address

    app = app_factory(RATELIMIT_ENABLED=True, SIGN_RATE_LIMIT="2 per minute")
    with app.app_context():
        slug = "limits"
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug=slug, title="L", summary="s", body="b", target=10, status="open",
                                         goal_slugs=[])
        db.session.commit()
        with caplog.at_level("INFO"):
            _hit_the_sign_limit(app, slug)
        keys = list(limiter.storage.storage.keys())
        code = hash_client_address("127.0.0.10", app.config["SECRET_KEY"])
    assert keys and all("127.0.0.10" not in key for key in keys), keys
    assert any(code in key for key in keys)
    assert any("exceeded" in record.getMessage() for record in caplog.records)
    assert all("127.0.0.10" not in record.getMessage() for record in caplog.records)


def test_rate_limit_keys_in_redis_hold_no_address(app_factory, redis_url):
    import redis

    from coalition.services.addresses import hash_client_address

    # No fallback to memory and patient timeouts: the counters must be in Redis to be looked at.
    app = app_factory(RATELIMIT_ENABLED=True, SIGN_RATE_LIMIT="2 per minute", RATELIMIT_STORAGE_URI=redis_url,
                      RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=False, RATELIMIT_SWALLOW_ERRORS=False,
                      RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 5, "socket_timeout": 5})
    with app.app_context():
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug="redis-limits", title="L", summary="s", body="b", target=10,
                                         status="open", goal_slugs=[])
        db.session.commit()
        _hit_the_sign_limit(app, "redis-limits", address="127.0.0.77")
        code = hash_client_address("127.0.0.77", app.config["SECRET_KEY"])
    connection = redis.Redis.from_url(redis_url)
    raw = [key.decode() for key in connection.keys("*127.0.0.77*")]
    hashed = [key.decode() for key in connection.keys(f"*{code}*")]
    try:
        assert raw == []
        assert hashed and all("petitions.campaign" in key for key in hashed), hashed
    finally:
        if hashed:
            connection.delete(*hashed)


def test_log_lines_never_hold_a_client_address():
    from coalition.logs import scrub

    assert scrub("ratelimit 10 per 1 minute (127.0.0.10) exceeded") == "ratelimit 10 per 1 minute (<address>) exceeded"
    assert scrub("from 2001:db8::7 and ::1") == "from <address> and <address>"
    assert scrub("at 23:20:50, version 1.2.3") == "at 23:20:50, version 1.2.3"


# ---- 5. rate limits that leak across workers (and 9: gunicorn only on loopback) ----


def _start_production_gunicorn(tmp_path, **env_overrides) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        COALITION_ENV="production",
        COALITION_SECRET_KEY="s" * 40,
        COALITION_DATABASE_URL=f"sqlite:///{tmp_path}/site.sqlite",
        COALITION_BIND=f"127.0.0.1:{free_port()}",
    )
    env.pop("COALITION_RATELIMIT_STORAGE_URI", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "app:app"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
        timeout=60,
    )


def test_production_refuses_several_workers_counting_limits_in_memory(tmp_path):
    result = _start_production_gunicorn(tmp_path, COALITION_WORKERS="3")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "Refusing" in line]
    assert lines == [
        "Refusing to start in production: with memory:// each of the 3 worker processes counts rate limits "
        "alone; set COALITION_RATELIMIT_STORAGE_URI=redis://host:6379/0, or run one worker process with threads "
        "(COALITION_WORKERS=1 gunicorn --threads 8 app:app)."
    ]
    assert "Traceback" not in result.stderr


def test_production_refuses_to_listen_beyond_loopback(tmp_path):
    result = _start_production_gunicorn(
        tmp_path, COALITION_WORKERS="1", COALITION_BIND=f"0.0.0.0:{free_port()}"
    )
    assert result.returncode == 1
    assert "gunicorn would listen on 0.0.0.0:" in result.stderr and "never exposed directly" in result.stderr


@pytest.mark.parametrize(
    ("workers", "storage", "binds", "refused"),
    [
        (1, "memory://", ["127.0.0.1:8000"], False),
        (4, "redis://127.0.0.1:6379/0", ["127.0.0.1:8000", "[::1]:8000", "unix:/run/c.sock"], False),
        (2, "memory://", ["127.0.0.1:8000"], True),
        (1, "memory://", ["192.0.2.4:8000"], True),
    ],
)
def test_the_server_check(workers, storage, binds, refused):
    from coalition.config import ConfigurationError, check_server

    config = {"ENV": "production", "RATELIMIT_STORAGE_URI": storage}
    if refused:
        with pytest.raises(ConfigurationError):
            check_server(config, workers, binds)
    else:
        check_server(config, workers, binds)
    check_server({**config, "ENV": "development"}, workers, binds)  # development is never refused


# ---- 6. lockout of the real staff member ----


def test_wrong_passwords_from_elsewhere_never_lock_out_the_owner(app_factory, make_staff):
    limited = app_factory(RATELIMIT_ENABLED=True)
    with limited.app_context():
        from coalition.services import staff as staff_service

        limited.config.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST_KIB=8, ARGON2_PARALLELISM=1)
        from tests.conftest import STAFF_PASSWORD

        staff, _ = staff_service.create_staff("owner@example.org", "organizer", STAFF_PASSWORD)
        db.session.commit()
        client = limited.test_client()
        attacker = {"REMOTE_ADDR": "203.0.113.5"}
        codes = [
            client.post("/staff/login", data={"email": "owner@example.org", "password": f"guess number {n}"},
                        environ_base=attacker).status_code
            for n in range(7)
        ]
        assert codes == [200] * 5 + [429] * 2  # the guesser's own address is stopped
        owner = limited.test_client().post(
            "/staff/login", data={"email": "owner@example.org", "password": STAFF_PASSWORD},
            environ_base={"REMOTE_ADDR": "198.51.100.20"},
        )
        assert owner.status_code == 302


# ---- 9. smaller ones ----


def test_an_email_whose_local_part_begins_with_plus_keeps_its_own_mailbox():
    from coalition.services.addresses import normalize_email

    assert normalize_email("+alice@example.org") == "+alice@example.org"
    assert normalize_email("+bob@example.org") != normalize_email("+alice@example.org")
    assert normalize_email("rosa+petition@example.org") == "rosa@example.org"
    assert normalize_email("R.O.S.A+x@Gmail.com") == "rosa@gmail.com"


def test_a_line_break_in_a_request_path_is_escaped_in_the_access_log():
    import runpy

    settings = runpy.run_path(os.path.join(PROJECT_ROOT, "gunicorn.conf.py"))

    class Config:
        access_log_format = settings["access_log_format"]
        errorlog = "-"
        accesslog = "-"
        loglevel = "info"
        syslog = False
        disable_redirect_access_to_syslog = False
        logconfig = None
        logconfig_dict = {}
        logconfig_json = None
        capture_output = False
        user, group = os.getuid(), os.getgid()

    logger = settings["ScrubbingLogger"].__new__(settings["ScrubbingLogger"])
    logger.cfg = Config()

    class Response:
        status = "404 NOT FOUND"
        response_length = 10
        headers = ()
        sent = 10

    class Request:
        headers = ()
        method = "GET\nforged"
        path = "/x\n127.0.0.1 - - [01/Jan/2026] \"GET /admin\" 200"
        query = ""
        uri = path
        version = (1, 1)

    atoms = logger.atoms(Response(), Request(), {"RAW_URI": Request.path, "REQUEST_METHOD": "GET",
                                                   "PATH_INFO": Request.path, "SERVER_PROTOCOL": "HTTP/1.1"},
                          __import__("datetime").timedelta(seconds=0.01))
    assert "\n" not in atoms["U"] and "\\x0a" in atoms["U"]


@pytest.mark.parametrize("start", ["\uff1d", "\ufeff=", "\u200b=", "\u200d+", "\uff0b", "\uff20", "\u2060-"])
def test_look_alike_and_hidden_formula_starts_are_neutralised(start):
    from coalition.services.exports import neutralize

    assert neutralize(start + "HYPERLINK(1)") == "'" + start + "HYPERLINK(1)"


def test_look_alike_formula_starts_are_neutralised_in_the_exported_csv(client, make_staff, make_campaign,
                                                                       make_signature_row):
    import csv

    campaign = make_campaign(slug="cells")
    make_signature_row(campaign, full_name="\uff1dHYPERLINK(1)", comment="\ufeff=1+1")
    login(client, make_staff())
    data = client.get(f"/staff/exports/signatures.csv?s-campaign={campaign.slug}&s-status=confirmed").data
    (row,) = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert row["full_name"] == "'\uff1dHYPERLINK(1)"
    assert row["comment"] == "'\ufeff=1+1"


def test_zero_width_characters_are_refused_in_names_on_the_wall(client, make_campaign):
    campaign = make_campaign(slug="zero-width")
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name="Ro\u200bsa"))
    assert response.status_code == 200
    assert "invisible control characters" in response.get_data(as_text=True)
    assert db.session.execute(db.select(Signature)).first() is None


def test_a_nul_in_a_paper_csv_name_is_refused_with_its_line(client, make_staff, make_campaign):
    campaign = make_campaign(slug="nul-paper")
    login(client, make_staff())
    sheet = "full_name,zip_code\nDenise\x00 Walker,10027\nAna Ruiz,10027\n".encode()
    response = client.post(
        "/staff/paper/upload",
        data={"csv-campaign": str(campaign.id), "csv-event": "Mail", "csv-event_date": "2026-02-01",
              "csv-mode": "all", "csv-file": (io.BytesIO(sheet), "sheets.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "The name holds invisible or control characters." in response.get_data(as_text=True)
    assert db.session.execute(db.select(Signature)).first() is None


def test_a_forwarded_value_that_is_not_an_address_is_ignored(app_factory):
    app = app_factory(PROXY_COUNT=1)
    seen = []

    @app.get("/test-address")
    def _address():
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    client = app.test_client()
    client.get("/test-address", headers={"X-Forwarded-For": "198.51.100.3"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    client.get("/test-address", headers={"X-Forwarded-For": "not-an-address"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    client.get("/test-address", headers={"X-Forwarded-For": "<script>"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert seen == ["198.51.100.3", "127.0.0.1", "127.0.0.1"]


def test_a_sender_killed_mid_batch_sends_at_most_its_batch_twice(app, monkeypatch, sender_run_by_hand):
    from coalition import mail
    from coalition.models import OutgoingMail

    assert mail.BATCH_SIZE <= 10
    for n in range(45):
        mail.queue_mail(f"reader{n}@example.org", "Hello", "Body")
    db.session.commit()
    delivered = []
    real_deliver = mail._Postman.deliver

    def deliver_then_die(self, message, row_id):
        if len(delivered) == 25:
            raise SystemExit("worker killed")
        delivered.append(row_id)
        return real_deliver(self, message, row_id)

    monkeypatch.setattr(mail._Postman, "deliver", deliver_then_die)
    with pytest.raises(SystemExit):
        mail.send_pending_mail(limit=100)
    db.session.rollback()
    monkeypatch.setattr(mail._Postman, "deliver", lambda self, message, row_id: (delivered.append(row_id),
                                                                               real_deliver(self, message, row_id)))
    # Two minutes later the killed sender's claims have lapsed.
    db.session.execute(sa.update(OutgoingMail).values(locked_until=None))
    db.session.commit()
    mail.send_pending_mail(limit=100)
    twice = [row_id for row_id in set(delivered) if delivered.count(row_id) > 1]
    assert len(set(delivered)) == 45
    assert 0 < len(twice) <= mail.BATCH_SIZE


ERASED_NAME = "Zenobia Quillfeather"
ERASED_EMAIL = "zenobia.quillfeather@example.org"


def _sign_and_erase(client, make_campaign, make_staff) -> None:
    campaign = make_campaign(slug="erase-files")
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name=ERASED_NAME, email=ERASED_EMAIL,
                                                              comment="Please keep me posted"))
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name="Kept Person", email="kept@example.org"))
    client.post(last_link("/confirm/", to=ERASED_EMAIL))  # confirmed: anonymised in place, not deleted
    client.post(f"/goals/{GOAL}/pledge", data=pledge_data(full_name=ERASED_NAME, email=ERASED_EMAIL))
    login(client, make_staff(role="admin"))
    response = client.post("/staff/privacy", data={"email": ERASED_EMAIL, "action": "erase"})
    assert response.status_code == 302


def test_an_erased_name_and_email_are_gone_from_the_sqlite_files(client, make_campaign, make_staff, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite files")
    from pathlib import Path

    path = database_url.removeprefix("sqlite:///")
    _sign_and_erase(client, make_campaign, make_staff)
    files = [Path(path + suffix) for suffix in ("", "-wal") if os.path.exists(path + suffix)]
    everything = b"".join(file.read_bytes() for file in files)
    assert b"Kept Person" in everything  # the files were read while they hold the data
    for file in files:
        content = file.read_bytes()
        assert ERASED_NAME.encode() not in content and b"Zenobia" not in content, file.name
        assert ERASED_EMAIL.encode() not in content and b"zenobiaquillfeather" not in content, file.name


def test_an_open_reader_holds_the_checkpoint_back_briefly_and_is_said_in_the_log(
    app, client, make_campaign, make_staff, database_url, caplog, monkeypatch
):
    """A long export reading while staff erase: the checkpoint waits only
    ``CHECKPOINT_WAIT_MS`` (not the full busy timeout), the log says the files are not
    cleared yet, every pooled connection keeps the app's busy timeout, and the next
    checkpoint, with no reader left, clears the files."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's checkpoint")
    import sqlite3

    from coalition import database

    path = database_url.removeprefix("sqlite:///")
    campaign = make_campaign(slug="erase-while-reading")
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name=ERASED_NAME, email=ERASED_EMAIL))
    monkeypatch.setattr(database, "CHECKPOINT_WAIT_MS", 50)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM signatures").fetchone()  # a snapshot held open
        login(client, make_staff(role="admin"))
        with caplog.at_level("WARNING", logger="coalition.database"):
            assert client.post("/staff/privacy", data={"email": ERASED_EMAIL, "action": "erase"}).status_code == 302
        assert "a reader was open" in caplog.text
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    # Every connection in the pool (the checkpoint's among them) waits as the app says.
    pooled = [db.engine.raw_connection() for _ in range(db.engine.pool.checkedin())]
    try:
        waits = {connection.driver_connection.execute("PRAGMA busy_timeout").fetchone()[0] for connection in pooled}
    finally:
        for connection in pooled:
            connection.close()
    assert waits == {int(app.config["SQLITE_BUSY_TIMEOUT_MS"])}
    database.clear_erased_data_from_files()
    for suffix in ("", "-wal"):
        if os.path.exists(path + suffix):
            with open(path + suffix, "rb") as file:
                assert ERASED_EMAIL.encode() not in file.read(), suffix


def _postgres_table_files(tables) -> list[str]:
    with db.engine.connect() as connection:
        data_directory = connection.exec_driver_sql("SHOW data_directory").scalar()
        connection.exec_driver_sql("CHECKPOINT")  # the pages as they are now, written to the files
        files = []
        for table in tables:
            relations = connection.execute(sa.text(
                "SELECT pg_relation_filepath(c.oid) FROM pg_class c WHERE c.oid = to_regclass(:t) "
                "OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = to_regclass(:t)) "
                "OR c.oid = (SELECT reltoastrelid FROM pg_class WHERE oid = to_regclass(:t))"), {"t": table}).scalars()
            files += [os.path.join(data_directory, relation) for relation in relations if relation]
    return [path for path in files if os.access(path, os.R_OK)]


def _files_holding(paths: list[str], *needles: bytes) -> list[str]:
    holding = []
    for path in paths:
        with open(path, "rb") as handle:
            content = handle.read()
        if any(needle in content for needle in needles):
            holding.append(path)
    return holding


def test_an_erased_name_and_email_are_gone_from_the_postgresql_table_files(client, make_campaign, make_staff,
                                                                          database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("the PostgreSQL files")
    import time

    from coalition.database import PERSONAL_DATA_TABLES, clear_erased_data_from_files

    _sign_and_erase(client, make_campaign, make_staff)
    db.session.rollback()
    if not _postgres_table_files(PERSONAL_DATA_TABLES):
        pytest.skip("the PostgreSQL data files are not readable here")
    needles = (ERASED_NAME.encode(), ERASED_EMAIL.encode())
    # VACUUM FULL keeps a row version that a transaction begun before the erasure could
    # still see (another session's, anywhere in the database): once those have ended, a
    # later run removes it. The erasure's own run is the first try.
    deadline = time.monotonic() + 30
    holding = _files_holding(_postgres_table_files(PERSONAL_DATA_TABLES), *needles)
    while holding and time.monotonic() < deadline:
        time.sleep(1)
        clear_erased_data_from_files()
        holding = _files_holding(_postgres_table_files(PERSONAL_DATA_TABLES), *needles)
    assert holding == []
    assert _files_holding(_postgres_table_files(["signatures"]), b"Kept Person")  # the files were the right ones


def test_posts_that_only_show_the_form_again_still_count_against_the_limits(app_factory, make_campaign):
    """A post that fails the form's checks (the ZIP library included) is limited too."""
    app = app_factory(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, SIGN_RATE_LIMIT="2 per minute")
    with app.app_context():
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug="no-token", title="T", summary="s", body="b", target=10,
                                         status="open", goal_slugs=[])
        db.session.commit()
        client = app.test_client()
        codes = [client.post("/campaigns/no-token", data={"full_name": "Rosa", "zip_code": FULLWIDTH_ZIP}).status_code
                 for _ in range(4)]
    assert codes == [200, 200, 429, 429]


def _statements_of(app, client, url: str, data: dict) -> list[str]:
    """The SQL statements one POST runs, each as its verb and the tables it names."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        words = statement.split()
        tables = sorted({words[i + 1].strip('"') for i, word in enumerate(words[:-1])
                         if word.upper() in ("INTO", "FROM", "UPDATE", "JOIN") and words[i + 1].upper() != "SET"})
        seen.append(f"{words[0].upper()} {' '.join(tables)}")

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post(url, data=data).status_code == 303
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_signature_that_exists_is_answered_with_the_same_work_as_a_new_one(app_factory, make_campaign,
                                                                               sender_run_by_hand):
    """The time an answer takes must not tell whether an address signed: a repeat runs the
    same statements as a new signature (one upsert, one queued email), not a lookup more.
    Timed in bench/timing.py, never here."""
    app = app_factory(CONFIRMATION_RESEND_MIN_SECONDS=0)
    with app.app_context():
        campaign = make_campaign()
        client = app.test_client()
        url = f"/campaigns/{campaign.slug}"
        new = _statements_of(app, client, url, sign_data(email="first@example.org"))
        again = _statements_of(app, client, url, sign_data(email="first@example.org"))
        other_new = _statements_of(app, client, url, sign_data(email="second@example.org"))
        db.session.execute(sa.update(Signature).where(Signature.email == "second@example.org").values(status="confirmed", confirmed_at=utcnow()))
        db.session.commit()
        confirmed_again = _statements_of(app, client, url, sign_data(email="second@example.org"))
        rows = db.session.execute(sa.select(Signature.email, Signature.confirmation_sends).order_by(Signature.id)).all()
    assert new == again == other_new == confirmed_again
    assert [s for s in new if s.startswith("INSERT")] == ["INSERT signatures", "INSERT outgoing_mail"]
    assert not [s for s in new if s.startswith(("SELECT signatures", "UPDATE signatures"))]
    assert rows == [("first@example.org", 2), ("second@example.org", 2)]
