"""Outgoing mail: queued in the database with what it is about, then sent.

A message is written to ``outgoing_mail`` in the same transaction as the signature
(or pledge, or endorsement) it concerns, so a mail server that is down never loses
anything: the message waits and is retried with back-off. A sender claims each
message before sending it, so several processes never send the same one twice.

With ``MAIL_URL`` empty (development), messages are written as ``.eml`` files to
``OUTBOX_DIR`` instead of being sent.

Nobody wakes the sender by hand: ``queue_mail`` marks the session, and a hook after
its next successful commit wakes the sender (see ``init_app``). A rollback forgets the
mark, so mail for work that was undone is never looked for.
"""

from __future__ import annotations

import logging
import math
import os
import smtplib
import ssl
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, has_app_context
from flask_babel import force_locale, gettext
from sqlalchemy import delete, event, insert, or_, true, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import MailRateLimit, MailUpdate, OutgoingMail
from coalition.models.types import utcnow

log = logging.getLogger(__name__)

#: How long a sender may take with one message before another may claim it.
CLAIM_SECONDS = 120
#: Messages claimed and recorded together (see ``send_pending_mail``). Small, because a
#: sender that dies (a killed worker) leaves its batch claimed but unrecorded, and every
#: message of that batch it had already handed over is sent again after CLAIM_SECONDS:
#: at most this many messages are ever sent twice.
BATCH_SIZE = 10
#: Delay before the n-th retry: 1, 2, 4 ... minutes, at most an hour.
MAX_BACKOFF_SECONDS = 3600


