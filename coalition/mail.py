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
import os
import smtplib
import ssl
import threading
import time
import uuid
from datetime import timedelta
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.text import MIMEText
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, or_, true, update
from sqlalchemy.orm import Session, SessionTransaction

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import OutgoingMail
from coalition.models.types import utcnow

log = logging.getLogger(__name__)

#: How long a sender may take with one message before another may claim it.
CLAIM_SECONDS = 120
#: Messages claimed and recorded together (see ``send_pending_mail``).
BATCH_SIZE = 50
#: Delay before the n-th retry: 1, 2, 4 ... minutes, at most an hour.
MAX_BACKOFF_SECONDS = 3600


def queue_mail(to_address: str, subject: str, body_text: str) -> int:
    """Add a message to the queue in the current transaction (the caller commits); its id."""
    # One INSERT now rather than an object for the session to flush: signing queues one
    # message per signature.
    now = utcnow()
    db.session.info[_MAIL_QUEUED] = True  # the hook after commit wakes the sender
    result = db.session.execute(
        _QUEUE,
        {
            "to_address": to_address,
            "subject": subject,
            "body_text": body_text,
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    return result.inserted_primary_key[0]


#: Built once; the values are the parameters.
_QUEUE = insert(OutgoingMail.__table__)
#: Key in ``Session.info``: this transaction queued mail.
_MAIL_QUEUED = "coalition_mail_queued"


#: UTF-8 bodies in quoted-printable: readable as plain text where most of it is ASCII.
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP


def _build_message(row, sender: str) -> Message:
    """The message for a queued row (anything with to_address, subject and body_text).

    Built with the email package's classic API, which takes a quarter of the time of
    ``EmailMessage`` and its header registry (it showed in signing's profile: one
    message per signature). Addresses outside ASCII (``josé@example.org``) need the
    registry's international handling, so those messages still use ``EmailMessage``.
    """
    subject: str | Header = row.subject
    if row.to_address.isascii() and sender.isascii():
        message: Message = MIMEText(row.body_text, "plain", _UTF8_QP)
        if not subject.isascii():
            subject = Header(subject, "utf-8")
    else:
        message = EmailMessage()
        message.set_content(row.body_text)
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost")
    message["Auto-Submitted"] = "auto-generated"
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

    def deliver(self, message: Message, row_id: int) -> None:
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


def _claim_due(limit: int, waiting_too: bool = False) -> list:
    """Claim up to ``limit`` due messages (with ``waiting_too``, any queued ones).

    Found by a read, then claimed in one write transaction by a conditional update, so
    two senders never hold the same message; the messages' contents are read in that
    transaction, as plain rows.
    """
    now = utcnow()
    due = true() if waiting_too else OutgoingMail.next_attempt_at <= now
    unclaimed = or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now)
    # Looked for first without the write lock: when several senders wake together,
    # those that find nothing left never queue for it.
    db.session.rollback()
    due_ids = list(
        db.session.execute(
            db.select(OutgoingMail.id)
            .where(due, unclaimed)
            .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            .limit(limit)
        ).scalars()
    )
    db.session.rollback()  # a read transaction left open could not take the write lock
    if not due_ids:
        return []
    with write_intent():
        # One conditional UPDATE claims them all; RETURNING says which it got, so two
        # senders never hold the same message.
        claimed = list(
            db.session.execute(
                update(OutgoingMail)
                .where(OutgoingMail.id.in_(due_ids), due, unclaimed)
                .values(locked_until=now + timedelta(seconds=CLAIM_SECONDS))
                .returning(OutgoingMail.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        rows = []
        if claimed:
            rows = db.session.execute(
                db.select(
                    OutgoingMail.id,
                    OutgoingMail.to_address,
                    OutgoingMail.subject,
                    OutgoingMail.body_text,
                    OutgoingMail.attempts,
                )
                .where(OutgoingMail.id.in_(claimed))
                .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
            ).all()
        db.session.commit()
    return rows


def _record_batch(sent_ids: list[int], failures: list[tuple], unattempted_ids: list[int]) -> None:
    """Remove the sent messages, schedule retries of the failed ones, release the rest."""
    db.session.rollback()
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
        db.session.commit()


def send_pending_mail(limit: int = 100, *, waiting_too: bool = False) -> tuple[int, int]:
    """Send due messages; return (sent, failed). Failures are retried later with back-off.

    ``waiting_too`` also sends messages still waiting out their back-off: for a person
    who knows the mail server is back and asks for the queue to go now.

    Messages are claimed, and afterwards removed, ``BATCH_SIZE`` at a time: two write
    transactions per batch instead of two per message, which is what lets the queue
    keep up with a signing rush on SQLite's single writer. A process that dies mid-batch
    leaves its messages claimed; another sender takes them after ``CLAIM_SECONDS``
    (so a message may, rarely, be sent twice; it is never lost).
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
            sent_ids: list[int] = []
            failures: list[tuple] = []
            unattempted: list[int] = []
            for row in batch:
                if server_down:
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
                sent_ids.append(row.id)
                sent += 1
            _record_batch(sent_ids, failures, unattempted)
            if len(batch) < BATCH_SIZE:
                break
    finally:
        postman.close()
    return sent, failed


#: Messages the background sender handles before looking for more.
SENDER_PASS = 100


class _BackgroundSender:
    """One thread per process that sends queued mail soon after a request queues it."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self, app: Flask) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive() or self._thread_pid != os.getpid():
                self._thread_pid = os.getpid()
                self._thread = threading.Thread(target=self._run, args=(app,), name="mail-sender", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self, app: Flask) -> None:
        gather = float(app.config.get("MAIL_SENDER_GATHER_SECONDS", 0))
        while True:
            self._wake.wait(timeout=60)
            # A moment for more mail to be queued, so a signing rush is sent in batches
            # rather than a claim and a removal (two write transactions) per message.
            time.sleep(gather)
            self._wake.clear()
            with app.app_context():
                try:
                    # A full pass may have left more behind (a rush): go on until the queue is short.
                    while sum(send_pending_mail(limit=SENDER_PASS)) >= SENDER_PASS:
                        pass
                except Exception:  # keep the thread alive; the next wake retries
                    log.exception("mail sender failed")
                finally:
                    db.session.remove()


_sender = _BackgroundSender()


def wake_sender() -> None:
    """Ask for queued mail to be sent now (the hook after commit calls this).

    In the background by default, so a slow mail server never slows a page; inline
    when ``MAIL_SEND_INLINE`` is set (tests, commands), in a fresh application context
    and so a session of its own: the caller's session may be in the middle of its commit.
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


def init_app(app: Flask) -> None:
    """Wake the mail sender after every commit that queued mail (once per process).

    Listens on Flask-SQLAlchemy's session class, which every app's ``db.session`` uses.
    """
    session_class = db.session.session_factory.class_
    if not event.contains(session_class, "after_commit", _wake_after_commit):
        event.listen(session_class, "after_commit", _wake_after_commit)
        event.listen(session_class, "after_transaction_end", _forget_after_end)
