"""Organizations' endorsements of campaigns.

The life of an endorsement:

- ``submitted``: the form was sent; the contact is emailed a link to confirm it.
- ``confirmed``: the contact used the link; staff now check the organization.
- ``verified`` (shown publicly, if the contact consented) or ``rejected`` (with a
  reason) by staff; staff may change their mind between the two.
- ``withdrawn``: the contact used the withdrawal link from the confirmation email
  (valid for a year), from any other state; it no longer shows anywhere, and staff
  cannot verify it any more.

An organization is one record across campaigns, recognized by its website's domain.
Every change of state writes an audit entry (ids only, never the contact's details).

Emailed links are bound to one submission: a link names the endorsement and when it
was submitted, so after a new submission (which replaces an unconfirmed or withdrawn
one) older links no longer work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from coalition import mail
from coalition.extensions import db
from coalition.models import AuditEntry, Campaign, Endorsement, Organization
from coalition.models.endorsements import ORGANIZATION_TYPES
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import embeds, mailbox_limit
from coalition.services.addresses import check_email, normalize_email
from coalition.services.names import name_problem
from coalition.tokens import TokenInvalid, make_token, new_link_key, read_token, reference_matches
from coalition.urls import external_url

CONFIRM_PURPOSE = "confirm-endorsement"
#: Confirmation links work for seven days, like a supporter's.
CONFIRM_MAX_AGE_SECONDS = 7 * 24 * 3600
WITHDRAW_PURPOSE = "withdraw-endorsement"
#: Withdrawal links work for a year: organizations change their minds long after.
WITHDRAW_MAX_AGE_SECONDS = 365 * 24 * 3600
#: How many times one organization's endorsement of one campaign may be (re)submitted
#: while unconfirmed or withdrawn; each submission sends an email, so this bounds them.
MAX_SUBMISSIONS = 5
STATEMENT_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 500
NAME_MAX_LENGTH = 200

#: States from which each change may happen.
WITHDRAWABLE = ("submitted", "confirmed", "verified", "rejected")
VERIFIABLE = ("confirmed", "rejected")
REJECTABLE = ("confirmed", "verified")

ORGANIZATION_TYPE_LABELS = {
    "service-provider": _l("Service provider"),
    "advocacy-group": _l("Advocacy group"),
    "faith-community": _l("Faith community"),
    "union": _l("Union"),
    "legal-services": _l("Legal services"),
    "community-group": _l("Community group"),
    "academic": _l("Academic or research"),
    "other": _l("Other"),
}

_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class EndorsementError(ValueError):
    """The endorsement cannot be taken as given (the form checks first)."""


class InvalidWebsite(EndorsementError):
    """Not an http or https address of a website."""


class EndorsementNotFound(LookupError):
    """No endorsement with that id."""


class TransitionNotAllowed(EndorsementError):
    """The endorsement's state does not allow this change."""

    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"an endorsement cannot become {wanted} from {current}")
        self.current = current
        self.wanted = wanted


@dataclass
class EndorsementDetails:
    """What the endorsement form collects (already checked by the form)."""

    organization_name: str
    website: str
    org_type: str
    locality: str
    contact_name: str
    contact_role: str
    contact_email: str
    authorized: bool
    public_consent: bool
    contact_phone: str = ""
    statement: str = ""
    language: str = "en"
    client_hash: str | None = None
    #: The organization's ZIP code (optional), which places it in Senate and Assembly districts.
    zip_code: str = ""


@dataclass
class SubmitOutcome:
    """What a submission did; the visitor sees the same page whatever it was."""

    endorsement: Endorsement
    #: Whether a confirmation email was queued.
    emailed: bool
    #: Whether the submission's details were stored (new, or replacing an unconfirmed one).
    stored: bool


@dataclass
class PublicEndorsement:
    """An endorsement as the public sees it."""

    name: str
    statement: str
    website: str
    org_type: str
    locality: str


@dataclass
class Endorser:
    """An organization on the endorsements page, with the campaigns it endorses."""

    name: str
    website: str
    org_type: str
    locality: str
    campaigns: list[Campaign] = field(default_factory=list)


# Websites and organizations


