"""Signing a campaign: the form's checks, duplicates, confirmation by email, counting, purging."""

from __future__ import annotations

import os
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event

from coalition.extensions import db
from coalition.models import OutgoingMail, Signature
from coalition.models.types import utcnow
from coalition.services import counting, signing
from tests.public_forms import sign_data  # noqa: F401  (other test modules import it from here)


def signatures() -> list[Signature]:
    db.session.expire_all()
    return list(db.session.execute(db.select(Signature).order_by(Signature.id)).scalars())


def outbox_files(app) -> list[str]:
    folder = app.config["OUTBOX_DIR"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def confirm_link(text: str) -> str:
    return re.search(r"http://localhost(/confirm/[^\s\"<]+)", text).group(1)


# --- Each field's validation ------------------------------------------------------------

INVALID = [
    ("full_name", "", "Please enter your name."),
    ("full_name", "   ", "Please enter your name."),
    ("full_name", "R" * 201, "at most 200 characters"),
    ("full_name", "Rosa\x07 Parks", "invisible control characters"),
    ("full_name", "Rosa \u202eskraP", "invisible control characters"),
    ("full_name", "12345", "Please write this with letters."),
    ("full_name", "Rosa http://spam.example", "just your name"),
    ("full_name", "rosa@example.org", "just your name"),
    ("email", "", "Please enter your email address."),
    ("email", "not-an-email", "real email address"),
    ("email", "rosa@", "real email address"),
    ("email", "rosa@example", "real email address"),
    ("email", "ro sa@example.org", "real email address"),
    ("email", "a" * 250 + "@example.org", "at most 254 characters"),
    ("email", "rosa@exa\x07mple.org", "invisible control characters"),
    ("zip_code", "", "or your country if you live outside the US"),
    ("zip_code", "1002", "5-digit ZIP code"),
    ("zip_code", "ABCDE", "5-digit ZIP code"),
    ("zip_code", "00000", "We do not know this ZIP code"),
    ("zip_code", "12345678901", "at most 10 characters"),
    ("comment", "x" * 501, "at most 500 characters"),
    ("comment", "Hello\x1bthere", "invisible control characters"),
    ("country", "C" * 101, "at most 100 characters"),
    ("country", "12", "Please write this with letters."),
]


@pytest.mark.parametrize("name, value, message", INVALID)
def test_each_field_is_checked_on_the_server(client, make_campaign, name, value, message):
    campaign = make_campaign()
    data = sign_data(**{name: value})
    if name == "country":
        data["zip_code"] = ""
    response = client.post(f"/campaigns/{campaign.slug}", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The message is next to its field, and the summary links to the field.
    field_errors = re.search(rf'<ul class="field-errors" id="{name}-error">(.*?)</ul>', html, re.S)
    assert field_errors is not None, html
    assert message in field_errors.group(1).replace("&#34;", '"')
    assert f'href="#{name}"' in html
    assert signatures() == []


def test_what_was_typed_is_kept_when_a_field_is_wrong(client, make_campaign):
    campaign = make_campaign()
    data = sign_data(email="not-an-email", comment="My sister was inside for six years.", show_publicly="y")
    html = client.post(f"/campaigns/{campaign.slug}", data=data).get_data(as_text=True)
    assert 'value="Rosa Martínez"' in html
    assert 'value="not-an-email"' in html
    assert 'value="10027"' in html
    assert "My sister was inside for six years." in html
    assert re.search(r'<input checked[^>]*id="show_publicly"|<input[^>]*id="show_publicly"[^>]*checked', html)


def test_signing_itself_refuses_a_bad_email_and_an_unknown_zip_code(make_campaign):
    """The rule lives in the service, so commands and imports that skip the form are held to it."""
    campaign = make_campaign()
    details = signing.SignerDetails(full_name="Rosa Martínez", email="rosa@example", zip_code="00000")
    with pytest.raises(signing.InvalidSignerDetails) as refused:
        signing.sign_petition(campaign, details)
    assert refused.value.fields == {"email", "zip_code"}
    assert signatures() == [] and db.session.scalars(db.select(OutgoingMail)).all() == []


def test_both_refusals_of_signing_show_beside_their_fields_at_once(client, make_campaign):
    campaign = make_campaign()
    html = client.post(
        f"/campaigns/{campaign.slug}", data=sign_data(email="rosa@example", zip_code="00000")
    ).get_data(as_text=True)
    email_errors = re.search(r'<ul class="field-errors" id="email-error">(.*?)</ul>', html, re.S).group(1)
    zip_errors = re.search(r'<ul class="field-errors" id="zip_code-error">(.*?)</ul>', html, re.S).group(1)
    assert "Please enter a real email address, like name@example.com." in email_errors
    assert "We do not know this ZIP code. Please check it" in zip_errors
    assert signatures() == []


def test_signings_refusals_show_with_the_forms_own_errors_in_one_round(client, make_campaign):
    campaign = make_campaign()
    html = client.post(
        f"/campaigns/{campaign.slug}", data=sign_data(full_name="", email="rosa@example", zip_code="00000")
    ).get_data(as_text=True)
    for name, message in (
        ("full_name", "Please enter your name."),
        ("email", "Please enter a real email address, like name@example.com."),
        ("zip_code", "We do not know this ZIP code. Please check it"),
    ):
        errors = re.search(rf'<ul class="field-errors" id="{name}-error">(.*?)</ul>', html, re.S)
        assert errors is not None and message in errors.group(1), name
    assert signatures() == []


def test_signing_a_closed_campaign_is_refused_by_the_service(make_campaign):
    campaign = make_campaign(status="closed", closed_at=utcnow() - timedelta(days=1))
    details = signing.SignerDetails(full_name="Rosa Martínez", email="rosa@example.org", zip_code="10027")
    with pytest.raises(signing.CampaignNotSignable):
        signing.sign_petition(campaign, details)
    assert signatures() == []


def test_a_us_name_as_country_still_needs_a_zip_code(client, make_campaign):
    campaign = make_campaign()
    html = client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code="", country="USA")).get_data(
        as_text=True
    )
    assert "Please enter your ZIP code: it tells us your city and county." in html
    assert signatures() == []


