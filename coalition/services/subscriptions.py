"""Consent to updates by email: unsubscribing, the suppression list, re-subscribing.

A supporter consents with the "keep me updated" tick of a signature or a pledge. The
personal unsubscribe link of every update names the record the message was sent for
and a keyed hash of its mailbox; using it (a POST: the mail provider's one click, or
the button of the page the link opens) withdraws every consent of that normalised
email, signatures and pledges alike, and adds the hash to ``mail_suppressions``.

The suppression entry is what makes an unsubscribe last: a later signature's tick
from a suppressed mailbox is not taken as consent (the supporter must opt in again,
explicitly, from the link in their confirmation email), and no update is queued for
a suppressed mailbox whatever its rows say. The hash is keyed with a random key the
site keeps in its own table (``site_keys``), not the secret key, so rotating the
secret key re-subscribes no one; the table never holds an address.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coalition.extensions import db
from coalition.models import MailSuppression, OutgoingMail, Pledge, Signature, SiteKey
from coalition.models.types import utcnow
from coalition.tokens import TokenInvalid, make_token, read_token

TOKEN_PURPOSE = "unsubscribe"
#: The name of the suppression list's key in ``site_keys``.
SUPPRESSION_KEY = "suppression"
#: Record kinds an unsubscribe link may name.
KINDS = {"s": Signature, "p": Pledge}


def _insert(model):
    return (postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def site_key(name: str) -> bytes:
    """The site's own random key ``name`` (the same in every process).

    The migration makes the suppression key; a database built otherwise (the tests'
    ``create_all``) gets it on first use, in the caller's transaction.
    """
    value = db.session.scalar(db.select(SiteKey.value).where(SiteKey.name == name))
    if value is None:
        # Two processes may make one at the same moment: the database keeps the first.
        db.session.execute(
            _insert(SiteKey).values(name=name, value=secrets.token_hex(32)).on_conflict_do_nothing(
                index_elements=["name"]
            )
        )
        value = db.session.scalar(db.select(SiteKey.value).where(SiteKey.name == name))
    return value.encode()


def mailbox_hash(email_normalized: str, key: bytes | None = None) -> str:
    """The keyed hash that stands for a mailbox in the suppression list and the links."""
    key = key if key is not None else site_key(SUPPRESSION_KEY)
    return hmac.new(key, email_normalized.encode(), hashlib.sha256).hexdigest()


def _existing_key() -> bytes | None:
    # Without a key no mailbox can have been suppressed yet; a read never makes one.
    value = db.session.scalar(db.select(SiteKey.value).where(SiteKey.name == SUPPRESSION_KEY))
    return value.encode() if value is not None else None


def is_suppressed(email_normalized: str) -> bool:
    """Whether this mailbox unsubscribed (and has not opted in again since)."""
    key = _existing_key()
    if key is None:
        return False
    found = db.session.scalar(
        db.select(MailSuppression.mailbox_hash).where(MailSuppression.mailbox_hash == mailbox_hash(email_normalized, key))
    )
    return found is not None


def suppressed_among(emails_normalized: Iterable[str]) -> set[str]:
    """Which of these mailboxes unsubscribed (one query for a batch)."""
    key = _existing_key()
    if key is None:
        return set()
    by_hash = {mailbox_hash(email, key): email for email in emails_normalized}
    if not by_hash:
        return set()
    found = db.session.scalars(
        db.select(MailSuppression.mailbox_hash).where(MailSuppression.mailbox_hash.in_(list(by_hash)))
    )
    return {by_hash[value] for value in found}


def consent_values(wants_updates: bool, email_normalized: str | None) -> dict:
    """A new record's consent columns: the tick counts unless the mailbox unsubscribed before."""
    consent = bool(wants_updates and email_normalized and not is_suppressed(email_normalized))
    return {"wants_updates": consent, "updates_consented_at": utcnow() if consent else None}


def unsubscribe_token(kind: str, record_id: int, email_normalized: str, key: bytes | None = None) -> str:
    """The signed, long-lived token of an unsubscribe link for a message sent for this record."""
    return make_token(TOKEN_PURPOSE, {"k": kind, "i": record_id, "m": mailbox_hash(email_normalized, key)})


