"""Updates by email to the supporters who asked for them.

Staff write an update (English, and Spanish where given) and choose its audience:
the confirmed, consenting signers of some campaigns and pledgers of some goals,
perhaps only in some counties. One message per mailbox (normalised email), however
many of those campaigns it signed, in the language of its most recent signature or
pledge there (English where no Spanish was written). Never to the unconfirmed, the
invalidated, the erased, paper signers without email, or a mailbox that unsubscribed.

Sending is in the background and resumable: confirming the send only marks the update
``queueing``; a sender's pass (``queue_next_batch``, one transaction per batch) writes
the next batch of messages to ``outgoing_mail`` and moves the update's cursor (the last
normalised email queued) in the same transaction, by a conditional update, so after a
restart any process takes over where the last batch ended and no mailbox is queued
twice. The messages are bulk mail (priority 1): sent after every confirmation, at
``BULK_MAIL_PER_MINUTE`` in total (``coalition.mail.BulkRate``).

Every function flushes and leaves the commit to its caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import delete, func, literal, union_all, update

from coalition import mail
from coalition.extensions import db
from coalition.formatting import render_campaign_body, render_plain_text
from coalition.models import Campaign, Goal, MailUpdate, OutgoingMail, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import audit_log, districts, subscriptions
from coalition.services.texts import _
from coalition.urls import external_url

#: Recipients written to the queue per transaction.
QUEUE_BATCH = 500
#: Stands for the recipient's own unsubscribe link in a message rendered once per batch.
_LINK_SLOT = "\x00unsubscribe-link\x00"

#: How an audience may be narrowed: the ``Audience`` field (and key in the stored
#: audience) and the column of signatures and of pledges it matches. Districts are
#: estimated from ZIP codes (or chosen by the signer); a signer between districts is in none.
NARROWING = {
    "counties": (Signature.county, Pledge.county),
    "senate_districts": (Signature.senate_district, Pledge.senate_district),
    "assembly_districts": (Signature.assembly_district, Pledge.assembly_district),
}


class UpdateError(ValueError):
    """The update cannot be changed or sent as asked; the message says why."""


@dataclass
class Audience:
    """Who an update is for: signers of these campaigns and pledgers of these goals,
    narrowed to these counties and these Senate and Assembly districts (OCD ids) when any
    are given."""

    campaign_ids: list[int] = field(default_factory=list)
    goal_ids: list[int] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)
    senate_districts: list[str] = field(default_factory=list)
    assembly_districts: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, value: dict | None) -> Audience:
        """The audience kept in ``MailUpdate.audience``."""
        value = value or {}
        return cls(
            campaign_ids=[int(v) for v in value.get("campaigns", [])],
            goal_ids=[int(v) for v in value.get("goals", [])],
            counties=[str(v) for v in value.get("counties", [])],
            senate_districts=[str(v) for v in value.get("senate_districts", [])],
            assembly_districts=[str(v) for v in value.get("assembly_districts", [])],
        )

    def to_json(self) -> dict:
        """The form kept in the database and the audit log (ids, county names, district ids only)."""
        return {
            "campaigns": sorted(self.campaign_ids),
            "goals": sorted(self.goal_ids),
            "counties": sorted(self.counties),
            "senate_districts": sorted(self.senate_districts),
            "assembly_districts": sorted(self.assembly_districts),
        }

    @property
    def empty(self) -> bool:
        """No campaign and no goal chosen."""
        return not self.campaign_ids and not self.goal_ids


def _consenting(model, owner_column, owner_ids: list[int], audience: Audience):
    narrowing = [
        columns[0 if model is Signature else 1].in_(getattr(audience, name))
        for name, columns in NARROWING.items()
        if getattr(audience, name)
    ]
    return db.select(
        model.email_normalized.label("mailbox"),
        model.email.label("email"),
        model.language.label("language"),
        literal("s" if model is Signature else "p").label("kind"),
        model.id.label("record_id"),
        model.confirmed_at.label("confirmed_at"),
    ).where(
        owner_column.in_(owner_ids),
        model.status == "confirmed",
        model.wants_updates.is_(True),
        model.email_normalized.is_not(None),
        model.email.is_not(None),
        *narrowing,
    )


def _recipients_table(audience: Audience):
    parts = []
    if audience.campaign_ids:
        parts.append(_consenting(Signature, Signature.campaign_id, audience.campaign_ids, audience))
    if audience.goal_ids:
        parts.append(_consenting(Pledge, Pledge.goal_id, audience.goal_ids, audience))
    if not parts:
        return None
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("recipients")


@dataclass(frozen=True)
class Recipient:
    """One mailbox an update goes to, and the record its unsubscribe link names."""

    mailbox: str
    email: str
    language: str
    kind: str
    record_id: int


def next_recipients(audience: Audience, after: str | None, limit: int) -> tuple[list[str], list[Recipient]]:
    """The next ``limit`` mailboxes after ``after`` (in order), and one recipient for each
    that has not unsubscribed: its most recent consenting record."""
    table = _recipients_table(audience)
    if table is None:
        return [], []
    stmt = db.select(table.c.mailbox).distinct().order_by(table.c.mailbox).limit(limit)
    if after is not None:
        stmt = stmt.where(table.c.mailbox > after)
    mailboxes = list(db.session.scalars(stmt))
    if not mailboxes:
        return [], []
    rows = db.session.execute(
        db.select(table)
        .where(table.c.mailbox.in_(mailboxes))
        .order_by(table.c.mailbox, table.c.confirmed_at.desc(), table.c.kind, table.c.record_id.desc())
    )
    chosen: dict[str, Recipient] = {}
    for row in rows:
        if row.mailbox not in chosen:
            chosen[row.mailbox] = Recipient(row.mailbox, row.email, row.language or "en", row.kind, row.record_id)
    suppressed = subscriptions.suppressed_among(chosen)
    return mailboxes, [chosen[m] for m in mailboxes if m in chosen and m not in suppressed]


def count_recipients(audience: Audience) -> int:
    """The exact number of mailboxes the update would go to now."""
    total, after = 0, None
    while True:
        mailboxes, recipients = next_recipients(audience, after, 5000)
        if not mailboxes:
            return total
        total += len(recipients)
        after = mailboxes[-1]


def districts_with_consent(chamber: str) -> list[str]:
    """The Senate ("upper") or Assembly ("lower") districts of consenting supporters, in
    number order (the choices for narrowing)."""
    ids = set()
    for model in (Signature, Pledge):
        column = model.senate_district if chamber == "upper" else model.assembly_district
        ids.update(db.session.scalars(db.select(column).where(model.wants_updates.is_(True), column.is_not(None)).distinct()))
    return sorted((ocd for ocd in ids if ocd), key=districts.number_of)


def counties_with_consent() -> list[str]:
    """The counties of consenting supporters (the choices for narrowing)."""
    names = set()
    for model in (Signature, Pledge):
        names.update(
            db.session.scalars(
                db.select(model.county).where(model.wants_updates.is_(True), model.county.is_not(None)).distinct()
            )
        )
    return sorted(name for name in names if name)


# -- Writing ------------------------------------------------------------------------


@dataclass
class UpdateText:
    """What staff write."""

    subject: str
    body: str
    subject_es: str = ""
    body_es: str = ""


def _check(text: UpdateText, audience: Audience) -> None:
    if not text.subject.strip() or not text.body.strip():
        raise UpdateError(_("an update needs a subject and a text"))
    if bool(text.subject_es.strip()) != bool(text.body_es.strip()):
        raise UpdateError(_("give both the Spanish subject and the Spanish text, or neither"))
    if audience.empty:
        raise UpdateError(_("choose at least one campaign or goal"))
    known = set(db.session.scalars(db.select(Campaign.id).where(Campaign.id.in_(audience.campaign_ids))))
    if known != set(audience.campaign_ids):
        raise UpdateError(_("one of the campaigns no longer exists"))
    known = set(db.session.scalars(db.select(Goal.id).where(Goal.id.in_(audience.goal_ids))))
    if known != set(audience.goal_ids):
        raise UpdateError(_("one of the goals no longer exists"))


def create_update(text: UpdateText, audience: Audience, staff_id: int | None) -> MailUpdate:
    """A new draft update."""
    _check(text, audience)
    item = MailUpdate(
        subject=text.subject.strip(),
        body=text.body.strip(),
        subject_es=text.subject_es.strip(),
        body_es=text.body_es.strip(),
        audience=audience.to_json(),
        status="draft",
        created_by_id=staff_id,
    )
    db.session.add(item)
    db.session.flush()
    audit_log.record("update.create", actor_id=staff_id, subject=f"update:{item.id}", details=audience.to_json())
    return item


def edit_update(item: MailUpdate, text: UpdateText, audience: Audience, staff_id: int | None) -> MailUpdate:
    """Change a draft (an update being sent or sent cannot change)."""
    if item.status != "draft":
        raise UpdateError(_("only a draft can be changed"))
    _check(text, audience)
    item.subject, item.body = text.subject.strip(), text.body.strip()
    item.subject_es, item.body_es = text.subject_es.strip(), text.body_es.strip()
    item.audience = audience.to_json()
    db.session.flush()
    audit_log.record("update.edit", actor_id=staff_id, subject=f"update:{item.id}", details=audience.to_json())
    return item


def all_updates() -> list[MailUpdate]:
    """Every update, newest first."""
    return list(db.session.scalars(db.select(MailUpdate).order_by(MailUpdate.created_at.desc(), MailUpdate.id.desc())))


# -- Rendering ----------------------------------------------------------------------


@dataclass
class RenderedUpdate:
    """An update as one recipient's email: subject, plain text and HTML."""

    language: str
    subject: str
    text: str
    html: str

    def for_link(self, link: str) -> tuple[str, str]:
        """The text and HTML with this recipient's unsubscribe link."""
        return self.text.replace(_LINK_SLOT, link), self.html.replace(_LINK_SLOT, link)


