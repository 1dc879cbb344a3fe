"""Pledges for each goal: the form, its rules, confirmation by email, and the counts."""

import os
import re
import time

import pytest
from flask import current_app
from sqlalchemy.exc import IntegrityError

from coalition import mail
from coalition.extensions import db
from coalition.models import Goal, OutgoingMail, Pledge, PledgeAction, Signature
from coalition.services import confirmations, counting, pledging
from coalition.tokens import make_token

GOAL = "alternatives-to-incarceration"


def _goal(slug=GOAL):
    return db.session.execute(db.select(Goal).filter_by(slug=slug)).scalar_one()


def _form_time(seconds_ago=60):
    return make_token("form-time", int(time.time()) - seconds_ago)


def _pledge_data(**overrides):
    data = {
        "full_name": "Rosa Parks",
        "email": "Rosa.Parks@example.org",
        "zip_code": "10027",
        "country": "",
        "actions": ["contact-legislators", "lobby-day"],
        "message": "Count me in.",
        "homepage": "",
        "form_started": _form_time(),
    }
    data.update(overrides)
    return data


def _pledges():
    db.session.expire_all()
    return list(db.session.execute(db.select(Pledge).order_by(Pledge.id)).scalars())


def _queued_mail_count():
    """Mail queued or already written to the outbox (tests send inline)."""
    outbox = current_app.config["OUTBOX_DIR"]
    written = len(os.listdir(outbox)) if os.path.isdir(outbox) else 0
    return db.session.execute(db.select(db.func.count(OutgoingMail.id))).scalar_one() + written


def _link_from(message):
    return re.search(r"http://localhost(/confirm/\S+)", message.get_content()).group(1)


def test_goal_page_shows_the_count_and_a_form_with_the_goals_actions(client, content):
    html = client.get(f"/goals/{GOAL}").get_data(as_text=True)
    assert 'id="pledge"' in html
    assert "0 confirmed pledges" in html
    assert f'action="/goals/{GOAL}/pledge#pledge"' in html
    for label in (
        "Contact my state legislators",
        "Come to a lobby day in Albany",
        "Volunteer with the Coalition",
    ):
        assert label in html
    for name in ("full_name", "email", "zip_code", "country", "message", "homepage", "form_started"):
        assert f'name="{name}"' in html
    assert re.search(r'<label class="label" for="full_name">Your name</label>', html)


def test_a_pledge_is_pending_until_confirmed_by_the_emailed_link(mail_app, smtp_server, content):
    client = mail_app.test_client()
    response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/goals/{GOAL}/pledge/thanks")
    assert "Please check your email" in client.get(response.headers["Location"]).get_data(as_text=True)

    [pledge] = _pledges()
    assert pledge.status == "pending"
    assert pledge.email_normalized == "rosa.parks@example.org"
    assert (pledge.city, pledge.county, pledge.state, pledge.country) == (
        "New York",
        "New York County",
        "NY",
        None,
    )
    assert sorted(action.key for action in pledge.actions) == ["contact-legislators", "lobby-day"]
    assert pledge.message == "Count me in."
    assert pledge.client_hash and "127.0.0.1" not in pledge.client_hash
    assert pledge.confirmation_sends == 1
    assert counting.pledge_counts([pledge.goal_id])[pledge.goal_id] == 0

    [message] = smtp_server.messages
    assert message["To"] == "Rosa.Parks@example.org"
    assert message["Subject"] == "Please confirm your pledge"
    assert "pledged to support" in message.get_content()
    link = _link_from(message)
    assert "Confirm my pledge" in client.get(link).get_data(as_text=True)
    assert _pledges()[0].status == "pending"  # opening the link confirms nothing
    client.post(link)
    assert _pledges()[0].status == "confirmed"

    page = client.get(f"/goals/{GOAL}").get_data(as_text=True)
    assert re.search(r"\b1 confirmed pledge\s*</p>", page)
    home = client.get("/").get_data(as_text=True)
    assert '<span class="goal-item-count">1 pledge</span>' in home
    assert home.count('<span class="goal-item-count">0 pledges</span>') == 5


