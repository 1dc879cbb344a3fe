"""Updates by email: the time to queue an update to 100,000 recipients, and the site's
signing rate while they drain against signing with an empty queue.

    BENCH_ONLY=updates make bench

The recipients are confirmed, consenting signatures put straight into the database; the
update is queued by the same code the mail senders run (``coalition.background``), in
this process, while the site runs. The signing rounds then alternate nothing: first the
empty queue (the baseline column), then the full one (the site column), because
100,000 messages at the default 600 a minute stay queued for hours.
"""

from __future__ import annotations

import os
import shutil
import time

from bench import loadgen, prepare
from bench import run as bench

RECIPIENTS = int(os.environ.get("BENCH_UPDATE_RECIPIENTS", 20_000 if bench.QUICK else 100_000))
#: The signing rate with an update draining, against an empty queue.
TARGET = 0.8


def own_mail_left(url: str) -> int:
    """Confirmation emails (priority 0) still queued."""
    return prepare.count_rows(url, "SELECT count(*) FROM outgoing_mail WHERE priority = 0")


def wait_for_own_mail(url: str, timeout: float = 120.0) -> float:
    """Wait until no confirmation email is queued (bulk mail may stay); how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not own_mail_left(url):
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError("the confirmations were not sent within 120 s")


def sign_round(result: bench.PairResult, side: str, server: bench.Server, url: str, campaign_id: int,
               seconds: float, tag: str, record: bool = True) -> None:
    """A signing round; the rate counts until the round's confirmations are sent."""
    rows_before = bench.signature_rows(url, campaign_id)
    load = loadgen.run_load("sign", server.port, "/campaigns/bench-sign", users=bench.USERS, seconds=seconds, run_id=tag)
    drain = wait_for_own_mail(url)
    rows_added = bench.signature_rows(url, campaign_id) - rows_before
    successes = load.new_signatures + load.repeat_signatures
    rate = successes / (load.seconds + drain)
    if load.server_errors:
        result.failures.append(f"{side} {tag}: {load.server_errors} responses 5xx")
    if rows_added != len(load.signed_emails):
        result.failures.append(f"{side} {tag}: {rows_added} rows added for {len(load.signed_emails)} signers answered 303")
    if load.errors:
        result.failures.append(f"{side} {tag}: connection errors {dict(load.errors)}")
    bench.log(f"  {result.name} {side} {tag}: {rate:.0f}/s ({successes} in {load.seconds:.1f}s + mail {drain:.1f}s)")
    if record:
        (result.site if side == "site" else result.baseline).append(rate)


def queue_update(url: str, env: dict, campaign_id: int) -> float:
    """Start an update to the campaign's consenting signers and queue it all; the seconds it took."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        from coalition import background, create_app
        from coalition.extensions import db
        from coalition.models import MailUpdate
        from coalition.services import updates

        app = create_app()
        with app.app_context():
            item = updates.create_update(
                updates.UpdateText(subject="We delivered your petition", body="On **March 3** we delivered it.\n\n- 2,500 signatures"),
                updates.Audience(campaign_ids=[campaign_id]),
                None,
            )
            started = time.monotonic()
            recipients = updates.start_sending(item, None)
            db.session.commit()
            while background.queue_updates_step():
                pass
            elapsed = time.monotonic() - started
            db.session.expire_all()
            queued = db.session.get(MailUpdate, item.id).queued_count
            db.session.remove()
            db.engine.dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if queued != recipients or recipients != RECIPIENTS:
        raise RuntimeError(f"queued {queued} of {recipients} recipients (expected {RECIPIENTS})")
    return elapsed


def updates_pairs(backend: str, url: str) -> list[bench.PairResult]:
    """Queue an update to ``RECIPIENTS`` people; signing with the queue empty, then full."""
    prepare.migrate(url)
    ids = prepare.setup_campaigns(url, ["bench-sign", "bench-updates"])
    # Every other bench signature consents to updates.
    bench.log(f"adding {2 * RECIPIENTS:,} signatures ({RECIPIENTS:,} consenting) to the update's campaign")
    prepare.bulk_signatures(url, ids["bench-updates"], 2 * RECIPIENTS)
    outbox = os.path.join(bench.WORK, f"outbox-updates-{backend}")
    shutil.rmtree(outbox, ignore_errors=True)
    env = bench.server_env(url, outbox)
    sign = bench.PairResult(f"signing while {RECIPIENTS:,} update emails drain ({backend})", "signatures/s")
    sign.notes.append("baseline column: the same site with an empty queue")
    queue = bench.PairResult(f"queue an update to {RECIPIENTS:,} recipients ({backend})", "seconds")
    with bench.Server(f"site-updates-{backend}", "app:app", env, "/healthz") as site:
        bench.log(f"signing on {backend}, empty queue: warm-up")
        sign_round(sign, "baseline", site, url, ids["bench-sign"], bench.WARMUP_SECONDS, "warm-up", record=False)
        for n in range(1, bench.ROUNDS + 1):
            sign_round(sign, "baseline", site, url, ids["bench-sign"], bench.SECONDS, f"empty{n}")
        bench.log(f"queueing the update to {RECIPIENTS:,} recipients")
        seconds = queue_update(url, env, ids["bench-updates"])
        queue.site.append(seconds)
        bench.log(f"  queued in {seconds:.1f}s ({RECIPIENTS / seconds:,.0f} a second)")
        for n in range(1, bench.ROUNDS + 1):
            sign_round(sign, "site", site, url, ids["bench-sign"], bench.SECONDS, f"draining{n}")
    left = prepare.count_rows(url, "SELECT count(*) FROM outgoing_mail WHERE priority = 1")
    sign.notes.append(f"{RECIPIENTS - left:,} update emails sent during the rounds, {left:,} still queued")
    return [queue, sign]


def sqlite_url() -> str:
    """A database of its own, fresh each run."""
    path = os.path.join(bench.WORK, "updates.sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return f"sqlite:///{path}"
