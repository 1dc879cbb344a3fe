"""What the mail senders do besides sending: queueing updates, a batch per pass.

Each step is a unit of work with its own commit, as a command's is: one transaction
per batch, so the database is never held for long and a restart loses at most the
batch in hand (rolled back, and queued again by the next pass).
"""

from __future__ import annotations

import logging

from coalition.database import write_intent
from coalition.extensions import db
from coalition.services import updates

log = logging.getLogger(__name__)


def queue_updates_step() -> bool:
    """Queue the next batch of an update being queued; commits; whether there may be more."""
    db.session.rollback()
    with write_intent():
        try:
            more = updates.queue_next_batch()
        except updates.QueueingTakenOver as exc:
            db.session.rollback()
            log.info("update %s: batch queued by another process", exc.args[0])
            return True
        except Exception:
            db.session.rollback()
            raise
        db.session.commit()
    return more


#: The background steps every sender runs (see ``coalition.mail.init_app``).
TASKS = [queue_updates_step]
