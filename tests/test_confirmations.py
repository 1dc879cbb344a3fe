"""Confirming signatures and pledges from the emailed link."""

import re
import threading

from coalition.extensions import db
from coalition.models import Goal, Pledge, Signature
from coalition.services import confirmations, counting


def _pending_signature(campaign, email="rosa@example.org"):
    signature = Signature(
        campaign_id=campaign.id, full_name="Rosa Parks", email=email, email_normalized=email, zip_code="10027"
    )
    db.session.add(signature)
    db.session.commit()
    return signature


def _pending_pledge(goal_slug, email="rosa@example.org"):
    goal = db.session.execute(db.select(Goal).filter_by(slug=goal_slug)).scalar_one()
    pledge = Pledge(goal_id=goal.id, full_name="Rosa Parks", email=email, email_normalized=email)
    db.session.add(pledge)
    db.session.commit()
    return pledge


def _link_from(message):
    return re.search(r"http://localhost(/confirm/\S+)", message.get_content()).group(1)


def test_one_email_one_link_confirms_signature_and_pledges_over_real_smtp(mail_app, smtp_server, make_campaign):
    from coalition import mail

    campaign = make_campaign()
    signature = _pending_signature(campaign)
    pledge = _pending_pledge("alternatives-to-incarceration")
    confirmations.queue_confirmation_email("rosa@example.org", "en", [signature], [pledge])
    db.session.commit()  # the hook after commit sends it (inline in the tests)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["Subject"] == f"Please confirm your signature: “{campaign.title}”"
    link = _link_from(message)

    client = mail_app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my signature" in page.get_data(as_text=True)
    assert db.session.get(Signature, signature.id).status == "pending"  # opening the link confirms nothing

    done = client.post(link)
    assert done.status_code == 200
    assert "it is confirmed" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).status == "confirmed"
    assert db.session.get(Pledge, pledge.id).status == "confirmed"
    assert counting.signature_counts([campaign.id])[campaign.id] == 1
    assert counting.pledge_counts([pledge.goal_id])[pledge.goal_id] == 1

    # Using the link again counts nothing more.
    client.post(link)
    assert "Already confirmed" in client.get(link).get_data(as_text=True)
    assert counting.signature_counts([campaign.id])[campaign.id] == 1


def test_confirmation_email_is_in_the_supporters_language(mail_app, smtp_server, make_campaign):
    from coalition import mail

    signature = _pending_signature(make_campaign())
    confirmations.queue_confirmation_email("rosa@example.org", "es", [signature])
    db.session.commit()  # the hook after commit sends it (inline in the tests)
    message = smtp_server.messages[0]
    assert message["Subject"] == "Por favor, confirme su firma: “Campaign 1”"
    assert "Hola" in message.get_content()
    # The sender's name in the supporter's language too (the address stays the configured one).
    assert message["From"].addresses[0].display_name == "Coalición para Mujeres Presas"
    assert message["From"].addresses[0].addr_spec == "no-reply@localhost"


def test_an_english_supporters_email_comes_from_the_configured_sender(mail_app, smtp_server, make_campaign):
    signature = _pending_signature(make_campaign())
    confirmations.queue_confirmation_email("rosa@example.org", "en", [signature])
    db.session.commit()
    assert smtp_server.messages[0]["From"] == "Coalition for Women Prisoners <no-reply@localhost>"


def test_tampered_and_expired_links(client, make_campaign, monkeypatch):
    signature = _pending_signature(make_campaign())
    token = confirmations.confirmation_token([signature])
    assert client.get(f"/confirm/{token}x").status_code == 404
    assert "does not work" in client.get("/confirm/not-a-token").get_data(as_text=True)
    monkeypatch.setattr(confirmations, "TOKEN_MAX_AGE_SECONDS", -1)
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)


def test_concurrent_confirmations_count_once(app, make_campaign):
    campaign = make_campaign()
    signature = _pending_signature(campaign)
    token = confirmations.confirmation_token([signature])
    errors = []

    def worker():
        from coalition.database import write_intent

        with app.app_context(), write_intent():
            try:
                confirmations.confirm_submission(token)
                db.session.commit()
            except Exception as exc:  # asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.rollback()
    assert counting.signature_counts([campaign.id])[campaign.id] == 1


def test_an_invalidated_signature_cannot_be_confirmed(client, make_campaign):
    campaign = make_campaign()
    signature = _pending_signature(campaign)
    token = confirmations.confirmation_token([signature])
    signature.status = "invalidated"
    db.session.commit()
    assert client.get(f"/confirm/{token}").status_code == 404
    client.post(f"/confirm/{token}")
    assert counting.signature_counts([campaign.id])[campaign.id] == 0