def language_of(item: MailUpdate, language: str) -> str:
    """The language a recipient who used ``language`` gets: Spanish only where written."""
    return "es" if language == "es" and item.subject_es and item.body_es else "en"


def render_update(item: MailUpdate, language: str, link: str = _LINK_SLOT, test: bool = False) -> RenderedUpdate:
    """The email of ``item`` in ``language`` (which must be written), with ``link`` to unsubscribe."""
    spanish = language == "es"
    subject = item.subject_es if spanish else item.subject
    body = item.body_es if spanish else item.body
    with force_locale(language):
        values = {"subject": subject, "link": link, "test": test, "site": external_url("public.home", language=language)}
        text = render_template("email/update.txt", body=render_plain_text(body), **values)
        html = render_template("email/update.html", body=render_campaign_body(body), lang=language, **values)
    return RenderedUpdate(language=language, subject=subject, text=text, html=html)


def unsubscribe_link(recipient: Recipient, key: bytes | None = None) -> tuple[str, str]:
    """The recipient's unsubscribe link (in their language) and its List-Unsubscribe header."""
    token = subscriptions.unsubscribe_token(recipient.kind, recipient.record_id, recipient.mailbox, key)
    language = recipient.language if recipient.language in current_app.config["LANGUAGES"] else "en"
    link = external_url("subscriptions.unsubscribe", language=language, token=token)
    header = f"<{link}>"
    mailto = current_app.config.get("UNSUBSCRIBE_MAILTO") or ""
    if mailto:
        header += f", <mailto:{mailto}?subject={quote('unsubscribe ' + token)}>"
    return link, header


