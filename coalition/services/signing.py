"""Signing a petition: one signature per campaign and mailbox, confirmed by email.

``sign_petition`` takes plain values (parsed by the form, or read by a command), holds
every rule of what may be signed (the campaign is open, the email is real, the ZIP code
is known), saves the signature as pending, and queues the confirmation email in the same transaction,
so a mail server that is down never loses a signature: the message waits in the
queue and is retried.

Duplicates are found by the database, not by looking first: one statement,
``INSERT ... ON CONFLICT (campaign, normalised email) DO UPDATE``, writes a new signature
or, on the row that mailbox already made, claims one more confirmation email within its
limits, and returns the row either way. The constraint refuses a second row even when two
requests arrive at the same instant. Either way the signer sees the same thank-you page
(saying "already signed" would tell anyone who signed), and the two answers do the same
work, so neither does the time they take tell it (``bench/timing.py`` measures that).
A duplicate re-sends the confirmation email, a few times at most.

Counting is not done here: a signature counts only once confirmed, and the
confirmed count lives in sharded counter rows (see ``coalition.services.counting``
for why shards rather than one counter row or ``COUNT(*)``), changed by
``coalition.services.confirmations`` in the confirming transaction.

To extend (pledges made with the signature, for example): add the records in
``sign_petition`` after the signature is written and pass them to
``confirmations.queue_signature_confirmation`` (or, for an existing signature,
``queue_confirmation_email``) with it, so one email and one link confirm them all.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import Boolean, Integer, and_, bindparam, case, delete, or_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from coalition import mail
from coalition.extensions import db
from coalition.models import Campaign, Goal, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import addresses, confirmations, districts, mailbox_limit, pledging, subscriptions
from coalition.services import campaigns as campaign_service
from coalition.tokens import new_link_key
from coalition.urls import external_url

log = logging.getLogger(__name__)

#: How many recent signers the campaign page shows, at most.
PUBLIC_SIGNERS_SHOWN = 12


class CampaignNotSignable(Exception):
    """The campaign is closed, not yet open, or not public: nothing was saved."""


class InvalidSignerDetails(ValueError):
    """Some of what the signer typed cannot be accepted: nothing was saved.

    ``fields`` names each one: ``"email"`` (not a real address), ``"zip_code"`` (not a
    US ZIP code we know); the view puts a message beside each.
    """

    def __init__(self, fields: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


@dataclass
class SignerDetails:
    """What a signer typed, parsed (present, not too long); ``sign_petition`` checks the rest."""

    full_name: str
    email: str
    zip_code: str | None = None
    #: For a signer outside the US, instead of a ZIP code.
    country: str | None = None
    comment: str = ""
    show_publicly: bool = False
    wants_updates: bool = False
    #: Agreed to have their name and city delivered to their legislators.
    deliver_name: bool = False


@dataclass
class SignResult:
    """What signing did. Views show the same page whatever it says."""

    signature_id: int
    #: True for a new signature, False when this mailbox had already signed.
    created: bool
    #: Whether an email was queued this time.
    email_queued: bool

    @property
    def signature(self) -> Signature:
        """The signature (loaded when asked for: signing itself builds no object for a new one)."""
        signature = db.session.get(Signature, self.signature_id)
        assert signature is not None  # written by this request, and never deleted by it
        return signature


def sign_petition(
    campaign: Campaign,
    details: SignerDetails,
    *,
    language: str = "en",
    client_hash: str | None = None,
    pledge_goals: Sequence[Goal] = (),
    referral: str | None = None,
    partner_id: int | None = None,
) -> SignResult:
    """Save a pending signature (or find this mailbox's existing one), queue its email.

    Raises ``CampaignNotSignable`` for a campaign that is not open, and
    ``InvalidSignerDetails`` naming each field that is not acceptable (a bad email, an
    unknown ZIP code).
    With ``pledge_goals``, the signer also pledges to support those goals (the ones the
    campaign advances): pending pledges are written beside the signature, and the one
    confirmation email confirms them all. ``referral`` (a share link's source) and
    ``partner_id`` (the partner whose embed took it) are recorded on a new signature for
    staff's counts only. The caller commits.
    """
    if not campaign_service.is_signable(campaign):
        raise CampaignNotSignable(campaign.slug)
    email, place = _checked(details)
    email_normalized = addresses.normalize_email(email)
    values = _signature_values(campaign, details, email, email_normalized, place, language, client_hash)
    values.update(referral=referral, partner_id=partner_id)
    # One statement writes a new signature or, for a mailbox that already signed, claims
    # the resend on its row: both answers then do the same work (a duplicate that cost a
    # second lookup was measurably slower, and told who had signed).
    may_send = _may_send_first(email_normalized)
    if may_send:
        # A new row counts its first email as sent; an existing one claims it in the update.
        values.update(confirmation_sends=1, last_confirmation_sent_at=values["created_at"])
    row = _upsert(values, may_send)
    created = row.link_key == values["link_key"]
    email_queued = may_send and row.last_confirmation_sent_at == values["created_at"]
    if created or row.status != "invalidated":
        pledges = _pledges_with(
            row.id, (row.zip_code, row.country), details, email, language, client_hash, campaign, pledge_goals
        )
    else:
        # An invalidated signature stays so: staff decided, and the page says nothing more.
        pledges = []
    if email_queued:
        _use_mailbox_allowance(email_normalized)
        if created or row.status == "pending":
            # The tick of a mailbox that unsubscribed: the email offers to opt in again.
            opt_in = None
            if details.wants_updates and not values["wants_updates"]:
                opt_in = subscriptions.unsubscribe_token("s", row.id, email_normalized)
            # To the address typed this time: the same mailbox, and the one asking now.
            confirmations.queue_signature_confirmation(
                email, language, row.id, row.link_key, campaign, row.full_name, pledges, opt_in_token=opt_in
            )
        elif pledges:
            # Already counted; the new pledges still need their owner's confirmation.
            confirmations.queue_confirmation_email(email, language, pledges=pledges)
        else:
            _queue_already_signed(row.full_name, campaign, email, language)
        pledging.note_confirmation_sent(pledges)
    return SignResult(signature_id=row.id, created=created, email_queued=email_queued)


def refused_fields(details: SignerDetails) -> frozenset[str]:
    """The fields signing would refuse, writing nothing: for a form to show them beside its own errors."""
    try:
        _checked(details)
    except InvalidSignerDetails as refused:
        return refused.fields
    return frozenset()


def _checked(details: SignerDetails) -> tuple[str, addresses.Place | None]:
    """The email as it will be sent and the ZIP code's place, or ``InvalidSignerDetails``."""
    refused = set()
    email = ""
    try:
        email = addresses.check_email(details.email or "")
    except addresses.InvalidEmail:
        refused.add("email")
    place = addresses.lookup_zip(details.zip_code) if details.zip_code else None
    if details.zip_code and place is None:
        refused.add("zip_code")
    if refused:
        raise InvalidSignerDetails(frozenset(refused))
    return email, place


def _signature_values(
    campaign: Campaign,
    details: SignerDetails,
    email: str,
    email_normalized: str,
    place: addresses.Place | None,
    language: str,
    client_hash: str | None,
) -> dict:
    """The new signature's row."""
    now = utcnow()
    return {
        "campaign_id": campaign.id,
        "status": "pending",
        "source": "online",
        "full_name": details.full_name,
        "email": email,
        "email_normalized": email_normalized,
        "zip_code": place.zip_code if place else None,
        "city": place.city if place else None,
        "county": place.county if place else None,
        "state": place.state if place else None,
        "country": None if place else (details.country or None),
        "comment": details.comment or "",
        "show_publicly": details.show_publicly,
        "deliver_name": details.deliver_name,
        # A mailbox that unsubscribed is not signed up again by the tick alone.
        **subscriptions.consent_values(details.wants_updates, email_normalized),
        "language": language,
        "client_hash": client_hash,
        "created_at": now,
        "confirmation_sends": 0,
        "last_confirmation_sent_at": None,
        "link_key": new_link_key(),
        **(districts.place_zip(place.zip_code, place.state) if place else districts.UNKNOWN).values(),
    }


def _upsert(values: dict, may_send: bool):
    """Insert the signature, or claim one more confirmation email on this mailbox's existing one.

    Returns the row as it now is: ``id``, ``link_key`` (the new row's own when this insert
    wrote it), ``status``, ``zip_code``, ``country``, ``full_name`` and
    ``last_confirmation_sent_at`` (``values["created_at"]`` when this request may send).

    The unique constraint on (campaign, normalised email) decides, so two simultaneous
    submissions give one row: on PostgreSQL the second waits for the first transaction and
    then updates; on SQLite writers queue (BEGIN IMMEDIATE). On the existing row the claim
    is conditional (fewer than ``MAX_CONFIRMATION_SENDS`` emails, the last one at least
    ``CONFIRMATION_RESEND_MIN_SECONDS`` ago, not invalidated, the mailbox's limit not
    reached), so concurrent duplicates cannot both pass it.
    Any other constraint that refuses the row still raises ``IntegrityError``.
    """
    now = values["created_at"]
    gap = timedelta(seconds=int(current_app.config["CONFIRMATION_RESEND_MIN_SECONDS"]))
    parameters = dict(
        values,
        may_send=may_send,
        max_sends=int(current_app.config["MAX_CONFIRMATION_SENDS"]),
        resend_after=now - gap,
        now=now,
    )
    statement = _upsert_statement(db.session.get_bind().dialect.name)
    return db.session.execute(statement, parameters).one()


@functools.cache
def _upsert_statement(dialect: str):
    # Built once, with the values passed as parameters, and no ORM object: measured, an
    # ORM insert per signature cost about 15% more CPU (bench/RESULTS.md).
    table = Signature.__table__
    insert = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    claim = and_(
        bindparam("may_send", type_=Boolean()),
        table.c.status != "invalidated",
        table.c.confirmation_sends < bindparam("max_sends", type_=Integer()),
        or_(
            table.c.last_confirmation_sent_at.is_(None),
            table.c.last_confirmation_sent_at <= bindparam("resend_after", type_=table.c.created_at.type),
        ),
    )
    return insert.on_conflict_do_update(
        index_elements=[table.c.campaign_id, table.c.email_normalized],
        set_={
            # Both read the row as it was: SET expressions see the old values.
            "confirmation_sends": case((claim, table.c.confirmation_sends + 1), else_=table.c.confirmation_sends),
            "last_confirmation_sent_at": case(
                (claim, bindparam("now", type_=table.c.created_at.type)),
                else_=table.c.last_confirmation_sent_at,
            ),
        },
    ).returning(
        table.c.id,
        table.c.link_key,
        table.c.status,
        table.c.zip_code,
        table.c.country,
        table.c.full_name,
        table.c.last_confirmation_sent_at,
    )


def _may_send_first(email_normalized: str) -> bool:
    """Whether a new signature's first confirmation email may go (the mailbox limit; consumes nothing)."""
    if int(current_app.config["MAX_CONFIRMATION_SENDS"]) < 1:
        return False
    if not mailbox_has_allowance(email_normalized):
        log.info("email for a new signature held back: mailbox limit reached")
        return False
    return True


#: Kept under these names for the callers that knew them here.
mailbox_has_allowance = mailbox_limit.has_allowance
_use_mailbox_allowance = mailbox_limit.use_allowance


def _pledges_with(
    signature_id: int,
    place: tuple[str | None, str | None],
    details: SignerDetails,
    email: str,
    language: str,
    client_hash: str | None,
    campaign: Campaign,
    goals: Sequence[Goal],
) -> list[Pledge]:
    """Pending pledges for the goals ticked on the sign form (only goals the campaign advances)."""
    advanced = {goal.id for goal in campaign.goals}
    chosen = [goal for goal in goals if goal.id in advanced]
    if not chosen:
        return []
    supporter = pledging.Supporter(
        full_name=details.full_name,
        email=email,
        zip_code=place[0],
        country=None if place[0] else (details.country or place[1]),
        language=language,
        client_hash=client_hash,
    )
    # The sign form offers each goal with its first action, and says so: that is the one recorded.
    goal_actions = [(goal, [action.key] if (action := pledging.first_action(goal)) else []) for goal in chosen]
    result = pledging.create_pending_pledges(goal_actions, supporter, signature_id=signature_id)
    return result.to_confirm


def _queue_already_signed(full_name: str, campaign: Campaign, email: str, language: str) -> None:
    """Tell the owner of a confirmed signature that it already counts (its send was claimed)."""
    locale = language if language in current_app.config["LANGUAGES"] else "en"
    words = (full_name or "").split()
    with force_locale(locale):
        subject = _("You have already signed")
        body = render_template(
            "email/already_signed.txt",
            name=words[0] if words else "",
            campaign=campaign,
            link=external_url("petitions.campaign", language=locale, slug=campaign.slug),
        )
    mail.queue_mail(email, subject, body, language=locale)


@dataclass(frozen=True)
class PublicSigner:
    """What the campaign page may show of a signer: a first name and a place, no more."""

    first_name: str
    place: str


#: What a first name on the public wall may not contain: links, handles, formulas, sums.
_NOT_A_NAME = re.compile(r"[=+@]|http|www\.", re.IGNORECASE)
#: The longest first name the wall shows.
WALL_NAME_MAX = 30


def shown_on_wall(first_name: str) -> bool:
    """Whether a first name may appear on the wall: no ``=``, ``+``, ``@``, ``http`` or
    ``www.``, not digits only, at most 30 characters. The signature counts either way."""
    return bool(first_name) and len(first_name) <= WALL_NAME_MAX and not first_name.isdigit() and not _NOT_A_NAME.search(first_name)


def public_signers(campaign_id: int, limit: int = PUBLIC_SIGNERS_SHOWN) -> list[PublicSigner]:
    """The most recent confirmed signers who chose to be shown, whose first name the wall
    may show and whom staff have not hidden: first name and city only."""
    rows = db.session.execute(
        db.select(Signature.full_name, Signature.city, Signature.country)
        .where(
            Signature.campaign_id == campaign_id,
            Signature.status == "confirmed",
            Signature.show_publicly.is_(True),
            Signature.hidden_from_wall.is_(False),
            Signature.anonymized_at.is_(None),
        )
        .order_by(Signature.confirmed_at.desc(), Signature.id.desc())
        .limit(limit)
    )
    signers = []
    for full_name, city, country in rows:
        words = (full_name or "").split()
        if words and shown_on_wall(words[0]):
            signers.append(PublicSigner(first_name=words[0], place=city or country or ""))
    return signers


def purge_unconfirmed(older_than: timedelta) -> int:
    """Delete online signatures still pending after ``older_than``; return how many (the caller commits)."""
    cutoff = utcnow() - older_than
    removed = db.session.execute(
        delete(Signature)
        .where(Signature.status == "pending", Signature.source == "online", Signature.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    return int(removed or 0)