def queue_mail(
    to_address: str,
    subject: str,
    body_text: str,
    *,
    body_html: str | None = None,
    list_unsubscribe: str | None = None,
    priority: int = 0,
    update_id: int | None = None,
    language: str | None = None,
) -> int:
    """Add a message to the queue in the current transaction (the caller commits); its id.

    ``body_html`` adds an HTML alternative; ``list_unsubscribe`` (bulk mail) the
    ``List-Unsubscribe`` header and RFC 8058's ``List-Unsubscribe-Post``; ``priority``
    1 marks bulk mail, sent after every message of priority 0 and at the bulk rate;
    ``language`` (the recipient's) gives the From name in that language.
    """
    now = utcnow()
    db.session.info[_MAIL_QUEUED] = True  # the hook after commit wakes the sender
    result = db.session.execute(
        insert(OutgoingMail.__table__),
        {
            "to_address": to_address,
            "subject": subject,
            "body_text": body_text,
            "body_html": body_html,
            "list_unsubscribe": list_unsubscribe,
            "priority": priority,
            "update_id": update_id,
            "sender_name": sender_name(language),
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    return result.inserted_primary_key[0]


def queue_many(messages: list[dict]) -> None:
    """Add many messages (dicts of ``queue_mail``'s arguments) in one statement, in the
    current transaction (an update's batch)."""
    if not messages:
        return
    now = utcnow()
    db.session.info[_MAIL_QUEUED] = True  # the hook after commit wakes the sender
    defaults = {"body_html": None, "list_unsubscribe": None, "priority": 0, "update_id": None, "sender_name": None}
    db.session.execute(
        insert(OutgoingMail.__table__),
        [{**defaults, **message, "created_at": now, "next_attempt_at": now} for message in messages],
    )


#: Key in ``Session.info``: this transaction queued mail.
_MAIL_QUEUED = "coalition_mail_queued"


def sender_name(language: str | None) -> str | None:
    """The name of ``MAIL_FROM`` in ``language`` (the catalog's translation), or None where it
    is the configured one (English, or a name the catalog does not have)."""
    if not language or language == current_app.config["BABEL_DEFAULT_LOCALE"]:
        return None
    name, _address = parseaddr(current_app.config["MAIL_FROM"])
    if not name:
        return None
    with force_locale(language):
        translated = gettext(name)
    return translated if translated != name else None


def _build_message(row, sender: str) -> EmailMessage:
    """The message for a queued row (anything with to_address, subject and body_text).

    Always ``EmailMessage``: one way to build a message, which handles addresses and
    subjects outside ASCII and, for updates, the HTML alternative.
    """
    message = EmailMessage()
    name = getattr(row, "sender_name", None)
    message["From"] = Address(display_name=name, addr_spec=parseaddr(sender)[1]) if name else sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    if getattr(row, "list_unsubscribe", None):
        # RFC 8058: the mailbox provider POSTs "List-Unsubscribe=One-Click" to the https link.
        message["List-Unsubscribe"] = row.list_unsubscribe
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message["Precedence"] = "bulk"
    message.set_content(row.body_text)
    if getattr(row, "body_html", None):
        message.add_alternative(row.body_html, subtype="html")
    return message


#: The server refused this message (a recipient, its content), not the connection: the
#: rest of the batch can still go.
MESSAGE_REFUSED = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


class _Postman:
    """Delivers one batch of messages: to the outbox folder, or over one SMTP connection.

    The connection is opened for the batch's first message and kept for the rest (a
    signing rush queues many at once; a TLS handshake and login per message would cost
    more than the messages). A message the server refuses (a bad recipient, say) fails
    alone; a connection that breaks is dropped, and ``send_pending_mail`` stops the batch.
    """

    def __init__(self) -> None:
        self.url = current_app.config.get("MAIL_URL") or ""
        self.outbox = current_app.config["OUTBOX_DIR"]
        self.client: smtplib.SMTP | None = None
        self._outbox_ready = False

    def deliver(self, message: EmailMessage, row_id: int) -> None:
        """Hand one message to the SMTP server, or write it to the outbox."""
        if not self.url:
            if not self._outbox_ready:
                os.makedirs(self.outbox, exist_ok=True)
                self._outbox_ready = True
            # Row ids are reused once sent mail is deleted, so the name carries a random part.
            name = f"{utcnow():%Y%m%d-%H%M%S}-{row_id:08d}-{uuid.uuid4().hex[:8]}.eml"
            with open(os.path.join(self.outbox, name), "wb") as handle:
                handle.write(bytes(message))
            return
        if self.client is None:
            self.client = self._connect()
        try:
            self.client.send_message(message)
        except MESSAGE_REFUSED:
            raise  # smtplib has reset the transaction: the connection is still good
        except BaseException:
            self.drop()
            raise

    def _connect(self) -> smtplib.SMTP:
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        timeout = float(current_app.config.get("MAIL_TIMEOUT_SECONDS", 10))
        if parts.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parts.port or 465, timeout=timeout, context=ssl.create_default_context()
            )
        elif parts.scheme == "smtp":
            client = smtplib.SMTP(host, parts.port or 25, timeout=timeout)
        else:
            raise ValueError("COALITION_MAIL_URL must start with smtp:// or smtps://")
        try:
            if parts.scheme == "smtp":
                client.ehlo()
                if client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
        except BaseException:
            client.close()
            raise
        return client

    def drop(self) -> None:
        """Close the connection without a goodbye (it is broken, or the batch failed)."""
        if self.client is not None:
            self.client.close()
            self.client = None

    def close(self) -> None:
        """End the batch: say goodbye to the server."""
        if self.client is not None:
            try:
                self.client.quit()
            except (OSError, smtplib.SMTPException):
                pass
            self.drop()


def _due_ids(priority: int, limit: int, due, unclaimed) -> list[int]:
    return list(
        db.session.execute(
            db.select(OutgoingMail.id)
            .where(OutgoingMail.priority == priority, due, unclaimed)
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(limit)
        ).scalars()
    )


def _claim_due(limit: int, waiting_too: bool = False) -> list:
    """Claim up to ``limit`` due messages (with ``waiting_too``, any queued ones).

    A person's own messages (priority 0: confirmations, notices) first, all of them;
    bulk messages (updates) only in the room left and only as many as the shared bulk
    rate allows now (``BulkRate``). Found by a read, then claimed in one write
    transaction by a conditional update, so two senders never hold the same message;
    the messages' contents are read in that transaction, as plain rows.
    """
    now = utcnow()
    due = true() if waiting_too else OutgoingMail.next_attempt_at <= now
    unclaimed = or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now)
    # Looked for first without the write lock: when several senders wake together,
    # those that find nothing left never queue for it.
    db.session.rollback()
    own_ids = _due_ids(0, limit, due, unclaimed)
    bulk_ids = _due_ids(1, limit - len(own_ids), due, unclaimed) if len(own_ids) < limit else []
    db.session.rollback()  # a read transaction left open could not take the write lock
    if not own_ids and not bulk_ids:
        return []
    lock = {"locked_until": now + timedelta(seconds=CLAIM_SECONDS)}
    with write_intent():
        # One conditional UPDATE claims them all; RETURNING says which it got, so two
        # senders never hold the same message.
        claimed = _claim(own_ids, due, unclaimed, lock)
        if bulk_ids:
            rate = BulkRate.load()
            allowed = rate.allowance(len(bulk_ids))
            got = _claim(bulk_ids[:allowed], due, unclaimed, lock) if allowed else []
            rate.spend(len(got))
            claimed += got
        rows = []
        if claimed:
            rows = db.session.execute(
                db.select(
                    OutgoingMail.id,
                    OutgoingMail.to_address,
                    OutgoingMail.subject,
                    OutgoingMail.body_text,
                    OutgoingMail.body_html,
                    OutgoingMail.sender_name,
                    OutgoingMail.list_unsubscribe,
                    OutgoingMail.update_id,
                    OutgoingMail.attempts,
                )
                .where(OutgoingMail.id.in_(claimed))
                .order_by(OutgoingMail.priority, OutgoingMail.next_attempt_at, OutgoingMail.id)
            ).all()
        db.session.commit()
    return rows