def test_a_comment_of_500_characters_with_line_breaks_is_accepted(client, make_campaign):
    campaign = make_campaign()
    comment = ("x" * 99 + "\r\n") * 5  # 500 characters as the browser counts them
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(comment=comment.strip()))
    assert response.status_code == 303
    assert len(signatures()[0].comment) <= 500


# --- Signing -----------------------------------------------------------------------------


def test_signing_saves_a_pending_signature_and_sends_the_confirmation(app, client, make_campaign):
    campaign = make_campaign()
    response = client.post(
        f"/campaigns/{campaign.slug}",
        data=sign_data(full_name="  Rosa   Martínez ", comment="For my mother.", wants_updates="y"),
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    # Post/redirect/get, with no personal data in the address.
    assert response.status_code == 303
    assert response.headers["Location"] == f"/campaigns/{campaign.slug}/thanks"
    [signature] = signatures()
    assert signature.status == "pending"
    assert signature.full_name == "Rosa Martínez"
    assert (signature.zip_code, signature.city, signature.county, signature.state) == (
        "10027",
        "New York",
        "New York County",
        "NY",
    )
    assert signature.country is None
    assert signature.comment == "For my mother."
    assert signature.show_publicly is False
    assert signature.wants_updates is True and signature.updates_consented_at is not None
    assert signature.language == "en"
    # The client address is kept only as a keyed hash.
    assert signature.client_hash and "203.0.113.9" not in signature.client_hash
    assert signature.confirmation_sends == 1
    # Pending signatures do not count.
    assert counting.signature_counts([campaign.id])[campaign.id] == 0
    assert len(outbox_files(app)) == 1

    thanks = client.get(response.headers["Location"])
    html = thanks.get_data(as_text=True)
    assert "check your email" in html
    assert "rosa@example.org" not in html


def test_unticked_boxes_store_no_consent(client, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    [signature] = signatures()
    assert signature.wants_updates is False and signature.updates_consented_at is None
    assert signature.show_publicly is False


def test_a_signer_outside_the_us_gives_a_country(client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code="", country="Canada"))
    assert response.status_code == 303
    [signature] = signatures()
    assert (signature.zip_code, signature.city, signature.country) == (None, None, "Canada")


def test_zip_plus_four_is_accepted(client, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(zip_code="12203-1234"))
    assert signatures()[0].city == "Albany"


def test_reloading_the_thank_you_page_submits_nothing(app, client, make_campaign):
    campaign = make_campaign()
    location = client.post(f"/campaigns/{campaign.slug}", data=sign_data()).headers["Location"]
    for _ in range(3):
        assert client.get(location).status_code == 200
    assert len(signatures()) == 1
    assert len(outbox_files(app)) == 1


# --- Duplicates --------------------------------------------------------------------------


def test_email_is_normalised_for_duplicates(client, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="Rosa.Martinez+petitions@GMail.com"))
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="rosamartinez@gmail.com"))
    client.post(f"/campaigns/{campaign.slug}", data=sign_data(email="ROSA.MARTINEZ@googlemail.com"))
    [signature] = signatures()
    assert signature.email_normalized == "rosamartinez@gmail.com"


