"""Addresses: the site's own absolute links (for emails and sharing) and safe redirects.

Both the web layer and the services use this module; it needs an app, not a request.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app


def safe_next(target: str | None, fallback: str) -> str:
    """``target`` if it is a relative path on this site, else ``fallback`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target


def language_prefix(language: str | None) -> str:
    """The path prefix of a language's pages: "" for the default (English), "/es" for Spanish."""
    if not language or language == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return ""
    return "/" + language


def external_url(endpoint: str, language: str | None = None, **values) -> str:
    """An absolute address on the public site (``SITE_URL``), in ``language``'s pages
    (English when None); for emails and share links, and it works outside requests."""
    site = urlsplit(current_app.config["SITE_URL"])
    script_name = (site.path or "").rstrip("/") + language_prefix(language)
    adapter = current_app.url_map.bind(site.netloc, script_name=script_name or "/", url_scheme=site.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def tel_link(phone: str) -> str:
    """A ``tel:`` link for a US phone number as Open States writes it (``518-455-2225``)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) == 10:
        digits = "1" + digits
    return f"tel:+{digits}" if digits else ""


def mailto_link(address: str, subject: str, body: str) -> str:
    """A ``mailto:`` link that opens the signer's own mail app with a subject and text they may change."""
    if not address:
        return ""
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject)}&body={quote(body)}"
