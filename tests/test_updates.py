"""Updates by email: the audience, both languages, the headers, the queue in the
background, the shared rate, priority of confirmations, restarts and cancelling."""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta

import pytest

from coalition import background, mail
from coalition.extensions import db
from coalition.models import AuditEntry, MailUpdate, OutgoingMail, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import subscriptions
from coalition.services import updates as update_service
from tests.conftest import login
from tests.public_forms import sign_data

TEXT = update_service.UpdateText(
    subject="We delivered your petition",
    body="On **March 3** we delivered it in Albany.\n\n- 2,500 signatures\n- [See the photos](https://example.org/photos)",
    subject_es="Entregamos su petición",
    body_es="El **3 de marzo** la entregamos en Albany.",
)


def _drain_queueing() -> None:
    """What the background senders do: queue every batch (a transaction each)."""
    while background.queue_updates_step():
        pass


def _send_all() -> None:
    while sum(mail.send_pending_mail(limit=1000)) > 0:
        pass


def _pledge(goal, email, **values):
    now = utcnow()
    values.setdefault("status", "confirmed")
    pledge = Pledge(goal_id=goal.id, full_name="P", email=email, email_normalized=email.lower(), county="Kings County",
                    confirmed_at=now if values["status"] == "confirmed" else None, **values)
    if pledge.wants_updates:
        pledge.updates_consented_at = now
    db.session.add(pledge)
    db.session.commit()
    return pledge


@pytest.fixture
def mixed_audience(app, content, make_campaign, make_signature_row):
    """Two campaigns and a goal with every kind of supporter; returns what the update is for."""
    first, second, other = make_campaign(), make_campaign(), make_campaign()
    goal = content.goals_in_order()[0]
    row = make_signature_row
    row(first, email="Rosa+petitions@example.org", wants_updates=True)
    row(second, email="rosa@example.org", wants_updates=True)  # the same mailbox, written to as last typed
    row(first, email="ana@example.org", wants_updates=True, language="es")
    row(first, email="luis@example.org")  # no consent
    row(first, email="pending@example.org", wants_updates=True, status="pending")
    row(first, email="invalid@example.org", wants_updates=True, status="invalidated")
    row(first, email=None, full_name="Paper Signer", source="paper", zip_code="10027")
    gone = row(first, email="gone@example.org", wants_updates=True)
    from coalition.services import privacy

    privacy.erase_supporter("gone@example.org", None)
    left = row(first, email="left@example.org", wants_updates=True)
    subscriptions.unsubscribe(subscriptions.unsubscribe_token("s", left.id, left.email_normalized))
    # Unsubscribed, then entered from a paper sheet whose box was ticked: still suppressed.
    row(second, email="left@example.org", wants_updates=True, source="paper")
    row(other, email="elsewhere@example.org", wants_updates=True)
    _pledge(goal, "pledger@example.org", wants_updates=True, language="es")
    _pledge(goal, "ana@example.org", wants_updates=True, language="es")  # also signed: one email
    _pledge(goal, "quiet@example.org")
    db.session.commit()
    assert gone.id
    return {"campaigns": [first.id, second.id], "goals": [goal.id]}