def _claim(ids: list[int], due, unclaimed, lock: dict) -> list[int]:
    if not ids:
        return []
    return list(
        db.session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids), due, unclaimed)
            .values(**lock)
            .returning(OutgoingMail.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )


#: The one shared bulk rate's row in ``mail_rate_limits``.
BULK_RATE = "bulk"


class BulkRate:
    """``BULK_MAIL_PER_MINUTE`` for every sender on every machine: state in the database.

    The generic cell rate algorithm: each message moves the row's ``next_at`` on by one
    interval (60 s / rate); a sender may take a message while ``next_at`` is at most
    ``burst`` intervals ahead of now. Over any stretch of time T, at most
    T / interval + burst messages go. Used inside the claiming write transaction, whose
    lock on the row (SQLite's write lock; ``FOR UPDATE`` on PostgreSQL) makes senders
    take turns.
    """

    def __init__(self, next_at: datetime, per_minute: float, now: datetime) -> None:
        self.per_minute = max(float(per_minute), 0.001)
        self.interval = 60.0 / self.per_minute
        #: A second's worth at once (at least one message, at most a batch).
        self.burst = max(1, min(BATCH_SIZE, int(self.per_minute // 60)))
        self.now = now
        self.next_at = max(next_at, now)

    @classmethod
    def load(cls) -> BulkRate:
        """The shared state, locked for this transaction (made on first use)."""
        now = utcnow()
        row = db.session.execute(
            db.select(MailRateLimit.next_at).where(MailRateLimit.name == BULK_RATE).with_for_update()
        ).scalar()
        if row is None:
            db.session.execute(
                _insert_for(MailRateLimit).values(name=BULK_RATE, next_at=now).on_conflict_do_nothing(
                    index_elements=["name"]
                )
            )
            row = db.session.execute(
                db.select(MailRateLimit.next_at).where(MailRateLimit.name == BULK_RATE).with_for_update()
            ).scalar_one()
        return cls(row, current_app.config["BULK_MAIL_PER_MINUTE"], now)

    def allowance(self, wanted: int) -> int:
        """How many of ``wanted`` messages may go now."""
        ahead = (self.next_at - self.now).total_seconds()
        # Messages already granted ahead of now, in intervals (a hair of rounding forgiven).
        room = math.floor(self.burst - ahead / self.interval + 1e-9)
        return max(0, min(wanted, room))

    def spend(self, sent: int) -> None:
        """Record ``sent`` messages taken (in the caller's transaction)."""
        if sent:
            self.next_at = self.next_at + timedelta(seconds=sent * self.interval)
            db.session.execute(
                update(MailRateLimit).where(MailRateLimit.name == BULK_RATE).values(next_at=self.next_at)
            )

    def seconds_until_burst(self) -> float:
        """How long until a whole burst may go again: senders wait that long, so they
        take the bulk rate a burst at a time rather than waking for every message."""
        return max(0.0, (self.next_at - self.now).total_seconds())


def _insert_for(model):
    return (postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def _record_batch(sent_rows: list, failures: list[tuple], unattempted_ids: list[int]) -> None:
    """Remove the sent messages, schedule retries of the failed ones, release the rest;
    count an update's messages as sent (and the update as sent once none is left)."""
    db.session.rollback()
    sent_ids = [row.id for row in sent_rows]
    with write_intent():
        if sent_ids:
            db.session.execute(
                delete(OutgoingMail).where(OutgoingMail.id.in_(sent_ids)).execution_options(synchronize_session=False)
            )
        for row_id, attempts, delay, error in failures:
            db.session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id == row_id)
                .values(
                    attempts=attempts,
                    next_attempt_at=utcnow() + timedelta(seconds=delay),
                    locked_until=None,
                    last_error=error,
                )
                .execution_options(synchronize_session=False)
            )
        if unattempted_ids:
            db.session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id.in_(unattempted_ids))
                .values(locked_until=None)
                .execution_options(synchronize_session=False)
            )
        for update_id, count in Counter(row.update_id for row in sent_rows if row.update_id).items():
            db.session.execute(
                update(MailUpdate)
                .where(MailUpdate.id == update_id)
                .values(sent_count=MailUpdate.sent_count + count)
                .execution_options(synchronize_session=False)
            )
            finish_update_if_done(update_id)
        db.session.commit()