# -- Sending ------------------------------------------------------------------------


def send_test(item: MailUpdate, to_address: str, staff_id: int | None) -> int:
    """Queue the update to a staff member's own address, once per written language; how many."""
    languages = ["en"] + (["es"] if item.subject_es and item.body_es else [])
    for language in languages:
        rendered = render_update(item, language, link=external_url("public.privacy", language=language), test=True)
        mail.queue_mail(to_address, "[TEST] " + rendered.subject, rendered.text, body_html=rendered.html)
    audit_log.record("update.test", actor_id=staff_id, subject=f"update:{item.id}", details={"languages": languages})
    return len(languages)


def start_sending(item: MailUpdate, staff_id: int | None) -> int:
    """Confirmed by staff: count the recipients, and leave the update for the background
    senders to queue (``queue_next_batch``); the number of recipients."""
    if item.status != "draft":
        raise UpdateError(_("this update was already sent"))
    audience = Audience.from_json(item.audience)
    recipients = count_recipients(audience)
    changed = db.session.execute(
        update(MailUpdate)
        .where(MailUpdate.id == item.id, MailUpdate.status == "draft")
        .values(status="queueing", recipients=recipients, send_started_at=utcnow(), sent_by_id=staff_id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:  # a second click, or another staff member, got there first
        raise UpdateError(_("this update was already sent"))
    audit_log.record(
        "update.send",
        actor_id=staff_id,
        subject=f"update:{item.id}",
        details={**audience.to_json(), "recipients": recipients},
    )
    db.session.flush()
    db.session.refresh(item)
    return recipients


class QueueingTakenOver(Exception):
    """Another process queued this batch first (or the update was cancelled): roll back."""


def queue_next_batch(batch_size: int = QUEUE_BATCH) -> bool:
    """Queue the next batch of the oldest update being queued; False when none is.

    The caller commits (one transaction per batch), or rolls back on ``QueueingTakenOver``.
    """
    item = db.session.scalar(
        db.select(MailUpdate).where(MailUpdate.status == "queueing").order_by(MailUpdate.id).limit(1)
    )
    if item is None:
        return False
    cursor = item.queue_cursor
    mailboxes, recipients = next_recipients(Audience.from_json(item.audience), cursor, batch_size)
    same_cursor = MailUpdate.queue_cursor.is_(None) if cursor is None else MailUpdate.queue_cursor == cursor
    guard = (MailUpdate.id == item.id, MailUpdate.status == "queueing", same_cursor)
    if not mailboxes:
        db.session.execute(
            update(MailUpdate).where(*guard).values(status="sending").execution_options(synchronize_session=False)
        )
        mail.finish_update_if_done(item.id)
        db.session.flush()
        return True
    # Taken first: a second process waits here, then finds the cursor moved.
    moved = db.session.execute(
        update(MailUpdate)
        .where(*guard)
        .values(queue_cursor=mailboxes[-1], queued_count=MailUpdate.queued_count + len(recipients))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise QueueingTakenOver(item.id)
    key = subscriptions.site_key(subscriptions.SUPPRESSION_KEY)
    rendered: dict[str, RenderedUpdate] = {}
    sender_names: dict[str, str | None] = {}
    messages = []
    for recipient in recipients:
        language = language_of(item, recipient.language)
        if language not in rendered:
            rendered[language] = render_update(item, language)
            sender_names[language] = mail.sender_name(language)
        link, header = unsubscribe_link(recipient, key)
        text, html = rendered[language].for_link(link)
        messages.append(
            {
                "to_address": recipient.email,
                "subject": rendered[language].subject,
                "body_text": text,
                "body_html": html,
                "list_unsubscribe": header,
                "priority": 1,
                "update_id": item.id,
                "sender_name": sender_names[language],
            }
        )
    mail.queue_many(messages)
    db.session.flush()
    return True


def cancel(item: MailUpdate, staff_id: int | None) -> int:
    """Stop an update being sent: what is not yet sent (or in a sender's hands) is not sent;
    returns how many messages were taken out of the queue."""
    if item.status not in ("queueing", "sending"):
        raise UpdateError(_("only an update being sent can be cancelled"))
    changed = db.session.execute(
        update(MailUpdate)
        .where(MailUpdate.id == item.id, MailUpdate.status.in_(("queueing", "sending")))
        .values(status="cancelled", cancelled_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        raise UpdateError(_("only an update being sent can be cancelled"))
    removed = db.session.execute(
        delete(OutgoingMail).where(OutgoingMail.update_id == item.id).execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(
        update(MailUpdate)
        .where(MailUpdate.id == item.id)
        .values(cancelled_count=removed)
        .execution_options(synchronize_session=False)
    )
    audit_log.record("update.cancel", actor_id=staff_id, subject=f"update:{item.id}", details={"not_sent": removed})
    db.session.flush()
    db.session.refresh(item)
    return removed


@dataclass
class Progress:
    """An update's messages: written to the queue, delivered, waiting, failing (retried)."""

    queued: int
    sent: int
    waiting: int
    failing: int
    cancelled: int


def progress(item: MailUpdate) -> Progress:
    """How far an update has gone."""
    waiting, failing = db.session.execute(
        db.select(func.count(OutgoingMail.id), func.count(OutgoingMail.id).filter(OutgoingMail.attempts > 0)).where(
            OutgoingMail.update_id == item.id
        )
    ).one()
    return Progress(
        queued=item.queued_count,
        sent=item.sent_count,
        waiting=int(waiting or 0),
        failing=int(failing or 0),
        cancelled=item.cancelled_count,
    )
