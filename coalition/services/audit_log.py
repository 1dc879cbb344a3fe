"""Writing and reading the audit log of staff actions (never personal data)."""

from __future__ import annotations

from coalition.extensions import db
from coalition.models import AuditEntry


def record(action: str, *, actor_id: int | None, subject: str = "", details: dict | None = None) -> AuditEntry:
    """Add one audit entry in the current transaction (the caller commits).

    ``details`` must hold filters, counts and ids only: never an email or a name.
    """
    entry = AuditEntry(action=action, actor_id=actor_id, subject=subject, details=dict(details or {}))
    db.session.add(entry)
    return entry


def recent_entries(limit: int = 200, offset: int = 0, action_prefix: str = "") -> list[AuditEntry]:
    """The newest audit entries first, optionally only actions starting with ``action_prefix``."""
    stmt = db.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if action_prefix:
        stmt = stmt.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    return list(db.session.scalars(stmt.limit(limit).offset(offset)))
