"""The site as production runs it: Debian's nginx with the shipped ``deploy/nginx.conf`` in
front of a real gunicorn on a Unix socket. Used by ``tests/test_nginx.py`` and the benchmarks.

Only ports, paths and the server name of the shipped file are changed (each replacement
must match, so the file cannot drift away from what is tested). nginx runs in the
foreground with its own prefix in a temporary folder, under a main configuration with
the directives Debian's own ``/etc/nginx/nginx.conf`` sets around ``conf.d``.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from coalition import PROJECT_ROOT

NGINX = os.environ.get("COALITION_TEST_NGINX", "/usr/sbin/nginx")
SHIPPED_CONFIG = Path(PROJECT_ROOT) / "deploy" / "nginx.conf"
START_SECONDS = 30

#: What Debian's nginx.conf sets in ``http { }`` around conf.d: a directive the shipped
#: file repeats at that level would make nginx refuse to start, here as there.
MAIN_CONFIG = """\
{user}
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/main-error.log;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log {prefix}/default-access.log;
    gzip on;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/conf.d/*.conf;
}}
"""


def nginx_missing() -> str | None:
    """Why nginx cannot be used here, or None."""
    if not os.path.exists(NGINX):
        return f"nginx not available: {NGINX} does not exist (apt-get install nginx)"
    return None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Paths:
    """Where one test nginx keeps everything."""

    prefix: Path

    @property
    def socket(self) -> Path:
        return self.prefix / "gunicorn.sock"

    @property
    def cache(self) -> Path:
        return self.prefix / "cache"

    @property
    def access_log(self) -> Path:
        return self.prefix / "coalition-access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "coalition-error.log"

    @property
    def certificate(self) -> Path:
        return self.prefix / "fullchain.pem"

    @property
    def key(self) -> Path:
        return self.prefix / "privkey.pem"


def render_config(paths: Paths, http_port: int, https_port: int, text: str | None = None) -> str:
    """The shipped configuration with this machine's ports and paths (every one must be found)."""
    text = SHIPPED_CONFIG.read_text() if text is None else text
    static = Path(PROJECT_ROOT) / "static"
    replacements = [
        ("listen [::]:80;", ""),
        ("listen [::]:443 ssl http2;", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("server_name coalition.example.org;", "server_name localhost;"),
        ("/etc/letsencrypt/live/coalition.example.org/fullchain.pem", str(paths.certificate)),
        ("/etc/letsencrypt/live/coalition.example.org/privkey.pem", str(paths.key)),
        ("/var/www/letsencrypt", str(paths.prefix / "acme")),
        ("unix:/run/coalition/gunicorn.sock", f"unix:{paths.socket}"),
        ("/srv/coalition/static", str(static)),
        ("/var/cache/nginx-coalition", str(paths.cache)),
        ("/var/log/nginx/coalition-access.log", str(paths.access_log)),
        ("/var/log/nginx/coalition-error.log", str(paths.error_log)),
    ]
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"deploy/nginx.conf no longer contains {old!r}: update tests/nginx_site.py")
        text = text.replace(old, new)
    return text


def make_certificate(paths: Paths) -> None:
    """A self-signed certificate for localhost (openssl, as Debian has it)."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-keyout", str(paths.key), "-out", str(paths.certificate)],
        check=True, capture_output=True,
    )


@dataclass
class Nginx:
    """A running nginx with the shipped configuration."""

    paths: Paths
    http_port: int
    https_port: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def log_lines(self) -> list[str]:
        """Every line nginx wrote to its logs (access and error, the site's and the main one)."""
        lines = []
        for path in (self.paths.access_log, self.paths.error_log, self.paths.prefix / "main-error.log",
                     self.paths.prefix / "default-access.log"):
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        return lines

    def access_lines(self) -> list[str]:
        """The site's access log."""
        if not self.paths.access_log.exists():
            return []
        return self.paths.access_log.read_text(errors="replace").splitlines()

    def stop(self) -> None:
        """Stop nginx (QUIT, then KILL)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(prefix: Path, config_text: str | None = None, workers: int = 1,
                command_prefix: list[str] | None = None) -> Nginx:
    """Start nginx in the foreground with its prefix in ``prefix``; it proxies to ``prefix/gunicorn.sock``.

    ``config_text`` replaces the shipped file's text (the benchmarks change it);
    ``command_prefix`` goes before the command (``taskset -c 0``).
    """
    paths = Paths(prefix)
    # Not the cache's folder: nginx must create it, as it does on a fresh Debian server.
    for folder in ("conf.d", "body", "proxy", "fastcgi", "uwsgi", "scgi", "acme", "logs"):
        (prefix / folder).mkdir(parents=True, exist_ok=True)
    if not paths.certificate.exists():
        make_certificate(paths)
    nginx = Nginx(paths, free_port(), free_port())
    (prefix / "conf.d" / "coalition.conf").write_text(render_config(paths, nginx.http_port, nginx.https_port, config_text))
    main = MAIN_CONFIG.format(prefix=prefix, user="user root;" if os.geteuid() == 0 else "")
    main = main.replace("worker_processes 1;", f"worker_processes {workers};")
    (prefix / "nginx.conf").write_text(main)
    command = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]
    check = subprocess.run(command + ["-t"], capture_output=True, text=True)
    if check.returncode != 0:
        raise AssertionError(f"nginx refused the configuration:\n{check.stderr}")
    with open(prefix / "stderr.log", "wb") as stderr:
        nginx.process = subprocess.Popen((command_prefix or []) + command, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if nginx.process.poll() is not None:
            raise AssertionError(f"nginx stopped: {(prefix / 'stderr.log').read_text()}")
        try:
            socket.create_connection(("127.0.0.1", nginx.https_port), timeout=1).close()
            return nginx
        except OSError:
            time.sleep(0.05)
    nginx.stop()
    raise AssertionError("nginx did not listen within 30 s")


def start_gunicorn(socket_path: Path, env: dict, log_path: Path, workers: int = 1, extra: list[str] | None = None,
                   command_prefix: list[str] | None = None) -> subprocess.Popen:
    """gunicorn with the site's ``gunicorn.conf.py``, bound to the Unix socket nginx proxies to."""
    if socket_path.exists():
        socket_path.unlink()
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            (command_prefix or []) + [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                                      "--bind", f"unix:{socket_path}", "--workers", str(workers), *(extra or []), "app:app"],
            env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped:\n{log_path.read_text(errors='replace')[-3000:]}")
        if socket_path.exists():
            try:
                with socket.socket(socket.AF_UNIX) as sock:
                    sock.connect(str(socket_path))
                return process
            except OSError:
                pass
        time.sleep(0.1)
    process.terminate()
    raise AssertionError("gunicorn did not listen within 30 s")


def stop_process(process: subprocess.Popen | None) -> None:
    """TERM, then KILL after 20 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_UNVERIFIED = ssl.create_default_context()
_UNVERIFIED.check_hostname = False
_UNVERIFIED.verify_mode = ssl.CERT_NONE


@dataclass
class Response:
    """What a client got: status, headers (a list, names as sent), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first header of that name (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def all(self, name: str) -> list[str]:
        """Every header of that name."""
        return [value for key, value in self.headers if key.lower() == name.lower()]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


_HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
_NAME = re.compile(r'name="([^"]*)"')
_VALUE = re.compile(r'value="([^"]*)"')


def hidden_fields(page: str, contains: str | None = None) -> dict[str, str]:
    """The hidden fields of the page's first form (or of the first form holding ``contains``)."""
    import html

    forms = re.findall(r"<form\b.*?</form>", page, flags=re.S)
    if contains is not None:
        forms = [form for form in forms if contains in form]
    fields = {}
    for tag in _HIDDEN.findall(forms[0] if forms else ""):
        name, value = _NAME.search(tag), _VALUE.search(tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


class Client:
    """A browser-like HTTPS client: its own source address on loopback and its own cookies."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.port, self.source = port, source
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
                timeout: float = 10) -> Response:
        """One request on a new connection."""
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout, context=_UNVERIFIED,
                                                 source_address=(self.source, 0))
        sent = {"Host": f"localhost:{self.port}", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            result = Response(response.status, response.getheaders(), response.read())
        finally:
            connection.close()
        for value in result.all("Set-Cookie"):
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "expires=thu, 01 jan 1970" in value.lower() or "max-age=0" in value.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = cookie_value
        return result

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict, **kwargs) -> Response:
        """A form POST as a browser on this site sends it (same-origin fetch metadata)."""
        from urllib.parse import urlencode

        headers = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin",
                   "Origin": f"https://localhost:{self.port}", "Referer": f"https://localhost:{self.port}{path}",
                   **kwargs.pop("headers", {})}
        return self.request("POST", path, body=urlencode(data, doseq=True).encode(), headers=headers, **kwargs)