def test_signing_twice_shows_the_same_page_and_resends_a_few_times_at_most(
    mail_app, smtp_server, make_campaign
):
    mail_app.config.update(CONFIRMATION_RESEND_MIN_SECONDS=0, MAX_CONFIRMATION_SENDS=3)
    campaign = make_campaign()
    client = mail_app.test_client()
    first = client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name="Rosa Martínez"))
    pages = [client.get(first.headers["Location"]).get_data(as_text=True)]
    for _ in range(4):
        again = client.post(f"/campaigns/{campaign.slug}", data=sign_data(full_name="Someone Else"))
        assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
        pages.append(client.get(again.headers["Location"]).get_data(as_text=True))
    # Never "already signed": every visitor sees the same page.
    assert all(page == pages[0] for page in pages)
    assert "already" not in pages[0].lower()
    [signature] = signatures()
    assert signature.full_name == "Rosa Martínez"  # a repeat changes nothing
    assert signature.confirmation_sends == 3
    assert [m["Subject"] for m in smtp_server.messages] == [f"Please confirm your signature: “{campaign.title}”"] * 3
    # Each email's link confirms the one signature.
    from coalition.services import confirmations

    for message in smtp_server.messages:
        token = confirm_link(message.get_content()).rsplit("/", 1)[1]
        assert [s.id for s in confirmations.load_submission(token).signatures] == [signature.id]


