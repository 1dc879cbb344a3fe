"""Run the benchmarks: each pair side by side, alternated, checked; print the ratios.

    .venv/bin/python -m bench.run            # the full run (about 8 minutes)
    BENCH_QUICK=1 .venv/bin/python -m bench.run   # a smoke run (about a minute)

Pairs: signing (the site vs a one-INSERT Flask app), a busy campaign page (the site
vs the same bytes from memory; and through the shipped nginx vs nginx serving the same
bytes from a file), and the CSV export (the site vs ``sqlite3 -csv`` or
``psql COPY``), on SQLite and, when it answers, PostgreSQL. After a warm-up, the two
sides of a pair alternate for ROUNDS rounds; the table gives the median with min and
max. Servers run on CPU 0 and this process (the load generator) on CPU 1.

Exit status: 1 if a check failed (a 5xx, rows in the database not equal to the
successful responses, an export of the wrong length); targets missed are reported
in the table and the summary but do not fail the run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import sqlalchemy as sa

from bench import loadgen, prepare
from tests import nginx_site

ROOT = prepare.ROOT
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2 if QUICK else 5))
SECONDS = float(os.environ.get("BENCH_SECONDS", 3 if QUICK else 10))
WARMUP_SECONDS = float(os.environ.get("BENCH_WARMUP_SECONDS", 1 if QUICK else 3))
WORKERS = int(os.environ.get("BENCH_WORKERS", 4))
USERS = int(os.environ.get("BENCH_USERS", 16))
EXPORT_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", 100_000 if QUICK else 1_000_000))
EXPORT_SMALL_ROWS = int(os.environ.get("BENCH_EXPORT_SMALL_ROWS", 10_000 if QUICK else 100_000))
BUSY_ROWS = int(os.environ.get("BENCH_BUSY_ROWS", 100_000))
POSTGRES_ADMIN = os.environ.get("BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
#: The scratch database (created and dropped by the run): another name for a second run at once.
POSTGRES_DB = os.environ.get("BENCH_POSTGRES_DB", "bench_coalition")
WORK = os.path.join(ROOT, "instance", "bench")
SERVER_CPU, CLIENT_CPU = "0", 1
SECRET_KEY = "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

#: Targets from the issue: ratio floors (site / baseline) and ceilings.
TARGETS = {"sign": 0.8, "page": 0.7, "nginx_page": 0.9, "export_time": 3.0, "export_memory_mb": 20.0, "sign_rate": 500.0}
#: The app's public cache lifetime (COALITION_PUBLIC_CACHE_SECONDS, the default unless set).
PUBLIC_CACHE_SECONDS = int(os.environ.get("BENCH_PUBLIC_CACHE_SECONDS", 30))
BUSY_PATHS = ["/campaigns/bench-busy", "/es/campaigns/bench-busy"]


@dataclass
class PairResult:
    """One pair's measurements: per-round rates (or times) of both sides, and the checks."""

    name: str
    unit: str
    site: list[float] = field(default_factory=list)
    baseline: list[float] = field(default_factory=list)
    #: Server CPU milliseconds per successful request, per round: hardly affected by
    #: whatever else the machine runs, unlike the rates.
    site_cpu_ms: list[float] = field(default_factory=list)
    baseline_cpu_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: Through nginx: pages the app rendered, by path, and the most the cache lifetime allows.
    renders: dict[str, int] = field(default_factory=dict)
    renders_allowed: int = 0

    def ratios(self) -> list[float]:
        """Site over baseline, round by round."""
        return [s / b if b else 0.0 for s, b in zip(self.site, self.baseline)]


