"""Erasing a supporter on request, the purge after retention, and the audit log page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.conftest import login

from coalition.extensions import db
from coalition.models import AuditEntry, Endorsement, Organization, OutgoingMail, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import privacy as privacy_service


@pytest.fixture
def staff_client(client, make_staff):
    staff = make_staff()
    login(client, staff)
    client.staff = staff
    return client


def count(campaign) -> int:
    db.session.expire_all()
    return campaign_service.confirmed_count(campaign)


def test_erasure_removes_the_email_everywhere_and_keeps_counts_consistent(
    staff_client, make_campaign, make_signature_row
):
    first, second = make_campaign(slug="first"), make_campaign(slug="second")
    confirmed = make_signature_row(first, full_name="Yolanda Price", email="Yolanda.Price@gmail.com", comment="Me too")
    pending = make_signature_row(second, full_name="Yolanda Price", email="yolandaprice+x@gmail.com", status="pending")
    other = make_signature_row(first, full_name="Someone Else", email="else@example.org")
    confirmed_id, pending_id, other_id = confirmed.id, pending.id, other.id
    goal = first.goals[0]
    db.session.add(
        Pledge(goal_id=goal.id, status="confirmed", full_name="Yolanda Price", email="yolanda.price@gmail.com",
               email_normalized="yolandaprice@gmail.com", confirmed_at=utcnow(), message="Count me in")
    )
    org = Organization(domain="ywca.example.org", name="YW", website="https://ywca.example.org", org_type="other")
    db.session.add(org)
    db.session.flush()
    db.session.add(
        Endorsement(organization_id=org.id, campaign_id=first.id, status="verified", contact_name="Yolanda Price",
                    contact_role="Director", contact_email="yolanda.price@gmail.com",
                    contact_email_normalized="yolandaprice@gmail.com", contact_phone="555-0100", authorized=True)
    )
    db.session.add(OutgoingMail(to_address="Yolanda.Price@gmail.com", subject="Please confirm", body_text="..."))
    db.session.commit()
    assert count(first) == 2

    preview = staff_client.post("/staff/privacy", data={"email": "yolanda.price@gmail.com", "action": "preview"})
    html = preview.get_data(as_text=True)
    assert "Signatures: 1 anonymised, 1 unconfirmed deleted" in html
    assert "Endorsement contacts removed: 1" in html
    assert db.session.get(Signature, confirmed_id).full_name == "Yolanda Price"  # nothing changed yet

    done = staff_client.post(
        "/staff/privacy", data={"email": "yolanda.price@gmail.com", "action": "erase"}, follow_redirects=True
    )
    assert "Erased: 5 records" in done.get_data(as_text=True)
    db.session.expire_all()
    anonymous = db.session.get(Signature, confirmed_id)
    assert anonymous.full_name == "" and anonymous.email is None and anonymous.comment == ""
    assert anonymous.zip_code is None and anonymous.anonymized_at is not None
    assert anonymous.status == "confirmed"
    assert db.session.get(Signature, pending_id) is None
    assert db.session.get(Signature, other_id).full_name == "Someone Else"
    pledge = db.session.scalar(db.select(Pledge))
    assert pledge.full_name == "" and pledge.email is None and pledge.message == ""
    endorsement = db.session.scalar(db.select(Endorsement))
    assert endorsement.contact_name == "" and endorsement.contact_email is None and endorsement.contact_phone == ""
    assert endorsement.status == "verified"
    assert db.session.scalar(db.select(OutgoingMail)) is None
    # The anonymous signature still counts: the counter and the rows agree.
    assert count(first) == 2
    confirmed_rows = db.session.scalar(
        db.select(db.func.count()).select_from(Signature).filter_by(campaign_id=first.id, status="confirmed")
    )
    assert confirmed_rows == 2
    # Not in any export with its name; no email left anywhere in the database's personal columns.
    data = staff_client.get("/staff/exports/signatures.csv?s-campaign=first&s-status=all").data.decode("utf-8-sig")
    assert "Yolanda" not in data and "yolanda" not in data
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="privacy.erase"))
    assert entry.actor_id == staff_client.staff.id
    assert "yolanda" not in (str(entry.details) + entry.subject).lower()
    assert entry.details["signatures_anonymised"] == 1 and entry.details["signatures_deleted"] == 1


def test_erasing_a_supporter_with_a_pending_pledge_deletes_the_pledge_and_its_signature(
    app, staff_client, make_campaign
):
    from tests.public_forms import sign_data

    from coalition.services import confirmations, counting

    campaign = make_campaign()
    goal = campaign.goals[0]
    data = sign_data(email="rosa@example.org")
    data["also_pledge"] = [goal.slug]
    assert app.test_client().post(f"/campaigns/{campaign.slug}", data=data).status_code == 303
    db.session.expire_all()
    signature = db.session.scalar(db.select(Signature))
    pledge = db.session.scalar(db.select(Pledge))
    assert (signature.status, pledge.status, pledge.signature_id) == ("pending", "pending", signature.id)
    token = confirmations.confirmation_token([signature], [pledge])

    done = staff_client.post(
        "/staff/privacy", data={"email": "Rosa@Example.org", "action": "erase"}, follow_redirects=True
    )
    assert "Erased: 2 records" in done.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(db.select(Pledge)).all() == []
    assert db.session.scalars(db.select(Signature)).all() == []
    assert counting.pledge_counts([goal.id]).get(goal.id, 0) == 0
    # The emailed link confirms nothing any more.
    gone = app.test_client().get(f"/confirm/{token}")
    assert gone.status_code == 404


def test_erasure_explains_a_bad_email_and_an_unknown_one(staff_client):
    bad = staff_client.post("/staff/privacy", data={"email": "not an email", "action": "preview"})
    assert "That is not a valid email address." in bad.get_data(as_text=True)
    unknown = staff_client.post("/staff/privacy", data={"email": "nobody@example.org", "action": "preview"})
    assert "Nothing is held under this email" in unknown.get_data(as_text=True)


def test_purge_anonymises_old_campaigns_and_keeps_counts(app, runner, make_campaign, make_signature_row):
    now = utcnow()
    old = make_campaign(slug="old", status="closed", closed_at=now - timedelta(days=400), closes_at=now - timedelta(days=400))
    recent = make_campaign(slug="recent", status="closed", closed_at=now - timedelta(days=60))
    running = make_campaign(slug="running")
    for campaign in (old, recent, running):
        make_signature_row(campaign, full_name="Rosa Lane", email=f"rosa.{campaign.slug}@example.org", zip_code="14620")
        make_signature_row(campaign, full_name="Ana Lane", email=f"ana.{campaign.slug}@example.org", zip_code="10027")
    dry = runner.invoke(args=["purge-personal-data", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "old: 2 signatures would be anonymised" in dry.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Signature).where(Signature.anonymized_at.is_not(None))) == 0
    result = runner.invoke(args=["purge-personal-data"])
    assert result.exit_code == 0, result.output
    assert "old: 2 signatures anonymised" in result.output and "recent" not in result.output
    db.session.expire_all()
    rows = db.session.scalars(db.select(Signature).filter_by(campaign_id=old.id)).all()
    assert all(s.full_name == "" and s.email is None and s.anonymized_at for s in rows)
    assert sorted(s.county for s in rows) == ["Monroe County", "New York County"]  # figures by county stay
    assert count(old) == 2
    kept = db.session.scalars(db.select(Signature).filter_by(campaign_id=recent.id)).all()
    assert all(s.full_name for s in kept)
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="privacy.purge"))
    assert entry.subject == f"campaign:{old.id}" and entry.details == {"signatures": 2, "retention_months": 12}
    # A shorter retention reaches the recent one; running again changes nothing more.
    again = runner.invoke(args=["purge-personal-data", "--months", "1"])
    assert "recent: 2 signatures anonymised" in again.output and "old:" not in again.output


def test_months_before_clamps_to_the_end_of_the_month():
    moment = utcnow().replace(year=2027, month=3, day=31)
    assert privacy_service.months_before(moment, 1).date().isoformat() == "2027-02-28"
    assert privacy_service.months_before(moment, 12).date().isoformat() == "2026-03-31"
    assert privacy_service.months_before(moment, 13).date().isoformat() == "2026-02-28"


def test_admins_read_the_audit_log(app, make_staff, make_campaign, make_signature_row):
    admin = make_staff(role="admin")
    client = app.test_client()
    login(client, admin)
    campaign = make_campaign(slug="c")
    make_signature_row(campaign)
    assert client.get("/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed").data
    html = client.get("/staff/audit").get_data(as_text=True)
    assert "export.signatures" in html and admin.email in html and "rows: 1" in html
    filtered = client.get("/staff/audit?action=staff.").get_data(as_text=True)
    assert "export.signatures" not in filtered and "staff.create" in filtered
