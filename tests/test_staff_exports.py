"""CSV exports: contents, formula neutralising, filters, audit, the command, flat memory."""

from __future__ import annotations

import csv
import gc
import io
import re
import time
import tracemalloc
from datetime import timedelta

import pytest
from tests.conftest import login
from sqlalchemy import insert

from coalition.extensions import db
from coalition.models import AuditEntry, Endorsement, Organization, Pledge, PledgeAction, Signature
from coalition.models.types import utcnow
from coalition.services import exports as export_service


def read_csv(data: bytes) -> list[dict]:
    """Parse an export the way a spreadsheet would: BOM, then RFC 4180 rows."""
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture
def organizer_client(client, make_staff):
    staff = make_staff()
    login(client, staff)
    client.staff = staff
    return client


@pytest.mark.parametrize(
    "path",
    ["/staff/exports/signatures.csv?s-status=confirmed", "/staff/exports/pledges.csv?p-status=confirmed",
     "/staff/exports/endorsements.csv?e-status=verified"],
)
def test_exports_tell_nginx_not_to_buffer_them(organizer_client, content, path):
    response = organizer_client.get(path)
    assert response.status_code == 200, response.data[:300]
    assert response.headers["X-Accel-Buffering"] == "no"


def test_signatories_csv_is_safe_for_spreadsheets(organizer_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="fund-atis")
    make_signature_row(campaign, full_name="José Núñez-Álvarez", email="jose@example.org")
    make_signature_row(campaign, full_name='=HYPERLINK("http://evil.example","click")', email="evil@example.org")
    make_signature_row(campaign, full_name="+1 555", comment="-2+3", email="plus@example.org")
    make_signature_row(campaign, full_name="@SUM(A1)", comment="\tTabbed", email="at@example.org")
    make_signature_row(campaign, full_name="Ana, \"Nana\" Díaz", comment="line one\nline two", email="ana@example.org")
    response = organizer_client.get("/staff/exports/signatures.csv?s-campaign=fund-atis&s-status=confirmed")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'attachment; filename="signatures-fund-atis-' in response.headers["Content-Disposition"]
    data = response.data
    assert b"\r\n" in data and data.count(b"\r\n") >= 6
    rows = read_csv(data)
    assert list(rows[0].keys()) == export_service.SIGNATURE_HEADER
    names = [row["full_name"] for row in rows]
    assert names == [
        "José Núñez-Álvarez",
        "'=HYPERLINK(\"http://evil.example\",\"click\")",
        "'+1 555",
        "'@SUM(A1)",
        'Ana, "Nana" Díaz',
    ]
    assert rows[2]["comment"] == "'-2+3"
    assert rows[3]["comment"] == "'\tTabbed"
    assert rows[4]["comment"] == "line one\nline two"
    # The raw bytes quote as RFC 4180 says: doubled quotes inside a quoted cell.
    assert b'"Ana, ""Nana"" D\xc3\xadaz"' in data
    assert rows[0]["source"] == "online" and rows[0]["county"] == "Kings County"
    assert rows[0]["status"] == "confirmed" and rows[0]["campaign"] == "fund-atis"


TRICKY_TEXT = [
    "", " ", "plain", "Ana, \"Nana\"", '"', '""', ",", "a,b", "line\nbreak", "cr\rreturn", "crlf\r\nend",
    "\n", "\r", "\t", "=", "=1+2", "+", "-", "@", "-5", "'=already", " =spaced", "tab\tinside",
    "Núñez", "李小龙", "emoji 🙂, \"x\"", "ends with quote\"", "\u00a0nbsp", "=\"q\",\n=",
]