def log(message: str) -> None:
    """Progress, on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pin(cpu: str) -> list[str]:
    """``taskset`` prefix when there is a CPU to give (and taskset exists)."""
    if os.cpu_count() and os.cpu_count() > 1 and shutil.which("taskset"):
        return ["taskset", "-c", cpu]
    return []


class Server:
    """A gunicorn serving ``app_spec`` on its own CPU, with the site's gunicorn settings."""

    def __init__(self, name: str, app_spec: str, env: dict, ready_path: str) -> None:
        self.name, self.app_spec, self.env, self.ready_path = name, app_spec, env, ready_path
        self.port = free_port()
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        command = pin(SERVER_CPU) + [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS), self.app_spec,
        ]
        with open(self.log_path, "wb") as log_file:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} did not start; see {self.log_path}")
            try:
                status, _ = loadgen.fetch(self.port, self.ready_path)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within 30 s; see {self.log_path}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's master and its workers, live and replaced (from /proc)."""
        # Workers the master has reaped (gunicorn replaces each after max_requests) are in
        # its cutime: without them a round could go negative.
        return process_tree_cpu(self.process.pid)

    def stop(self) -> None:
        """Stop gunicorn (TERM, then KILL after 20 s)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(self, *exc) -> None:
        self.stop()


def process_tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its live children and the children it has reaped (from /proc)."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            pids += [int(child) for child in children.read().split()]
    except OSError:
        return 0.0
    total = 0
    for each in pids:
        try:
            with open(f"/proc/{each}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            if each == pid:
                total += int(fields[13]) + int(fields[14])
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def bench_nginx_config(static_files: dict[str, str]) -> str:
    """The shipped deploy/nginx.conf, with its flood limits taken out (every request of the
    load generator comes from one address: the limits would refuse nearly all, as they
    should) and, for the baseline, locations serving ``static_files`` (path: file)."""
    text = nginx_site.SHIPPED_CONFIG.read_text()
    text, removed = re.subn(r"^\s*limit_(?:req|conn) [^;]*;\n", "", text, flags=re.M)
    if not removed:
        raise RuntimeError("deploy/nginx.conf has no limit_req lines any more: update bench_nginx_config")
    locations = "".join(
        f"    location = {path} {{ alias {file}; default_type text/html; }}\n" for path, file in static_files.items()
    )
    marker = "    location /static/ {"
    if marker not in text:
        raise RuntimeError("deploy/nginx.conf has no 'location /static/': update bench_nginx_config")
    return text.replace(marker, locations + marker, 1)


class NginxSite:
    """The shipped nginx (one worker) in front of the site's gunicorn on a Unix socket, both on
    the server CPU; also serves the baseline's files. ``renders()`` counts the app's pages."""

    tls = True

    def __init__(self, name: str, env: dict, static_files: dict[str, str]) -> None:
        self.name, self.env, self.static_files = name, env, static_files
        self.prefix = os.path.join(WORK, f"nginx-{name}")
        self.log_path = os.path.join(WORK, f"{name}.log")
        self.nginx = None
        self.gunicorn: subprocess.Popen | None = None
        self.started = 0.0

    def __enter__(self) -> NginxSite:
        from pathlib import Path

        shutil.rmtree(self.prefix, ignore_errors=True)
        if os.path.exists(self.log_path):
            os.remove(self.log_path)
        self.nginx = nginx_site.start_nginx(Path(self.prefix), bench_nginx_config(self.static_files),
                                            command_prefix=pin(SERVER_CPU))
        self.port = self.nginx.https_port
        env = {**self.env, "COALITION_PROXY_COUNT": "1"}
        try:
            # The request line as sent, to count each language's renders: the site's own format
            # logs the path after the language prefix has moved out of it.
            self.gunicorn = nginx_site.start_gunicorn(self.nginx.paths.socket, env, Path(self.log_path), workers=WORKERS,
                                                      extra=["--access-logformat", '"%(r)s" %(s)s'],
                                                      command_prefix=pin(SERVER_CPU))
            deadline = time.monotonic() + 30
            while loadgen.fetch(self.port, "/healthz", tls=True)[0] != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not answer through nginx; see {self.log_path}")
                time.sleep(0.2)
        except BaseException:
            self.__exit__()
            raise
        self.started = time.monotonic()
        return self

    def cpu_seconds(self) -> float:
        """CPU of nginx (master and worker) and of gunicorn (master and workers)."""
        return process_tree_cpu(self.nginx.process.pid) + process_tree_cpu(self.gunicorn.pid)

    def renders(self) -> dict[str, int]:
        """Pages the app rendered (200 in gunicorn's access log), by path, since it started."""
        with open(self.log_path, errors="replace") as handle:
            text = handle.read()
        return {path: len(re.findall(rf'"GET {re.escape(path)} HTTP/1\.[01]" 200\b', text)) for path in BUSY_PATHS}

    def __exit__(self, *exc) -> None:
        nginx_site.stop_process(self.gunicorn)
        if self.nginx is not None:
            self.nginx.stop()


def server_env(url: str, outbox: str, **extra) -> dict:
    """The settings both sides run with (the site reads them all; the baseline the database ones)."""
    return {
        **prepare.clean_environment(),
        "COALITION_ENV": "production",
        "COALITION_SECRET_KEY": SECRET_KEY,
        "COALITION_DATABASE_URL": url,
        # The limiter still runs on every POST; its limits are far above the load. Production
        # refuses several workers counting limits in memory, so the counters are in Redis,
        # as in production.
        "COALITION_RATELIMIT_STORAGE_URI": os.environ.get("BENCH_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14"),
        "COALITION_SIGN_RATE_LIMIT": "1000000 per minute",
        "COALITION_CONFIRMATION_EMAIL_RATE_LIMIT": "1000000 per hour",
        "COALITION_FORM_MIN_FILL_SECONDS": "0",
        # Empty: confirmation emails are queued in the database and written as files by
        # each worker's background sender, a real part of signing's cost.
        "COALITION_MAIL_URL": "",
        "COALITION_OUTBOX_DIR": outbox,
        "COALITION_SITE_URL": "http://127.0.0.1",
        **extra,
    }


def wait_for_mail(url: str, timeout: float = 120.0) -> float:
    """Wait until the mail queue is empty; return how long it took."""
    started = time.monotonic()
    engine = sa.create_engine(url)
    try:
        while time.monotonic() - started < timeout:
            with engine.connect() as connection:
                if not connection.execute(sa.text("SELECT count(*) FROM outgoing_mail")).scalar():
                    return time.monotonic() - started
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise RuntimeError("the mail queue did not empty within 120 s")


def signature_rows(url: str, campaign_id: int) -> int:
    """Signature rows of a campaign."""
    return prepare.count_rows(url, "SELECT count(*) FROM signatures WHERE campaign_id = :c", c=campaign_id)


def outbox_files(outbox: str) -> int:
    """Messages the senders wrote."""
    return len(os.listdir(outbox)) if os.path.isdir(outbox) else 0


def sign_round(result: PairResult, side: str, server: Server, path: str, url: str, campaign_id: int,
               outbox: str | None, seconds: float, tag: str, record: bool = True) -> None:
    """One signing round: load, then the checks (5xx, rows = successes, one email per new signature)."""
    rows_before = signature_rows(url, campaign_id)
    mail_before = outbox_files(outbox) if outbox else 0
    cpu = {}
    load = loadgen.run_load("sign", server.port, path, users=USERS, seconds=seconds, run_id=tag,
                            on_ready=lambda: cpu.setdefault("before", server.cpu_seconds()))
    cpu_before = cpu["before"]
    drain = wait_for_mail(url) if outbox else 0.0
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, load.new_signatures + load.repeat_signatures)
    rows_added = signature_rows(url, campaign_id) - rows_before
    successes = load.new_signatures + load.repeat_signatures
    rate = successes / (load.seconds + drain)
    if load.server_errors:
        result.failures.append(f"{side} {tag}: {load.server_errors} responses 5xx")
    if rows_added != len(load.signed_emails):
        result.failures.append(f"{side} {tag}: {rows_added} rows added for {len(load.signed_emails)} signers answered 303")
    other = {status: n for status, n in load.statuses.items() if status not in (200, 303)}
    # 200 is the sign form: one GET per user; more means a POST was re-displayed.
    if other or load.statuses.get(200, 0) > USERS:
        result.failures.append(f"{side} {tag}: unexpected responses {dict(load.statuses)}")
    if load.errors:
        result.failures.append(f"{side} {tag}: connection errors {dict(load.errors)}")
    if outbox:
        mailed = outbox_files(outbox) - mail_before
        if mailed != load.new_signatures:
            result.failures.append(f"{side} {tag}: {mailed} emails for {load.new_signatures} new signatures")
    log(f"  {result.name} {side} {tag}: {rate:.0f}/s ({successes} in {load.seconds:.1f}s + mail {drain:.1f}s; "
        f"rows +{rows_added}; server CPU {cpu_ms:.1f} ms each; client CPU {load.client_cpu_share:.0%})")
    if load.client_cpu_share > 0.9:
        result.notes.append(f"load generator near its CPU limit ({load.client_cpu_share:.0%}) in {side} {tag}")
    if record:
        (result.site if side == "site" else result.baseline).append(rate)
        (result.site_cpu_ms if side == "site" else result.baseline_cpu_ms).append(cpu_ms)