def website_address(raw: str) -> str:
    """The website as an http(s) address with a lower-case host; ``https://`` is assumed if none given.

    Raises ``InvalidWebsite`` for another scheme, a missing or malformed host, or
    an address with a user name or password in it.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidWebsite("no address")
    if "://" not in text:
        if ":" in text.split("/", 1)[0].split(".")[0]:
            raise InvalidWebsite("not http or https")  # mailto:, javascript: ...
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidWebsite("malformed address") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidWebsite("not http or https")
    if parts.username or parts.password:
        raise InvalidWebsite("address with credentials")
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise InvalidWebsite("malformed host") from exc
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        raise InvalidWebsite("malformed host")
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))


def website_domain(address: str) -> str:
    """How one organization is recognized: its website's host, lower case, without ``www.``."""
    host = urlsplit(website_address(address)).hostname or ""
    return host.removeprefix("www.")


def organization_type_label(key: str) -> str:
    """The reader's-language name of an organization type."""
    return str(ORGANIZATION_TYPE_LABELS.get(key, key))


def _organization_by_domain(domain: str) -> Organization | None:
    return db.session.execute(
        db.select(Organization).where(Organization.domain == domain)
    ).scalar_one_or_none()


def organization_for(details: EndorsementDetails) -> Organization:
    """The organization with the website's domain, created from ``details`` if new (no commit).

    The domain is unique in the database; when two submissions for a new
    organization race, the loser's insert fails and it uses the winner's record.
    """
    domain = website_domain(details.website)
    organization = _organization_by_domain(domain)
    if organization is not None:
        if details.zip_code and not organization.zip_code:
            organization.zip_code = details.zip_code[:10]
        return organization
    organization = Organization(
        domain=domain,
        name=details.organization_name.strip()[:NAME_MAX_LENGTH],
        website=website_address(details.website),
        org_type=details.org_type,
        locality=details.locality.strip()[:100],
        zip_code=details.zip_code[:10] or None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(organization)
            db.session.flush()
    except IntegrityError:
        organization = _organization_by_domain(domain)
        if organization is None:
            raise
    return organization


# Submitting, confirming, withdrawing (the contact)


def accepts_endorsements(campaign: Campaign) -> bool:
    """Whether the campaign takes endorsements now (while it takes signatures)."""
    return campaign_service.is_signable(campaign)


def _audit(action: str, endorsement: Endorsement, actor_id: int | None = None, **details) -> None:
    db.session.add(
        AuditEntry(
            actor_id=actor_id,
            action=action,
            subject=f"endorsement:{endorsement.id}",
            details={
                "campaign": endorsement.campaign_id,
                "organization": endorsement.organization_id,
                **details,
            },
        )
    )


def _submissions_so_far(endorsement_id: int) -> int:
    stmt = db.select(func.count(AuditEntry.id)).where(
        AuditEntry.subject == f"endorsement:{endorsement_id}",
        AuditEntry.action.in_(("endorsement.submit", "endorsement.resubmit")),
    )
    return db.session.execute(stmt).scalar_one()


def _check_details(details: EndorsementDetails) -> tuple[str, str]:
    if not details.authorized:
        raise EndorsementError("the contact must be authorized to endorse")
    if details.org_type not in ORGANIZATION_TYPES:
        raise EndorsementError("unknown organization type")
    if len(details.statement or "") > STATEMENT_MAX_LENGTH:
        raise EndorsementError("statement too long")
    for text in (details.organization_name, details.contact_name, details.contact_role, details.locality):
        if name_problem(text or ""):
            raise EndorsementError("a name holds a link, a line break or invisible characters")
    website_address(details.website)
    address = check_email(details.contact_email)
    return address, normalize_email(address)


def _contact_values(details: EndorsementDetails, address: str, normalized: str) -> dict:
    statement = (details.statement or "").strip()
    return {
        "contact_name": details.contact_name.strip()[:NAME_MAX_LENGTH],
        "contact_role": details.contact_role.strip()[:NAME_MAX_LENGTH],
        "contact_email": address,
        "contact_email_normalized": normalized,
        "contact_phone": (details.contact_phone or "").strip()[:40],
        "statement": statement,
        "authorized": True,
        "public_consent": bool(details.public_consent),
        "display_name": details.organization_name.strip()[:NAME_MAX_LENGTH],
        "display_statement": statement,
        "language": details.language,
        "client_hash": details.client_hash,
    }


def submit_endorsement(campaign: Campaign, details: EndorsementDetails) -> SubmitOutcome:
    """Take an endorsement: pending ("submitted") until the contact confirms by email.

    A second submission for the same organization and campaign replaces one that is
    unconfirmed or withdrawn (a few times at most) and sends a new link; one that is
    confirmed, verified or rejected is left alone and nothing is sent. The visitor
    is told the same either way. The caller commits (a new organization record is kept
    even when nothing else changed).
    """
    if not accepts_endorsements(campaign):
        raise EndorsementError("the campaign does not take endorsements now")
    address, normalized = _check_details(details)
    organization = organization_for(details)
    values = _contact_values(details, address, normalized)
    stmt = db.select(Endorsement).where(
        Endorsement.organization_id == organization.id, Endorsement.campaign_id == campaign.id
    )
    endorsement = db.session.execute(stmt).scalar_one_or_none()
    action = "endorsement.resubmit"
    if endorsement is None:
        endorsement = Endorsement(
            organization_id=organization.id, campaign_id=campaign.id, status="submitted", **values
        )
        try:
            with db.session.begin_nested():
                db.session.add(endorsement)
                db.session.flush()
            action = "endorsement.submit"
        except IntegrityError:
            endorsement = db.session.execute(stmt).scalar_one_or_none()
            if endorsement is None:
                raise
    if action == "endorsement.resubmit":
        if (
            endorsement.status not in ("submitted", "withdrawn")
            or _submissions_so_far(endorsement.id) >= MAX_SUBMISSIONS
        ):
            return SubmitOutcome(endorsement=endorsement, emailed=False, stored=False)
        for name, value in values.items():
            setattr(endorsement, name, value)
        endorsement.status = "submitted"
        endorsement.submitted_at = utcnow()
        # The links of the submission it replaces stop working.
        endorsement.link_key = new_link_key()
        endorsement.confirmed_at = None
        endorsement.withdrawn_at = None
        db.session.flush()
    _audit(action, endorsement)
    # Every email a visitor causes counts against the one limit per mailbox, whatever
    # organization (domain) the submission names.
    emailed = mailbox_limit.take_allowance(address, "endorsement confirmation")
    if emailed:
        queue_endorsement_email(endorsement)
    return SubmitOutcome(endorsement=endorsement, emailed=emailed, stored=True)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _submission_stamp(endorsement: Endorsement) -> int:
    """When this submission was made, in whole microseconds (exact, unlike a float)."""
    return (endorsement.submitted_at - _EPOCH) // timedelta(microseconds=1)


def _token_payload(endorsement: Endorsement) -> dict:
    if endorsement.link_key is None:  # submitted before link keys existed
        return {"e": endorsement.id, "v": _submission_stamp(endorsement)}
    return {"e": endorsement.id, "k": endorsement.link_key}


def _carried_key(payload: dict) -> str | None:
    key = payload.get("k")
    return key if isinstance(key, str) else None


def confirmation_token(endorsement: Endorsement) -> str:
    """The signed token of the link that confirms this submission."""
    return make_token(CONFIRM_PURPOSE, _token_payload(endorsement))


def withdrawal_token(endorsement: Endorsement) -> str:
    """The signed token of the link that withdraws this submission (valid for a year)."""
    return make_token(WITHDRAW_PURPOSE, _token_payload(endorsement))


def queue_endorsement_email(endorsement: Endorsement) -> None:
    """Queue the email with the confirmation and withdrawal links (the caller commits)."""
    db.session.flush()
    campaign = db.session.get(Campaign, endorsement.campaign_id)
    locale = endorsement.language if endorsement.language in current_app.config["LANGUAGES"] else "en"
    confirm_link = external_url("endorsements.confirm", language=locale, token=confirmation_token(endorsement))
    withdraw_link = external_url("endorsements.withdraw", language=locale, token=withdrawal_token(endorsement))
    with force_locale(locale):
        subject = _("Please confirm your organization’s endorsement")
        body = render_template(
            "email/endorsement_confirm.txt",
            endorsement=endorsement,
            campaign=campaign,
            confirm_link=confirm_link,
            withdraw_link=withdraw_link,
            days=CONFIRM_MAX_AGE_SECONDS // 86400,
        )
    mail.queue_mail(endorsement.contact_email, subject, body, language=locale)


def endorsement_from_token(purpose: str, token: str) -> Endorsement:
    """The endorsement a link names; raises ``TokenInvalid`` / ``TokenExpired`` (also for a
    link to a submission that was since replaced, or an endorsement that no longer exists)."""
    max_age = CONFIRM_MAX_AGE_SECONDS if purpose == CONFIRM_PURPOSE else WITHDRAW_MAX_AGE_SECONDS
    payload = read_token(purpose, token, max_age)
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
        raise TokenInvalid("link not valid")
    endorsement = db.session.get(Endorsement, payload["e"])
    # The link key names this submission of this endorsement, never another given the same id.
    if endorsement is None or not reference_matches(endorsement.link_key, _carried_key(payload)):
        raise TokenInvalid("link no longer valid")
    if endorsement.link_key is None and _submission_stamp(endorsement) != payload.get("v"):
        raise TokenInvalid("link no longer valid")
    return endorsement


def confirm_endorsement(token: str) -> tuple[Endorsement, bool]:
    """Confirm the submission the link names; returns it and whether this changed it (the caller commits)."""
    endorsement = endorsement_from_token(CONFIRM_PURPOSE, token)
    changed = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id, Endorsement.status == "submitted")
        .values(status="confirmed", confirmed_at=utcnow())
    ).rowcount
    if changed:
        _audit("endorsement.confirm", endorsement)
    db.session.refresh(endorsement)
    return endorsement, bool(changed)


