"""Outgoing mail: the queue, SMTP delivery, the development outbox, retries."""

from datetime import timedelta

from coalition import mail
from coalition.extensions import db
from coalition.models import OutgoingMail
from coalition.models.types import utcnow


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
    row = mail.queue_mail("c@example.org", "Once", "1")
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
    deliver = mail._deliver

    def deliver_while_others_write(message, row_id):
        with db.engine.connect() as other:
            other.execute(
                db.insert(OutgoingMail).values(to_address="other@example.org", subject="Other", body_text="x")
            )
            other.commit()
        deliver(message, row_id)

    monkeypatch.setattr(mail, "_deliver", deliver_while_others_write)
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
