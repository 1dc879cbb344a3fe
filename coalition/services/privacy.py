"""Personal data: erasing a supporter on request, and anonymising after the retention period.

What erasure does (the counts stay consistent with it):
- pending signatures and pledges (never counted) are deleted;
- confirmed and invalidated ones are anonymised: name, email, address, comment and
  client hash removed, the row kept. A confirmed signature therefore stays in its
  campaign's count, as an anonymous one, and no counter changes. Staff who must also
  withdraw it from the count invalidate it first;
- endorsement contacts with that email lose their name, role, email and phone (the
  organization's endorsement stays);
- queued mail to the address is deleted.
The audit log records the erasure and its numbers, never the email.

The purge after retention anonymises the signatures of campaigns closed more than
``PERSONAL_DATA_RETENTION_MONTHS`` ago, keeping their status, dates and county, so
the counts and the per-county figures stay (and the per-district ones: districts are kept too).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, func, update

from coalition.extensions import db
from coalition.models import Campaign, Endorsement, OutgoingMail, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import audit_log
from coalition.services.addresses import InvalidEmail, check_email, normalize_email
from coalition.services.texts import _


class PrivacyError(ValueError):
    """An erasure request that cannot be carried out as given."""


@dataclass
class ErasureReport:
    """What an erasure found (preview) or changed."""

    signatures_deleted: int = 0
    signatures_anonymised: int = 0
    pledges_deleted: int = 0
    pledges_anonymised: int = 0
    endorsement_contacts: int = 0
    queued_mail: int = 0

    @property
    def total(self) -> int:
        """Every record touched."""
        return sum(asdict(self).values())


def _normal_form(email: str) -> tuple[str, str]:
    try:
        address = check_email(email)
    except InvalidEmail as exc:
        raise PrivacyError(_("That is not a valid email address.")) from exc
    return address, normalize_email(address)


_SIGNATURE_ANONYMOUS = {
    "full_name": "",
    "email": None,
    "email_normalized": None,
    "zip_code": None,
    "city": None,
    "county": None,
    "state": None,
    "country": None,
    "comment": "",
    "show_publicly": False,
    "wants_updates": False,
    "updates_consented_at": None,
    "client_hash": None,
    "deliver_name": False,
    "senate_district": None,
    "assembly_district": None,
    "senate_candidates": [],
    "assembly_candidates": [],
}
#: What the retention purge keeps, so every count and figure (per county, per district) stays.
_KEPT_BY_PURGE = ("county", "state", "senate_district", "assembly_district", "senate_candidates", "assembly_candidates")
_PLEDGE_ANONYMOUS = {
    "full_name": "",
    "email": None,
    "email_normalized": None,
    "zip_code": None,
    "city": None,
    "county": None,
    "state": None,
    "country": None,
    "message": "",
    "client_hash": None,
    "senate_district": None,
    "assembly_district": None,
    "senate_candidates": [],
    "assembly_candidates": [],
}


def _count(model, *conditions) -> int:
    return db.session.scalar(db.select(func.count()).select_from(model).where(*conditions)) or 0


def preview_erasure(email: str) -> ErasureReport:
    """What erasing this email would delete or anonymise; changes nothing."""
    address, normalized = _normal_form(email)
    signatures = (Signature.email_normalized == normalized,)
    pledges = (Pledge.email_normalized == normalized,)
    return ErasureReport(
        signatures_deleted=_count(Signature, *signatures, Signature.status == "pending"),
        signatures_anonymised=_count(Signature, *signatures, Signature.status != "pending"),
        pledges_deleted=_count(Pledge, *pledges, Pledge.status == "pending"),
        pledges_anonymised=_count(Pledge, *pledges, Pledge.status != "pending"),
        endorsement_contacts=_count(Endorsement, Endorsement.contact_email_normalized == normalized),
        queued_mail=_count(OutgoingMail, func.lower(OutgoingMail.to_address) == address.lower()),
    )


def erase_supporter(email: str, staff_id: int | None) -> ErasureReport:
    """Erase everything held about this email, everywhere (see the module's notes); caller commits."""
    address, normalized = _normal_form(email)
    now = utcnow()
    report = ErasureReport()
    # Pledges first: they may point at a signature about to be deleted.
    report.pledges_deleted = db.session.execute(
        delete(Pledge).where(Pledge.email_normalized == normalized, Pledge.status == "pending")
    ).rowcount
    report.pledges_anonymised = db.session.execute(
        update(Pledge)
        .where(Pledge.email_normalized == normalized)
        .values(**_PLEDGE_ANONYMOUS, anonymized_at=now)
    ).rowcount
    report.signatures_deleted = db.session.execute(
        delete(Signature).where(Signature.email_normalized == normalized, Signature.status == "pending")
    ).rowcount
    report.signatures_anonymised = db.session.execute(
        update(Signature)
        .where(Signature.email_normalized == normalized)
        .values(**_SIGNATURE_ANONYMOUS, anonymized_at=now)
    ).rowcount
    report.endorsement_contacts = db.session.execute(
        update(Endorsement)
        .where(Endorsement.contact_email_normalized == normalized)
        .values(contact_name="", contact_role="", contact_email=None, contact_email_normalized=None, contact_phone="")
    ).rowcount
    report.queued_mail = db.session.execute(
        delete(OutgoingMail).where(func.lower(OutgoingMail.to_address) == address.lower())
    ).rowcount
    audit_log.record("privacy.erase", actor_id=staff_id, subject="supporter", details=asdict(report))
    db.session.flush()
    db.session.expire_all()
    return report


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the day clamped to the month's end)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    days_in_month = [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30,
                     31, 31, 30, 31, 30, 31][month - 1]
    return moment.replace(year=year, month=month, day=min(moment.day, days_in_month))