def get_round(result: PairResult, side: str, server, path: str | list[str], seconds: float, tag: str,
              record: bool = True) -> None:
    """One page round: load, then the checks (all 200)."""
    cpu_before = server.cpu_seconds()
    load = loadgen.run_load("get", server.port, path, users=USERS, seconds=seconds, run_id=tag,
                            tls=getattr(server, "tls", False))
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(1, load.statuses.get(200, 0))
    rate = load.statuses.get(200, 0) / load.seconds
    bad = {status: n for status, n in load.statuses.items() if status != 200}
    if bad or load.errors:
        result.failures.append(f"{side} {tag}: unexpected responses {bad} errors {dict(load.errors)}")
    log(f"  {result.name} {side} {tag}: {rate:.0f}/s (server CPU {cpu_ms:.1f} ms each; client CPU {load.client_cpu_share:.0%})")
    if load.client_cpu_share > 0.9:
        result.notes.append(f"load generator near its CPU limit ({load.client_cpu_share:.0%}) in {side} {tag}")
    if record:
        (result.site if side == "site" else result.baseline).append(rate)
        (result.site_cpu_ms if side == "site" else result.baseline_cpu_ms).append(cpu_ms)


def web_pairs(backend: str, url: str, pages: bool, signing: bool = True) -> list[PairResult]:
    """The signing pair and, if ``pages``, the busy-page pairs (alone, through nginx) on one
    database; ``signing=False`` runs the page through nginx only."""
    prepare.migrate(url)
    ids = prepare.setup_campaigns(url, ["bench-sign", "bench-minimal", "bench-busy"], counts={"bench-busy": BUSY_ROWS})
    if pages:
        log(f"adding {BUSY_ROWS:,} confirmed signatures to the busy campaign")
        prepare.bulk_signatures(url, ids["bench-busy"], BUSY_ROWS)
    outbox = os.path.join(WORK, f"outbox-{backend}")
    shutil.rmtree(outbox, ignore_errors=True)
    page_file = os.path.join(WORK, "busy-page.html")
    page_file_es = os.path.join(WORK, "busy-page-es.html")
    results = []
    site_env = server_env(url, outbox)
    base_env = server_env(url, outbox, BENCH_MINIMAL_CAMPAIGN_ID=str(ids["bench-minimal"]), BENCH_PAGE_FILE=page_file)
    with Server(f"site-{backend}", "app:app", site_env, "/healthz") as site:
        status, page = loadgen.fetch(site.port, "/campaigns/bench-busy")
        if status != 200 or f"{BUSY_ROWS:,}".encode() not in page and pages:
            raise RuntimeError(f"the busy campaign page did not show its count (status {status})")
        with open(page_file, "wb") as handle:
            handle.write(page)
        status, page_es = loadgen.fetch(site.port, "/es/campaigns/bench-busy")
        with open(page_file_es, "wb") as handle:
            handle.write(page_es)
        if signing:
            with Server(f"minimal-{backend}", "bench.minimal_app:app", base_env, "/sign") as minimal:
                results += app_alone_pairs(backend, url, ids, outbox, site, minimal, pages)
    if pages:
        results.append(nginx_page_pair(site_env, {"/bench/page": page_file, "/bench/page-es": page_file_es}))
    return results


