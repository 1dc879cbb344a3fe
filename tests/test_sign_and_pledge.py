"""One submission, several asks: signing a campaign and pledging to its goals at once."""

from coalition.extensions import db
from coalition.models import Goal, Pledge, Signature
from coalition.services import counting
from tests.test_signing import confirm_link, sign_data


def _goal_id(slug):
    return db.session.execute(db.select(Goal.id).filter_by(slug=slug)).scalar_one()


def test_one_email_confirms_the_signature_and_the_pledges(app, client, smtp_server, make_campaign):
    campaign = make_campaign(goal_slugs=["alternatives-to-incarceration", "public-education"])
    data = sign_data(also_pledge=["alternatives-to-incarceration", "public-education"])
    response = client.post(f"/campaigns/{campaign.slug}", data=data)
    assert response.status_code == 303

    pledges = db.session.scalars(db.select(Pledge).order_by(Pledge.id)).all()
    signature = db.session.scalars(db.select(Signature)).one()
    assert [p.status for p in pledges] == ["pending", "pending"]
    assert {p.signature_id for p in pledges} == {signature.id}
    assert pledges[0].city == "New York"

    assert len(smtp_server.messages) == 1
    body = smtp_server.messages[0].get_content()
    assert "signed" in body and "pledged to support" in body
    link = confirm_link(body)
    client.post(link)

    db.session.expire_all()
    assert db.session.get(Signature, signature.id).status == "confirmed"
    assert all(db.session.get(Pledge, p.id).status == "confirmed" for p in pledges)
    assert counting.signature_counts([campaign.id])[campaign.id] == 1
    counts = counting.pledge_counts([_goal_id("alternatives-to-incarceration"), _goal_id("public-education")])
    assert set(counts.values()) == {1}


def test_only_the_campaigns_own_goals_can_be_pledged(app, client, make_campaign):
    campaign = make_campaign(goal_slugs=["alternatives-to-incarceration"])
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(also_pledge=["women-leading-change"]))
    assert response.status_code == 200  # the form again, with the error beside the field
    assert "Not a valid choice" in response.get_data(as_text=True) or "not a valid choice" in response.get_data(as_text=True).lower()
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Pledge.id))) == 0


def test_signing_without_ticking_pledges_makes_no_pledge(app, client, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    assert db.session.scalar(db.select(db.func.count(Pledge.id))) == 0
    assert db.session.scalar(db.select(db.func.count(Signature.id))) == 1


def test_a_confirmed_signer_who_adds_pledges_gets_a_pledge_confirmation(app, client, smtp_server, make_campaign):
    campaign = make_campaign(goal_slugs=["alternatives-to-incarceration"])
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    client.post(confirm_link(smtp_server.messages[0].get_content()))
    app.config["CONFIRMATION_RESEND_MIN_SECONDS"] = 0
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(also_pledge=["alternatives-to-incarceration"]))
    assert len(smtp_server.messages) == 2
    second = smtp_server.messages[1]
    assert second["Subject"] == "Please confirm your pledge"
    client.post(confirm_link(second.get_content()))
    db.session.expire_all()
    assert db.session.scalars(db.select(Pledge.status)).all() == ["confirmed"]
    assert counting.signature_counts([campaign.id])[campaign.id] == 1


def test_a_pledge_made_on_the_sign_form_records_the_goals_first_action_and_says_so(app, client, smtp_server, make_campaign):
    from coalition.services.pledging import first_action

    campaign = make_campaign(goal_slugs=["alternatives-to-incarceration"])
    goal = db.session.get(Goal, _goal_id("alternatives-to-incarceration"))
    action = first_action(goal)
    page = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert f"{goal.title} (I will: {action.label})" in page
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(also_pledge=["alternatives-to-incarceration"]))
    pledge = db.session.scalars(db.select(Pledge)).one()
    assert [chosen.key for chosen in pledge.actions] == [action.key]
    # The email lists the action pledged.
    body = smtp_server.messages[0].get_content()
    assert f'pledged to support "{goal.title}", and to:\n    - {action.label}' in body.replace("\r\n", "\n")
