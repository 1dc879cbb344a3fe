"""Supporters' addresses: email normal forms, ZIP code look-ups, hashed client addresses."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

import zipcodes
from email_validator import EmailNotValidError, validate_email

#: Mail providers whose addresses ignore dots in the local part.
DOTLESS_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


class InvalidEmail(ValueError):
    """The address is not a real-looking email address."""


def check_email(address: str) -> str:
    """The address, normalised for sending (IDNA domain), or ``InvalidEmail`` with the reason.

    No DNS look-up: the check is about form, and sending the confirmation proves the rest.
    """
    try:
        result = validate_email(address.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc
    return result.normalized


def normalize_email(address: str) -> str:
    """The key that identifies one mailbox: lower case, no ``+tag``, no dots for Gmail."""
    local, _, domain = address.strip().lower().rpartition("@")
    # A tag follows a mailbox name: a local part that begins with "+" has no tag to drop
    # (removing it would leave "@domain", shared by every such address).
    local = local.split("+", 1)[0] or local
    if domain == "googlemail.com":
        domain = "gmail.com"
    if domain in DOTLESS_DOMAINS:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


@dataclass(frozen=True)
class Place:
    """Where a US ZIP code is."""

    zip_code: str
    city: str
    county: str
    state: str


#: A US ZIP code once normalised: five ASCII digits, optionally a dash and four more.
ZIP_CODE_SHAPE = re.compile(r"[0-9]{5}(?:-?[0-9]{4})?", re.ASCII)
#: Dashes a keyboard or a phone may put between a ZIP code and its "+4" part.
_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d"), "-")


def normalize_zip_code(text: str) -> str:
    """The ZIP code as typed, trimmed, with digits of other scripts (fullwidth ``１``, Arabic-Indic
    ``١`` ...) written as ASCII digits and any dash as ``-``.

    Python's ``isdigit`` and regular expressions' ``\\d`` accept those digits, but the ZIP
    library works on bytes and fails on them (with an error that is not an ``Exception``).
    """
    chars = []
    for char in text.strip().translate(_DASHES):
        if not char.isascii() and unicodedata.category(char) == "Nd":
            char = str(unicodedata.decimal(char))
        chars.append(char)
    return "".join(chars)


def lookup_zip(zip_code: str) -> Place | None:
    """City, county and state of a 5-digit US ZIP code, offline; None if unknown.

    Only five ASCII digits ever reach the ZIP library.
    """
    code = normalize_zip_code(zip_code)
    if not ZIP_CODE_SHAPE.fullmatch(code):
        return None
    return _place_of(code[:5])


# The ZIP data never changes while the site runs, and ``zipcodes.matching`` scans the
# whole list (milliseconds, twice per signature: the form, then the service). At most
# about 42,000 codes exist, so the cache stays small.
@functools.lru_cache(maxsize=50_000)
def _place_of(code: str) -> Place | None:
    try:
        matches = zipcodes.matching(code)
    except (ValueError, TypeError):
        return None
    if not matches:
        return None
    match = matches[0]
    return Place(zip_code=code, city=match["city"], county=match.get("county") or "", state=match["state"])


def hash_client_address(address: str | None, secret: str) -> str | None:
    """A keyed hash of the client's address: lets staff group abuse, never reveals the address."""
    if not address:
        return None
    return hmac.new(secret.encode(), address.encode(), hashlib.sha256).hexdigest()[:32]
