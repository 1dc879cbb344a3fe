"""Paper signatures: one by one and by CSV upload, counted, deduplicated, marked in exports."""

from __future__ import annotations

import csv
import io

import pytest
from tests.conftest import login

from coalition.extensions import db
from coalition.models import AuditEntry, Signature
from coalition.services import campaigns as campaign_service


@pytest.fixture
def staff_client(client, make_staff):
    staff = make_staff()
    login(client, staff)
    client.staff = staff
    return client


def count(campaign) -> int:
    db.session.expire_all()
    return campaign_service.confirmed_count(campaign)


def one(campaign, **values) -> dict:
    data = {"one-campaign": str(campaign.id), "one-event": "Albany lobby day", "one-event_date": "2026-03-04"}
    data.update({f"one-{key}": value for key, value in values.items()})
    return data


def export(client, slug: str) -> list[dict]:
    data = client.get(f"/staff/exports/signatures.csv?s-campaign={slug}&s-status=confirmed").data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_one_paper_signature_counts_and_is_marked_paper(staff_client, make_campaign):
    campaign = make_campaign(slug="c")
    response = staff_client.post("/staff/paper", data=one(campaign, full_name="Denise Walker", zip_code="12203"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Signature of Denise Walker added" in html
    # The sheet's campaign and source stay filled in for the next one; the person is cleared.
    assert 'value="Albany lobby day"' in html and 'value="Denise Walker"' not in html
    assert count(campaign) == 1
    signature = db.session.scalar(db.select(Signature))
    assert signature.source == "paper" and signature.status == "confirmed"
    assert signature.email is None and signature.county == "Albany County"
    assert signature.paper_source == "Albany lobby day (2026-03-04)"
    assert signature.entered_by_id == staff_client.staff.id
    rows = export(staff_client, "c")
    assert rows[0]["source"] == "paper" and rows[0]["paper_source"] == "Albany lobby day (2026-03-04)"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="paper.add"))
    assert entry.subject == f"signature:{signature.id}" and entry.actor_id == staff_client.staff.id


def test_people_without_email_can_sign_more_than_once_on_paper_but_an_email_only_once(
    staff_client, make_campaign, make_signature_row
):
    campaign = make_campaign()
    make_signature_row(campaign, full_name="Online Signer", email="Maria.Lopez@gmail.com")
    staff_client.post("/staff/paper", data=one(campaign, full_name="Inside One"))
    staff_client.post("/staff/paper", data=one(campaign, full_name="Inside Two"))
    assert count(campaign) == 3
    duplicate = staff_client.post("/staff/paper", data=one(campaign, full_name="Maria Lopez", email="marialopez@gmail.com"))
    assert duplicate.status_code == 400
    html = duplicate.get_data(as_text=True)
    # Beside the email field, which says it is the one in error.
    assert '<ul class="field-errors" id="one-email-error">\n      <li>This email has already signed this campaign.</li>' in html
    assert 'id="one-email"' in html and 'aria-invalid="true"' in html
    assert 'value="Maria Lopez"' in html  # what was typed is kept
    assert count(campaign) == 3
    bad_zip = staff_client.post("/staff/paper", data=one(campaign, full_name="Zip Wrong", zip_code="00000"))
    assert "not a known US ZIP code" in bad_zip.get_data(as_text=True)
    missing = staff_client.post("/staff/paper", data=one(campaign, full_name="", **{"event": ""}))
    text = missing.get_data(as_text=True)
    assert "Enter the name." in text and "Say where the signatures were collected." in text


UPLOAD = (
    "full_name,email,zip_code,wants_updates,comment\r\n"
    "Carmen Ruiz,carmen@example.org,10451,yes,\r\n"
    "Grace Oduya,,11216,,Written from Bedford Hills\r\n"
    ",nobody@example.org,10027,,\r\n"
    "Lucia Fern,not-an-email,,,\r\n"
    "Tanya Bell,tanya@example.org,99999,,\r\n"
    "Carmen Again,Carmen@Example.org,,,\r\n"
    "Already Online,online@example.org,,,\r\n"
)


def upload(client, campaign, data: bytes, mode: str):
    return client.post(
        "/staff/paper/upload",
        data={
            "csv-campaign": str(campaign.id),
            "csv-event": "Mail from Bedford Hills",
            "csv-event_date": "2026-02-01",
            "csv-mode": mode,
            "csv-file": (io.BytesIO(data), "sheets.csv"),
        },
        content_type="multipart/form-data",
    )


def test_an_upload_with_bad_rows_imports_nothing_by_default(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    make_signature_row(campaign, full_name="Already Online", email="online@example.org")
    response = upload(staff_client, campaign, UPLOAD.encode("utf-8-sig"), "all")
    html = response.get_data(as_text=True)
    assert "Nothing was imported" in html
    for line, reason in [
        (4, "The name is missing."),
        (5, "The email is not valid."),
        (6, "The ZIP code 99999 is not a known US ZIP code."),
        (7, "Same email as line 2 of this file."),
        (8, "This email has already signed this campaign."),
    ]:
        assert f"<td>{line}</td>" in html and reason in html
    assert count(campaign) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature).filter_by(source="paper")) == 0


def test_an_upload_can_import_the_valid_rows_and_list_the_rest(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    make_signature_row(campaign, full_name="Already Online", email="online@example.org")
    response = upload(staff_client, campaign, UPLOAD.encode("utf-8"), "valid")
    html = response.get_data(as_text=True)
    assert "2 signatures imported" in html
    assert "5 rows were left out" in html
    assert count(campaign) == 3
    rows = {row["full_name"]: row for row in export(staff_client, "c")}
    assert rows["Carmen Ruiz"]["source"] == "paper" and rows["Carmen Ruiz"]["wants_updates"] == "yes"
    assert rows["Grace Oduya"]["email"] == "" and rows["Grace Oduya"]["county"] == "Kings County"
    assert rows["Grace Oduya"]["paper_source"] == "Mail from Bedford Hills (2026-02-01)"
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="paper.import"))
    assert entry.details["imported"] == 2 and entry.details["rejected"] == 5 and entry.details["rows"] == 7
    assert "carmen" not in str(entry.details).lower()


def test_a_good_upload_in_windows_encoding_imports_everything(staff_client, make_campaign):
    campaign = make_campaign()
    data = "name;zip\r\nJosé Núñez;10027\r\nAna Muñoz;12203\r\n".encode("cp1252")
    html = upload(staff_client, campaign, data, "all").get_data(as_text=True)
    assert "2 signatures imported" in html
    assert sorted(db.session.scalars(db.select(Signature.full_name))) == ["Ana Muñoz", "José Núñez"]
    assert count(campaign) == 2


def test_an_unreadable_upload_is_explained(staff_client, make_campaign):
    campaign = make_campaign()
    response = upload(staff_client, campaign, b"email\r\nx@example.org\r\n", "all")
    assert response.status_code == 400
    assert "one called full_name" in response.get_data(as_text=True)
    empty = upload(staff_client, campaign, b"full_name\r\n", "all")
    assert "no signatures below its first line" in empty.get_data(as_text=True)
