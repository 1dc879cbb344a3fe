"""Signed, expiring tokens for emailed links and form time checks."""

from __future__ import annotations

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