def finish_update_if_done(update_id: int) -> None:
    """Mark an update sent once it is all queued and none of its messages is left (no commit)."""
    left = db.select(OutgoingMail.id).where(OutgoingMail.update_id == update_id).exists()
    db.session.execute(
        update(MailUpdate)
        .where(MailUpdate.id == update_id, MailUpdate.status == "sending", ~left)
        .values(status="sent", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def bulk_wait_seconds() -> float | None:
    """How long until the bulk rate allows a burst again, when bulk mail is waiting; else None."""
    db.session.rollback()
    now = utcnow()
    waiting = db.session.execute(
        db.select(OutgoingMail.id)
        .where(
            OutgoingMail.priority == 1,
            OutgoingMail.next_attempt_at <= now,
            or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now),
        )
        .limit(1)
    ).first()
    if waiting is None:
        db.session.rollback()
        return None
    next_at = db.session.scalar(db.select(MailRateLimit.next_at).where(MailRateLimit.name == BULK_RATE)) or now
    db.session.rollback()
    return BulkRate(next_at, current_app.config["BULK_MAIL_PER_MINUTE"], now).seconds_until_burst()


def send_pending_mail(
    limit: int = 100, *, waiting_too: bool = False, should_stop: Callable[[], bool] | None = None
) -> tuple[int, int]:
    """Send due messages; return (sent, failed). Failures are retried later with back-off.

    ``waiting_too`` also sends messages still waiting out their back-off: for a person
    who knows the mail server is back and asks for the queue to go now.

    Messages are claimed, and afterwards removed, ``BATCH_SIZE`` at a time: two write
    transactions per batch instead of two per message, which is what lets the queue
    keep up with a signing rush on SQLite's single writer. A process that dies mid-batch
    leaves its messages claimed; another sender takes them after ``CLAIM_SECONDS``
    (so a message may, rarely, be sent twice; it is never lost). ``should_stop`` is
    asked before each message: once it says yes (a graceful shutdown), the rest of the
    batch is released unsent and recorded with what was sent, so nothing is sent twice.
    """
    sender = current_app.config["MAIL_FROM"]
    sent = failed = 0
    server_down = False
    postman = _Postman()
    try:
        while not server_down and sent + failed < limit:
            batch = _claim_due(min(BATCH_SIZE, limit - sent - failed), waiting_too)
            if not batch:
                break
            sent_rows: list = []
            failures: list[tuple] = []
            unattempted: list[int] = []
            for row in batch:
                if server_down or (should_stop is not None and should_stop()):
                    unattempted.append(row.id)
                    continue
                try:
                    postman.deliver(_build_message(row, sender), row.id)
                except (OSError, smtplib.SMTPException, ValueError) as exc:
                    failed += 1
                    # Unless the server refused only this message, the next would fail too
                    # (no connection, a broken one, our login or sender refused).
                    server_down = not isinstance(exc, MESSAGE_REFUSED)
                    attempts = row.attempts + 1
                    delay = min(MAX_BACKOFF_SECONDS, 60 * 2 ** (attempts - 1))
                    error = f"{exc.__class__.__name__}: {str(exc)[:300]}".replace(row.to_address, "<to>")
                    failures.append((row.id, attempts, delay, error))
                    log.warning(
                        "mail %s not sent (attempt %s), retrying in %ss: %s", row.id, attempts, delay, exc.__class__.__name__
                    )
                    continue
                sent_rows.append(row)
                sent += 1
            _record_batch(sent_rows, failures, unattempted)
            if unattempted or len(batch) < BATCH_SIZE:
                break
    finally:
        postman.close()
    return sent, failed


#: Messages the background sender handles before looking for more.
SENDER_PASS = 100
#: How long a sender sleeps when nothing wakes it (then it looks for due retries and
#: unfinished updates again).
IDLE_SECONDS = 60.0
#: ``app.extensions`` key of the work a sender does before sending (see ``init_app``).
BACKGROUND_TASKS = "coalition.mail_tasks"




def run_pass(should_stop: Callable[[], bool] = lambda: False) -> float:
    """One pass of a sender: a step of each background task, then the due mail.

    Returns how long to wait before the next pass: none while a task has more to do,
    until the bulk rate allows the next message while updates wait, else ``IDLE_SECONDS``.
    """
    more = False
    for task in current_app.extensions.get(BACKGROUND_TASKS, ()):
        if should_stop():
            return 0.0
        more = bool(task()) or more
    # A full pass may have left more behind (a rush): go on until the queue is short.
    while not should_stop() and sum(send_pending_mail(limit=SENDER_PASS, should_stop=should_stop)) >= SENDER_PASS:
        pass
    if more:
        return 0.0
    wait = bulk_wait_seconds()
    if wait is not None:
        return min(max(wait, 0.05), IDLE_SECONDS)
    return IDLE_SECONDS


class BackgroundSender:
    """A thread that sends queued mail (and queues updates) soon after it is woken.

    One per process: a gunicorn worker starts it when it boots and stops it when it
    exits (``gunicorn.conf.py``), and a request that queues mail wakes it. Stopping
    lets the message in hand finish and records the batch, so a graceful restart
    sends nothing twice; a killed process leaves its batch claimed, and another sender
    sends it again after ``CLAIM_SECONDS`` (at most that batch twice).
    """

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_pid: int | None = None
        self._lock = threading.Lock()

    def wake(self, app: Flask) -> None:
        """Start the thread if this process has none, and have it look for work now."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._thread_pid != os.getpid():
                self._thread_pid = os.getpid()
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(app,), name="mail-sender", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the thread to stop after the message in hand; True once it has stopped."""
        thread = self._thread
        if thread is None or self._thread_pid != os.getpid():
            return True
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, app: Flask) -> None:
        gather = float(app.config.get("MAIL_SENDER_GATHER_SECONDS", 0))
        stop = self._stop
        wait = 0.0
        while not stop.is_set():
            self._wake.wait(timeout=wait)
            # A moment for more mail to be queued, so a signing rush is sent in batches
            # rather than a claim and a removal (two write transactions) per message.
            if stop.wait(gather):
                break
            self._wake.clear()
            with app.app_context():
                try:
                    wait = run_pass(stop.is_set)
                except Exception:  # keep the thread alive; the next wake retries
                    log.exception("mail sender failed")
                    wait = IDLE_SECONDS
                finally:
                    db.session.remove()