def test_a_quick_repeat_does_not_send_a_second_email(app, client, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    assert len(outbox_files(app)) == 1  # the re-send waits CONFIRMATION_RESEND_MIN_SECONDS


def test_signing_again_after_confirming_says_it_already_counts_by_email_only(
    mail_app, smtp_server, make_campaign
):
    mail_app.config["CONFIRMATION_RESEND_MIN_SECONDS"] = 0
    campaign = make_campaign()
    client = mail_app.test_client()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    link = confirm_link(smtp_server.messages[0].get_content())
    client.post(link)
    again = client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    assert again.headers["Location"].endswith("/thanks")
    assert len(smtp_server.messages) == 2
    assert smtp_server.messages[1]["Subject"] == "You have already signed"
    assert "your signature is counted" in smtp_server.messages[1].get_content()
    assert counting.signature_counts([campaign.id])[campaign.id] == 1


def test_concurrent_duplicate_submissions_give_one_row(app, make_campaign):
    from coalition.database import write_intent

    campaign = make_campaign()
    campaign_id = campaign.id
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    results, errors = [], []

    def worker(n: int) -> None:
        with app.app_context(), write_intent():
            try:
                found = db.session.get(type(campaign), campaign_id)
                details = signing.SignerDetails(
                    full_name=f"Rosa {n}", email="Rosa+%d@Example.org" % n, zip_code="10027"
                )
                db.session.rollback()  # SQLite: hold no write lock while waiting for the others
                barrier.wait()
                results.append(signing.sign_petition(found, details).created)
                db.session.commit()
            except Exception as exc:  # asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * (threads_count - 1) + [True]
    db.session.rollback()
    assert len(signatures()) == 1
    assert signatures()[0].email_normalized == "rosa@example.org"


# --- Confirmation by email ---------------------------------------------------------------


def test_the_confirmation_journey_over_real_smtp(mail_app, smtp_server, make_campaign):
    campaign = make_campaign(title="Close Rikers' women's jail")
    client = mail_app.test_client()
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(show_publicly="y"))
    assert response.status_code == 303
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "rosa@example.org"
    # The subject names the campaign.
    assert message["Subject"] == f"Please confirm your signature: “{campaign.title}”"
    text = message.get_content()
    assert "Close Rikers' women's jail" in text
    link = confirm_link(text)

    # Opening the link (as a mail scanner would) confirms nothing.
    page = client.get(link)
    assert "Confirm my signature" in page.get_data(as_text=True)
    assert signatures()[0].status == "pending"
    assert "Rosa" not in client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)

    done = client.post(link)
    assert "it is confirmed" in done.get_data(as_text=True)
    assert signatures()[0].status == "confirmed"
    html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "1 signature, next milestone 50. <span class=\"progress-target\">Target: 100 signatures</span>" in html
    assert '<span class="signer-name">Rosa</span>' in html


def test_mail_server_down_never_loses_a_signature(app_factory, make_config):
    from tests.conftest import free_port

    app = app_factory(MAIL_URL=f"smtp://127.0.0.1:{free_port()}", MAIL_TIMEOUT_SECONDS=2)
    with app.app_context():
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        response = app.test_client().post("/campaigns/c", data=sign_data())
        assert response.status_code == 303
        assert len(signatures()) == 1
        [queued] = db.session.execute(db.select(OutgoingMail)).scalars()
        assert queued.attempts == 1 and queued.next_attempt_at > utcnow()


# --- Counting -----------------------------------------------------------------------------


def test_the_count_after_confirmations_and_no_row_counting_on_page_views(client, make_campaign):
    campaign = make_campaign(target=10)
    for n in range(4):
        client.post(f"/campaigns/{campaign.slug}", data=sign_data(email=f"person{n}@example.org"))
    tokens = []
    for signature in signatures()[:3]:
        from coalition.services import confirmations

        tokens.append(confirmations.confirmation_token([signature]))
    for token in tokens:
        client.post(f"/confirm/{token}")
        client.post(f"/confirm/{token}")  # a second use counts nothing

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "3 signatures of a target of 10" in html
    assert '<progress id="campaign-progress" max="10" value="3"' in html
    assert not [s for s in statements if "count(" in s and "signatures" in s]
    assert counting.signature_counts([campaign.id])[campaign.id] == 3


# --- Robots -------------------------------------------------------------------------------


