"""One limit on the emails visitors' actions send to one mailbox, whatever the action.

A signature, a pledge, an endorsement (and any new form that emails an address typed into
it, such as a password reset) all count against ``CONFIRMATION_EMAIL_RATE_LIMIT`` for the
mailbox (the normalised email), whichever campaign, goal, organization or client address
the requests come from; past it, the visitor sees the same page and no email is queued.
The limit store holds a keyed hash of the mailbox, never the address.
"""

from __future__ import annotations

import logging

from flask import current_app
from limits import parse_many

from coalition.extensions import limiter
from coalition.services.addresses import hash_client_address, normalize_email

log = logging.getLogger(__name__)

#: The limiter's namespace for these counters.
SCOPE = "confirmation-email"

def _limits():
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return []
    return parse_many(current_app.config["CONFIRMATION_EMAIL_RATE_LIMIT"])


def _key(email_normalized: str) -> str:
    return hash_client_address(email_normalized, current_app.config["SECRET_KEY"]) or ""


def has_allowance(email_normalized: str) -> bool:
    """Whether this mailbox may be sent another visitor-caused email now (consumes nothing)."""
    key = _key(email_normalized)
    return all(limiter.limiter.test(item, SCOPE, key) for item in _limits())


def use_allowance(email_normalized: str) -> None:
    """Count one email to this mailbox (after ``has_allowance`` said yes)."""
    key = _key(email_normalized)
    for item in _limits():
        limiter.limiter.hit(item, SCOPE, key)


def take_allowance(address: str, what: str) -> bool:
    """Count one email to the mailbox of ``address`` if the limit allows it; False (and a log
    line naming only ``what``) when it does not."""
    email_normalized = normalize_email(address)
    if not has_allowance(email_normalized):
        log.info("%s email held back: mailbox limit reached", what)
        return False
    use_allowance(email_normalized)
    return True
