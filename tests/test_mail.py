"""Outgoing mail: the queue, SMTP delivery, the development outbox, retries."""

from datetime import timedelta

import pytest

from coalition import mail
from coalition.services import audit_log
from coalition.extensions import db
from coalition.models import OutgoingMail
from coalition.models.types import utcnow

_wake_sender = mail.wake_sender


@pytest.fixture(autouse=True)
def sender_run_by_hand(monkeypatch):
    """These tests run the sender themselves: the hook after commit must not run it first."""
    monkeypatch.setattr(mail, "wake_sender", lambda: None)


def test_queued_mail_is_delivered_over_smtp_and_removed(mail_app, smtp_server):
    mail.queue_mail("rosa@example.org", "Please confirm", "Click the link.")
    db.session.commit()
    assert mail.send_pending_mail() == (1, 0)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "rosa@example.org"
    assert message["Subject"] == "Please confirm"
    assert "Click the link." in message.get_content()
    assert db.session.scalar(db.select(db.func.count(OutgoingMail.id))) == 0


def test_a_batch_goes_over_one_smtp_connection_and_a_refused_recipient_fails_alone(mail_app, smtp_server):
    for address in ("one@example.org", "refused@example.org", "two@example.org", "three@example.org"):
        mail.queue_mail(address, "Please confirm", "Click the link.")
    db.session.commit()
    assert mail.send_pending_mail() == (3, 1)
    assert sorted(message["To"] for message in smtp_server.messages) == [
        "one@example.org", "three@example.org", "two@example.org"
    ]
    # One connection (one client port) carried the whole batch.
    assert len(set(smtp_server.peers)) == 1
    [left] = db.session.scalars(db.select(OutgoingMail)).all()
    assert left.to_address == "refused@example.org" and left.attempts == 1
    assert "550" in left.last_error and "refused@example.org" not in left.last_error
    # The next batch opens a new connection.
    mail.queue_mail("four@example.org", "Please confirm", "Click the link.")
    db.session.commit()
    assert mail.send_pending_mail() == (1, 0)
    assert len(set(smtp_server.peers)) == 2


def test_without_mail_url_mail_goes_to_the_outbox(app):
    mail.queue_mail("ana@example.org", "Hello", "Body")
    db.session.commit()
    mail.send_pending_mail()
    files = list((__import__("pathlib").Path(app.config["OUTBOX_DIR"])).glob("*.eml"))
    assert len(files) == 1
    assert b"Subject: Hello" in files[0].read_bytes()


def test_mail_server_down_keeps_the_message_and_retries_later(app_factory, smtp_server):
    from tests.conftest import free_port

    app = app_factory(MAIL_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_TIMEOUT_SECONDS=2)
    with app.app_context():
        mail.queue_mail("a@example.org", "One", "1")
        mail.queue_mail("b@example.org", "Two", "2")
        db.session.commit()
        sent, failed = mail.send_pending_mail()
        assert (sent, failed) == (0, 1)  # stops at the first refused connection
        rows = db.session.scalars(db.select(OutgoingMail).order_by(OutgoingMail.id)).all()
        assert len(rows) == 2
        assert rows[0].attempts == 1 and rows[0].next_attempt_at > utcnow()
        assert "a@example.org" not in rows[0].last_error
        # The server is back and the retry time has come: each message goes out exactly once.
        app.config["MAIL_URL"] = smtp_server.url
        for row in rows:
            row.next_attempt_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        assert mail.send_pending_mail() == (2, 0)
        assert mail.send_pending_mail() == (0, 0)
        assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.org", "b@example.org"]


def test_a_claimed_message_is_not_sent_twice(mail_app, smtp_server):
    row = db.session.get(OutgoingMail, mail.queue_mail("c@example.org", "Once", "1"))
    db.session.commit()
    row.locked_until = utcnow() + timedelta(minutes=1)  # another sender has it
    db.session.commit()
    assert mail.send_pending_mail() == (0, 0)
    assert smtp_server.messages == []


def test_send_pending_mail_command(mail_app, smtp_server):
    mail.queue_mail("d@example.org", "Cmd", "1")
    db.session.commit()
    result = mail_app.test_cli_runner().invoke(args=["send-pending-mail"])
    assert "1 sent, 0 failed" in result.output
    assert len(smtp_server.messages) == 1


def test_sending_survives_other_writers_committing_meanwhile(app, monkeypatch):
    # A signing rush: while the sender delivers, other requests commit new rows. The
    # sender must not be left in a stale read transaction that then fails to write.
    for n in range(3):
        mail.queue_mail(f"rush{n}@example.org", "Please confirm", "Click the link.")
    db.session.commit()
    deliver = mail._Postman.deliver

    def deliver_while_others_write(postman, message, row_id):
        with db.engine.connect() as other:
            other.execute(
                db.insert(OutgoingMail).values(to_address="other@example.org", subject="Other", body_text="x")
            )
            other.commit()
        deliver(postman, message, row_id)

    monkeypatch.setattr(mail._Postman, "deliver", deliver_while_others_write)
    assert mail.send_pending_mail(limit=3) == (3, 0)
    left = db.session.scalars(db.select(OutgoingMail.to_address)).all()
    assert left == ["other@example.org"] * 3


