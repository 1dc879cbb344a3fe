"""Profile the site as it really runs: one gunicorn worker under load, sampled by py-spy.

    .venv/bin/python -m bench.spy sign     # sign-form POSTs (the request and the mail sender)
    .venv/bin/python -m bench.spy page     # GETs of the busy campaign page

Samples only while a thread holds the GIL (``--gil``), so the shares are of CPU time,
not of time spent waiting for the database lock. Prints the server CPU per request and
the functions that take the largest inclusive shares. Uses the databases ``make bench``
left in ``instance/bench`` (run ``BENCH_QUICK=1 BENCH_ONLY=page make bench`` first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

from bench import loadgen, run

#: Frames every sample shares (gunicorn's and the thread machinery's): not shown.
_PLUMBING = ("_run_module", "_run_code", "<module>", "run (", "Application", "Arbiter", "Worker.init", "SyncWorker.run", "Thread.")


def summarise(raw_path: str, top: int) -> None:
    """Inclusive share of each function in py-spy's raw (collapsed stacks) output."""
    inclusive: Counter = Counter()
    total = 0
    with open(raw_path) as raw:
        for line in raw:
            stack, _, count = line.rstrip().rpartition(" ")
            samples = int(count)
            total += samples
            seen = set()
            for frame in stack.split(";"):
                name = frame.split(" (")[0]
                where = frame.rsplit("(", 1)[-1].split(":")[0].rsplit("/", 1)[-1] if "(" in frame else ""
                key = f"{name} ({where})"
                if key not in seen:
                    seen.add(key)
                    inclusive[key] += samples
    print(f"{total} samples")
    shown = 0
    for key, samples in inclusive.most_common():
        if key.startswith(_PLUMBING) or key.startswith("thread"):
            continue
        print(f"{samples / total * 100:5.1f}%  {key}")
        shown += 1
        if shown == top:
            break


def main() -> int:
    """Start one worker, load it, record, summarise."""
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["sign", "page"])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--top", type=int, default=60)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or os.path.join(os.path.dirname(sys.executable), "py-spy")
    database = os.path.join(run.WORK, "site.sqlite")
    if not os.path.exists(database):
        raise SystemExit(f"{database} is missing: run `BENCH_QUICK=1 BENCH_ONLY=page make bench` first")
    run.WORKERS = 1
    env = run.server_env(f"sqlite:///{database}", os.path.join(run.WORK, "outbox-spy"))
    path = "/campaigns/bench-sign" if args.kind == "sign" else "/campaigns/bench-busy"
    raw_path = os.path.join(run.WORK, f"spy-{args.kind}.txt")
    with run.Server(f"site-spy-{args.kind}", "app:app", env, "/healthz") as server:
        tag = f"spy{int(time.time())}"
        loadgen.run_load(args.kind if args.kind == "sign" else "get", server.port, path, users=4, seconds=1, run_id=tag + "w")
        with open(f"/proc/{server.process.pid}/task/{server.process.pid}/children") as children:
            worker = int(children.read().split()[0])
        recorder = subprocess.Popen(
            [spy, "record", "-p", str(worker), "-d", str(int(args.seconds) + 1), "-r", "400", "-f", "raw",
             "-o", raw_path, "--nonblocking", "--threads", "--gil"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        cpu_before = server.cpu_seconds()
        load = loadgen.run_load(args.kind if args.kind == "sign" else "get", server.port, path, users=8,
                                seconds=args.seconds, run_id=tag)
        done = load.new_signatures + load.repeat_signatures if args.kind == "sign" else load.statuses.get(200, 0)
        if args.kind == "sign":
            run.wait_for_mail(env["COALITION_DATABASE_URL"])
        cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, done)
        recorder.wait()
    print(f"{args.kind}: {done} requests, server CPU {cpu_ms:.2f} ms each")
    summarise(raw_path, args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
