"""Does the time of a sign answer tell whether an address had signed? Measured, in one process.

    .venv/bin/python -m bench.timing [--pairs 400] [--postgres URL]

The real app (production settings, rate limits and the mailbox limit set out of the way)
on a fresh migrated database, driven by Flask's test client, as ``profile_signing`` is.
Before timing, ``--pairs`` addresses sign (half of them then confirmed, as an attacker
cannot tell which); then each pair POSTs one new address and one of those, in a random
order, and the wall time of each answer is kept. An attacker probes each address once, so
each existing address is probed once, after its resend gap has passed (as when it signed
yesterday).

Prints the median and quartiles of each, the difference of the medians with a bootstrap
95% interval, and whether that interval holds zero. In-process timing leaves out the
network, whose noise only hides a difference further: what is measured is the server's
own work. Never part of ``make test``: the tests check the same thing without a clock
(``test_a_signature_that_exists_is_answered_with_the_same_work_as_a_new_one``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import timedelta

from bench import prepare
from bench.loadgen import sign_form
from bench.profile_signing import _FIELD


def _quartiles(values: list[float]) -> str:
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return f"median {q2:.2f} ms (quartiles {q1:.2f}-{q3:.2f})"


def _bootstrap(new: list[float], existing: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 95% interval for median(existing) - median(new), by resampling both."""
    rng = random.Random(16)
    differences = sorted(
        statistics.median(rng.choices(existing, k=len(existing))) - statistics.median(rng.choices(new, k=len(new)))
        for _ in range(rounds)
    )
    return differences[int(rounds * 0.025)], differences[int(rounds * 0.975)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--postgres", help="an empty scratch PostgreSQL database URL to use instead of SQLite")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="coalition-timing-")
    url = args.postgres or f"sqlite:///{os.path.join(work, 'timing.sqlite')}"
    prepare.migrate(url)
    prepare.setup_campaigns(url, ["timing"])

    from coalition import create_app, mail
    from coalition.extensions import db
    from coalition.models import Signature
    from coalition.models.types import utcnow

    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "timing-only-secret-key-0123456789-abcdefghijklmn",
            "DATABASE_URL": url,
            "SIGN_RATE_LIMIT": "1000000 per minute",
            "CONFIRMATION_EMAIL_RATE_LIMIT": "1000000 per hour",
            "FORM_MIN_FILL_SECONDS": 0,
            "OUTBOX_DIR": os.path.join(work, "outbox"),
            "LOG_LEVEL": "WARNING",
        }
    )
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client is plain HTTP
    mail.wake_sender = lambda: None  # the queue is left as it is: sending is not what is timed
    client = app.test_client()
    path = "/campaigns/timing"
    fields = dict(_FIELD.findall(client.get(path).get_data(as_text=True)))

    def post(email: str, n: int) -> float:
        started = time.perf_counter()
        response = client.post(path, data=sign_form(email, n, fields))
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 303, response.status_code
        return elapsed

    for n in range(50):  # warm-up
        post(f"warm-{n}@example.org", n)
    signed = [f"signed-{n}@example.org" for n in range(args.pairs)]
    for n, email in enumerate(signed):
        post(email, n)
    with app.app_context():
        # Half confirmed; all signed long enough ago that the resend gap has passed.
        an_hour_ago = utcnow() - timedelta(hours=1)
        db.session.execute(
            db.update(Signature).where(Signature.email.in_(signed)).values(last_confirmation_sent_at=an_hour_ago)
        )
        db.session.execute(
            db.update(Signature)
            .where(Signature.email.in_(signed[::2]))
            .values(status="confirmed", confirmed_at=utcnow())
        )
        db.session.commit()

    rng = random.Random(9)
    confirmed_list = signed[::2]
    rng.shuffle(signed)
    confirmed = set(confirmed_list)
    new: list[float] = []
    existing: list[float] = []
    by_status: dict[str, list[float]] = {"pending": [], "confirmed": []}
    for n, email in enumerate(signed):
        order = [("new", f"new-{n}@example.org"), ("existing", email)]
        rng.shuffle(order)
        for kind, address in order:
            elapsed = post(address, n)
            if kind == "new":
                new.append(elapsed)
            else:
                existing.append(elapsed)
                by_status["confirmed" if address in confirmed else "pending"].append(elapsed)

    low, high = _bootstrap(new, existing)
    difference = statistics.median(existing) - statistics.median(new)
    print(f"{args.pairs} pairs on {url.split(':')[0]}")
    print(f"  new address:      {_quartiles(new)}")
    print(f"  address that had signed: {_quartiles(existing)}")
    for status, times in by_status.items():
        print(f"    of which {status}: {_quartiles(times)}")
    print(f"  difference of medians: {difference:+.3f} ms (95% interval {low:+.3f} to {high:+.3f})")
    print("  the interval holds zero: no difference found" if low <= 0 <= high else "  the interval excludes zero")


if __name__ == "__main__":
    main()