def test_a_long_queue_goes_out_in_batches_up_to_the_limit(app):
    for n in range(mail.BATCH_SIZE * 2 + 5):
        mail.queue_mail(f"many{n}@example.org", "Hello", "Body")
    db.session.commit()
    assert mail.send_pending_mail(limit=mail.BATCH_SIZE + 10) == (mail.BATCH_SIZE + 10, 0)
    assert mail.send_pending_mail() == (mail.BATCH_SIZE - 5, 0)
    assert db.session.scalar(db.select(db.func.count(OutgoingMail.id))) == 0
    files = list((__import__("pathlib").Path(app.config["OUTBOX_DIR"])).glob("*.eml"))
    assert len(files) == mail.BATCH_SIZE * 2 + 5


def test_smtp_mail_goes_over_starttls_when_the_server_offers_it(app_factory, tmp_path, monkeypatch):
    """``smtp://`` upgrades to TLS (the server's certificate checked) before anything is sent."""
    import shutil
    import ssl
    import subprocess

    import pytest
    from aiosmtpd.controller import Controller

    from tests.conftest import _MailCollector, free_port

    if not shutil.which("openssl"):
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    handler = _MailCollector()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    controller.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts the test certificate
        app = app_factory(MAIL_URL=f"smtp://127.0.0.1:{port}")
        with app.app_context():
            mail.queue_mail("tls@example.org", "Please confirm", "Click the link.")
            db.session.commit()
            assert mail.send_pending_mail() == (1, 0)
        assert [message["To"] for message in handler.messages] == ["tls@example.org"]
    finally:
        controller.stop()


SPANISH_BODY = (
    "Hola María,\n\nGracias. Por favor, confirma que fuiste tú quien firmó «Cerrar Rikers»:\n\n"
    "https://example.org/confirm/" + "a1B2-_" * 30 + "\n\nCoalición para las Mujeres Presas\n"
)


def test_a_message_in_spanish_arrives_intact(mail_app, smtp_server):
    mail.queue_mail("rosa@example.org", "Confirmación de tu firma", SPANISH_BODY)
    db.session.commit()
    assert mail.send_pending_mail() == (1, 0)
    [message] = smtp_server.messages
    assert message["Subject"] == "Confirmación de tu firma"
    assert message["To"] == "rosa@example.org"
    assert message["From"] == mail_app.config["MAIL_FROM"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<") and message["Message-ID"].endswith(">")
    assert message.get_content_type() == "text/plain"
    assert message.get_content().replace("\r\n", "\n") == SPANISH_BODY  # SMTP sends CRLF line ends
    # Every line of the encoded message fits the limits of SMTP (the long link included).
    raw = message.as_bytes()
    assert raw.isascii() and max(len(line) for line in raw.splitlines()) <= 78


def test_a_message_to_an_address_outside_ascii_is_written_whole(app):
    import email
    import pathlib
    from email import policy

    mail.queue_mail("josé@ejemplo.org", "Confirmación", SPANISH_BODY)
    db.session.commit()
    assert mail.send_pending_mail() == (1, 0)
    [written] = pathlib.Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == "josé@ejemplo.org"
    assert message["Subject"] == "Confirmación"
    assert message.get_content() == SPANISH_BODY


def test_the_background_sender_gathers_a_rush_into_one_batch(app_factory, smtp_server, monkeypatch):
    import time

    app = app_factory(MAIL_URL=smtp_server.url, MAIL_SEND_INLINE=False, MAIL_SENDER_GATHER_SECONDS=0.5)
    monkeypatch.setattr(mail, "_sender", mail.BackgroundSender())  # a thread of this app's own
    monkeypatch.setattr(mail, "wake_sender", _wake_sender)  # woken by the hook after commit
    with app.app_context():
        for n in range(3):  # three signers, 0.1 s apart, within the gathering moment
            mail.queue_mail(f"rush{n}@example.org", "Please confirm", "Click the link.")
            db.session.commit()  # the hook after commit wakes the sender
            time.sleep(0.1)
        deadline = time.monotonic() + 10
        while len(smtp_server.messages) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(message["To"] for message in smtp_server.messages) == [
            "rush0@example.org", "rush1@example.org", "rush2@example.org"
        ]
        assert len(set(smtp_server.peers)) == 1  # one batch, over one connection
        db.session.expire_all()
        assert db.session.scalar(db.select(db.func.count(OutgoingMail.id))) == 0


def test_a_commit_that_queued_mail_sends_it_and_only_that_commit_wakes_the_sender(mail_app, smtp_server, monkeypatch):
    wakes = []

    def counted_wake():
        wakes.append(1)
        _wake_sender()

    monkeypatch.setattr(mail, "wake_sender", counted_wake)
    mail.queue_mail("rosa@example.org", "Please confirm", "Click the link.")
    assert smtp_server.messages == []  # nothing before the commit
    db.session.commit()
    assert [m["To"] for m in smtp_server.messages] == ["rosa@example.org"]  # inline, in its own session
    assert db.session.scalar(db.select(db.func.count(OutgoingMail.id))) == 0
    assert wakes == [1]
    db.session.commit()  # nothing queued since
    assert wakes == [1]


def test_mail_queued_and_rolled_back_wakes_nothing(mail_app, smtp_server, monkeypatch):
    wakes = []
    monkeypatch.setattr(mail, "wake_sender", lambda: wakes.append(1))
    mail.queue_mail("rosa@example.org", "Please confirm", "Click the link.")
    db.session.rollback()
    audit_log.record("test.nothing-queued", actor_id=None, subject="test", details={})
    db.session.commit()  # a later commit of other work does not wake the sender for the undone mail
    assert wakes == []
    assert db.session.scalar(db.select(db.func.count(OutgoingMail.id))) == 0