def withdraw_endorsement(token: str) -> tuple[Endorsement, bool]:
    """Withdraw the endorsement the link names; it no longer shows anywhere (the caller commits)."""
    endorsement = endorsement_from_token(WITHDRAW_PURPOSE, token)
    before = endorsement.status
    changed = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement.id, Endorsement.status.in_(WITHDRAWABLE))
        .values(status="withdrawn", withdrawn_at=utcnow())
    ).rowcount
    if changed:
        _audit("endorsement.withdraw", endorsement, **{"from": before})
    db.session.refresh(endorsement)
    return endorsement, bool(changed)


# Staff review


def _staff_transition(
    endorsement_id: int,
    staff_id: int | None,
    allowed_from: tuple[str, ...],
    wanted: str,
    action: str,
    then: Callable[[Endorsement], None] | None = None,
    **values,
) -> Endorsement:
    endorsement = db.session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise EndorsementNotFound(endorsement_id)
    before = endorsement.status
    # Conditional, so two staff members acting at once cannot both move it.
    changed = db.session.execute(
        update(Endorsement)
        .where(Endorsement.id == endorsement_id, Endorsement.status.in_(allowed_from))
        .values(status=wanted, reviewed_at=utcnow(), reviewed_by_id=staff_id, **values)
    ).rowcount
    if not changed:  # nothing written: the caller rolls back or not, the same
        db.session.refresh(endorsement)
        raise TransitionNotAllowed(endorsement.status, wanted)
    if then is not None:
        then(endorsement)  # in the same transaction as the change
    _audit(action, endorsement, actor_id=staff_id, **{"from": before, "to": wanted})
    db.session.refresh(endorsement)
    return endorsement


