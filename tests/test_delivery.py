"""Addressees, delivery packets (their PDF text, read with pdftotext), and the staff pages."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

import pytest

from coalition import fonts
from coalition.extensions import db
from coalition.models import AuditEntry, Committee, Legislator
from coalition.services import districts
from tests.conftest import login, service_missing
from tests.test_districts import AD, SD, load_fixture_districts
from tests.test_legislators import SAMPLE_CSV

CJK_NAME = "王小明"


def pdf_text(data: bytes) -> str:
    """The text of a PDF, as poppler's pdftotext extracts it."""
    tool = shutil.which("pdftotext")
    if tool is None:
        service_missing("pdftotext (poppler-utils) is not installed")
    done = subprocess.run([tool, "-", "-"], input=data, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


@pytest.fixture
def delivery_setup(app, runner, make_campaign, make_signature_row, make_staff):
    """Districts from the fixture, two legislators from the sample CSV, a campaign with signers."""
    load_fixture_districts(runner)
    assert runner.invoke(args=["load-legislators", str(SAMPLE_CSV)]).exit_code == 0
    campaign = make_campaign(title="Free Them Home", body="Bring our people **home**.")

    def sign(name, zip_code="12207", **values):
        values.setdefault("deliver_name", True)
        return make_signature_row(campaign, full_name=name, zip_code=zip_code,
                                  **districts.place_zip(zip_code, "NY").values(), **values)

    sign("Zoë Ångström", email="zoe@example.org", comment="My sister is inside.")
    sign("José Núñez", email=None, email_normalized=None, source="paper",
         paper_source="Letters from Bedford Hills (2026-03-04)")
    sign("Σωκράτης Παπαδόπουλος")
    sign("Анна Каренина")
    sign(CJK_NAME)
    sign("Private Person", deliver_name=False)
    sign("Pending Person", status="pending", confirmed_at=None)
    sign("Elsewhere Person", zip_code="11216")
    sign("Between Person", zip_code="10027")  # Senate 30 or 31; Assembly 70
    staff = make_staff()
    fahy = db.session.execute(db.select(Legislator).filter_by(seat="upper")).scalar_one()
    romero = db.session.execute(db.select(Legislator).filter_by(seat="lower")).scalar_one()
    return campaign, staff, fahy, romero


def test_a_packet_holds_the_count_and_the_consenting_names_only(app, delivery_setup):
    campaign, staff, fahy, _ = delivery_setup
    client = app.test_client()
    login(client, staff)
    response = client.get(f"/staff/campaigns/{campaign.id}/packets/{fahy.id}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{campaign.slug}-senate-46-pat-fahy.pdf"'
    text = pdf_text(response.data)
    assert "Coalition for Women Prisoners" in text
    assert "To: Pat Fahy, Senate District 46" in text
    assert "Free Them Home" in text and "Bring our people home." in text
    assert "6 confirmed signers in Senate District 46" in text
    for name in ("Zoë Ångström", "José Núñez", "Σωκράτης Παπαδόπουλος", "Анна Каренина"):
        assert name in text
    # A CJK name is printed when an installed font has its letters, else flagged; never dropped.
    if fonts.font_for_text(CJK_NAME):
        assert CJK_NAME in text
    else:
        assert "[name in a script no installed font covers" in text
        assert "1 name(s) are written in a script no font installed" in text
    assert "and 1 more who signed without asking to be named" in text
    for absent in ("Private Person", "Pending Person", "Elsewhere Person", "Between Person",
                   "zoe@example.org", "12207", "My sister is inside", "Bedford Hills", "(paper)"):
        assert absent not in text
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="packet.pdf")).one()
    assert entry.actor_id == staff.id and entry.details == {"legislators": [fahy.id]}


def test_signers_between_districts_are_in_a_separate_section(app, delivery_setup, runner):
    campaign, staff, *_ = delivery_setup
    from coalition.services import legislators

    legislators.load_legislators(str(SAMPLE_CSV))
    jackson = Legislator(openstates_id="ocd-person/jackson", name="Robert Jackson", seat="upper",
                         district_ocd_id=SD(31), offices=[])
    db.session.add(jackson)
    db.session.commit()
    client = app.test_client()
    login(client, staff)
    text = pdf_text(client.get(f"/staff/campaigns/{campaign.id}/packets/{jackson.id}.pdf").data)
    assert "0 confirmed signers in Senate District 31" in text
    assert "1 more may live in your district" in text
    assert "Between Person" in text
    from coalition.services import delivery

    campaign.addressed_to, campaign.target_legislators = "chosen", [jackson]
    db.session.commit()
    (summary,) = delivery.packet_summaries(campaign)
    assert (summary.legislator, summary.signers, summary.maybe) == (jackson, 0, 1)


def test_the_zip_holds_one_packet_per_targeted_legislator(app, delivery_setup):
    campaign, staff, fahy, romero = delivery_setup
    client = app.test_client()
    login(client, staff)
    saved = client.post(f"/staff/campaigns/{campaign.id}/delivery",
                        data={"addressed_to": "chosen", "legislators": [fahy.id, romero.id], "committee": "0",
                              "mail_subject": "Vote yes", "mail_body": "Please."})
    assert saved.status_code == 302
    page = client.get(f"/staff/campaigns/{campaign.id}/delivery").get_data(as_text=True)
    assert "Pat Fahy" in page and "Gabriella A. Romero" in page
    if not fonts.font_for_text(CJK_NAME):
        assert "1 name is written in a script that no font installed on this server covers" in page
    with client.get(f"/staff/campaigns/{campaign.id}/packets.zip") as response:
        assert response.status_code == 200 and response.mimetype == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert sorted(archive.namelist()) == [
        f"{campaign.slug}-assembly-109-gabriella-a-romero.pdf",
        f"{campaign.slug}-senate-46-pat-fahy.pdf",
    ]
    assembly = pdf_text(archive.read(f"{campaign.slug}-assembly-109-gabriella-a-romero.pdf"))
    assert "6 confirmed signers in Assembly District 109" in assembly
    entry = db.session.scalars(db.select(AuditEntry).filter_by(action="packet.zip")).one()
    assert sorted(entry.details["legislators"]) == sorted([fahy.id, romero.id])
    # The campaign page says whom the petition is addressed to.
    public = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "Addressed to:" in public and "Pat Fahy (Senate District 46)" in public


