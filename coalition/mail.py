"""Outgoing mail: queued in the database with what it is about, then sent.

A message is written to ``outgoing_mail`` in the same transaction as the signature
(or pledge, or endorsement) it concerns, so a mail server that is down never loses
anything: the message waits and is retried with back-off. A sender claims each
message before sending it, so several processes never send the same one twice.

With ``MAIL_URL`` empty (development), messages are written as ``.eml`` files to
``OUTBOX_DIR`` instead of being sent.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import threading
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app
from sqlalchemy import delete, or_, true, update

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import OutgoingMail
from coalition.models.types import utcnow

log = logging.getLogger(__name__)

#: How long a sender may take with one message before another may claim it.
CLAIM_SECONDS = 120
#: Delay before the n-th retry: 1, 2, 4 ... minutes, at most an hour.
MAX_BACKOFF_SECONDS = 3600


def queue_mail(to_address: str, subject: str, body_text: str) -> OutgoingMail:
    """Add a message to the queue in the current transaction (the caller commits)."""
    message = OutgoingMail(to_address=to_address, subject=subject, body_text=body_text)
    db.session.add(message)
    return message


def _build_message(row: OutgoingMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost")
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(row.body_text)
    return message


def _deliver(message: EmailMessage, row_id: int) -> None:
    """Hand one message to the SMTP server, or write it to the outbox."""
    url = current_app.config.get("MAIL_URL") or ""
    if not url:
        outbox = current_app.config["OUTBOX_DIR"]
        os.makedirs(outbox, exist_ok=True)
        # Row ids are reused once sent mail is deleted, so the name carries a random part.
        name = f"{utcnow():%Y%m%d-%H%M%S}-{row_id:08d}-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(outbox, name), "wb") as handle:
            handle.write(bytes(message))
        return
    parts = urlsplit(url)
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
    with client:
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)


def _claim(row_id: int, waiting_too: bool = False) -> bool:
    """Claim a due message (or, with ``waiting_too``, any queued one); False if another sender has it."""
    now = utcnow()
    due = true() if waiting_too else OutgoingMail.next_attempt_at <= now
    with write_intent():
        result = db.session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == row_id,
                due,
                or_(OutgoingMail.locked_until.is_(None), OutgoingMail.locked_until < now),
            )
            .values(locked_until=now + timedelta(seconds=CLAIM_SECONDS))
        )
        db.session.commit()
    return result.rowcount == 1


def send_pending_mail(limit: int = 100, *, waiting_too: bool = False) -> tuple[int, int]:
    """Send due messages; return (sent, failed). Failures are retried later with back-off.

    ``waiting_too`` also sends messages still waiting out their back-off: for a person
    who knows the mail server is back and asks for the queue to go now.
    """
    sender = current_app.config["MAIL_FROM"]
    query = db.select(OutgoingMail.id)
    if not waiting_too:
        query = query.where(OutgoingMail.next_attempt_at <= utcnow())
    due_ids = list(
        db.session.execute(query.order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(limit)).scalars()
    )
    db.session.rollback()
    sent = failed = 0
    for row_id in due_ids:
        if not _claim(row_id, waiting_too):
            continue
        row = db.session.get(OutgoingMail, row_id)
        if row is None:
            db.session.rollback()
            continue
        message = _build_message(row, sender)
        to_address, attempts = row.to_address, row.attempts + 1
        # End the read transaction before talking to the mail server: on SQLite a
        # read transaction that later writes fails at once ("database is locked") if
        # another process wrote meanwhile, which would leave the message claimed and,
        # after a successful send, not removed (and so sent twice).
        db.session.rollback()
        try:
            _deliver(message, row_id)
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            failed += 1
            # A server that refuses connections will refuse the next message too.
            server_down = isinstance(exc, (OSError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected))
            delay = min(MAX_BACKOFF_SECONDS, 60 * 2 ** (attempts - 1))
            with write_intent():
                db.session.execute(
                    update(OutgoingMail)
                    .where(OutgoingMail.id == row_id)
                    .values(
                        attempts=attempts,
                        next_attempt_at=utcnow() + timedelta(seconds=delay),
                        locked_until=None,
                        last_error=f"{exc.__class__.__name__}: {str(exc)[:300]}".replace(to_address, "<to>"),
                    )
                )
                db.session.commit()
            log.warning("mail %s not sent (attempt %s), retrying in %ss: %s", row_id, attempts, delay, exc.__class__.__name__)
            if server_down:
                break
            continue
        with write_intent():
            db.session.execute(delete(OutgoingMail).where(OutgoingMail.id == row_id))
            db.session.commit()
        sent += 1
    return sent, failed


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
        while True:
            self._wake.wait(timeout=60)
            self._wake.clear()
            with app.app_context():
                try:
                    send_pending_mail()
                except Exception:  # keep the thread alive; the next wake retries
                    log.exception("mail sender failed")
                finally:
                    db.session.remove()


_sender = _BackgroundSender()


def wake_sender() -> None:
    """Ask for queued mail to be sent now (call after the transaction that queued it commits).

    In the background by default, so a slow mail server never slows a page; inline
    when ``MAIL_SEND_INLINE`` is set (tests, commands).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config.get("MAIL_SEND_INLINE"):
        send_pending_mail()
    else:
        _sender.wake(app)
