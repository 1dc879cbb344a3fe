"""The shipped nginx configuration in front of a real gunicorn of the site.

Debian's nginx runs ``deploy/nginx.conf`` with only its ports, paths and server name
changed (tests/nginx_site.py); gunicorn runs the site in production mode on a Unix socket
with ``COALITION_PROXY_COUNT=1``, one sync worker (so a worker held by a slow client would
show at once), a real SMTP server for its mail. Clients bind to their own loopback
addresses (127.0.0.2, 127.0.0.3 ...) to be different visitors.

Without nginx the tests skip with the reason; under ``COALITION_REQUIRE_SERVICES=1`` (CI)
they fail.
"""

from __future__ import annotations

import re
import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coalition import PROJECT_ROOT
from tests.conftest import _MailCollector, service_missing
from tests.nginx_site import (
    Client,
    hidden_fields,
    nginx_missing,
    start_gunicorn,
    start_nginx,
    stop_process,
)

pytestmark = pytest.mark.slow

SIGN_LIMIT_PER_MINUTE = 3
#: The cache lifetime the app gives public pages here (COALITION_PUBLIC_CACHE_SECONDS).
CACHE_SECONDS = 5
CAMPAIGN = "/campaigns/alternatives-not-prison"


class Site:
    """nginx, gunicorn and their logs, as the tests see them."""

    def __init__(self, nginx, gunicorn, gunicorn_log: Path, env: dict, mailbox: _MailCollector) -> None:
        self.nginx, self.gunicorn, self.gunicorn_log, self.env, self.mailbox = nginx, gunicorn, gunicorn_log, env, mailbox

    def client(self, source: str = "127.0.0.1") -> Client:
        return Client(self.nginx.https_port, source)

    def app_log(self) -> str:
        return self.gunicorn_log.read_text(errors="replace")

    def flask(self, *args: str, input: str | None = None) -> str:
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], env=self.env, cwd=PROJECT_ROOT,
                              input=input, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site behind nginx, for the whole module."""
    problem = nginx_missing()
    if problem:
        service_missing(problem)
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    mailbox = _MailCollector()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    workdir = tmp_path_factory.mktemp("nginx-site")
    nginx = start_nginx(workdir / "nginx")
    env = {name: value for name, value in __import__("os").environ.items() if not name.startswith("COALITION_")}
    env.update(
        COALITION_ENV="production",
        COALITION_SECRET_KEY="nginx-tests-secret-key-" + "0123456789" * 4,
        COALITION_DATABASE_URL="sqlite:///" + str(workdir / "site.sqlite"),
        COALITION_SITE_URL=f"https://localhost:{nginx.https_port}",
        COALITION_PROXY_COUNT="1",
        COALITION_MAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        COALITION_FORM_MIN_FILL_SECONDS="0",
        COALITION_SIGN_RATE_LIMIT=f"{SIGN_LIMIT_PER_MINUTE} per minute",
        COALITION_PUBLIC_CACHE_SECONDS=str(CACHE_SECONDS),
        COALITION_LOG_FORMAT="text",
        COALITION_ARGON2_TIME_COST="1",
        COALITION_ARGON2_MEMORY_COST_KIB="8",
        COALITION_ARGON2_PARALLELISM="1",
    )
    gunicorn_log = workdir / "gunicorn.log"
    server = Site(nginx, None, gunicorn_log, env, mailbox)
    gunicorn = None
    try:
        server.flask("db", "upgrade")
        server.flask("load-content")
        server.flask("seed-demo")
        gunicorn = start_gunicorn(nginx.paths.socket, env, gunicorn_log, workers=1)
        server.gunicorn = gunicorn
        yield server
    finally:
        stop_process(gunicorn)
        nginx.stop()
        controller.stop()


def _sign_form(client: Client, path: str, email: str) -> dict:
    page = client.get(path)
    assert page.status == 200, page.status
    fields = hidden_fields(page.text, contains='name="full_name"')
    fields.update(full_name="Nginx Tester", email=email, zip_code="10027", country="", comment="")
    return fields


# --- Static files ------------------------------------------------------------------------------


def test_static_files_are_served_by_nginx_with_long_lifetimes(site):
    page = site.client().get("/about")
    links = re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text)
    assert any(link.startswith("/static/css/site.css?v=") for link in links), links
    for link in links:
        response = site.client().get(link.replace("&amp;", "&"))
        assert response.status == 200, link
        assert response.header("Cache-Control") == "public, max-age=31536000, immutable", link
        assert response.header("X-Content-Type-Options") == "nosniff"
    css = site.client().get(next(link for link in links if "site.css" in link))
    assert css.body == (Path(PROJECT_ROOT) / "static" / "css" / "site.css").read_bytes()
    # Without its version an address is kept an hour, not a year.
    assert site.client().get("/static/css/site.css").header("Cache-Control") == "public, max-age=3600"
    # gunicorn never saw a static request: nginx served them all.
    assert "/static/" not in site.app_log()


def test_spanish_pages_link_the_same_static_addresses(site):
    page = site.client().get("/es/about")
    assert page.status == 200
    assert '"/static/css/site.css?v=' in page.text
    assert "/es/static/" not in page.text


# --- Logs --------------------------------------------------------------------------------------


def test_nginx_logs_hold_no_address_query_token_or_email(site):
    client = site.client("127.0.0.6")
    token = "Abc_def-ghi.jkl" * 4
    client.get("/about?email=logged.person%40example.org&q=secret-search")
    client.get(f"/confirm/{token}")
    client.get(f"/es/endorsements/withdraw/{token}")
    client.get("/campaigns/someone@example.org")
    client.post_form(CAMPAIGN, {"email": "poster@example.org", "full_name": "Poster"})
    _flood(site, "127.0.0.7", "/healthz", 200)  # limit refusals are not logged with the address
    lines = site.nginx.log_lines()
    assert any('"GET /confirm/<token>"' in line for line in lines), lines[-10:]
    assert any('"GET /es/endorsements/withdraw/<token>"' in line for line in lines)
    assert any('"GET /about"' in line for line in lines)
    assert any(" 429 " in line for line in site.nginx.access_lines())
    for line in lines:
        assert "127.0.0." not in line, line
        assert token not in line and token[:24] not in line, line
        assert "@" not in line and "example.org" not in line, line
        assert "secret-search" not in line and "?" not in line, line


# --- Floods and slow clients ---------------------------------------------------------------------


def _flood(site, source: str, path: str, count: int) -> list[int]:
    """``count`` GETs from one address, eight at a time; their statuses."""
    def one(_):
        return site.client(source).get(path).status

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(count)))


def test_a_flood_from_one_address_is_refused_by_nginx_and_others_are_served(site):
    statuses = _flood(site, "127.0.0.4", "/healthz", 250)
    # limit_req: 20 a second after a burst of 100; the app itself limits no health check.
    assert statuses.count(429) > 0, statuses
    assert set(statuses) <= {200, 429}
    assert site.client("127.0.0.5").get("/healthz").status == 200


def test_app_rate_limits_see_the_real_client_address_and_ignore_a_sent_forwarded_for(site):
    first = site.client("127.0.0.2")
    for n in range(SIGN_LIMIT_PER_MINUTE):
        # A different made-up address each time: if the app believed it, it would never limit.
        response = first.post_form(CAMPAIGN, _sign_form(first, CAMPAIGN, f"limit-{n}@example.org"),
                                   headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})
        assert response.status == 303, (n, response.status, response.text[:500])
    refused = first.post_form(CAMPAIGN, _sign_form(first, CAMPAIGN, "limit-over@example.org"),
                              headers={"X-Forwarded-For": "198.51.100.9"})
    assert refused.status == 429
    # Another visitor, behind the same nginx, is not limited by the first one's signatures.
    other = site.client("127.0.0.3")
    response = other.post_form(CAMPAIGN, _sign_form(other, CAMPAIGN, "other-visitor@example.org"))
    assert response.status == 303, response.text[:500]


def _slow_client(port: int, request_head: bytes) -> ssl.SSLSocket:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname="localhost")
    sock.sendall(request_head)
    return sock


def test_ten_slow_clients_do_not_stop_a_visitor_from_getting_a_page(site):
    port = site.nginx.https_port
    heads = [
        # Half a request head, and then nothing (the rest "still coming").
        b"GET /about HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow",
        # A whole head announcing a body of which only a little ever arrives.
        b"POST /campaigns/alternatives-not-prison HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000\r\n\r\nfull_name=S",
    ]
    slow = [_slow_client(port, heads[n % 2]) for n in range(10)]
    try:
        time.sleep(0.5)  # with sync workers and no nginx, the one worker would be taken by now
        started = time.monotonic()
        response = site.client("127.0.0.8").get("/about", timeout=5)
        elapsed = time.monotonic() - started
        assert response.status == 200
        assert elapsed < 1.0, f"the page took {elapsed:.2f} s behind ten slow clients"
    finally:
        for sock in slow:
            sock.close()


# --- Request size ------------------------------------------------------------------------------


def _post_head_only(port: int, length: int) -> bytes:
    sock = _slow_client(port, (f"POST /campaigns/alternatives-not-prison HTTP/1.1\r\nHost: localhost\r\n"
                               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {length}\r\n"
                               f"Connection: close\r\n\r\n").encode())
    try:
        sock.settimeout(5)
        return sock.recv(200)
    finally:
        sock.close()


def test_a_body_far_over_the_limit_is_refused_by_nginx_before_the_app(site):
    before = site.app_log().count("POST /campaigns/alternatives-not-prison")
    answer = _post_head_only(site.nginx.https_port, 8 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert site.app_log().count("POST /campaigns/alternatives-not-prison") == before


def test_a_body_just_over_the_apps_limit_gets_the_apps_own_page(site):
    client = site.client("127.0.0.9")
    body = b"comment=" + b"x" * (2 * 1024 * 1024 + 1000)
    response = client.request("POST", CAMPAIGN, body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"})
    assert response.status == 413
    assert 'rel="stylesheet"' in response.text  # the site's page, not nginx's


# --- The microcache (the app's Cache-Control decides) ----------------------------------------------

CACHED_CAMPAIGN = "/campaigns/keep-families-connected"
_COUNT = re.compile(r'id="campaign-progress" max="\d+" value="(\d+)"')


#: X-Cache-Status of an answer nginx took from its cache (a copy kept, fresh or being replaced).
FROM_CACHE = ("HIT", "STALE", "UPDATING", "REVALIDATED")


def _until_hit(site, path: str, tries: int = 20):
    """GET ``path`` until nginx answers from a fresh copy (an older copy may be being replaced)."""
    for _ in range(tries):
        response = site.client().get(path)
        if response.header("X-Cache-Status") == "HIT":
            return response
        time.sleep(0.2)
    raise AssertionError(f"{path} was never a cache hit (last: {response.header('X-Cache-Status')})")


def _kept_keys(site) -> list[str]:
    """The keys of every page in nginx's cache (each file has a ``KEY:`` line)."""
    keys = []
    for path in site.nginx.paths.cache.rglob("*"):
        if path.is_file():
            found = re.search(rb"\nKEY: ([^\n]*)\n", path.read_bytes()[:4096])
            if found:
                keys.append(found.group(1).decode())
    return keys