def test_a_supporter_outside_the_us_gives_a_country_instead_of_a_zip(client, content):
    response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(zip_code="", country="Canada"))
    assert response.status_code == 302
    [pledge] = _pledges()
    assert (pledge.zip_code, pledge.county, pledge.country) == (None, None, "Canada")


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"full_name": "  "}, "full_name", "Enter your name."),
        ({"email": ""}, "email", "Enter your email address"),
        ({"email": "rosa@"}, "email", "Enter an email address like name@example.org."),
        ({"zip_code": "1002"}, "zip_code", "Enter a 5-digit ZIP code"),
        ({"zip_code": "00000"}, "zip_code", "We do not know this ZIP code"),
        (
            {"zip_code": "", "country": ""},
            "zip_code",
            "or your country if you live outside the United States",
        ),
        ({"zip_code": "", "country": "USA"}, "zip_code", "Enter your ZIP code: we use it"),
        ({"actions": []}, "actions", "Choose at least one thing you pledge to do."),
        ({"actions": ["fly-to-the-moon"]}, "actions", "Choose from the list."),
        ({"message": "x" * 1001}, "message", "Use 1000 characters at most."),
        ({"full_name": "R" * 201}, "full_name", "Use 200 characters at most."),
    ],
)
def test_each_rule_is_explained_beside_its_field_and_nothing_typed_is_lost(
    client, content, overrides, field, message
):
    data = _pledge_data(**overrides)
    response = client.post(f"/goals/{GOAL}/pledge", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    errors = re.search(rf'<ul class="field-errors" id="{field}-error">(.*?)</ul>', html, re.DOTALL)
    assert errors, f"no error beside {field}"
    assert message in errors.group(1).replace("&#39;", "'")
    assert 'id="error-summary"' in html
    # What the supporter typed is still there.
    if field != "full_name":
        assert 'value="Rosa Parks"' in html
    if field != "message":
        assert "Count me in.</textarea>" in html
    assert _pledges() == []
    assert _queued_mail_count() == 0


def test_retired_actions_are_not_offered_and_cannot_be_chosen(client, content):
    action = db.session.execute(
        db.select(PledgeAction).join(Goal).where(Goal.slug == GOAL, PledgeAction.key == "lobby-day")
    ).scalar_one()
    action.active = False
    db.session.commit()
    assert "Come to a lobby day in Albany" not in client.get(f"/goals/{GOAL}").get_data(as_text=True)
    response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(actions=["lobby-day"]))
    assert "Choose from the list." in response.get_data(as_text=True)
    assert _pledges() == []


def test_one_pledge_per_goal_and_mailbox_and_a_duplicate_is_never_revealed(mail_app, smtp_server, content):
    client = mail_app.test_client()
    thanks = f"/goals/{GOAL}/pledge/thanks"
    variants = [
        "rosa.parks@example.org",
        "ROSA.PARKS@example.org",
        "rosa.parks+pledge@example.org",
        "rosa.parks@EXAMPLE.org",
    ]
    for number, email in enumerate(variants):
        name = "Rosa Parks" if number == 0 else "Someone Else"
        response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email=email, full_name=name))
        assert response.status_code == 302
        assert response.headers["Location"].endswith(thanks)
    [pledge] = _pledges()
    assert pledge.full_name == "Rosa Parks"  # a later submission does not overwrite the pledge
    # The first email and re-sends, a few at most.
    assert len(smtp_server.messages) == pledging.MAX_CONFIRMATION_SENDS == pledge.confirmation_sends
    assert all("/confirm/" in m.get_content() for m in smtp_server.messages)

    # Once confirmed, a duplicate sends nothing and still shows the same page.
    client.post(_link_from(smtp_server.messages[0]))
    response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email="Rosa.Parks@example.org"))
    assert response.headers["Location"].endswith(thanks)
    assert len(smtp_server.messages) == pledging.MAX_CONFIRMATION_SENDS
    assert counting.pledge_counts([pledge.goal_id])[pledge.goal_id] == 1