def _compose(client, audience, **extra):
    data = {
        "subject": TEXT.subject,
        "body": TEXT.body,
        "subject_es": TEXT.subject_es,
        "body_es": TEXT.body_es,
        "campaigns": [str(i) for i in audience["campaigns"]],
        "goals": [str(i) for i in audience["goals"]],
        **extra,
    }
    response = client.post("/staff/updates/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_an_update_reaches_exactly_the_consenting_confirmed_mailboxes_once_each_in_their_language(
    app, client, make_staff, smtp_server, mixed_audience
):
    staff = make_staff()
    login(client, staff)
    update_id = _compose(client, mixed_audience)
    preview = client.get(f"/staff/updates/{update_id}").get_data(as_text=True)
    assert "3 people" in preview and "Entregamos su petición" in preview
    confirm = client.get(f"/staff/updates/{update_id}/send").get_data(as_text=True)
    assert "It goes to 3 people." in confirm
    response = client.post(f"/staff/updates/{update_id}/send", data={"recipients": "3"})
    assert response.status_code == 302
    item = db.session.get(MailUpdate, update_id)
    # Never inside the staff member's request: the background queues it.
    assert item.status == "queueing" and item.recipients == 3
    assert db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail)) == 0
    _drain_queueing()
    _send_all()
    db.session.expire_all()
    item = db.session.get(MailUpdate, update_id)
    assert (item.status, item.queued_count, item.sent_count) == ("sent", 3, 3)
    by_address = {m["To"]: m for m in smtp_server.messages}
    assert sorted(by_address) == ["ana@example.org", "pledger@example.org", "rosa@example.org"]
    assert len(smtp_server.messages) == 3
    assert by_address["rosa@example.org"]["Subject"] == "We delivered your petition"
    assert by_address["ana@example.org"]["Subject"] == "Entregamos su petición"
    for address, message in by_address.items():
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<(http://localhost(/es)?/unsubscribe/[^>]+)>", message["List-Unsubscribe"])
        assert link, message["List-Unsubscribe"]
        assert bool(link.group(2)) == (address != "rosa@example.org")
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert link.group(1) in text and link.group(1) in html
    rosa = by_address["rosa@example.org"]
    text = rosa.get_body(("plain",)).get_content()
    assert "On March 3 we delivered it in Albany." in text
    assert "- See the photos (https://example.org/photos)" in text
    assert "<strong>March 3</strong>" in rosa.get_body(("html",)).get_content()
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="update.send"))
    assert entry.actor_id == staff.id and entry.subject == f"update:{update_id}"
    assert entry.details == {**{k: sorted(v) for k, v in mixed_audience.items()}, "counties": [], "senate_districts": [],
                             "assembly_districts": [], "recipients": 3}
    # The header's link is the one-click one.
    path = by_address["rosa@example.org"]["List-Unsubscribe"][len("<http://localhost"):-1]
    assert app.test_client(use_cookies=False).post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert subscriptions.is_suppressed("rosa@example.org")


def test_narrowing_by_county(app, client, make_staff, make_campaign, make_signature_row):
    campaign = make_campaign()
    make_signature_row(campaign, email="kings@example.org", zip_code="11216", wants_updates=True)
    make_signature_row(campaign, email="monroe@example.org", zip_code="14620", wants_updates=True)
    audience = update_service.Audience(campaign_ids=[campaign.id], counties=["Monroe County"])
    assert update_service.count_recipients(audience) == 1
    _, recipients = update_service.next_recipients(audience, None, 10)
    assert [r.email for r in recipients] == ["monroe@example.org"]


def test_narrowing_by_senate_or_assembly_district_from_the_staff_form(app, client, runner, make_staff, make_campaign,
                                                                       make_signature_row):
    from tests.test_districts import AD, SD, load_fixture_districts

    assert load_fixture_districts(runner).exit_code == 0
    campaign = make_campaign()
    make_signature_row(campaign, email="albany@example.org", zip_code="12207", wants_updates=True,
                       senate_district=SD(46), assembly_district=AD(109))
    make_signature_row(campaign, email="harlem@example.org", zip_code="10027", wants_updates=True,
                       senate_district=SD(30), assembly_district=AD(70))
    make_signature_row(campaign, email="unknown@example.org", zip_code="10027", wants_updates=True)
    login(client, make_staff())
    form = client.get("/staff/updates/new").get_data(as_text=True)
    assert "State Senate District 46" in form and "State Senate District 30" in form
    update_id = _compose(client, {"campaigns": [campaign.id], "goals": []}, senate_districts=[SD(46)])
    page = client.get(f"/staff/updates/{update_id}").get_data(as_text=True)
    assert "Only in these districts (estimated from ZIP codes): State Senate District 46" in page
    assert "<strong>1 person</strong>" in page
    audience = update_service.Audience.from_json(db.session.get(MailUpdate, update_id).audience)
    _, recipients = update_service.next_recipients(audience, None, 10)
    assert [r.email for r in recipients] == ["albany@example.org"]
    both = update_service.Audience(campaign_ids=[campaign.id], senate_districts=[SD(46), SD(30)], assembly_districts=[AD(70)])
    assert update_service.count_recipients(both) == 1  # in one of the Senate districts and in Assembly district 70


def test_send_me_a_test_goes_to_the_staff_member_in_both_languages(client, make_staff, smtp_server, mixed_audience):
    staff = make_staff(email="organizer@example.org")
    login(client, staff)
    update_id = _compose(client, mixed_audience)
    client.post(f"/staff/updates/{update_id}/test")
    assert sorted(m["Subject"] for m in smtp_server.messages) == ["[TEST] Entregamos su petición", "[TEST] We delivered your petition"]
    assert {m["To"] for m in smtp_server.messages} == {"organizer@example.org"}
    assert db.session.get(MailUpdate, update_id).status == "draft"