def test_a_campaign_page_is_a_cache_hit_the_second_time_in_each_language(site):
    for path in (CACHED_CAMPAIGN, "/es" + CACHED_CAMPAIGN):
        first = site.client("127.0.0.11").get(path)
        assert first.status == 200
        assert first.header("X-Cache-Status") == "MISS", path
        assert "s-maxage=" in first.header("Cache-Control") and "public" in first.header("Cache-Control")
        second = site.client("127.0.0.12").get(path)
        assert second.header("X-Cache-Status") == "HIT", path
        assert second.body == first.body
        # Parameters the site does not know are not part of the key: they cannot bust it.
        busting = site.client("127.0.0.13").get(path + "?x=8f3a1c&utm_source=news")
        assert busting.header("X-Cache-Status") == "HIT", path
        assert busting.body == first.body
    english = site.client().get(CACHED_CAMPAIGN).body
    spanish = site.client().get("/es" + CACHED_CAMPAIGN).body
    assert english != spanish and b'lang="es"' in spanish


def test_a_revalidating_browser_gets_304_from_the_cache(site):
    page = site.client().get(CACHED_CAMPAIGN)
    etag = page.header("ETag")
    assert etag
    again = site.client().get(CACHED_CAMPAIGN, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.body == b""


def test_a_confirmation_shows_on_the_page_within_the_cache_lifetime(site):
    client = site.client("127.0.0.10")
    kept = _until_hit(site, CAMPAIGN)
    before = int(_COUNT.search(kept.text).group(1))
    email = "cache-confirmer@example.org"
    assert client.post_form(CAMPAIGN, _sign_form(client, CAMPAIGN, email)).status == 303
    deadline = time.monotonic() + 15
    while not any(email in str(message["To"]) for message in site.mailbox.messages):
        assert time.monotonic() < deadline, "no confirmation email"
        time.sleep(0.1)
    message = next(m for m in site.mailbox.messages if email in str(m["To"]))
    link = re.search(r"https://localhost:\d+(/confirm/\S+)", message.get_body(("plain",)).get_content()).group(1)
    confirmer = site.client("127.0.0.10")
    form_page = confirmer.get(link)
    assert form_page.status == 200
    done = confirmer.post_form(link, hidden_fields(form_page.text, contains='method="post"'))
    assert done.status == 200
    confirmed_at = time.monotonic()
    while True:
        page = site.client("127.0.0.10").get(CAMPAIGN)
        if int(_COUNT.search(page.text).group(1)) == before + 1:
            break
        # nginx counts lifetimes in whole seconds, and the first visitor after one gets the old
        # copy while the new one is fetched: hence the second of margin on each side.
        assert time.monotonic() - confirmed_at < CACHE_SECONDS + 2, "the count did not change within the cache lifetime"
        time.sleep(0.2)


def _staff_client(site, source: str) -> Client:
    output = site.flask("create-staff", f"staff-{source}@example.org", "--role", "organizer", "--generate-password")
    password = re.search(r"password[^:]*:\s*(\S+)", output, re.I).group(1)
    staff = site.client(source)
    login_page = staff.get("/staff/login")
    fields = hidden_fields(login_page.text, contains='name="password"')
    fields.update(email=f"staff-{source}@example.org", password=password)
    response = staff.post_form("/staff/login", fields)
    assert response.status in (302, 303), response.text[:500]
    assert "session" in staff.cookies
    return staff


def test_staff_and_thank_you_pages_are_never_kept(site):
    staff = _staff_client(site, "127.0.0.14")
    for path in ("/staff/", "/es/staff/", "/staff/campaigns"):
        for _ in range(2):
            response = staff.get(path)
            assert response.status == 200, path
            assert response.header("X-Cache-Status") in (None, "BYPASS", "MISS"), path
            assert "no-store" in response.header("Cache-Control"), path
    for _ in range(2):
        thanks = site.client().get(CAMPAIGN + "/thanks")
        assert thanks.status == 200
        assert thanks.header("X-Cache-Status") == "MISS"
        assert "no-store" in thanks.header("Cache-Control")
    keys = _kept_keys(site)
    assert any(CAMPAIGN in key for key in keys), keys  # the cache is there, and holds pages
    assert not [key for key in keys if "/staff" in key or key.split("?")[0].endswith("/thanks")], keys


def test_a_staff_browser_bypasses_the_cache_and_its_pages_are_not_kept(site):
    _until_hit(site, CACHED_CAMPAIGN)
    staff = _staff_client(site, "127.0.0.15")
    for _ in range(2):
        assert staff.get(CACHED_CAMPAIGN).header("X-Cache-Status") == "BYPASS"
    # A page only staff has asked for is not in the cache afterwards.
    only_staff = "/es/goals/family-and-community-ties"
    assert staff.get(only_staff).header("X-Cache-Status") == "BYPASS"
    assert not [key for key in _kept_keys(site) if only_staff in key]
    assert site.client().get(only_staff).header("X-Cache-Status") == "MISS"


def test_no_kept_response_carries_a_cookie_and_none_that_sets_one_is_kept(site):
    paths = ["/", "/about", "/campaigns", "/endorsements", "/es/", "/es/about", "/goals/alternatives-to-incarceration",
             CAMPAIGN, "/es" + CAMPAIGN, "/api/campaigns.json"]
    for path in paths:
        _until_hit(site, path)  # every public page is kept
        for _ in range(3):
            response = site.client().get(path)
            assert response.status == 200, path
            assert response.header("X-Cache-Status") in FROM_CACHE, path
            assert response.all("Set-Cookie") == [], path
    # A response that sets a cookie (the staff login page, with its session) is never kept.
    for _ in range(2):
        login_page = site.client().get("/staff/login")
        assert login_page.all("Set-Cookie")
        assert login_page.header("X-Cache-Status") is None  # the staff area has no cache at all
    assert not [key for key in _kept_keys(site) if "/staff" in key]