def test_addressees_of_each_kind(app, delivery_setup):
    campaign, staff, fahy, romero = delivery_setup
    committee = Committee(openstates_id="ocd-organization/x", name="Correction", chamber="upper", members=[fahy])
    db.session.add(committee)
    db.session.commit()
    client = app.test_client()
    login(client, staff)
    from coalition.services import legislators

    for kind, expected in (("senate", [fahy]), ("assembly", [romero]), ("legislature", [fahy, romero]),
                           ("committee", [fahy])):
        data = {"addressed_to": kind, "committee": str(committee.id), "mail_subject": "", "mail_body": ""}
        assert client.post(f"/staff/campaigns/{campaign.id}/delivery", data=data).status_code == 302
        db.session.expire_all()
        assert legislators.addressees(campaign) == expected
    public = client.get(f"/campaigns/{campaign.slug}").get_data(as_text=True)
    assert "the members of the Correction committee (Senate)" in public
    refused = client.post(f"/staff/campaigns/{campaign.id}/delivery",
                          data={"addressed_to": "chosen", "committee": "0"})
    assert refused.status_code == 200 and "Choose at least one legislator." in refused.get_data(as_text=True)


def test_staff_see_the_loads_and_correct_a_legislator(app, delivery_setup, runner):
    _, staff, fahy, _ = delivery_setup
    client = app.test_client()
    login(client, staff)
    page = client.get("/staff/legislators").get_data(as_text=True)
    assert "4 Senate and 4 Assembly districts, loaded" in page
    assert "Loaded from Open States" in page and "openstates-ny-sample.csv" in page
    assert "Pat Fahy" in page
    response = client.post(f"/staff/legislators/{fahy.id}", data={
        "email": "office@fahy.example.org", "url": fahy.url, "capitol_address": "Room 1, Albany",
        "capitol_phone": "518-000-0000", "district_address": "", "district_phone": "",
    })
    assert response.status_code == 302
    assert runner.invoke(args=["load-legislators", str(SAMPLE_CSV)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Legislator, fahy.id).email == "office@fahy.example.org"
    assert client.post(f"/staff/legislators/{fahy.id}/forget").status_code == 302
    assert runner.invoke(args=["load-legislators", str(SAMPLE_CSV)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(Legislator, fahy.id).email == "fahy@nysenate.gov"
    assert client.get("/staff/legislators/999").status_code == 404
    assert AD(109) == db.session.get(Legislator, delivery_setup[3].id).district_ocd_id


def test_an_endorsing_organization_is_listed_in_its_districts_packet(app, delivery_setup):
    from coalition.models import Endorsement, Organization
    from tests.test_endorsements import _endorse_data

    campaign, staff, fahy, _ = delivery_setup
    client = app.test_client()
    bad = client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data(zip_code="1220"))
    assert bad.status_code == 200 and "Please enter a 5-digit US ZIP code" in bad.get_data(as_text=True)
    client.post(f"/campaigns/{campaign.slug}/endorse", data=_endorse_data(zip_code="12207"))
    organization = db.session.scalars(db.select(Organization)).one()
    assert organization.zip_code == "12207"
    db.session.execute(db.update(Endorsement).values(status="verified"))
    db.session.commit()
    login(client, staff)
    text = pdf_text(client.get(f"/staff/campaigns/{campaign.id}/packets/{fahy.id}.pdf").data)
    assert "Endorsing organizations in Senate District 46" in text
    assert "Women in Prison Project" in text
    assert "director@wipp.example.org" not in text and "212-254-5700" not in text


def test_staff_set_the_districts_of_a_paper_signature(app, delivery_setup, runner):
    from coalition.models import Signature
    from coalition.services import paper

    campaign, staff, *_ = delivery_setup
    signature = paper.add_paper_signature(campaign.id, staff.id, "Mail (2026-03-04)",
                                          paper.PaperEntry(full_name="Ana Díaz", zip_code="10027"))
    db.session.commit()
    client = app.test_client()
    login(client, staff)
    assert "between districts: set them" in client.get("/staff/paper").get_data(as_text=True)
    form = client.get(f"/staff/signatures/{signature.id}/districts").get_data(as_text=True)
    assert "SD 30 (State Senate District 30), SD 31 (State Senate District 31)" in form
    wrong = client.post(f"/staff/signatures/{signature.id}/districts", data={"senate": "AD 70", "assembly": "AD 70"})
    assert wrong.status_code == 200 and "Write a Senate district as SD 12." in wrong.get_data(as_text=True)
    saved = client.post(f"/staff/signatures/{signature.id}/districts", data={"senate": "SD 30", "assembly": "AD 70"})
    assert saved.status_code == 302
    load_fixture_districts(runner)  # a reload keeps what staff set
    db.session.expire_all()
    kept = db.session.get(Signature, signature.id)
    assert (kept.senate_district, kept.assembly_district, kept.districts_set_by) == (SD(30), AD(70), "staff")
    online = db.session.scalars(db.select(Signature).filter_by(source="online")).first()
    assert client.get(f"/staff/signatures/{online.id}/districts").status_code == 404