@dataclass
class PurgedCampaign:
    """How many signatures of one campaign were anonymised."""

    slug: str
    signatures: int


def campaigns_past_retention(months: int, now: datetime | None = None) -> list[Campaign]:
    """Campaigns that closed (or whose deadline passed) more than ``months`` months ago."""
    cutoff = months_before(now or utcnow(), months)
    ended = func.coalesce(Campaign.closed_at, Campaign.closes_at)
    return list(
        db.session.scalars(
            db.select(Campaign).where(Campaign.status != "draft", ended.is_not(None), ended < cutoff).order_by(Campaign.id)
        )
    )


#: What a consent to updates keeps through the purge: the mailbox, and the language to write in.
_MAILBOX_KEPT = ("email", "email_normalized", "wants_updates", "updates_consented_at")


def purge_personal_data(
    months: int, now: datetime | None = None, dry_run: bool = False, updates_months: int | None = None
) -> list[PurgedCampaign]:
    """Anonymise the signatures of campaigns closed more than ``months`` months ago, keeping counts.

    Status, dates, source, county and state stay, so every count and figure is unchanged.
    A confirmed signer who consented to updates keeps the mailbox (email and language,
    nothing else) until ``updates_months`` after the close (default
    ``UPDATES_RETENTION_MONTHS``), when the mailbox goes too.
    """
    now = now or utcnow()
    if updates_months is None:
        updates_months = int(current_app.config["UPDATES_RETENTION_MONTHS"])
    mailbox_cutoff = months_before(now, max(months, updates_months))
    purged = []
    values = {k: v for k, v in _SIGNATURE_ANONYMOUS.items() if k not in _KEPT_BY_PURGE}
    for campaign in campaigns_past_retention(months, now):
        conditions = (Signature.campaign_id == campaign.id, Signature.anonymized_at.is_(None))
        ended = campaign.closed_at or campaign.closes_at
        keeps_mailboxes = ended is not None and ended >= mailbox_cutoff
        consenting = (Signature.status == "confirmed", Signature.wants_updates.is_(True))
        if dry_run:
            rows = _count(Signature, *conditions)
        else:
            rows = 0
            if keeps_mailboxes:
                kept = {k: v for k, v in values.items() if k not in _MAILBOX_KEPT}
                rows += db.session.execute(
                    update(Signature).where(*conditions, *consenting).values(**kept, anonymized_at=now)
                ).rowcount
            rows += db.session.execute(update(Signature).where(*conditions).values(**values, anonymized_at=now)).rowcount
            # Mailboxes kept for updates whose time is up.
            if not keeps_mailboxes:
                db.session.execute(
                    update(Signature)
                    .where(
                        Signature.campaign_id == campaign.id,
                        Signature.anonymized_at.is_not(None),
                        Signature.email_normalized.is_not(None),
                    )
                    .values(email=None, email_normalized=None, wants_updates=False, updates_consented_at=None)
                )
            if rows:
                audit_log.record(
                    "privacy.purge",
                    actor_id=None,
                    subject=f"campaign:{campaign.id}",
                    details={"signatures": rows, "retention_months": months},
                )
        if rows:
            purged.append(PurgedCampaign(slug=campaign.slug, signatures=rows))
    db.session.flush()
    return purged