def test_the_csv_the_database_builds_is_byte_for_byte_pythons_csv_writer(
    organizer_client, make_campaign, make_signature_row
):
    """Whatever a cell holds, the export is exactly what ``csv.writer`` writes of each
    value passed through ``neutralize``: quoted only where RFC 4180 needs it, formulas
    defused, timestamps and yes/no as documented."""
    campaign = make_campaign(slug="tricky")
    values = TRICKY_TEXT + [TRICKY_TEXT[i] + TRICKY_TEXT[-1 - i] for i in range(len(TRICKY_TEXT))]
    for n, text in enumerate(values):
        make_signature_row(
            campaign,
            full_name=text or "x",
            comment=text,
            city=text,
            paper_source=text or None,
            wants_updates=n % 2 == 0,
            email=f"t{n}@example.org",
        )
    data = organizer_client.get("/staff/exports/signatures.csv?s-campaign=tricky&s-status=all").data
    attributes = [
        "id", "status", "source", "full_name", "email", "zip_code", "city", "county", "state", "country",
        "wants_updates", "updates_consented_at", "show_publicly", "comment", "language", "created_at",
        "confirmed_at", "paper_source", "invalidated_at", "invalidation_reason",
    ]
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\r\n")
    writer.writerow(export_service.SIGNATURE_HEADER)
    signatures = db.session.scalars(db.select(Signature).where(Signature.campaign_id == campaign.id).order_by(Signature.id))
    for signature in signatures:
        numbers = [(d or "").rsplit(":", 1)[-1] for d in (signature.senate_district, signature.assembly_district)]
        writer.writerow(["tricky"] + [export_service.neutralize(getattr(signature, name)) for name in attributes] + numbers)
    assert data.decode("utf-8") == export_service.BOM + expected.getvalue()
    assert [row["comment"] for row in read_csv(data)] == [export_service.neutralize(text) for text in values]


def test_neutralize_covers_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r", "\n"):
        assert export_service.neutralize(start + "x") == "'" + start + "x"
    assert export_service.neutralize("Maria") == "Maria"
    assert export_service.neutralize(None) == ""
    assert export_service.neutralize(True) == "yes"


