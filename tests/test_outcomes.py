"""Campaign outcomes: recorded by staff, shown publicly, sent to the signers in one step."""

from __future__ import annotations

from coalition import background, mail
from coalition.extensions import db
from coalition.models import AuditEntry, Campaign, MailUpdate
from tests.conftest import login

OUTCOME = {
    "outcome": "delivered",
    "outcome_on": "2027-03-03",
    "outcome_text": "We carried 2,500 signatures to Albany.",
    "outcome_text_es": "Llevamos 2,500 firmas a Albany.",
}


def test_an_outcome_shows_on_the_campaign_page_and_list_in_both_languages(client, make_staff, make_campaign):
    campaign = make_campaign(status="closed")
    login(client, make_staff())
    response = client.post(f"/staff/campaigns/{campaign.id}/outcome", data=OUTCOME)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Campaign, campaign.id)
    assert (saved.outcome, saved.outcome_on.isoformat()) == ("delivered", "2027-03-03")
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Delivered · March 3, 2027" in page and "We carried 2,500 signatures to Albany." in page
    spanish = client.get(f"/es/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Entregada" in spanish and "Llevamos 2,500 firmas a Albany." in spanish
    listing = client.get("/campaigns").get_data(as_text=True)
    assert "We carried 2,500 signatures to Albany." in listing
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="campaign.outcome"))
    assert entry.details == {"outcome": "delivered", "on": "2027-03-03"}


def test_an_outcome_without_what_it_needs_says_why(client, make_staff, make_campaign):
    campaign = make_campaign()
    login(client, make_staff())
    page = client.post(f"/staff/campaigns/{campaign.id}/outcome", data={**OUTCOME, "outcome_on": ""})
    assert page.status_code == 200 and "give the day it was delivered" in page.get_data(as_text=True)
    page = client.post(f"/staff/campaigns/{campaign.id}/outcome", data={**OUTCOME, "outcome": "won", "outcome_text": ""})
    assert "write a short text for the public page" in page.get_data(as_text=True)
    draft = make_campaign(status="draft")
    page = client.post(f"/staff/campaigns/{draft.id}/outcome", data={**OUTCOME, "outcome": "won"})
    assert "a draft campaign has no outcome yet" in page.get_data(as_text=True)
    assert db.session.get(Campaign, campaign.id).outcome is None


def test_the_outcome_goes_to_the_consenting_signers_in_one_step(client, make_staff, make_campaign, make_signature_row, smtp_server):
    campaign = make_campaign(status="closed")
    make_signature_row(campaign, email="yes@example.org", wants_updates=True)
    make_signature_row(campaign, email="si@example.org", wants_updates=True, language="es")
    make_signature_row(campaign, email="no@example.org")
    login(client, make_staff())
    client.post(f"/staff/campaigns/{campaign.id}/outcome", data={**OUTCOME, "outcome": "won", "outcome_on": "2027-06-01"})
    response = client.post(f"/staff/campaigns/{campaign.id}/outcome/update")
    assert response.status_code == 302 and response.headers["Location"].endswith("/send")
    confirm = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "It goes to 2 people." in confirm
    update_id = int(response.headers["Location"].split("/")[-2])
    client.post(f"/staff/updates/{update_id}/send", data={"recipients": "2"})
    while background.queue_updates_step():
        pass
    mail.send_pending_mail()
    subjects = {m["To"]: m["Subject"] for m in smtp_server.messages}
    assert subjects == {"yes@example.org": f"{campaign.title}: Won", "si@example.org": f"{campaign.title}: Ganada"}
    assert db.session.get(MailUpdate, update_id).status == "sent"
