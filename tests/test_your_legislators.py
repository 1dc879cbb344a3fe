"""After confirming: "your legislators", and the district choice for a signer between districts."""

from __future__ import annotations

import html
import re

from coalition import mail
from coalition.extensions import db
from coalition.models import Signature
from coalition.services import legislators
from tests.public_forms import sign_data
from tests.test_districts import AD, SD, load_fixture_districts
from tests.test_legislators import SAMPLE_CSV, TODAY, openstates_folder  # noqa: F401 (a fixture)


def confirm_link(message) -> str:
    return re.search(r"http://localhost((?:/es)?/confirm/\S+)", message.get_content()).group(1)


def sign_and_confirm(client, smtp_server, campaign, **form):
    """Sign on the real form, take the link from the real email, press Confirm; the done page's HTML."""
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(**form))
    assert response.status_code in (200, 302, 303)
    mail.wake_sender()
    link = confirm_link(smtp_server.messages[-1])
    done = client.post(link)
    assert done.status_code == 200
    return link, done.get_data(as_text=True)


def test_a_signer_in_one_district_sees_their_legislators(mail_app, smtp_server, runner, make_campaign):
    load_fixture_districts(runner)
    assert runner.invoke(args=["load-legislators", str(SAMPLE_CSV)]).exit_code == 0
    campaign = make_campaign(title="Free Them Home")
    campaign.legislator_mail_subject = "Pass the Earned Time Act"
    campaign.legislator_mail_body = "As your constituent, I ask you to vote yes."
    db.session.commit()
    client = mail_app.test_client()
    _, page = sign_and_confirm(client, smtp_server, campaign, zip_code="12207", email="ana@example.org",
                               full_name="Ana Díaz", deliver_name="y")
    signature = db.session.scalars(db.select(Signature)).one()
    assert (signature.senate_district, signature.assembly_district) == (SD(46), AD(109))
    assert signature.deliver_name is True
    assert "Your legislators" in page
    assert "Pat Fahy" in page and "State Senator, District 46" in page
    assert "Gabriella A. Romero" in page and "Assembly Member, District 109" in page
    assert 'href="tel:+15184552225"' in page
    mailto = html.unescape(re.search(r'href="(mailto:fahy@nysenate.gov[^"]*)"', page).group(1))
    assert mailto == ("mailto:fahy@nysenate.gov?subject=Pass%20the%20Earned%20Time%20Act"
                      "&body=As%20your%20constituent%2C%20I%20ask%20you%20to%20vote%20yes.")
    assert "Room 708, Legislative Office Building 198 State St., Albany, NY 12247" in page
    assert "100 State Street, Albany, NY 12207" in page  # a district office
    assert "Who represents you?" not in page


def test_a_signer_between_districts_chooses_their_senator(
    mail_app, smtp_server, runner, make_campaign, openstates_folder  # noqa: F811
):
    load_fixture_districts(runner)
    legislators.load_legislators(str(openstates_folder), today=TODAY)
    db.session.commit()
    campaign = make_campaign()
    client = mail_app.test_client()
    link, page = sign_and_confirm(client, smtp_server, campaign, zip_code="10027")
    signature = db.session.scalars(db.select(Signature)).one()
    assert signature.senate_district is None and signature.senate_candidates == [SD(30), SD(31)]
    assert signature.assembly_district == AD(70)
    # Asked about the Senate only (95% of the ZIP area is in Assembly District 70).
    assert "Your state senator" in page and "Your assembly member" not in page
    assert "Cordell Cleare, State Senate District 30" in page
    assert "Robert Jackson, State Senate District 31" in page
    assert "I don’t know" in page
    # Its assembly member is known already.
    assert "Assembly Member, District 70" in page

    refused = client.post(f"{link}/districts", data={"district_upper": SD(12)})
    assert refused.status_code == 400 and "Please choose one of the names listed." in refused.get_data(as_text=True)
    saved = client.post(f"{link}/districts", data={"district_upper": SD(31)})
    assert saved.status_code == 200
    text = saved.get_data(as_text=True)
    assert "your answer is saved" in text
    assert "State Senator, District 31" in text and "Robert Jackson" in text
    db.session.expire_all()
    signature = db.session.get(Signature, signature.id)
    assert signature.senate_district == SD(31) and signature.districts_set_by == "signer"
    # A reload of districts keeps what the signer said.
    load_fixture_districts(runner)
    db.session.expire_all()
    assert db.session.get(Signature, signature.id).senate_district == SD(31)


def test_i_dont_know_leaves_the_signer_between_districts(mail_app, smtp_server, runner, make_campaign):
    load_fixture_districts(runner)
    campaign = make_campaign()
    client = mail_app.test_client()
    link, _ = sign_and_confirm(client, smtp_server, campaign, zip_code="10027")
    response = client.post(f"{link}/districts", data={"district_upper": "unknown"})
    assert response.status_code == 200
    signature = db.session.scalars(db.select(Signature)).one()
    assert signature.senate_district is None and signature.districts_set_by == "zip"


def test_no_legislators_part_for_a_signer_outside_new_york(mail_app, smtp_server, runner, make_campaign):
    load_fixture_districts(runner)
    campaign = make_campaign()
    _, page = sign_and_confirm(mail_app.test_client(), smtp_server, campaign, zip_code="07001")
    assert "State Senator" not in page and "Who represents you?" not in page


def test_the_district_choice_needs_a_working_link(client):
    assert client.post("/confirm/not-a-token/districts", data={"district_upper": "unknown"}).status_code == 404


def test_spanish_page(mail_app, smtp_server, runner, make_campaign):
    load_fixture_districts(runner)
    assert runner.invoke(args=["load-legislators", str(SAMPLE_CSV)]).exit_code == 0
    campaign = make_campaign()
    client = mail_app.test_client()
    response = client.post(f"/es/campaigns/{campaign.slug}", data=sign_data(zip_code="12207"))
    assert response.status_code in (200, 302, 303)
    mail.wake_sender()
    link = confirm_link(smtp_server.messages[-1])
    page = client.post("/es" + link.removeprefix("/es")).get_data(as_text=True)
    assert "Sus legisladores" in page and "Senador(a) estatal, distrito 46" in page


def test_with_no_districts_loaded_the_page_shows_no_empty_legislators_section(mail_app, smtp_server, make_campaign):
    campaign = make_campaign()
    _, page = sign_and_confirm(mail_app.test_client(), smtp_server, campaign, zip_code="12207")
    assert "Thank you, it is confirmed" in page
    assert "Your legislators" not in page and "Districts are estimated from ZIP codes." not in page
