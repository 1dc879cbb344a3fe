"""Staff review of endorsements: verify, reject with a reason, edit what shows.

Only a confirmed endorsement (its contact clicked the emailed link) can be verified
or rejected; a rejection keeps its reason. Every decision is written to the audit log.
Functions flush; the caller commits.
"""

from __future__ import annotations

from coalition.extensions import db
from coalition.models import Endorsement
from coalition.models.types import utcnow
from coalition.services import audit_log
from coalition.services.texts import _

#: Longest public statement, as for the organization's own.
MAX_STATEMENT = 1000


class ReviewError(ValueError):
    """A review step not allowed from the endorsement's current state."""


def _endorsement(endorsement_id: int) -> Endorsement:
    endorsement = db.session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise ReviewError(_("There is no such endorsement."))
    return endorsement


def endorsements_awaiting_review() -> list[Endorsement]:
    """Confirmed endorsements waiting for a decision, oldest first."""
    return list(
        db.session.scalars(
            db.select(Endorsement)
            .where(Endorsement.status == "confirmed")
            .order_by(Endorsement.confirmed_at, Endorsement.id)
        )
    )


def verify_endorsement(endorsement_id: int, staff_id: int) -> Endorsement:
    """Verify a confirmed endorsement: it may then show publicly (with consent)."""
    endorsement = _endorsement(endorsement_id)
    if endorsement.status != "confirmed":
        raise ReviewError(_("Only a confirmed endorsement can be verified."))
    endorsement.status = "verified"
    endorsement.reviewed_at = utcnow()
    endorsement.reviewed_by_id = staff_id
    if not endorsement.display_name:
        endorsement.display_name = endorsement.organization.name
    if not endorsement.display_statement:
        endorsement.display_statement = endorsement.statement
    audit_log.record("endorsement.verify", actor_id=staff_id, subject=f"endorsement:{endorsement.id}")
    db.session.flush()
    return endorsement


def reject_endorsement(endorsement_id: int, staff_id: int, reason: str) -> Endorsement:
    """Reject a confirmed endorsement, keeping the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError(_("Give a reason for the rejection."))
    endorsement = _endorsement(endorsement_id)
    if endorsement.status != "confirmed":
        raise ReviewError(_("Only a confirmed endorsement can be rejected."))
    endorsement.status = "rejected"
    endorsement.rejection_reason = reason[:500]
    endorsement.reviewed_at = utcnow()
    endorsement.reviewed_by_id = staff_id
    audit_log.record("endorsement.reject", actor_id=staff_id, subject=f"endorsement:{endorsement.id}")
    db.session.flush()
    return endorsement


def edit_endorsement_display(
    endorsement_id: int, staff_id: int, display_name: str, display_statement: str
) -> Endorsement:
    """Change the name and statement that show publicly (confirmed or verified endorsements)."""
    endorsement = _endorsement(endorsement_id)
    if endorsement.status not in ("confirmed", "verified"):
        raise ReviewError(_("Only a confirmed or verified endorsement can be edited."))
    display_name, display_statement = display_name.strip(), display_statement.strip()
    if not display_name:
        raise ReviewError(_("The name to show cannot be empty."))
    if len(display_name) > 200 or len(display_statement) > MAX_STATEMENT:
        raise ReviewError(_("The name or the statement is too long."))
    endorsement.display_name = display_name
    endorsement.display_statement = display_statement
    audit_log.record("endorsement.edit", actor_id=staff_id, subject=f"endorsement:{endorsement.id}")
    db.session.flush()
    return endorsement
