"""Messages raised by services, readable from a page and from a command."""

from __future__ import annotations

from flask import has_request_context
from flask_babel import gettext


def _(message: str, **variables) -> str:
    """``message`` in the visitor's language during a request; in English from a command.

    Commands have no visitor and so no language to pick; Flask-Babel would need one.
    """
    if has_request_context():
        return gettext(message, **variables)
    return message % variables if variables else message