def test_the_same_mailbox_may_pledge_for_each_goal(client, content):
    client.post(f"/goals/{GOAL}/pledge", data=_pledge_data())
    client.post("/goals/public-education/pledge", data=_pledge_data(actions=["host-conversation"]))
    assert sorted(p.goal.slug for p in _pledges()) == [GOAL, "public-education"]


def test_gmail_addresses_without_dots_are_the_same_mailbox(client, content):
    client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email="rosa.parks@gmail.com"))
    client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email="rosaparks@googlemail.com"))
    assert len(_pledges()) == 1


def test_losing_the_insert_race_uses_the_other_submissions_pledge(app, content, monkeypatch):
    """Two submissions for one mailbox at once: the unique constraint decides, nobody sees an error."""
    supporter = pledging.Supporter(full_name="Rosa Parks", email="rosa@example.org", zip_code="10027")
    first = pledging.make_pledge(_goal(), ["share"], supporter)
    real_lookup = pledging._existing_pledge
    calls = {"n": 0}

    def miss_once(goal_id, email_normalized):
        calls["n"] += 1
        return None if calls["n"] == 1 else real_lookup(goal_id, email_normalized)

    monkeypatch.setattr(pledging, "_existing_pledge", miss_once)
    second = pledging.make_pledge(_goal(), ["share"], supporter)
    assert second.created == []
    assert [p.id for p in second.existing] == [first.created[0].id]
    assert len(_pledges()) == 1


def test_the_database_refuses_a_second_pledge_for_the_same_goal_and_mailbox(app, content):
    goal = _goal()
    db.session.add_all(
        [
            Pledge(goal_id=goal.id, full_name="A", email="a@example.org", email_normalized="a@example.org")
            for _ in range(2)
        ]
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_honeypot_gets_the_thank_you_page_and_nothing_is_saved(client, content):
    response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(homepage="http://spam.example"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/pledge/thanks")
    assert _pledges() == []
    assert _queued_mail_count() == 0


def test_a_form_sent_too_fast_comes_back_with_what_was_typed(app_factory):
    from coalition.services import content as content_service

    app = app_factory(FORM_MIN_FILL_SECONDS=3)
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        client = app.test_client()
        response = client.post(
            f"/goals/{GOAL}/pledge", data=_pledge_data(form_started=_form_time(seconds_ago=0))
        )
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "press the button again" in html
        assert 'value="Rosa Parks"' in html
        assert _pledges() == []
        # Sent again with the fresh time stamp, a little later, it is taken.
        stamp = re.search(r'name="form_started" type="hidden" value="([^"]+)"', html).group(1)
        assert stamp != ""
        response = client.post(
            f"/goals/{GOAL}/pledge", data=_pledge_data(form_started=_form_time(seconds_ago=5))
        )
        assert response.status_code == 302
        assert len(_pledges()) == 1


def test_pledging_is_rate_limited_per_client_address(app_factory):
    from coalition.services import content as content_service

    app = app_factory(RATELIMIT_ENABLED=True, PLEDGE_RATE_LIMIT="2 per hour")
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        client = app.test_client()
        for n in range(2):
            assert (
                client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email=f"p{n}@example.org")).status_code
                == 302
            )
        response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(email="p3@example.org"))
        assert response.status_code == 429
        assert response.headers["Retry-After"]
        assert len(_pledges()) == 2
        # Reading the goal page is not limited.
        assert client.get(f"/goals/{GOAL}").status_code == 200


def test_with_csrf_protection_on_pledging_needs_no_token_and_no_cookie(app_factory):
    from coalition.services import content as content_service

    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        content_service.load_content(app.config["CONTENT_FILE"])
        db.session.commit()
        client = app.test_client()
        response = client.post(f"/goals/{GOAL}/pledge", data=_pledge_data(), headers={"Sec-Fetch-Site": "same-origin"})
        assert response.status_code == 302
        assert "Set-Cookie" not in response.headers
        assert len(_pledges()) == 1


