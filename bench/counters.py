"""Sharded counter rows against one count column, on PostgreSQL, under a confirmation rush.

    .venv/bin/python -m bench.counters [--rate 200] [--seconds 10] [--hold-ms 0,3] [--threads 16]

Each confirmation is one transaction, as the site's is: ``UPDATE signatures SET status =
'confirmed' WHERE id = … AND status = 'pending'``, then one to the campaign's count, then
COMMIT. ``--hold-ms`` keeps the transaction open that long after the count changed (the
rest of a request's work before its commit). Confirmations are started at ``--rate`` a
second on one campaign by ``--threads`` workers, each with its own connection (like
gunicorn workers). The two ways of counting:

- ``shards``: 8 rows per campaign, a look that they exist, then +1 to one chosen at random
  (``coalition.services.counting`` today);
- ``column``: ``UPDATE campaigns SET confirmed_count = confirmed_count + 1`` (one row).

Prints, for each, the confirmations done per second and the latency of a confirmation's
transaction (median, 95th, 99th percentile, worst). Runs in a scratch schema of its own
(``--url``, default the test database), dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid

import psycopg

SHARDS = 8


def setup(conn, schema: str, signatures: int) -> None:
    """The tables: one campaign, its shards and its column, ``signatures`` pending rows."""
    conn.execute(f"CREATE SCHEMA {schema}")
    conn.execute(f"SET search_path TO {schema}")
    conn.execute("CREATE TABLE campaigns (id int PRIMARY KEY, confirmed_count int NOT NULL DEFAULT 0)")
    conn.execute(
        "CREATE TABLE shards (campaign_id int REFERENCES campaigns(id), shard int, confirmed int NOT NULL DEFAULT 0, "
        "PRIMARY KEY (campaign_id, shard))"
    )
    conn.execute(
        "CREATE TABLE signatures (id serial PRIMARY KEY, campaign_id int REFERENCES campaigns(id), "
        "status text NOT NULL)"
    )
    conn.execute("INSERT INTO campaigns (id) VALUES (1)")
    conn.execute("INSERT INTO shards (campaign_id, shard) SELECT 1, g FROM generate_series(0, %s) g", (SHARDS - 1,))
    conn.execute("INSERT INTO signatures (campaign_id, status) SELECT 1, 'pending' FROM generate_series(1, %s)", (signatures,))
    conn.commit()


def confirm(conn, signature_id: int, way: str, hold: float) -> None:
    """One confirmation's transaction."""
    with conn.transaction():
        changed = conn.execute(
            "UPDATE signatures SET status = 'confirmed' WHERE id = %s AND status = 'pending'", (signature_id,)
        ).rowcount
        if changed:
            if way == "shards":
                conn.execute("SELECT shard FROM shards WHERE campaign_id = 1 LIMIT 1").fetchone()
                conn.execute(
                    "UPDATE shards SET confirmed = confirmed + 1 WHERE campaign_id = 1 AND shard = %s",
                    (random.randrange(SHARDS),),
                )
            else:
                conn.execute("UPDATE campaigns SET confirmed_count = confirmed_count + 1 WHERE id = 1")
            if hold:
                time.sleep(hold)


def run(url: str, schema: str, way: str, rate: float, seconds: float, hold: float, threads: int, first_id: int) -> dict:
    """Start ``rate`` confirmations a second for ``seconds``; the latencies and the rate done."""
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    due = [start + n / rate for n in range(total)]
    next_index = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[Exception] = []

    def worker() -> None:
        with psycopg.connect(url, autocommit=False) as conn:
            conn.execute(f"SET search_path TO {schema}")
            conn.commit()
            while True:
                with lock:
                    n = next(next_index, None)
                if n is None:
                    return
                wait = due[n] - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                began = time.perf_counter()
                try:
                    confirm(conn, first_id + n, way, hold)
                except Exception as exc:  # reported below
                    errors.append(exc)
                    continue
                # From when it was due: time spent waiting for a free worker counts too.
                latencies.append(time.perf_counter() - min(began, due[n]))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    ms = [value * 1000 for value in latencies]
    return {
        "done_per_second": len(latencies) / elapsed,
        "median_ms": statistics.median(ms),
        "p95_ms": ms[int(len(ms) * 0.95) - 1],
        "p99_ms": ms[int(len(ms) * 0.99) - 1],
        "max_ms": ms[-1],
        "errors": len(errors),
    }


def main() -> None:
    """Both ways, alternating, at each hold time."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--hold-ms", default="0,3")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    schema = f"bench_counters_{uuid.uuid4().hex[:8]}"
    per_run = int(args.rate * args.seconds)
    holds = [float(value) / 1000 for value in args.hold_ms.split(",")]
    runs = len(holds) * 2 * args.repeat
    with psycopg.connect(args.url) as admin:
        setup(admin, schema, per_run * runs)
        try:
            first_id = 1
            for hold in holds:
                for n in range(args.repeat):
                    for way in (("shards", "column") if n % 2 == 0 else ("column", "shards")):
                        result = run(args.url, schema, way, args.rate, args.seconds, hold, args.threads, first_id)
                        first_id += per_run
                        print(
                            f"{way:7} hold {hold * 1000:.0f} ms: {result['done_per_second']:.0f}/s done, "
                            f"latency median {result['median_ms']:.1f} ms, p95 {result['p95_ms']:.1f}, "
                            f"p99 {result['p99_ms']:.1f}, max {result['max_ms']:.1f}, errors {result['errors']}",
                            flush=True,
                        )
            with admin.cursor() as cursor:
                cursor.execute(f"SELECT (SELECT sum(confirmed) FROM {schema}.shards), "
                               f"(SELECT confirmed_count FROM {schema}.campaigns)")
                print("counted: shards %s, column %s" % cursor.fetchone())
        finally:
            admin.rollback()
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
            admin.commit()


if __name__ == "__main__":
    main()