def test_the_send_asks_again_when_the_number_changed(client, make_staff, mixed_audience):
    login(client, make_staff())
    update_id = _compose(client, mixed_audience)
    page = client.post(f"/staff/updates/{update_id}/send", data={"recipients": "2"})
    assert page.status_code == 200 and "changed since the last page" in page.get_data(as_text=True)
    assert db.session.get(MailUpdate, update_id).status == "draft"


def test_a_compose_form_without_audience_or_with_half_the_spanish_says_why(client, make_staff):
    login(client, make_staff())
    page = client.post("/staff/updates/new", data={"subject": "Hi", "body": "Text", "subject_es": "Hola"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Choose at least one campaign or goal." in text
    assert "Give both the Spanish subject and the Spanish text, or neither." in text


def test_cancelling_stops_what_is_not_yet_sent(app, make_staff, smtp_server, mixed_audience, sender_run_by_hand):
    staff = make_staff()
    item = update_service.create_update(TEXT, update_service.Audience.from_json(mixed_audience), staff.id)
    update_service.start_sending(item, staff.id)
    db.session.commit()
    _drain_queueing()
    assert mail.send_pending_mail(limit=1) == (1, 0)
    update_service.cancel(db.session.get(MailUpdate, item.id), staff.id)
    db.session.commit()
    _send_all()
    db.session.expire_all()
    item = db.session.get(MailUpdate, item.id)
    assert len(smtp_server.messages) == 1
    assert (item.status, item.sent_count, item.cancelled_count) == ("cancelled", 1, 2)
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="update.cancel")).details == {"not_sent": 2}


def test_cancel_from_the_staff_page(client, make_staff, mixed_audience):
    login(client, make_staff())
    update_id = _compose(client, mixed_audience)
    client.post(f"/staff/updates/{update_id}/send", data={"recipients": "3"})
    page = client.get(f"/staff/updates/{update_id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="5">' in page
    client.post(f"/staff/updates/{update_id}/cancel")
    assert db.session.get(MailUpdate, update_id).status == "cancelled"
    assert '<meta http-equiv="refresh"' not in client.get(f"/staff/updates/{update_id}").get_data(as_text=True)


def test_queueing_resumes_where_the_last_batch_ended(app, make_staff, make_campaign, make_signature_row, smtp_server):
    campaign = make_campaign()
    for n in range(7):
        make_signature_row(campaign, email=f"s{n}@example.org", wants_updates=True)
    staff = make_staff()
    item = update_service.create_update(TEXT, update_service.Audience(campaign_ids=[campaign.id]), staff.id)
    update_service.start_sending(item, staff.id)
    db.session.commit()
    assert update_service.queue_next_batch(batch_size=3)
    db.session.commit()
    # A batch written but rolled back (a process killed before its commit) leaves nothing behind.
    assert update_service.queue_next_batch(batch_size=3)
    db.session.rollback()
    # Another process takes over, with the default batch size.
    _drain_queueing()
    _send_all()
    assert sorted(Counter(m["To"] for m in smtp_server.messages).values()) == [1] * 7
    assert db.session.get(MailUpdate, item.id).status == "sent"


def test_the_bulk_rate_arithmetic():
    from datetime import datetime, timezone

    start = datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc)
    rate = mail.BulkRate(start, 600, start)  # 10 a second: one each 0.1 s, a burst of 10
    assert (rate.interval, rate.burst) == (0.1, 10)
    assert rate.allowance(100) == 10
    rate.next_at = start + timedelta(seconds=1)  # as spending 10 leaves it
    assert rate.allowance(100) == 0
    assert rate.seconds_until_burst() == pytest.approx(1.0)
    later = mail.BulkRate(start + timedelta(seconds=1), 600, start + timedelta(seconds=0.5))
    assert later.allowance(100) == 5
    # Over a simulated minute, taking all it may every 0.05 s: at most rate + burst.
    next_at, taken = start, 0
    for step in range(1200):
        now = start + timedelta(seconds=step * 0.05)
        rate = mail.BulkRate(next_at, 600, now)
        granted = rate.allowance(1000)
        next_at = rate.next_at + timedelta(seconds=granted * rate.interval)
        taken += granted
    assert 600 <= taken <= 610


def test_bulk_mail_waits_for_the_shared_rate_and_confirmations_do_not(app, smtp_server, sender_run_by_hand):
    app.config["BULK_MAIL_PER_MINUTE"] = 1  # one now, the next in a minute
    for n in range(3):
        mail.queue_mail(f"bulk{n}@example.org", "Update", "Text", priority=1, list_unsubscribe="<https://x/u>")
    mail.queue_mail("signer@example.org", "Please confirm your signature", "Link")
    db.session.commit()
    assert mail.send_pending_mail() == (2, 0)
    assert [m["To"] for m in smtp_server.messages] == ["signer@example.org", "bulk0@example.org"]
    assert mail.send_pending_mail() == (0, 0)
    assert mail.bulk_wait_seconds() > 50
    mail.queue_mail("other@example.org", "Please confirm your pledge", "Link")
    db.session.commit()
    assert mail.send_pending_mail() == (1, 0)