def test_unknown_goal_cannot_be_pledged_for(client, content):
    assert client.post("/goals/not-a-goal/pledge", data=_pledge_data()).status_code == 404
    assert client.get("/goals/not-a-goal/pledge/thanks").status_code == 404


def test_get_on_the_pledge_address_leads_to_the_goal_page(client, content):
    response = client.get(f"/goals/{GOAL}/pledge")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/goals/{GOAL}#pledge")


def test_counts_show_as_bars_with_the_numbers_in_text_on_home_and_goal_pages(client, content):
    goal = _goal()
    counting.add_to_pledge_count(goal.id, 1234)
    counting.add_to_pledge_count(_goal("public-education").id, 617)
    db.session.commit()
    # The home page lists the goals compactly, each with its count in words.
    home = client.get("/").get_data(as_text=True)
    assert '<span class="goal-item-count">1,234 pledges</span>' in home
    assert '<span class="goal-item-count">617 pledges</span>' in home
    page = client.get(f"/goals/{GOAL}").get_data(as_text=True)
    assert "1,234 confirmed pledges" in page
    assert f'id="pledges-{GOAL}"' in page


# The pledge service, reusable by the sign form ("I also pledge to support ...").


def test_pending_pledges_for_several_goals_are_written_without_commit_or_mail(app, content):
    supporter = pledging.Supporter(
        full_name="Rosa Parks", email="rosa@example.org", country="Mexico", language="es"
    )
    goals = [_goal(), _goal("public-education")]
    result = pledging.create_pending_pledges(
        [(goals[0], ["share"]), (goals[1], [])], supporter, message="Hola"
    )
    assert [p.goal_id for p in result.created] == [g.id for g in goals]
    assert result.to_confirm == result.created
    assert all(p.status == "pending" and p.language == "es" and p.country == "Mexico" for p in result.created)
    assert _queued_mail_count() == 0
    db.session.rollback()  # nothing was committed
    assert _pledges() == []


def test_pending_pledges_refuse_unknown_actions_and_places(app, content):
    goal = _goal()
    with pytest.raises(pledging.PledgeError):
        pledging.create_pending_pledges(
            [(goal, ["no-such-action"])], pledging.Supporter("R", "r@example.org", "10027")
        )
    with pytest.raises(pledging.PledgeError):
        pledging.create_pending_pledges([(goal, [])], pledging.Supporter("R", "r@example.org", "00000"))
    with pytest.raises(pledging.PledgeError):
        pledging.create_pending_pledges([(goal, [])], pledging.Supporter("R", "r@example.org"))
    db.session.rollback()


def test_combined_sign_and_pledge_submission_is_confirmed_by_one_email(mail_app, smtp_server, make_campaign):
    """A signature with pledges for two goals: one email, one link, everything counted once."""
    campaign = make_campaign(goal_slugs=[GOAL, "family-and-community-ties"])
    signature = Signature(
        campaign_id=campaign.id,
        full_name="Rosa Parks",
        email="rosa@example.org",
        email_normalized="rosa@example.org",
        zip_code="10027",
    )
    db.session.add(signature)
    db.session.flush()
    supporter = pledging.Supporter(full_name="Rosa Parks", email="rosa@example.org", zip_code="10027")
    result = pledging.create_pending_pledges(
        [(goal, []) for goal in campaign.goals], supporter, signature_id=signature.id
    )
    confirmations.queue_confirmation_email(
        "rosa@example.org", "en", signatures=[signature], pledges=result.to_confirm
    )
    pledging.note_confirmation_sent(result.to_confirm)
    db.session.commit()  # the hook after commit sends it (inline in the tests)

    [message] = smtp_server.messages
    body = message.get_content()
    assert 'signed "Campaign' in body
    assert body.count("pledged to support") == 2
    assert all(p.signature_id == signature.id for p in _pledges())
    mail_app.test_client().post(_link_from(message))
    db.session.expire_all()
    assert counting.signature_counts([campaign.id])[campaign.id] == 1
    counts = counting.pledge_counts([g.id for g in campaign.goals])
    assert list(counts.values()) == [1, 1]
