"""What came of a campaign: delivered (on a date), won, lost, or closed without result.

The outcome and its short public text show on the campaign's page and in the lists;
staff can turn it into an update to the campaign's consenting signers in one step
(``outcome_update``, then the usual confirmation of ``services.updates``).
Every function flushes and leaves the commit to its caller.
"""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from coalition.extensions import db
from coalition.models import Campaign, MailUpdate
from coalition.models.campaigns import CAMPAIGN_OUTCOMES
from coalition.services import audit_log, updates
from coalition.i18n import outcome_label
from coalition.services.texts import _


class OutcomeError(ValueError):
    """The outcome cannot be recorded as given; the message says why."""


def record_outcome(
    campaign: Campaign, outcome: str | None, on: date | None, text: str, text_es: str, staff_id: int | None
) -> Campaign:
    """Record (or, with ``outcome`` None, clear) what came of a campaign."""
    if outcome is not None and outcome not in CAMPAIGN_OUTCOMES:
        raise OutcomeError(_("choose one of the outcomes"))
    if outcome == "delivered" and on is None:
        raise OutcomeError(_("give the day it was delivered"))
    if outcome is not None and not text.strip():
        raise OutcomeError(_("write a short text for the public page"))
    if campaign.status == "draft" and outcome is not None:
        raise OutcomeError(_("a draft campaign has no outcome yet"))
    campaign.outcome = outcome
    campaign.outcome_on = on if outcome is not None else None
    campaign.outcome_text = text.strip() if outcome is not None else ""
    campaign.outcome_text_es = text_es.strip() if outcome is not None else ""
    db.session.flush()
    audit_log.record(
        "campaign.outcome",
        actor_id=staff_id,
        subject=f"campaign:{campaign.id}",
        details={"outcome": outcome, "on": on.isoformat() if on else None},
    )
    return campaign


def outcome_update(campaign: Campaign, staff_id: int | None) -> MailUpdate:
    """A draft update telling the campaign's consenting signers its outcome (both languages
    where the outcome's Spanish text is written)."""
    if campaign.outcome is None:
        raise OutcomeError(_("record the outcome first"))
    with force_locale("en"):
        subject = f"{campaign.title}: {outcome_label(campaign.outcome)}"
    subject_es = ""
    if campaign.outcome_text_es:
        with force_locale("es"):
            subject_es = f"{campaign.title_es or campaign.title}: {outcome_label(campaign.outcome)}"
    text = updates.UpdateText(
        subject=subject[:200],
        body=campaign.outcome_text,
        subject_es=subject_es[:200],
        body_es=campaign.outcome_text_es,
    )
    return updates.create_update(text, updates.Audience(campaign_ids=[campaign.id]), staff_id)