def app_alone_pairs(backend: str, url: str, ids: dict, outbox: str, site: Server, minimal: Server,
                    pages: bool) -> list[PairResult]:
    """Signing, and the busy page, against the minimal app (no nginx)."""
    results = []
    sign = PairResult(f"signing ({backend})", "signatures/s")
    sides = [("site", site, "/campaigns/bench-sign", ids["bench-sign"], outbox),
             ("baseline", minimal, "/sign", ids["bench-minimal"], None)]
    log(f"signing on {backend}: warm-up")
    for side, server, path, cid, box in sides:
        sign_round(sign, side, server, path, url, cid, box, WARMUP_SECONDS, "warm-up", record=False)
    for n in range(1, ROUNDS + 1):
        for side, server, path, cid, box in sides if n % 2 else sides[::-1]:
            sign_round(sign, side, server, path, url, cid, box, SECONDS, f"round{n}")
    results.append(sign)
    if pages:
        page_pair = PairResult(f"busy campaign page ({backend}, {BUSY_ROWS:,} signatures)", "pages/s")
        page_sides = [("site", site, "/campaigns/bench-busy"), ("baseline", minimal, "/page")]
        log(f"page on {backend}: warm-up")
        for side, server, path in page_sides:
            get_round(page_pair, side, server, path, WARMUP_SECONDS, "warm-up", record=False)
        for n in range(1, ROUNDS + 1):
            for side, server, path in page_sides if n % 2 else page_sides[::-1]:
                get_round(page_pair, side, server, path, SECONDS, f"round{n}")
        results.append(page_pair)
    return results