def test_filters_status_consent_county_and_dates(organizer_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    other = make_campaign(slug="other")
    now = utcnow()
    make_signature_row(campaign, full_name="Kings Consented", wants_updates=True, zip_code="11216")
    make_signature_row(campaign, full_name="Albany", zip_code="12203")
    make_signature_row(campaign, full_name="Old", zip_code="12203", created_at=now - timedelta(days=40))
    make_signature_row(campaign, full_name="Waiting", status="pending")
    make_signature_row(
        campaign, full_name="Struck", status="invalidated", invalidated_at=now, invalidation_reason="spam"
    )
    make_signature_row(other, full_name="Elsewhere")

    def names(query: str) -> list[str]:
        response = organizer_client.get("/staff/exports/signatures.csv?" + query)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return sorted(row["full_name"] for row in read_csv(response.data))

    assert names("s-campaign=c&s-status=confirmed") == ["Albany", "Kings Consented", "Old"]
    assert names("s-campaign=c&s-status=all") == ["Albany", "Kings Consented", "Old", "Struck", "Waiting"]
    assert names("s-campaign=c&s-status=invalidated") == ["Struck"]
    assert names("s-campaign=c&s-status=confirmed&s-consented_only=y") == ["Kings Consented"]
    assert names("s-campaign=c&s-status=confirmed&s-county=Albany+County") == ["Albany", "Old"]
    since = (now - timedelta(days=7)).date().isoformat()
    assert names(f"s-campaign=c&s-status=confirmed&s-date_from={since}") == ["Albany", "Kings Consented"]
    until = (now - timedelta(days=30)).date().isoformat()
    assert names(f"s-campaign=c&s-status=confirmed&s-date_to={until}") == ["Old"]
    assert names("s-campaign=&s-status=confirmed") == ["Albany", "Elsewhere", "Kings Consented", "Old"]
    # Defaults: confirmed only, all campaigns.
    assert names("") == ["Albany", "Elsewhere", "Kings Consented", "Old"]


def test_bad_filters_are_explained_not_exported(organizer_client, make_campaign):
    make_campaign(slug="c")
    response = organizer_client.get(
        "/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed&s-date_from=2026-05-01&s-date_to=2026-04-01"
    )
    assert response.status_code == 400
    assert "The last day is before the first day." in response.get_data(as_text=True)
    bad = organizer_client.get("/staff/exports/signatures.csv?s-campaign=nope&s-status=confirmed")
    assert bad.status_code == 400
    assert "text/html" in bad.headers["Content-Type"]
    assert db.session.scalar(db.select(AuditEntry).filter_by(action="export.signatures")) is None


def test_every_export_is_audited_without_personal_data(organizer_client, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    make_signature_row(campaign, full_name="Maria Audit", email="maria.audit@example.org")
    make_signature_row(campaign, full_name="Rosa Audit", email="rosa.audit@example.org")
    response = organizer_client.get("/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed&s-county=Kings+County")
    assert len(read_csv(response.data)) == 2
    entry = db.session.scalar(db.select(AuditEntry).filter_by(action="export.signatures"))
    assert entry.actor_id == organizer_client.staff.id
    assert entry.subject == f"campaign:{campaign.id}"
    assert entry.details["rows"] == 2 and entry.details["completed"] is True
    assert entry.details["status"] == "confirmed" and entry.details["county"] == "Kings County"
    assert entry.details["via"] == "web"
    assert entry.at is not None
    assert "maria" not in str(entry.details).lower()


def test_pledges_and_endorsements_exports(organizer_client, make_campaign, content):
    campaign = make_campaign(slug="c")
    goal = campaign.goals[0]
    actions = db.session.scalars(db.select(PledgeAction).filter_by(goal_id=goal.id)).all()
    pledge = Pledge(
        goal_id=goal.id, status="confirmed", full_name="=Pledger", email="p@example.org",
        email_normalized="p@example.org", confirmed_at=utcnow(), county="Bronx County", actions=actions[:2],
    )
    db.session.add(pledge)
    org = Organization(domain="helpers.example.org", name="Helpers", website="https://helpers.example.org", org_type="union")
    db.session.add(org)
    db.session.flush()
    db.session.add(
        Endorsement(
            organization_id=org.id, campaign_id=campaign.id, status="verified", contact_name="Dana",
            contact_role="Director", contact_email="dana@example.org", authorized=True, statement="+We support it",
        )
    )
    db.session.commit()
    pledges = read_csv(organizer_client.get(f"/staff/exports/pledges.csv?p-goal={goal.slug}&p-status=confirmed").data)
    assert list(pledges[0].keys()) == export_service.PLEDGE_HEADER
    assert pledges[0]["full_name"] == "'=Pledger"
    assert pledges[0]["actions"] == "; ".join(a.key for a in actions[:2])
    assert pledges[0]["goal"] == goal.slug
    endorsements = read_csv(organizer_client.get("/staff/exports/endorsements.csv?e-campaign=c&e-status=verified").data)
    assert list(endorsements[0].keys()) == export_service.ENDORSEMENT_HEADER
    assert endorsements[0]["organization"] == "Helpers"
    assert endorsements[0]["statement"] == "'+We support it"
    actions_logged = sorted(db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("export.%"))))
    assert actions_logged == ["export.endorsements", "export.pledges"]


def test_the_export_page_lists_the_filters(organizer_client, make_campaign):
    make_campaign(title="Fund the programs")
    html = organizer_client.get("/staff/exports").get_data(as_text=True)
    assert "Fund the programs" in html
    assert "Download signatories (CSV)" in html