@dataclass
class Mailbox:
    """Whom an unsubscribe link stands for."""

    mailbox_hash: str
    #: The record the link names ("s" signature, "p" pledge) and its id.
    kind: str
    record_id: int
    #: The normalised email, when the record the link names still holds it.
    email_normalized: str | None
    language: str
    suppressed: bool


def read_link(token: str) -> Mailbox:
    """The mailbox of an unsubscribe token; raises ``TokenInvalid`` (it never expires)."""
    payload = read_token(TOKEN_PURPOSE, token, None)
    if not isinstance(payload, dict) or payload.get("k") not in KINDS or not isinstance(payload.get("i"), int):
        raise _invalid()
    hashed = payload.get("m")
    if not isinstance(hashed, str) or len(hashed) != 64:
        raise _invalid()
    model = KINDS[payload["k"]]
    record = db.session.get(model, payload["i"])
    email = None
    language = "en"
    key = _existing_key()
    # The record must still be this mailbox's: ids of erased rows mean nothing.
    if record is not None and record.email_normalized and key is not None and hmac.compare_digest(
        mailbox_hash(record.email_normalized, key), hashed
    ):
        email = record.email_normalized
        language = record.language or "en"
    suppressed = db.session.get(MailSuppression, hashed) is not None
    return Mailbox(
        mailbox_hash=hashed,
        kind=payload["k"],
        record_id=payload["i"],
        email_normalized=email,
        language=language,
        suppressed=suppressed,
    )


def _invalid() -> TokenInvalid:
    return TokenInvalid("link not valid")


@dataclass
class UnsubscribeResult:
    """What an unsubscribe changed."""

    mailbox: Mailbox
    consents_withdrawn: int = 0
    queued_removed: int = 0


def unsubscribe(token: str) -> UnsubscribeResult:
    """Stop every update to the link's mailbox: consents withdrawn, suppression added; caller commits.

    Repeating it changes nothing more. Updates already queued for the mailbox are
    taken out of the queue.
    """
    mailbox = read_link(token)
    result = UnsubscribeResult(mailbox=mailbox)
    now = utcnow()
    db.session.execute(
        _insert(MailSuppression)
        .values(mailbox_hash=mailbox.mailbox_hash, created_at=now)
        .on_conflict_do_nothing(index_elements=["mailbox_hash"])
    )
    if mailbox.email_normalized:
        addresses = set()
        for model in (Signature, Pledge):
            addresses.update(
                email.lower()
                for email in db.session.scalars(
                    db.select(model.email).where(model.email_normalized == mailbox.email_normalized)
                )
                if email
            )
            result.consents_withdrawn += db.session.execute(
                update(model)
                .where(model.email_normalized == mailbox.email_normalized, model.wants_updates.is_(True))
                .values(wants_updates=False, updates_withdrawn_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
        if addresses:
            result.queued_removed = db.session.execute(
                delete(OutgoingMail)
                .where(OutgoingMail.priority == 1, func.lower(OutgoingMail.to_address).in_(sorted(addresses)))
                .execution_options(synchronize_session=False)
            ).rowcount
    mailbox.suppressed = True
    db.session.flush()
    return result


def resubscribe(token: str) -> Mailbox:
    """Undo an unsubscribe, or opt in again (a fresh, explicit consent): the suppression
    goes, and the consents it withdrew and the record the link names are consented, dated
    now; caller commits. (A confirmation email carries such a link for a signature whose
    tick was not taken because its mailbox had unsubscribed.)"""
    mailbox = read_link(token)
    now = utcnow()
    db.session.execute(delete(MailSuppression).where(MailSuppression.mailbox_hash == mailbox.mailbox_hash))
    if mailbox.email_normalized:
        for model in (Signature, Pledge):
            db.session.execute(
                update(model)
                .where(
                    model.email_normalized == mailbox.email_normalized,
                    or_(
                        model.updates_withdrawn_at.is_not(None),
                        model.id == (mailbox.record_id if KINDS[mailbox.kind] is model else -1),
                    ),
                )
                .values(wants_updates=True, updates_consented_at=now, updates_withdrawn_at=None)
                .execution_options(synchronize_session=False)
            )
    mailbox.suppressed = False
    db.session.flush()
    return mailbox
