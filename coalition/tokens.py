"""Signed, expiring tokens for emailed links and form time checks.

A link that names a record names it by its id *and* its link key: a random value stored
on the record when it is made (``new_link_key``). An id alone is not enough: SQLite gives a
deleted row's id to the next row, so a link made for an erased signature would name the
next signer's. A key is never given twice, so such a link names nothing. Any new link
(unsubscribe, password reset ...) does the same: ``link_reference`` in the token,
``read_references`` and ``reference_matches`` when it comes back.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenInvalid(ValueError):
    """The token was altered, is for another purpose, or is not a token at all."""


class TokenExpired(TokenInvalid):
    """The token was genuine but is older than allowed."""


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"coalition.{purpose}")


def make_token(purpose: str, payload: Any) -> str:
    """Sign ``payload`` for one ``purpose`` (a token for one purpose is refused for another)."""
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age_seconds: int | None) -> Any:
    """The payload of a genuine token no older than ``max_age_seconds`` (None: any age);
    raises ``TokenInvalid``."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired as exc:
        raise TokenExpired("link expired") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise TokenInvalid("link not valid") from exc


#: Length of a link key (``secrets.token_urlsafe(16)`` gives 22 characters).
LINK_KEY_LENGTH = 22


def new_link_key() -> str:
    """A fresh random link key for a record that emailed links will name (never reused)."""
    return secrets.token_urlsafe(16)


def link_reference(record_id: int, link_key: str | None) -> list | int:
    """What a token carries to name one record: ``[id, link key]`` (a bare id for a record
    made before link keys existed)."""
    return [record_id, link_key] if link_key else record_id


def read_references(values: Any) -> dict[int, str | None]:
    """``{id: link key}`` from a token's list of ``link_reference`` values; anything else is ignored."""
    references: dict[int, str | None] = {}
    if not isinstance(values, list):
        return references
    for value in values:
        if isinstance(value, int) and not isinstance(value, bool):
            references[value] = None
        elif (
            isinstance(value, list)
            and len(value) == 2
            and isinstance(value[0], int)
            and not isinstance(value[0], bool)
            and isinstance(value[1], str)
        ):
            references[value[0]] = value[1]
    return references


def reference_matches(stored_key: str | None, carried_key: str | None) -> bool:
    """Whether the token's key is the record's (compared in constant time).

    A record made before link keys existed (no key stored) matches only a token that
    carries none; every newer record has a key, so an old id-only link never names it.
    """
    if stored_key is None:
        return carried_key is None
    return carried_key is not None and hmac.compare_digest(stored_key, carried_key)
