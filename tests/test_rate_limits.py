"""Rate limits: signing per client address, confirmation emails per mailbox; ProxyFix."""

from __future__ import annotations

import time
import types

import pytest

from coalition.extensions import db
from coalition.models import Signature
from coalition.services import campaigns as campaign_service
from tests.test_signing import sign_data


@pytest.fixture
def clock(monkeypatch):
    """The rate limiter's clock, moved forward by the test instead of by waiting."""
    import limits.storage.memory

    now = [time.time()]
    monkeypatch.setattr(limits.storage.memory, "time", types.SimpleNamespace(time=lambda: now[0]))

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def _limited_app(app_factory, **config):
    app = app_factory(RATELIMIT_ENABLED=True, **config)
    with app.app_context():
        for slug in ("c1", "c2", "c3"):
            campaign_service.create_campaign(slug=slug, title=slug, summary="S", target=10, status="open")
        db.session.commit()
    return app


def _signature_count(app) -> int:
    with app.app_context():
        return len(db.session.execute(db.select(Signature.id)).all())


def test_signing_is_limited_per_client_address_then_recovers(app_factory, clock):
    app = _limited_app(app_factory, SIGN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    with app.app_context():
        for n in range(3):
            response = client.post("/campaigns/c1", data=sign_data(email=f"p{n}@example.org"))
            assert response.status_code == 303
        refused = client.post("/campaigns/c1", data=sign_data(email="p3@example.org"))
        assert refused.status_code == 429
        html = refused.get_data(as_text=True)
        assert "Please slow down" in html and 'class="site-header"' in html
        assert "Please try again in" in html
        assert 0 < int(refused.headers["Retry-After"]) <= 60
        assert _signature_count(app) == 3
        # Reading the page is not limited; another address is not limited.
        assert client.get("/campaigns/c1").status_code == 200
        other = client.post(
            "/campaigns/c1", data=sign_data(email="p4@example.org"), environ_base={"REMOTE_ADDR": "198.51.100.4"}
        )
        assert other.status_code == 303

        clock(61)
        again = client.post("/campaigns/c1", data=sign_data(email="p3@example.org"))
        assert again.status_code == 303
        assert _signature_count(app) == 5


def test_the_default_limit_lets_a_family_sign_every_campaign(app_factory, clock):
    app = _limited_app(app_factory)
    client = app.test_client()
    with app.app_context():
        # Five people on one home connection sign three campaigns each, one after the
        # other, each with a typo first; filling the form takes half a minute.
        for person in range(5):
            client.post("/campaigns/c1", data=sign_data(email="typo@"))
            for slug in ("c1", "c2", "c3"):
                clock(30)
                response = client.post(f"/campaigns/{slug}", data=sign_data(email=f"member{person}@example.org"))
                assert response.status_code == 303
        assert _signature_count(app) == 15
        # A script sending as fast as it can is stopped.
        codes = [
            client.post("/campaigns/c1", data=sign_data(email=f"bot{n}@example.org")).status_code for n in range(30)
        ]
        assert 429 in codes


def test_confirmation_emails_are_limited_per_mailbox(app_factory, clock):
    app = _limited_app(app_factory, CONFIRMATION_EMAIL_RATE_LIMIT="2 per hour")
    client = app.test_client()
    addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
    with app.app_context():
        for slug, address, email in zip(("c1", "c2", "c3"), addresses, ("rosa@example.org", "Rosa+x@example.org", "ROSA@example.org")):
            response = client.post(
                f"/campaigns/{slug}", data=sign_data(email=email), environ_base={"REMOTE_ADDR": address}
            )
            # Past the limit the page is the same: nothing tells who signed.
            assert response.status_code == 303 and response.headers["Location"].endswith("/thanks")
        sends = dict(db.session.execute(db.select(Signature.campaign_id, Signature.confirmation_sends)).all())
        assert sorted(sends.values()) == [0, 1, 1]

        # An hour later, signing again brings the email that was held back.
        clock(3601)
        client.post("/campaigns/c3", data=sign_data(email="rosa@example.org"))
        db.session.expire_all()
        sends = dict(db.session.execute(db.select(Signature.campaign_id, Signature.confirmation_sends)).all())
        assert sorted(sends.values()) == [1, 1, 1]


def test_behind_a_proxy_each_forwarded_client_has_its_own_limit_and_hash(app_factory, clock):
    app = _limited_app(app_factory, SIGN_RATE_LIMIT="1 per minute", PROXY_COUNT=1)
    client = app.test_client()
    with app.app_context():
        for n, forwarded in enumerate(("203.0.113.1", "203.0.113.2")):
            response = client.post(
                "/campaigns/c1",
                data=sign_data(email=f"p{n}@example.org"),
                headers={"X-Forwarded-For": forwarded},
            )
            assert response.status_code == 303
        hashes = {h for (h,) in db.session.execute(db.select(Signature.client_hash)).all()}
        assert len(hashes) == 2
        assert not any("203.0.113" in h for h in hashes)
        again = client.post(
            "/campaigns/c1", data=sign_data(email="p9@example.org"), headers={"X-Forwarded-For": "203.0.113.1"}
        )
        assert again.status_code == 429


def test_without_a_proxy_forwarded_headers_are_ignored(app_factory, clock):
    app = _limited_app(app_factory, SIGN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    with app.app_context():
        first = client.post("/campaigns/c1", data=sign_data(), headers={"X-Forwarded-For": "203.0.113.1"})
        assert first.status_code == 303
        spoofed = client.post(
            "/campaigns/c1", data=sign_data(email="b@example.org"), headers={"X-Forwarded-For": "203.0.113.2"}
        )
        assert spoofed.status_code == 429


def test_the_memory_storage_sweeps_expired_counters_once_a_second_not_after_every_hit(app_factory, monkeypatch):
    """With ``memory://``, a rush of signatures from distinct mailboxes does not start a
    sweep of every counter after each hit (that made signing slower as counters grew)."""
    import threading

    from coalition import limits_storage
    from coalition.extensions import limiter

    app = app_factory(RATELIMIT_ENABLED=True)
    with app.app_context():
        storage = limiter.storage
    assert isinstance(storage, limits_storage.SweepingMemoryStorage)
    started = []

    class CountingTimer(threading.Timer):
        def start(self):
            started.append(self)
            super().start()

    monkeypatch.setattr(limits_storage.threading, "Timer", CountingTimer)
    storage.timer.cancel()
    storage.timer.join()
    # A third of a second of hits (limits' own sweep would start every 10 ms: ~30 times).
    deadline, n = time.monotonic() + 0.3, 0
    while time.monotonic() < deadline:
        n += 1
        storage.incr(f"mailbox-{n}", expiry=60)
        time.sleep(0.001)
    assert len(started) == 1
    storage.timer.cancel()
    storage.timer.join()

    # The sweep still runs, and frees expired counters.
    monkeypatch.setattr(limits_storage, "SWEEP_SECONDS", 0.05)
    storage.incr("short-lived", expiry=0.01)
    storage.timer.join(timeout=5)
    assert "short-lived" not in storage.expirations


def test_the_method_of_limits_the_memory_storage_replaces_is_still_there_and_called():
    """``limits_storage`` replaces a private method of ``limits``' MemoryStorage (checked on
    5.8.0, the newest release: it still sweeps every counter 10 ms after each hit). If a
    release renames it, changes its signature or stops calling it, this fails: look again."""
    import inspect

    from limits.storage import MemoryStorage

    from coalition.limits_storage import SweepingMemoryStorage

    schedule = MemoryStorage.__dict__.get("_MemoryStorage__schedule_expiry")
    sweep = MemoryStorage.__dict__.get("_MemoryStorage__expire_events")
    assert schedule is not None and sweep is not None
    ours = SweepingMemoryStorage.__dict__["_MemoryStorage__schedule_expiry"]
    assert inspect.signature(schedule) == inspect.signature(ours)
    assert list(inspect.signature(sweep).parameters) == ["self"]
    for name in ("incr", "decr", "acquire_entry"):
        assert "self.__schedule_expiry()" in inspect.getsource(getattr(MemoryStorage, name))
    assert "threading.Timer(0.01, self.__expire_events)" in inspect.getsource(schedule)