def test_export_command_writes_the_same_csv(app, runner, make_campaign, make_signature_row):
    campaign = make_campaign(slug="c")
    make_signature_row(campaign, full_name="Zoë Côté", email="zoe@example.org")
    make_signature_row(campaign, full_name="-Minus", email="minus@example.org", wants_updates=True)
    result = runner.invoke(args=["export-signatures", "--campaign", "c", "--consented"])
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout_bytes)
    assert [row["full_name"] for row in rows] == ["'-Minus"]
    assert "Exporting" in result.stderr
    every = runner.invoke(args=["export-signatures", "--campaign", "c"])
    assert [row["full_name"] for row in read_csv(every.stdout_bytes)] == ["Zoë Côté", "'-Minus"]
    entries = db.session.scalars(db.select(AuditEntry).filter_by(action="export.signatures")).all()
    assert [e.details["rows"] for e in entries] == [1, 2]
    assert all(e.actor_id is None and e.details["via"] == "command" for e in entries)
    missing = runner.invoke(args=["export-signatures", "--campaign", "nope"])
    assert missing.exit_code != 0 and "No campaign" in missing.output


def _add_rows(campaign_id: int, start: int, count: int) -> None:
    now = utcnow()
    batch = []
    for n in range(start, start + count):
        batch.append(
            {
                "campaign_id": campaign_id, "status": "confirmed", "source": "online",
                "full_name": f"Signer Número {n}", "email": f"s{n}@example.org", "email_normalized": f"s{n}@example.org",
                "zip_code": "11216", "city": "Brooklyn", "county": "Kings County", "state": "NY",
                "comment": "A comment of ordinary length, about the campaign.", "language": "en",
                "show_publicly": False, "wants_updates": False, "created_at": now, "confirmed_at": now,
                "confirmation_sends": 1,
            }
        )
        if len(batch) == 5000:
            db.session.execute(insert(Signature), batch)
            batch = []
    if batch:
        db.session.execute(insert(Signature), batch)
    db.session.commit()


def _peak_while_downloading(client) -> tuple[int, int]:
    response = client.get("/staff/exports/signatures.csv?s-campaign=big&s-status=confirmed", buffered=False)
    # No cycle collection while measuring: faster, and garbage cannot hide any growth.
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        lines = 0
        for chunk in response.response:
            lines += chunk.count(b"\r\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        gc.enable()
    response.close()
    return peak, lines


@pytest.mark.slow
def test_a_large_export_streams_in_flat_memory(organizer_client, make_campaign):
    started = time.monotonic()
    campaign = make_campaign(slug="big")
    _add_rows(campaign.id, 0, 10_000)
    small_peak, small_lines = _peak_while_downloading(organizer_client)
    _add_rows(campaign.id, 10_000, 50_000)
    large_peak, large_lines = _peak_while_downloading(organizer_client)
    assert small_lines == 10_001 and large_lines == 60_001
    # Six times the rows, about the same memory: well under what holding them would take.
    assert large_peak < small_peak * 1.5 + 512 * 1024, (small_peak, large_peak)
    assert large_peak < 8 * 1024 * 1024
    # tracemalloc slows Python several times over; without it this export takes about 1 s.
    assert time.monotonic() - started < 60


def test_the_columns_page_describes_every_column_in_the_files_order(organizer_client, content):
    page = organizer_client.get("/staff/exports/columns")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for kind, header in (("signatures", export_service.SIGNATURE_HEADER), ("pledges", export_service.PLEDGE_HEADER),
                         ("endorsements", export_service.ENDORSEMENT_HEADER)):
        rows = re.findall(rf'<tr id="{kind}-([a-z_]+)"><th scope="row"><code>\1</code></th><td>([^<]+)</td></tr>', html)
        assert [name for name, _meaning in rows] == header
        assert all(meaning.strip() for _name, meaning in rows)


def test_the_exports_page_links_to_the_columns_and_staff_alone_see_them(organizer_client, app):
    exports_page = organizer_client.get("/staff/exports").get_data(as_text=True)
    assert 'href="/staff/exports/columns">What each column holds</a>' in exports_page
    assert "README" not in exports_page
    spanish = organizer_client.get("/es/staff/exports/columns").get_data(as_text=True)
    assert "Qué contiene cada columna" in spanish
    assert app.test_client().get("/staff/exports/columns").status_code == 302