def test_honeypot_gets_the_thank_you_page_and_nothing_is_saved(app, client, make_campaign):
    campaign = make_campaign()
    response = client.post(f"/campaigns/{campaign.slug}", data=sign_data(homepage="http://spam.example"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/thanks")
    assert signatures() == []
    assert outbox_files(app) == []


def test_a_form_sent_too_fast_comes_back_with_what_was_typed(app_factory):
    app = app_factory(FORM_MIN_FILL_SECONDS=30)
    with app.app_context():
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        client = app.test_client()
        page = client.get("/campaigns/c").get_data(as_text=True)
        stamp = re.search(r'name="form_started" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/campaigns/c", data=sign_data(form_started=stamp))
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "please check your details below" in html.lower()
        assert 'value="Rosa Martínez"' in html and 'value="rosa@example.org"' in html
        assert signatures() == []


# --- CSRF -----------------------------------------------------------------------------------


def test_with_csrf_protection_on_signing_needs_no_token_and_no_cookie(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from coalition.services import campaigns as campaign_service

        campaign_service.create_campaign(slug="c", title="C", summary="S", target=10, status="open")
        db.session.commit()
        client = app.test_client()
        page = client.get("/campaigns/c")
        assert "Set-Cookie" not in page.headers and "csrf_token" not in page.get_data(as_text=True)
        client.delete_cookie("session")
        accepted = client.post("/campaigns/c", data=sign_data(), headers={"Sec-Fetch-Site": "same-origin"})
        assert accepted.status_code == 303
        assert "Set-Cookie" not in accepted.headers
        assert len(signatures()) == 1


# --- Purging --------------------------------------------------------------------------------


def test_unconfirmed_signatures_are_purged_after_the_retention_time(app, client, runner, make_campaign):
    campaign = make_campaign()
    for n in range(3):
        client.post(f"/campaigns/{campaign.slug}", data=sign_data(email=f"p{n}@example.org"))
    old, recent, confirmed = signatures()
    from coalition.services import confirmations

    confirmations.confirm_submission(confirmations.confirmation_token([confirmed]))
    for signature in (old, confirmed):
        signature.created_at = utcnow() - timedelta(days=20)
    db.session.commit()

    result = runner.invoke(args=["purge-unconfirmed"])
    assert result.exit_code == 0, result.output
    assert "1 unconfirmed signature" in result.output
    assert [s.email for s in signatures()] == ["p1@example.org", "p2@example.org"]

    assert signing.purge_unconfirmed(timedelta(0)) == 1
    assert [s.status for s in signatures()] == ["confirmed"]


def test_purge_command_takes_an_age_in_days(app, client, runner, make_campaign):
    campaign = make_campaign()
    client.post(f"/campaigns/{campaign.slug}", data=sign_data())
    signatures()[0].created_at = utcnow() - timedelta(days=3)
    db.session.commit()
    assert "0 unconfirmed" in runner.invoke(args=["purge-unconfirmed", "--days", "4"]).output
    assert "1 unconfirmed" in runner.invoke(args=["purge-unconfirmed", "--days", "2"]).output
    assert signatures() == []


# --- Development outbox -----------------------------------------------------------------------


def test_development_thank_you_page_links_to_the_outbox(app, client, make_campaign):
    campaign = make_campaign()
    location = client.post(f"/campaigns/{campaign.slug}", data=sign_data()).headers["Location"]
    assert 'href="/dev/outbox"' in client.get(location).get_data(as_text=True)
    outbox = client.get("/dev/outbox").get_data(as_text=True)
    assert "Please confirm your signature" in outbox
    link = confirm_link(outbox)
    assert client.get(link).status_code == 200
    name = outbox_files(app)[0]
    message = client.get(f"/dev/outbox/{name}")
    assert message.mimetype == "text/plain"
    import email as email_module
    from email import policy

    parsed = email_module.message_from_bytes(message.data, policy=policy.default)
    assert parsed["Subject"] == f"Please confirm your signature: “{campaign.title}”"
    message.close()
    assert client.get("/dev/outbox/..%2Fconfig.py").status_code == 404


def test_the_outbox_is_not_served_in_production_or_with_a_mail_server(app_factory):
    production = app_factory(ENV="production", SECRET_KEY="p" * 48)
    assert production.test_client().get("/dev/outbox").status_code == 404
    with_server = app_factory(MAIL_URL="smtp://127.0.0.1:1")
    assert with_server.test_client().get("/dev/outbox").status_code == 404
    development = app_factory()
    remote = development.test_client().get("/dev/outbox", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert remote.status_code == 404