_sender = BackgroundSender()


def start_sender(app: Flask) -> None:
    """Start this process's sender (a server worker booting), so unfinished work resumes."""
    _sender.wake(app)


def stop_sender(timeout: float | None = None) -> bool:
    """Stop this process's sender gracefully (a server worker exiting)."""
    return _sender.stop(timeout)


def wake_sender() -> None:
    """Ask for queued mail to be sent now (the hook after commit calls this).

    In the background by default, so a slow mail server never slows a page; inline
    when ``MAIL_SEND_INLINE`` is set (tests, commands), in a fresh application context
    and so a session of its own (the caller's session may be in the middle of its commit):
    then only due mail is sent, and updates are queued by a sender's pass (``run_pass``),
    never by the request.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("MAIL_SEND_INLINE"):
        # Flask-SQLAlchemy scopes sessions by application context.
        with app.app_context():
            try:
                send_pending_mail()
            except Exception:  # what was committed stays committed; the queue retries
                log.exception("mail sender failed")
    else:
        _sender.wake(app)


def _wake_after_commit(session: Session) -> None:
    # The transaction that queued mail is committed: its messages can be claimed now.
    # No SQL may be run on ``session`` here; ``wake_sender`` uses another session.
    if session.info.pop(_MAIL_QUEUED, False) and has_app_context():
        wake_sender()


def _forget_after_end(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back outer transaction queued nothing after all (a savepoint's end keeps the mark).
    if transaction.parent is None:
        session.info.pop(_MAIL_QUEUED, None)


def init_app(app: Flask, background_tasks: list[Callable[[], bool]] = ()) -> None:
    """Wake the mail sender after every commit that queued mail (once per process), and give
    the app's senders their other work: callables that each do one step and commit
    (queueing the next batch of an update) and say whether more is left.

    Listens on Flask-SQLAlchemy's session class, which every app's ``db.session`` uses.
    """
    app.extensions[BACKGROUND_TASKS] = list(background_tasks)
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "after_commit", _wake_after_commit):
        event.listen(session_class, "after_commit", _wake_after_commit)
        event.listen(session_class, "after_transaction_end", _forget_after_end)