def verify_endorsement(endorsement_id: int, staff_id: int | None) -> Endorsement:
    """Staff checked the organization: the endorsement shows publicly (with consent).

    Allowed from confirmed, or from rejected when staff change their mind. The contact
    gets one email saying so, the first time it is verified (the caller wakes the sender).
    """
    return _staff_transition(
        endorsement_id,
        staff_id,
        VERIFIABLE,
        "verified",
        "endorsement.verify",
        then=_queue_verified_notice_once,
        rejection_reason=None,
    )


def _queue_verified_notice_once(endorsement: Endorsement) -> None:
    told = db.session.scalar(
        db.select(AuditEntry.id)
        .where(AuditEntry.action == "endorsement.verify", AuditEntry.subject == f"endorsement:{endorsement.id}")
        .limit(1)
    )
    if told is None and endorsement.contact_email:
        queue_verified_notice(endorsement)


def queue_verified_notice(endorsement: Endorsement) -> None:
    """Queue the email telling the contact the endorsement is verified: whether it shows
    (as they agreed), where, the code that puts the petition on its own website, and the
    link to withdraw it (the caller commits)."""
    db.session.refresh(endorsement)
    campaign = db.session.get(Campaign, endorsement.campaign_id)
    locale = endorsement.language if endorsement.language in current_app.config["LANGUAGES"] else "en"
    with force_locale(locale):
        subject = _("Your organization’s endorsement is verified")
        body = render_template(
            "email/endorsement_verified.txt",
            endorsement=endorsement,
            campaign=campaign,
            campaign_link=external_url("petitions.campaign", language=locale, slug=campaign.slug),
            endorsers_link=external_url("endorsements.index", language=locale),
            withdraw_link=external_url("endorsements.withdraw", language=locale, token=withdrawal_token(endorsement)),
            embed_code=embeds.embed_snippet(endorsement, locale),
        )
    mail.queue_mail(endorsement.contact_email, subject, body, language=locale)


