"""Structured logging: one JSON object per line, never a supporter's personal data.

Log calls across the site pass ids and counts, never names or emails; this module
also masks anything shaped like an email address or a signed token that slips into
a message, as a second line of defence.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from datetime import datetime, timezone

from flask import Flask

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
#: Signed tokens in URLs are long runs of URL-safe characters with dots.
_TOKEN = re.compile(r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{10,}")


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
#: Candidates for IPv6 addresses; only those ``ipaddress`` accepts are masked (not times).
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%\w+)?(?![\w:])")


def _mask_ipv6(match: re.Match) -> str:
    try:
        ipaddress.IPv6Address(match.group(0).split("%", 1)[0])
    except ValueError:
        return match.group(0)
    return "<address>"


def scrub(text: str) -> str:
    """``text`` with email addresses, signed tokens and client (IP) addresses masked."""
    text = _TOKEN.sub("<token>", _EMAIL.sub("<email>", text))
    return _IPV6_CANDIDATE.sub(_mask_ipv6, _IPV4.sub("<address>", text))


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line: time, level, logger, message (scrubbed)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class ScrubbingFormatter(logging.Formatter):
    """The plain-text format, scrubbed the same way."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def init_app(app: Flask) -> None:
    """Configure the root logger once, unless testing (pytest captures logs itself)."""
    if app.testing:
        return
    fmt = app.config.get("LOG_FORMAT") or ("json" if app.config["ENV"] == "production" else "text")
    root = logging.getLogger()
    if any(getattr(handler, "_coalition", False) for handler in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._coalition = True  # type: ignore[attr-defined]
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(ScrubbingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
