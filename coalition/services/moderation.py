"""Signature moderation: finding signatures, invalidating (and restoring) them, one or in bulk.

An invalidated signature stops counting: invalidating a confirmed one subtracts it
from the campaign's counter in the same transaction. Bulk invalidation is previewed
first, and applied only if what it would affect has not changed since the preview.
Functions flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, update

from coalition.extensions import db
from coalition.models import Campaign, Signature
from coalition.models.types import utcnow
from coalition.services import audit_log, counting
from coalition.services.addresses import normalize_email
from coalition.services.texts import _

#: Most rows a search shows.
SEARCH_LIMIT = 100
#: Signatures on one page of the latest (before any search).
LATEST_PER_PAGE = 50


class ModerationError(ValueError):
    """A moderation action the rules refuse; the message says why."""


def search_signatures(query: str, campaign_id: int | None = None, limit: int = SEARCH_LIMIT) -> list[Signature]:
    """Signatures whose email or name matches ``query`` (an email matches its normal form too)."""
    text = query.strip()
    if not text:
        return []
    pattern = f"%{text.lower()}%"
    conditions = [func.lower(Signature.full_name).like(pattern), func.lower(Signature.email).like(pattern)]
    if "@" in text:
        conditions.append(Signature.email_normalized == normalize_email(text))
    stmt = db.select(Signature).where(or_(*conditions))
    if campaign_id:
        stmt = stmt.where(Signature.campaign_id == campaign_id)
    return list(db.session.scalars(stmt.order_by(Signature.created_at.desc()).limit(limit)))


def latest_signatures(page: int = 1, per_page: int = LATEST_PER_PAGE) -> tuple[list[Signature], bool]:
    """The newest signatures, ``per_page`` at a time; and whether an older page follows."""
    page = max(page, 1)
    rows = list(
        db.session.scalars(
            db.select(Signature)
            .order_by(Signature.created_at.desc(), Signature.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    return rows[:per_page], len(rows) > per_page


def set_hidden_from_wall(signature_id: int, staff_id: int, hidden: bool) -> Signature:
    """Hide a name from the public wall (or show it again); the signature keeps counting."""
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        raise ModerationError(_("There is no such signature."))
    signature.hidden_from_wall = hidden
    audit_log.record(
        "signature.wall_hide" if hidden else "signature.wall_show",
        actor_id=staff_id,
        subject=f"signature:{signature_id}",
        details={"campaign_id": signature.campaign_id},
    )
    db.session.flush()
    return signature


def invalidate_signature(signature_id: int, staff_id: int, reason: str) -> Signature:
    """Invalidate one signature (pending or confirmed); a confirmed one stops counting."""
    reason = reason.strip()
    if not reason:
        raise ModerationError(_("Give a reason."))
    signature = db.session.get(Signature, signature_id)
    if signature is None:
        raise ModerationError(_("There is no such signature."))
    was = signature.status
    if was == "invalidated":
        raise ModerationError(_("This signature is already invalidated."))
    # Conditional update: two staff members clicking at once subtract it once.
    changed = db.session.execute(
        update(Signature)
        .where(Signature.id == signature_id, Signature.status == was)
        .values(status="invalidated", invalidated_at=utcnow(), invalidation_reason=reason[:200])
    ).rowcount
    if not changed:
        raise ModerationError(_("This signature changed meanwhile; look again."))
    if was == "confirmed":
        counting.add_to_signature_count(signature.campaign_id, -1)
    audit_log.record(
        "signature.invalidate",
        actor_id=staff_id,
        subject=f"signature:{signature_id}",
        details={"campaign_id": signature.campaign_id, "was": was},
    )
    db.session.flush()
    db.session.refresh(signature)
    return signature


def restore_signature(signature_id: int, staff_id: int) -> Signature:
    """Undo an invalidation: back to confirmed (and counted) if it had been confirmed, else pending."""
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.status != "invalidated":
        raise ModerationError(_("Only an invalidated signature can be restored."))
    status = "confirmed" if signature.confirmed_at else "pending"
    changed = db.session.execute(
        update(Signature)
        .where(Signature.id == signature_id, Signature.status == "invalidated")
        .values(status=status, invalidated_at=None, invalidation_reason=None)
    ).rowcount
    if changed and status == "confirmed":
        counting.add_to_signature_count(signature.campaign_id, 1)
    audit_log.record(
        "signature.restore",
        actor_id=staff_id,
        subject=f"signature:{signature_id}",
        details={"campaign_id": signature.campaign_id, "now": status},
    )
    db.session.flush()
    db.session.refresh(signature)
    return signature


@dataclass(frozen=True)
class BulkCriteria:
    """Which signatures of a campaign a bulk invalidation takes; at least one of the three."""

    campaign_id: int
    #: Email domain, e.g. ``mailinator.com`` (matched on the normalised email).
    email_domain: str = ""
    #: The keyed hash of a client address, as shown on the signature search.
    client_hash: str = ""
    #: Signed within this window (UTC).
    signed_from: datetime | None = None
    signed_until: datetime | None = None

    def check(self) -> None:
        """Raise ``ModerationError`` unless at least one criterion narrows the campaign."""
        if not (self.email_domain.strip() or self.client_hash.strip() or self.signed_from or self.signed_until):
            raise ModerationError(
                _("Give an email domain, a client address hash or a time window: not the whole campaign.")
            )
        if self.signed_from and self.signed_until and self.signed_until <= self.signed_from:
            raise ModerationError(_("The end of the time window is before its start."))

    def as_details(self) -> dict:
        """The criteria as plain values for the audit log (a domain is not personal data)."""
        return {
            "campaign_id": self.campaign_id,
            "email_domain": self.email_domain.strip().lower().lstrip("@") or None,
            "client_hash": self.client_hash.strip() or None,
            "from": self.signed_from.isoformat() if self.signed_from else None,
            "until": self.signed_until.isoformat() if self.signed_until else None,
        }

    def conditions(self) -> list:
        """The WHERE conditions, excluding signatures already invalidated."""
        conditions = [Signature.campaign_id == self.campaign_id, Signature.status != "invalidated"]
        domain = self.email_domain.strip().lower().lstrip("@")
        if domain:
            conditions.append(Signature.email_normalized.endswith("@" + domain, autoescape=True))
        if self.client_hash.strip():
            conditions.append(Signature.client_hash == self.client_hash.strip())
        if self.signed_from:
            conditions.append(Signature.created_at >= self.signed_from)
        if self.signed_until:
            conditions.append(Signature.created_at < self.signed_until)
        return conditions


@dataclass(frozen=True)
class BulkPreview:
    """How many signatures a bulk invalidation would affect."""

    confirmed: int
    pending: int

    @property
    def total(self) -> int:
        """All signatures affected."""
        return self.confirmed + self.pending


#: How many of the signatures a bulk invalidation would take its preview lists.
BULK_SAMPLE = 50


def bulk_invalidation_sample(criteria: BulkCriteria, limit: int = BULK_SAMPLE) -> list[Signature]:
    """The first signatures (oldest first) that ``criteria`` would invalidate, for staff to look at."""
    criteria.check()
    return list(
        db.session.scalars(
            db.select(Signature).where(*criteria.conditions()).order_by(Signature.created_at, Signature.id).limit(limit)
        )
    )


def preview_bulk_invalidation(criteria: BulkCriteria) -> BulkPreview:
    """Count what ``criteria`` would invalidate, changing nothing."""
    criteria.check()
    counts = dict(
        db.session.execute(
            db.select(Signature.status, func.count()).where(*criteria.conditions()).group_by(Signature.status)
        ).all()
    )
    return BulkPreview(confirmed=counts.get("confirmed", 0), pending=counts.get("pending", 0))


def bulk_invalidate(criteria: BulkCriteria, staff_id: int, reason: str, expected: BulkPreview) -> BulkPreview:
    """Invalidate what ``criteria`` matches, if it is still what the preview showed."""
    reason = reason.strip()
    if not reason:
        raise ModerationError(_("Give a reason."))
    current = preview_bulk_invalidation(criteria)
    if current != expected:
        raise ModerationError(_("The signatures matching changed since the preview; check the new numbers."))
    now = utcnow()
    values = {"status": "invalidated", "invalidated_at": now, "invalidation_reason": reason[:200]}
    confirmed = db.session.execute(
        update(Signature)
        .where(*criteria.conditions(), Signature.status == "confirmed")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    pending = db.session.execute(
        update(Signature)
        .where(*criteria.conditions(), Signature.status == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    counting.add_to_signature_count(criteria.campaign_id, -confirmed)
    audit_log.record(
        "signature.invalidate_bulk",
        actor_id=staff_id,
        subject=f"campaign:{criteria.campaign_id}",
        details={**criteria.as_details(), "confirmed": confirmed, "pending": pending},
    )
    db.session.flush()
    db.session.expire_all()
    return BulkPreview(confirmed=confirmed, pending=pending)


def campaigns_for_moderation() -> list[Campaign]:
    """Every campaign, newest first, for the moderation forms' choices."""
    return list(db.session.scalars(db.select(Campaign).order_by(Campaign.id.desc())))
