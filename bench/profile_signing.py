"""Profile signing in one process: where a sign POST spends its CPU, against the minimal app.

    .venv/bin/python -m bench.profile_signing [--requests 2000] [--html profile.html] [--no-profile]

The real app (CSRF and rate limits on, settings as in the benchmark) on a fresh
migrated SQLite database, driven by Flask's test client: GET the form once, then
POST signatures (one in ten a repeat), then send the queued mail as the background
sender would. Prints CPU milliseconds per signature for the site and for
``bench/minimal_app.py``, and pyinstrument's call tree of the site's requests
(``--no-profile``: the CPU figures alone, without the profiler's own cost in them).
CPU time, unlike requests per second, hardly depends on what else the machine runs.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time

from bench import prepare
from bench.loadgen import sign_form

_FIELD = re.compile(r'name="(csrf_token|form_started)"[^>]*value="([^"]*)"')


def drive(client, path: str, requests: int, tag: str) -> None:
    """GET the form, then POST ``requests`` signatures; every answer must be a 303."""
    page = client.get(path).get_data(as_text=True)
    fields = dict(_FIELD.findall(page))
    sent: list[str] = []
    for n in range(1, requests + 1):
        repeat = n % 10 == 0 and sent
        email = sent[n % len(sent)] if repeat else f"p-{tag}-{n}@example.org"
        response = client.post(path, data=sign_form(email, n, fields))
        assert response.status_code == 303, (response.status_code, response.get_data(as_text=True)[:500])
        if not repeat:
            sent.append(email)


def main() -> None:
    """Measure both, then print the profile."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--html", help="also write pyinstrument's HTML report here")
    parser.add_argument("--no-profile", action="store_true", help="time only: no profiler running")
    args = parser.parse_args()
    from pyinstrument import Profiler

    work = tempfile.mkdtemp(prefix="coalition-profile-")
    url = f"sqlite:///{os.path.join(work, 'profile.sqlite')}"
    prepare.migrate(url)
    ids = prepare.setup_campaigns(url, ["profile-sign", "profile-minimal"])

    from coalition import create_app
    from coalition import mail

    app = create_app(
        {
            "ENV": "production",
            "SECRET_KEY": "profile-only-secret-key-0123456789-abcdefghijkl",
            "DATABASE_URL": url,
            "SIGN_RATE_LIMIT": "1000000 per minute",
            "CONFIRMATION_EMAIL_RATE_LIMIT": "1000000 per hour",
            "FORM_MIN_FILL_SECONDS": 0,
            "OUTBOX_DIR": os.path.join(work, "outbox"),
            "LOG_LEVEL": "WARNING",
        }
    )
    app.config["SESSION_COOKIE_SECURE"] = False  # the test client is plain HTTP
    # The background sender is replaced by one batched send at the end (see below).
    mail._sender.wake = lambda app: None
    client = app.test_client()
    drive(client, "/campaigns/profile-sign", 50, "warm")

    os.environ["COALITION_DATABASE_URL"] = url
    os.environ["BENCH_MINIMAL_CAMPAIGN_ID"] = str(ids["profile-minimal"])
    from bench import minimal_app

    minimal = minimal_app.app.test_client()
    drive(minimal, "/sign", 50, "warm")

    started = time.process_time()
    drive(minimal, "/sign", args.requests, "min")
    minimal_ms = (time.process_time() - started) * 1000 / args.requests

    profiler = Profiler(interval=0.0005)
    started = time.process_time()
    if not args.no_profile:
        profiler.start()
    drive(client, "/campaigns/profile-sign", args.requests, "site")
    requests_ms = (time.process_time() - started) * 1000 / args.requests
    with app.app_context():
        while sum(mail.send_pending_mail(limit=1000)) >= 1000:
            pass
    if not args.no_profile:
        profiler.stop()
    site_ms = (time.process_time() - started) * 1000 / args.requests
    print(f"CPU per signature: site {site_ms:.2f} ms (requests {requests_ms:.2f} ms, mail {site_ms - requests_ms:.2f} ms), "
          f"minimal app {minimal_ms:.2f} ms: ratio {minimal_ms / site_ms:.2f}")
    if args.no_profile:
        return
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        with open(args.html, "w") as handle:
            handle.write(profiler.output_html())


if __name__ == "__main__":
    main()