def reject_endorsement(endorsement_id: int, staff_id: int | None, reason: str) -> Endorsement:
    """Staff reject a confirmed or verified endorsement, saying why (never shown publicly)."""
    reason = (reason or "").strip()
    if not reason:
        raise EndorsementError("a rejection needs a reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise EndorsementError(f"the reason must be {REASON_MAX_LENGTH} characters at most")
    return _staff_transition(
        endorsement_id, staff_id, REJECTABLE, "rejected", "endorsement.reject", rejection_reason=reason
    )


def edit_endorsement_display(
    endorsement_id: int, staff_id: int | None, display_name: str, display_statement: str
) -> Endorsement:
    """Set the name and statement the public sees (the submitted ones are kept).

    Not for a withdrawn endorsement: the organization has taken it back.
    """
    display_name = (display_name or "").strip()
    display_statement = (display_statement or "").strip()
    if not display_name or len(display_name) > NAME_MAX_LENGTH:
        raise EndorsementError(f"the name must have 1 to {NAME_MAX_LENGTH} characters")
    if len(display_statement) > STATEMENT_MAX_LENGTH:
        raise EndorsementError(f"the statement must be {STATEMENT_MAX_LENGTH} characters at most")
    endorsement = db.session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise EndorsementNotFound(endorsement_id)
    if endorsement.status == "withdrawn":
        raise TransitionNotAllowed("withdrawn", "edited")
    fields = [
        name
        for name, value in (("display_name", display_name), ("display_statement", display_statement))
        if getattr(endorsement, name) != value
    ]
    endorsement.display_name = display_name
    endorsement.display_statement = display_statement
    _audit("endorsement.edit_display", endorsement, actor_id=staff_id, fields=fields)
    db.session.flush()
    return endorsement


def endorsements_awaiting_review() -> list[Endorsement]:
    """Confirmed endorsements staff have not reviewed yet, oldest confirmation first."""
    stmt = (
        db.select(Endorsement)
        .where(Endorsement.status == "confirmed")
        .options(selectinload(Endorsement.organization), selectinload(Endorsement.campaign))
        .order_by(Endorsement.confirmed_at, Endorsement.id)
    )
    return list(db.session.execute(stmt).scalars())


# What the public sees


def _shown(endorsement: Endorsement) -> PublicEndorsement:
    organization = endorsement.organization
    return PublicEndorsement(
        name=endorsement.display_name or organization.name,
        statement=endorsement.display_statement,
        website=organization.website,
        org_type=organization.org_type,
        locality=organization.locality,
    )


def _public_filter():
    return (Endorsement.status == "verified", Endorsement.public_consent.is_(True))


def public_endorsements(campaign_id: int) -> list[PublicEndorsement]:
    """A campaign's verified endorsements whose contact agreed to show them, by name."""
    stmt = (
        db.select(Endorsement)
        .where(Endorsement.campaign_id == campaign_id, *_public_filter())
        .options(selectinload(Endorsement.organization))
    )
    shown = [_shown(endorsement) for endorsement in db.session.execute(stmt).scalars()]
    return sorted(shown, key=lambda item: item.name.casefold())


def public_endorsers() -> list[Endorser]:
    """Every organization with a verified, public endorsement of a public campaign, by name."""
    stmt = (
        db.select(Endorsement)
        .join(Endorsement.campaign)
        .where(*_public_filter(), Campaign.status.in_(campaign_service.PUBLIC_STATUSES))
        .options(selectinload(Endorsement.organization), selectinload(Endorsement.campaign))
        .order_by(Endorsement.reviewed_at.desc(), Endorsement.id.desc())
    )
    endorsers: dict[int, Endorser] = {}
    for endorsement in db.session.execute(stmt).scalars():
        # The most recently verified endorsement gives the name shown.
        endorser = endorsers.get(endorsement.organization_id)
        if endorser is None:
            shown = _shown(endorsement)
            endorser = Endorser(shown.name, shown.website, shown.org_type, shown.locality)
            endorsers[endorsement.organization_id] = endorser
        endorser.campaigns.append(endorsement.campaign)
    for endorser in endorsers.values():
        endorser.campaigns.sort(key=lambda campaign: campaign.title.casefold())
    return sorted(endorsers.values(), key=lambda item: item.name.casefold())
