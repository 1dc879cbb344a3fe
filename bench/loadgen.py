"""An asyncio HTTP/1.1 load generator for the benchmarks: sign-form POSTs and page GETs.

Each virtual user keeps its own cookies, like a browser. A signing user first GETs
the sign form (before the measured time starts) (its hidden fields: the signed ``form_started``, and a CSRF token and
session cookie if the form has them), then POSTs signatures until time is up, with the
fetch metadata a browser sends: unique emails, one in ten a repeat of one it already
sent. gunicorn's sync workers close every connection after one response, so a user
reconnects whenever the server says ``Connection: close``. ``tls=True`` speaks HTTPS
(to nginx), keeping each connection open as nginx allows.

No third-party client: raw asyncio streams keep the generator's own cost low and
the same for both sides of a pair.
"""

from __future__ import annotations

import asyncio
import html
import re
import ssl
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlencode

#: The load generator talks to its own nginx, with a self-signed certificate.
_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE

_HIDDEN = re.compile(rb'<input[^>]*name="(csrf_token|form_started)"[^>]*value="([^"]*)"')
_HIDDEN_REVERSED = re.compile(rb'<input[^>]*value="([^"]*)"[^>]*name="(csrf_token|form_started)"')


@dataclass
class LoadResult:
    """What one run of the generator saw."""

    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    #: Successful sign POSTs (303) with a new email, and with a repeated one.
    new_signatures: int = 0
    repeat_signatures: int = 0
    #: Emails that got a 303 (each must be one row in the database).
    signed_emails: set = field(default_factory=set)
    #: Share of the wall time the generator's own process spent on the CPU.
    client_cpu_share: float = 0.0
    errors: Counter = field(default_factory=Counter)

    @property
    def server_errors(self) -> int:
        """5xx responses."""
        return sum(count for status, count in self.statuses.items() if status >= 500)


class Connection:
    """One keep-alive-if-allowed HTTP/1.1 connection with a cookie jar."""

    def __init__(self, host: str, port: int, tls: bool = False) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.cookies: dict[str, str] = {}

    async def _open(self) -> None:
        if self.tls:
            self.reader, self.writer = await asyncio.open_connection(
                self.host, self.port, ssl=_UNVERIFIED, server_hostname="localhost")
        else:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, dict, bytes]:
        """Send one request; return (status, headers in lower case, body)."""
        if self.writer is None:
            await self._open()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Connection: keep-alive"]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            head.append("Content-Type: application/x-www-form-urlencoded")
            head.append("Sec-Fetch-Site: same-origin")
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie = value.split(";", 1)[0]
                key, _, val = cookie.partition("=")
                self.cookies[key.strip()] = val.strip()
            headers[name] = value
        if "content-length" in headers:
            payload = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            payload = await self._read_chunked()
        else:
            payload = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, payload

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readline()).split(b";")[0], 16)
            if size == 0:
                await self.reader.readline()
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()


def form_fields(page: bytes) -> dict[str, str]:
    """The CSRF token and signed start time from a page holding the sign form."""
    found = {name.decode(): html.unescape(value.decode()) for name, value in _HIDDEN.findall(page)}
    found.update({name.decode(): html.unescape(value.decode()) for value, name in _HIDDEN_REVERSED.findall(page)})
    return found


def sign_form(email: str, n: int, fields: dict) -> dict:
    """The sign form a benchmark signer sends: the page's hidden fields, then what a person types."""
    hidden = {"csrf_token": fields["csrf_token"]} if "csrf_token" in fields else {}
    return {
        **hidden,
        "form_started": fields.get("form_started", ""),
        "homepage": "",
        "full_name": f"Bench Signer {n}",
        "email": email,
        "zip_code": "10027",
        "country": "",
        "comment": "",
        "wants_updates": "y",
    }


async def _open_form(host: str, port: int, path: str, result: LoadResult, tls: bool) -> tuple[Connection, dict]:
    """A signer's first step: GET the sign form, keep its hidden fields (and any cookie)."""
    conn = Connection(host, port, tls)
    status, _, page = await conn.request("GET", path)
    result.statuses[status] += 1
    return conn, form_fields(page)


async def _signer(user: int, conn: Connection, fields: dict, path: str, deadline: float, run_id: str,
                  result: LoadResult) -> None:
    sent: list[str] = []
    n = 0
    try:
        while time.monotonic() < deadline:
            n += 1
            repeat = n % 10 == 0 and bool(sent)
            email = sent[(n // 10) % len(sent)] if repeat else f"signer-{run_id}-{user}-{n}@example.org"
            body = urlencode(sign_form(email, n, fields)).encode()
            try:
                status, _, _ = await conn.request("POST", path, body)
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                result.errors[exc.__class__.__name__] += 1
                conn.close()
                continue
            result.statuses[status] += 1
            if status == 303:
                if repeat:
                    result.repeat_signatures += 1
                else:
                    result.new_signatures += 1
                    sent.append(email)
                result.signed_emails.add(email)
    finally:
        conn.close()


async def _reader(host: str, port: int, path: str, deadline: float, result: LoadResult, tls: bool = False) -> None:
    conn = Connection(host, port, tls)
    try:
        while time.monotonic() < deadline:
            try:
                status, _, _ = await conn.request("GET", path)
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                result.errors[exc.__class__.__name__] += 1
                conn.close()
                continue
            result.statuses[status] += 1
    finally:
        conn.close()


async def _run(kind: str, host: str, port: int, paths: list[str], users: int, seconds: float, run_id: str,
               tls: bool, on_ready) -> LoadResult:
    result = LoadResult()
    forms = []
    if kind == "sign":
        # Every signer's form first, outside the measured time: a round measures signing.
        forms = await asyncio.gather(*(_open_form(host, port, paths[user % len(paths)], result, tls)
                                       for user in range(users)))
    if on_ready is not None:
        on_ready()
    started = time.monotonic()
    cpu_started = time.process_time()
    deadline = started + seconds
    if kind == "sign":
        tasks = [_signer(user, conn, fields, paths[user % len(paths)], deadline, run_id, result)
                 for user, (conn, fields) in enumerate(forms)]
    else:
        tasks = [_reader(host, port, paths[user % len(paths)], deadline, result, tls) for user in range(users)]
    await asyncio.gather(*tasks)
    result.seconds = time.monotonic() - started
    result.client_cpu_share = (time.process_time() - cpu_started) / result.seconds
    return result


def run_load(kind: str, port: int, path: str | list[str], *, users: int = 8, seconds: float = 10.0, run_id: str = "x",
             host: str = "127.0.0.1", tls: bool = False, on_ready=None) -> LoadResult:
    """Drive ``path`` for ``seconds`` with ``users`` concurrent users; ``kind`` is "sign" or "get".

    With a list of paths, the users take them in turn (user n the n-th, modulo). Signers
    GET their form first; ``on_ready()`` is called once they all have it, as the measured
    time starts (the caller reads the server's CPU there).
    """
    paths = [path] if isinstance(path, str) else list(path)
    return asyncio.run(_run(kind, host, port, paths, users, seconds, run_id, tls, on_ready))


def fetch(port: int, path: str, host: str = "127.0.0.1", tls: bool = False) -> tuple[int, bytes]:
    """One GET (to check a server or take a copy of a page)."""

    async def once():
        conn = Connection(host, port, tls)
        try:
            status, _, payload = await conn.request("GET", path)
            return status, payload
        finally:
            conn.close()

    return asyncio.run(once())
