"""Moderation: endorsements reviewed, signatures invalidated one by one or in bulk, and the effects."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from tests.conftest import login

from coalition.extensions import db
from coalition.models import AuditEntry, Endorsement, Organization, Signature
from coalition.models.types import utcnow
from coalition.services import campaigns as campaign_service
from coalition.services import endorsing as review_service


@pytest.fixture
def staff_client(client, make_staff):
    staff = make_staff()
    login(client, staff)
    client.staff = staff
    return client


def exported_names(client, slug: str, status: str = "confirmed") -> list[str]:
    data = client.get(f"/staff/exports/signatures.csv?s-campaign={slug}&s-status={status}").data
    return sorted(row["full_name"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def count(campaign) -> int:
    db.session.expire_all()
    return campaign_service.confirmed_count(campaign)


def test_search_finds_by_email_or_name(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign()
    make_signature_row(campaign, full_name="Keisha Brown", email="K.Brown+petition@gmail.com")
    make_signature_row(campaign, full_name="Rosa Díaz", email="rosa@example.org")
    by_name = staff_client.get("/staff/signatures?q=keisha").get_data(as_text=True)
    assert "Keisha Brown" in by_name and "Rosa" not in by_name
    by_normal_email = staff_client.get("/staff/signatures?q=kbrown@gmail.com").get_data(as_text=True)
    assert "Keisha Brown" in by_normal_email
    nothing = staff_client.get("/staff/signatures?q=nobody-here").get_data(as_text=True)
    assert "No signature matches." in nothing


def test_invalidating_one_signature_stops_it_counting_and_exporting(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    keep = make_signature_row(campaign, full_name="Keep Me")
    fake = make_signature_row(campaign, full_name="Fake Person")
    pending = make_signature_row(campaign, full_name="Not Yet", status="pending")
    assert count(campaign) == 2
    no_reason = staff_client.post(f"/staff/signatures/{fake.id}/invalidate", data={"reason": " "}, follow_redirects=True)
    assert "Give a reason" in no_reason.get_data(as_text=True)
    assert count(campaign) == 2
    staff_client.post(f"/staff/signatures/{fake.id}/invalidate", data={"reason": "made-up name"})
    staff_client.post(f"/staff/signatures/{pending.id}/invalidate", data={"reason": "duplicate"})
    assert count(campaign) == 1
    stored = db.session.get(Signature, fake.id)
    assert stored.status == "invalidated" and stored.invalidation_reason == "made-up name"
    assert exported_names(staff_client, "c") == ["Keep Me"]
    assert exported_names(staff_client, "c", "invalidated") == ["Fake Person", "Not Yet"]
    # Twice does not subtract twice.
    again = staff_client.post(f"/staff/signatures/{fake.id}/invalidate", data={"reason": "again"}, follow_redirects=True)
    assert "already invalidated" in again.get_data(as_text=True)
    assert count(campaign) == 1
    entries = db.session.scalars(db.select(AuditEntry).filter_by(action="signature.invalidate")).all()
    assert {e.subject for e in entries} == {f"signature:{fake.id}", f"signature:{pending.id}"}
    assert all(e.actor_id == staff_client.staff.id for e in entries)
    # Restoring brings a once-confirmed signature back into the count; a pending one stays pending.
    staff_client.post(f"/staff/signatures/{fake.id}/restore")
    staff_client.post(f"/staff/signatures/{pending.id}/restore")
    assert count(campaign) == 2
    assert db.session.get(Signature, pending.id).status == "pending"
    assert keep.id


def test_bulk_invalidation_by_domain_previews_then_applies(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    other = make_campaign(slug="other")
    for n in range(3):
        make_signature_row(campaign, full_name=f"Spam {n}", email=f"bot{n}@mailinator.com")
    make_signature_row(campaign, full_name="Spam pending", email="bot9@mailinator.com", status="pending")
    make_signature_row(campaign, full_name="Real", email="real@example.org")
    make_signature_row(other, full_name="Other campaign", email="bot@mailinator.com")
    form = {"campaign": str(campaign.id), "email_domain": "@Mailinator.com", "reason": "", "action": "preview"}
    preview = staff_client.post("/staff/signatures/bulk", data=form)
    html = preview.get_data(as_text=True)
    assert "4 signatures would be invalidated" in html
    assert "(3 confirmed" in html
    # The preview lists the signatures it would take (the first 50 of them).
    sample = html[html.index('class="data stack bulk-sample"'):]
    sample = sample[: sample.index("</table>")]
    assert [name for name in ("Spam 0", "Spam 1", "Spam 2", "Spam pending", "Real", "Other campaign") if name in sample] == [
        "Spam 0", "Spam 1", "Spam 2", "Spam pending"
    ]
    assert count(campaign) == 4  # nothing changed yet
    without_reason = staff_client.post(
        "/staff/signatures/bulk", data={**form, "action": "apply", "expected_confirmed": "3", "expected_pending": "1"}
    )
    assert "Give a reason." in without_reason.get_data(as_text=True)
    assert count(campaign) == 4
    applied = staff_client.post(
        "/staff/signatures/bulk",
        data={**form, "reason": "disposable addresses", "action": "apply", "expected_confirmed": "3", "expected_pending": "1"},
        follow_redirects=True,
    )
    assert "4 signatures invalidated (3 had been confirmed)" in applied.get_data(as_text=True)
    assert count(campaign) == 1
    assert count(other) == 1
    assert exported_names(staff_client, "c") == ["Real"]
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="signature.invalidate_bulk"))
    assert entry.details["email_domain"] == "mailinator.com"
    assert entry.details["confirmed"] == 3 and entry.details["pending"] == 1


def test_the_bulk_preview_lists_only_the_first_50(staff_client, make_campaign, make_signature_row):
    campaign = make_campaign()
    for n in range(55):
        make_signature_row(campaign, full_name=f"Bot {n:02d}", email=f"bot{n}@mailinator.com", created_at=utcnow() - timedelta(minutes=100 - n))
    form = {"campaign": str(campaign.id), "email_domain": "mailinator.com", "reason": "", "action": "preview"}
    html = staff_client.post("/staff/signatures/bulk", data=form).get_data(as_text=True)
    assert "55 signatures would be invalidated" in html and "The first 50 of them" in html
    assert "Bot 49" in html and "Bot 50" not in html


def test_bulk_invalidation_refuses_when_matches_changed_since_the_preview(
    staff_client, make_campaign, make_signature_row
):
    campaign = make_campaign()
    make_signature_row(campaign, email="a@spam.example.org", client_hash="abc123")
    form = {"campaign": str(campaign.id), "client_hash": "abc123", "reason": "one address", "action": "apply"}
    make_signature_row(campaign, email="b@spam.example.org", client_hash="abc123")  # arrived after a preview of 1
    stale = staff_client.post("/staff/signatures/bulk", data={**form, "expected_confirmed": "1", "expected_pending": "0"})
    html = stale.get_data(as_text=True)
    assert "changed since the preview" in html
    assert "2 signatures would be invalidated" in html
    assert count(campaign) == 2
    staff_client.post("/staff/signatures/bulk", data={**form, "expected_confirmed": "2", "expected_pending": "0"})
    assert count(campaign) == 0


def test_bulk_invalidation_by_time_window_and_never_the_whole_campaign(
    staff_client, make_campaign, make_signature_row
):
    campaign = make_campaign()
    now = utcnow().replace(second=0, microsecond=0)
    make_signature_row(campaign, full_name="Early", created_at=now - timedelta(hours=5))
    make_signature_row(campaign, full_name="Burst 1", created_at=now - timedelta(hours=2, minutes=30))
    make_signature_row(campaign, full_name="Burst 2", created_at=now - timedelta(hours=2, minutes=10))
    whole = staff_client.post("/staff/signatures/bulk", data={"campaign": str(campaign.id), "action": "preview"})
    assert "not the whole campaign" in whole.get_data(as_text=True)
    window = {
        "campaign": str(campaign.id),
        "signed_from": (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        "signed_until": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "action": "preview",
    }
    assert "2 signatures would be invalidated" in staff_client.post("/staff/signatures/bulk", data=window).get_data(as_text=True)
    staff_client.post(
        "/staff/signatures/bulk",
        data={**window, "action": "apply", "reason": "bot burst", "expected_confirmed": "2", "expected_pending": "0"},
    )
    assert count(campaign) == 1


def _endorsement(campaign, status="confirmed", **values) -> Endorsement:
    org = Organization(
        domain=f"org{campaign.id}{status}.example.org", name="Women's Justice Network",
        website="https://wjn.example.org", org_type="advocacy-group",
    )
    db.session.add(org)
    db.session.flush()
    endorsement = Endorsement(
        organization_id=org.id, campaign_id=campaign.id, status=status, contact_name="Dana Lee",
        contact_role="Director", contact_email="dana@wjn.example.org", authorized=True,
        public_consent=True, statement="We stand with women in prison.", confirmed_at=utcnow(), **values,
    )
    db.session.add(endorsement)
    db.session.commit()
    return endorsement


def test_endorsement_queue_verify_reject_and_edit(staff_client, make_campaign):
    campaign = make_campaign()
    first = _endorsement(campaign)
    second = _endorsement(make_campaign())
    waiting = _endorsement(make_campaign(), status="submitted")
    html = staff_client.get("/staff/endorsements").get_data(as_text=True)
    assert html.count("Women&#39;s Justice Network") == 2
    staff_client.post(f"/staff/endorsements/{first.id}/verify")
    no_reason = staff_client.post(f"/staff/endorsements/{second.id}/reject", data={"reason": ""}, follow_redirects=True)
    assert "Give a reason for the rejection." in no_reason.get_data(as_text=True)
    staff_client.post(f"/staff/endorsements/{second.id}/reject", data={"reason": "Not a real organization"})
    db.session.expire_all()
    first, second = db.session.get(Endorsement, first.id), db.session.get(Endorsement, second.id)
    assert first.status == "verified" and first.reviewed_by_id == staff_client.staff.id and first.reviewed_at
    assert second.status == "rejected" and second.rejection_reason == "Not a real organization"
    assert "Nothing to review" in staff_client.get("/staff/endorsements").get_data(as_text=True)
    # Editing what shows.
    edit = staff_client.post(
        f"/staff/endorsements/{first.id}", data={"display_name": "WJN", "display_statement": "We stand with them."}
    )
    assert edit.status_code == 302
    db.session.expire_all()
    assert db.session.get(Endorsement, first.id).display_name == "WJN"
    empty = staff_client.post(f"/staff/endorsements/{first.id}", data={"display_name": "", "display_statement": "x"})
    assert "The name to show cannot be empty." in empty.get_data(as_text=True)
    # Wrong transitions are refused.
    with pytest.raises(review_service.TransitionNotAllowed):
        review_service.verify_endorsement(waiting.id, staff_client.staff.id)
    with pytest.raises(review_service.TransitionNotAllowed):
        review_service.edit_endorsement_display(_endorsement(make_campaign(), status="withdrawn").id, staff_client.staff.id, "x", "")
    actions = sorted(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("endorsement.%"))))
    assert actions == ["endorsement.edit_display", "endorsement.reject", "endorsement.verify"]