@pytest.mark.slow
def test_20000_queued_drain_at_the_rate_while_a_new_signature_is_confirmed_at_once(
    app_factory, smtp_server, monkeypatch, sender_run_by_hand
):
    """A short window of a long drain: the rate holds, and a confirmation overtakes the queue."""
    monkeypatch.setattr(mail, "_sender", mail.BackgroundSender())  # a thread of this app's own
    app = app_factory(MAIL_URL=smtp_server.url, MAIL_SEND_INLINE=False, MAIL_SENDER_GATHER_SECONDS=0,
                      BULK_MAIL_PER_MINUTE=3000)
    with app.app_context():
        from coalition.services import campaigns as campaign_service
        from coalition.services import content as content_service

        content_service.load_content(app.config["CONTENT_FILE"])
        now = utcnow()
        campaign = campaign_service.create_campaign(
            slug="big", title="Big", summary="S", body="B", target=100, status="open",
            goal_slugs=[], opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
        )
        db.session.commit()
        rows = [
            {"campaign_id": campaign.id, "status": "confirmed", "source": "online", "full_name": "S",
             "email": f"s{n:05d}@example.org", "email_normalized": f"s{n:05d}@example.org", "confirmed_at": now,
             "wants_updates": True, "updates_consented_at": now, "language": "en", "comment": "",
             "show_publicly": False, "created_at": now, "confirmation_sends": 1}
            for n in range(20000)
        ]
        db.session.execute(db.insert(Signature), rows)
        item = update_service.create_update(TEXT, update_service.Audience(campaign_ids=[campaign.id]), None)
        assert update_service.start_sending(item, None) == 20000
        db.session.commit()
        _drain_queueing()
        assert db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail)) == 20000
        client = app.test_client()
        started = time.monotonic()
        monkeypatch.setattr(mail, "wake_sender", sender_run_by_hand)  # from now on, commits wake it
        mail.start_sender(app)
        try:
            _wait_for(lambda: smtp_server.messages, 30)
            client.post("/campaigns/big", data=sign_data(email="new.signer@example.org"))
            confirmation = _wait_for(
                lambda: [m for m in smtp_server.messages if m["To"] == "new.signer@example.org"], 30
            )
            bulk_before = len([m for m in smtp_server.messages if m["List-Unsubscribe"]])
        finally:
            assert mail.stop_sender(timeout=30)
        elapsed = time.monotonic() - started
        assert confirmation and confirmation[0]["Subject"] == "Please confirm your signature: “Big”"
        assert bulk_before < 20000  # it overtook the queue
        bulk = [m["To"] for m in smtp_server.messages if m["List-Unsubscribe"]]
        # The shared rate: at most 50 a second (3,000 a minute), plus one burst of 50.
        assert len(bulk) <= 50 + elapsed * 50
        assert len(set(bulk)) == len(bulk)
        db.session.expire_all()
        assert db.session.get(MailUpdate, item.id).sent_count == len(bulk)
        left = db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail))
        assert left == 20000 - len(bulk)