def nginx_page_pair(site_env: dict, static_files: dict[str, str]) -> PairResult:
    """The busy page in both languages through the shipped nginx, against the same nginx
    serving the same bytes from files; and how often the app rendered each page."""
    pair = PairResult(f"busy campaign page through nginx ({BUSY_ROWS:,} signatures, en + es)", "pages/s")
    with NginxSite("site-nginx", site_env, static_files) as front:
        sides = [("site", BUSY_PATHS), ("baseline", list(static_files))]
        log("page through nginx: warm-up")
        for side, paths in sides:
            get_round(pair, side, front, paths, WARMUP_SECONDS, "warm-up", record=False)
        for n in range(1, ROUNDS + 1):
            for side, paths in sides if n % 2 else sides[::-1]:
                get_round(pair, side, front, paths, SECONDS, f"round{n}")
        elapsed = time.monotonic() - front.started
        renders = front.renders()
    allowed = int(elapsed // PUBLIC_CACHE_SECONDS) + 1
    pair.renders = renders
    pair.renders_allowed = allowed
    pair.notes.append(
        "the app rendered " + ", ".join(f"{path} {count:,}×" for path, count in renders.items())
        + f" in {elapsed:.0f} s (at most {allowed} each for a {PUBLIC_CACHE_SECONDS} s cache lifetime)"
    )
    log(f"  {pair.notes[-1]}")
    return pair


# --- Export ------------------------------------------------------------------------------------

EXPORT_SQL = (
    "SELECT c.slug, s.id, s.status, s.source, s.full_name, s.email, s.zip_code, s.city, s.county, s.state, "
    "s.country, s.wants_updates, s.updates_consented_at, s.show_publicly, s.comment, s.language, "
    "s.created_at, s.confirmed_at, s.paper_source, s.invalidated_at, s.invalidation_reason "
    "FROM signatures s JOIN campaigns c ON c.id = s.campaign_id "
    "WHERE s.campaign_id = {cid} AND s.status = 'confirmed' ORDER BY s.id"
)


def export_database(backend: str, rows: int) -> tuple[str, int]:
    """A database with one campaign of ``rows`` confirmed signatures (SQLite files are kept)."""
    if backend == "sqlite":
        path = os.path.join(WORK, f"export-{rows}.sqlite")
        url = f"sqlite:///{path}"
        if os.path.exists(path) and os.path.exists(path + ".ready"):
            return url, int(open(path + ".ready").read())
        for stale in (path, path + "-wal", path + "-shm"):
            if os.path.exists(stale):
                os.remove(stale)
    else:
        url = f"{POSTGRES_ADMIN}/{POSTGRES_DB}"
        reset_postgres()
    log(f"building the {backend} export database: {rows:,} signatures")
    prepare.migrate(url)
    cid = prepare.setup_campaigns(url, ["bench-export"])["bench-export"]
    prepare.bulk_signatures(url, cid, rows)
    if backend == "sqlite":
        with open(path + ".ready", "w") as marker:
            marker.write(str(cid))
    return url, cid


def run_site_export(url: str, out: str) -> dict:
    """The site's export in its own process on the server CPU."""
    command = pin(SERVER_CPU) + [sys.executable, "-m", "bench.export_worker", "--url", url, "--slug", "bench-export", "--out", out]
    done = subprocess.run(command, cwd=ROOT, env=prepare.clean_environment(), capture_output=True, text=True)
    if done.returncode == 3:
        return {"skipped": True}
    if done.returncode != 0:
        raise RuntimeError(f"export failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_baseline_export(backend: str, url: str, cid: int, out: str) -> float:
    """``sqlite3 -csv`` or ``psql COPY`` of the same columns; return the wall time."""
    sql = EXPORT_SQL.format(cid=cid)
    if backend == "sqlite":
        command = ["sqlite3", "-csv", "-header", sa.engine.make_url(url).database, sql]
    else:
        parts = sa.engine.make_url(url)
        command = ["psql", "-h", parts.host, "-p", str(parts.port or 5432), "-U", parts.username, "-d", parts.database,
                   "-q", "-c", f"COPY ({sql}) TO STDOUT WITH CSV HEADER"]
    started = time.perf_counter()
    with open(out, "wb") as handle:
        subprocess.run(pin(SERVER_CPU) + command, stdout=handle, check=True)
    return time.perf_counter() - started


def csv_records(path: str) -> int:
    """Data records in a CSV file (our test data has no line breaks inside cells)."""
    with open(path, "rb") as handle:
        return sum(1 for _ in handle) - 1


def export_pair(backend: str) -> list[PairResult]:
    """Export time against the baseline at EXPORT_ROWS, and peak memory at both sizes."""
    timing = PairResult(f"export ({backend}, {EXPORT_ROWS:,} rows)", "seconds")
    memory = PairResult(f"export memory ({backend})", "MB peak")
    out_site, out_base = os.path.join(WORK, "export-site.csv"), os.path.join(WORK, "export-baseline.csv")
    peaks = {}
    for rows in (EXPORT_SMALL_ROWS, EXPORT_ROWS):
        url, cid = export_database(backend, rows)
        report = run_site_export(url, out_site)  # the warm-up (and the skip test)
        if report.get("skipped"):
            timing.notes.append("export benchmark skipped: coalition.services.exports not present")
            log(timing.notes[-1])
            return [timing]
        run_baseline_export(backend, url, cid, out_base)
        measured = []
        for n in range(1, ROUNDS + 1 if rows == EXPORT_ROWS else 2):
            order = ["site", "baseline"] if n % 2 else ["baseline", "site"]
            for side in order:
                if side == "site":
                    report = run_site_export(url, out_site)
                    measured.append(report["peak_kb"])
                    if rows == EXPORT_ROWS:
                        timing.site.append(report["seconds"])
                    seconds = report["seconds"]
                else:
                    seconds = run_baseline_export(backend, url, cid, out_base)
                    if rows == EXPORT_ROWS:
                        timing.baseline.append(seconds)
                log(f"  export {backend} {rows:,} {side} round{n}: {seconds:.2f}s")
        got, expected = csv_records(out_site), csv_records(out_base)
        if got != rows or expected != rows:
            timing.failures.append(f"{rows:,} rows in the database: the site's CSV has {got:,}, the baseline's {expected:,}")
        peaks[rows] = statistics.median(measured) / 1024
        memory.site.append(peaks[rows])
        if backend == "postgresql":
            drop_postgres()
    memory.notes.append(f"peak RSS {peaks[EXPORT_SMALL_ROWS]:.1f} MB at {EXPORT_SMALL_ROWS:,} rows, "
                        f"{peaks[EXPORT_ROWS]:.1f} MB at {EXPORT_ROWS:,} rows: growth {peaks[EXPORT_ROWS] - peaks[EXPORT_SMALL_ROWS]:.1f} MB")
    return [timing, memory]


# --- PostgreSQL scratch database ----------------------------------------------------------------


def _postgres_admin():
    return sa.create_engine(f"{POSTGRES_ADMIN}/postgres", isolation_level="AUTOCOMMIT")


def postgres_available() -> bool:
    """Whether the PostgreSQL server answers."""
    try:
        engine = _postgres_admin()
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001  any failure means "not here"
        return False


def drop_postgres() -> None:
    """Drop the scratch database."""
    engine = _postgres_admin()
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {POSTGRES_DB} WITH (FORCE)"))
    engine.dispose()


def reset_postgres() -> None:
    """A fresh, empty scratch database."""
    drop_postgres()
    engine = _postgres_admin()
    with engine.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {POSTGRES_DB}"))
    engine.dispose()


# --- Report ------------------------------------------------------------------------------------


def summarise(results: list[PairResult]) -> tuple[str, list[str]]:
    """A Markdown table of the results, and the targets missed."""
    lines = [
        "| pair | site (median, min–max) | baseline (median, min–max) | ratio (median, min–max) | target |",
        "|---|---|---|---|---|",
    ]
    missed = []

    def span(values: list[float], digits: int) -> str:
        if not values:
            return "–"
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"

    for result in results:
        digits = 2 if result.unit in ("seconds", "MB peak") else 0
        ratios = result.ratios() if result.baseline else []
        target = ""
        if result.name.startswith("signing") and not result.name.startswith("signing while"):
            target = f"ratio ≥ {TARGETS['sign']}; > {TARGETS['sign_rate']:.0f}/s"
            if ratios and statistics.median(ratios) < TARGETS["sign"]:
                missed.append(f"{result.name}: ratio {statistics.median(ratios):.2f} < {TARGETS['sign']}")
            if result.site and statistics.median(result.site) <= TARGETS["sign_rate"]:
                missed.append(f"{result.name}: {statistics.median(result.site):.0f}/s ≤ {TARGETS['sign_rate']:.0f}/s")
        elif result.name.startswith("busy campaign page through nginx"):
            target = f"ratio ≥ {TARGETS['nginx_page']}; each page rendered at most once per cache lifetime"
            if ratios and statistics.median(ratios) < TARGETS["nginx_page"]:
                missed.append(f"{result.name}: ratio {statistics.median(ratios):.2f} < {TARGETS['nginx_page']}")
            over = {path: n for path, n in result.renders.items() if n > result.renders_allowed}
            if over:
                missed.append(f"{result.name}: the app rendered {over} (at most {result.renders_allowed} each)")
        elif result.name.startswith("signing while"):
            target = "ratio ≥ 0.8 (draining / empty queue)"
            if ratios and statistics.median(ratios) < 0.8:
                missed.append(f"{result.name}: ratio {statistics.median(ratios):.2f} < 0.8")
        elif result.name.startswith("queue an update"):
            target = "reported"
        elif result.name.startswith("busy campaign page"):
            target = f"ratio ≥ {TARGETS['page']}"
            if ratios and statistics.median(ratios) < TARGETS["page"]:
                missed.append(f"{result.name}: ratio {statistics.median(ratios):.2f} < {TARGETS['page']}")
        elif result.name.startswith("export memory"):
            target = f"growth < {TARGETS['export_memory_mb']:.0f} MB"
            if len(result.site) == 2 and result.site[1] - result.site[0] >= TARGETS["export_memory_mb"]:
                missed.append(f"{result.name}: grows {result.site[1] - result.site[0]:.1f} MB")
        elif result.name.startswith("export"):
            target = f"time ratio ≤ {TARGETS['export_time']}"
            if ratios and statistics.median(ratios) > TARGETS["export_time"]:
                missed.append(f"{result.name}: time ratio {statistics.median(ratios):.2f} > {TARGETS['export_time']}")
        ratio_text = span(ratios, 2) if ratios else "–"
        lines.append(f"| {result.name} | {span(result.site, digits)} {result.unit} | "
                     f"{span(result.baseline, digits) + ' ' + result.unit if result.baseline else '–'} | {ratio_text} | {target} |")
        if result.site_cpu_ms and result.baseline_cpu_ms:
            cpu_ratios = [b / s for s, b in zip(result.site_cpu_ms, result.baseline_cpu_ms)]
            lines.append(f"| ↳ server CPU per request | {span(result.site_cpu_ms, 2)} ms | {span(result.baseline_cpu_ms, 2)} ms | "
                         f"{span(cpu_ratios, 2)} (baseline CPU / site CPU) | |")
        for note in dict.fromkeys(result.notes):
            lines.append(f"| ↳ {note} | | | | |")
    return "\n".join(lines), missed


def main() -> int:
    """Run every pair, print the table, exit 1 on a failed check."""
    os.makedirs(WORK, exist_ok=True)
    if len(pin(SERVER_CPU)):
        os.sched_setaffinity(0, {CLIENT_CPU})
    log(f"rounds {ROUNDS} × {SECONDS:.0f}s, warm-up {WARMUP_SECONDS:.0f}s, {WORKERS} gunicorn workers, {USERS} users"
        + (" (quick)" if QUICK else ""))
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    results: list[PairResult] = []
    sqlite_url = f"sqlite:///{os.path.join(WORK, 'site.sqlite')}"
    for suffix in ("", "-wal", "-shm"):
        path = os.path.join(WORK, "site.sqlite" + suffix)
        if os.path.exists(path):
            os.remove(path)
    if not only or only & {"sign", "page", "nginx"}:
        results += web_pairs("sqlite", sqlite_url, pages=not only or bool(only & {"page", "nginx"}),
                             signing=not only or bool(only & {"sign", "page"}))
    if not only or "export" in only:
        results += export_pair("sqlite")
    if not only or "updates" in only:
        from bench import updates as update_bench  # it imports this module

        results += update_bench.updates_pairs("sqlite", update_bench.sqlite_url())
    if (not only or "postgres" in only) and postgres_available():
        try:
            reset_postgres()
            results += web_pairs("postgresql", f"{POSTGRES_ADMIN}/{POSTGRES_DB}", pages=False)
            results += export_pair("postgresql")
        finally:
            drop_postgres()
    elif not only or "postgres" in only:
        log(f"PostgreSQL not reachable at {POSTGRES_ADMIN}: skipping the PostgreSQL pairs")
    table, missed = summarise(results)
    failures = [f"{r.name}: {f}" for r in results for f in r.failures]
    print(f"\nBenchmarks, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"
          f"{' (quick run)' if QUICK else ''}: {ROUNDS} rounds of {SECONDS:.0f}s after a {WARMUP_SECONDS:.0f}s warm-up\n")
    print(table)
    print()
    print("Targets missed:" if missed else "All targets met.")
    for line in missed:
        print(f"  - {line}")
    if failures:
        print("CHECKS FAILED:")
        for line in failures:
            print(f"  - {line}")
        return 1
    print("Checks passed: no 5xx, database rows equal successful responses, exports complete.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