def _wait_for(found, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("not there in time")


def test_a_graceful_restart_mid_send_loses_nothing_and_sends_nothing_twice(app_factory, smtp_server, monkeypatch):
    monkeypatch.setattr(mail, "_sender", mail.BackgroundSender())
    app = app_factory(MAIL_URL=smtp_server.url, MAIL_SEND_INLINE=False, MAIL_SENDER_GATHER_SECONDS=0,
                      BULK_MAIL_PER_MINUTE=1200)
    with app.app_context():
        for n in range(60):
            mail.queue_mail(f"r{n:02d}@example.org", "Update", "Text", priority=1, list_unsubscribe="<https://x/u>")
        db.session.commit()
        mail.start_sender(app)
        _wait_for(lambda: len(smtp_server.messages) >= 10, 30)
        assert mail.stop_sender(timeout=30)
        delivered = len(smtp_server.messages)
        db.session.expire_all()
        left = db.session.scalars(db.select(OutgoingMail)).all()
        # Stopped between messages: nothing left in a sender's hands, nothing lost.
        assert all(row.locked_until is None for row in left)
        assert delivered + len(left) == 60
        assert delivered < 60
        mail.start_sender(app)  # the restarted worker
        _wait_for(lambda: len(smtp_server.messages) >= 60, 30)
        assert mail.stop_sender(timeout=30)
        counts = Counter(m["To"] for m in smtp_server.messages)
        assert len(counts) == 60 and set(counts.values()) == {1}


@pytest.mark.slow
def test_a_gunicorn_restart_mid_send_loses_nothing_and_sends_nothing_twice(app_factory, smtp_server, database_url,
                                                                        sender_run_by_hand):
    """The real server: its workers' senders start at boot and stop gracefully on SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    from coalition import PROJECT_ROOT
    from tests.conftest import free_port

    app = app_factory()
    with app.app_context():
        for n in range(80):
            mail.queue_mail(f"g{n:02d}@example.org", "Update", "Text", priority=1, list_unsubscribe="<https://x/u>")
        db.session.commit()
    env = dict(
        os.environ,
        COALITION_DATABASE_URL=database_url,
        COALITION_SECRET_KEY="s" * 40,
        COALITION_MAIL_URL=smtp_server.url,
        COALITION_MAIL_SENDER_GATHER_SECONDS="0",
        COALITION_BULK_MAIL_PER_MINUTE="1200",
    )

    def start():
        return subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{free_port()}", "app:app"],
            env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

    server = start()
    try:
        _wait_for(lambda: len(smtp_server.messages) >= 10, 60)
        server.send_signal(signal.SIGTERM)  # a graceful stop
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    delivered = len(smtp_server.messages)
    with app.app_context():
        left = db.session.scalars(db.select(OutgoingMail)).all()
        assert all(row.locked_until is None for row in left)
        assert delivered + len(left) == 80 and left
    server = start()
    try:
        _wait_for(lambda: len(smtp_server.messages) >= 80, 60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    counts = Counter(m["To"] for m in smtp_server.messages)
    assert len(counts) == 80 and set(counts.values()) == {1}


def test_the_mail_worker_command_queues_updates_and_sends(app, runner, make_staff, make_campaign, make_signature_row, smtp_server):
    campaign = make_campaign()
    make_signature_row(campaign, email="one@example.org", wants_updates=True)
    item = update_service.create_update(TEXT, update_service.Audience(campaign_ids=[campaign.id]), None)
    update_service.start_sending(item, None)
    mail.queue_mail("signer@example.org", "Please confirm your signature", "Link")
    db.session.commit()
    result = runner.invoke(args=["mail-worker", "--once"])
    assert result.exit_code == 0, result.output
    # One pass: the confirmation and the update's first (and only) batch.
    assert sorted(m["To"] for m in smtp_server.messages) == ["one@example.org", "signer@example.org"]


def test_list_unsubscribe_carries_the_mailto_where_configured(app, make_campaign, make_signature_row, smtp_server):
    app.config["UNSUBSCRIBE_MAILTO"] = "unsubscribe@coalition.example.org"
    campaign = make_campaign()
    make_signature_row(campaign, email="one@example.org", wants_updates=True)
    item = update_service.create_update(TEXT, update_service.Audience(campaign_ids=[campaign.id]), None)
    update_service.start_sending(item, None)
    db.session.commit()
    _drain_queueing()
    _send_all()
    [message] = smtp_server.messages
    https, mailto = message["List-Unsubscribe"].split(", ")
    assert https.startswith("<http://localhost/unsubscribe/")
    assert mailto.startswith("<mailto:unsubscribe@coalition.example.org?subject=unsubscribe%20")


def test_a_batch_another_process_queued_first_is_rolled_back(app, make_campaign, make_signature_row, monkeypatch,
                                                              sender_run_by_hand):
    campaign = make_campaign()
    for n in range(3):
        make_signature_row(campaign, email=f"s{n}@example.org", wants_updates=True)
    item = update_service.create_update(TEXT, update_service.Audience(campaign_ids=[campaign.id]), None)
    update_service.start_sending(item, None)
    db.session.commit()
    found = update_service.next_recipients

    def another_process_moves_the_cursor_meanwhile(*args, **kwargs):
        result = found(*args, **kwargs)
        db.session.execute(db.update(MailUpdate).where(MailUpdate.id == item.id).values(queue_cursor="s2@example.org"))
        return result

    monkeypatch.setattr(update_service, "next_recipients", another_process_moves_the_cursor_meanwhile)
    assert background.queue_updates_step() is True
    assert db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail)) == 0
    monkeypatch.setattr(update_service, "next_recipients", found)
    _drain_queueing()
    assert db.session.scalar(db.select(db.func.count()).select_from(OutgoingMail)) == 3
