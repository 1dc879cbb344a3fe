"""Senate and Assembly districts: loading the Census files, placing signers, re-deriving."""

from __future__ import annotations

from pathlib import Path

from coalition.extensions import db
from coalition.models import DataLoad, District, Pledge, Signature, ZipDistrict
from coalition.services import districts, paper, pledging

DATA = Path(__file__).parent / "data"
SENATE_FILE = DATA / "tab20_sldu202420_zcta520_st36.txt"
ASSEMBLY_FILE = DATA / "tab20_sldl202420_zcta520_st36.txt"

SD = "ocd-division/country:us/state:ny/sldu:{}".format
AD = "ocd-division/country:us/state:ny/sldl:{}".format


def load_fixture_districts(runner, senate=SENATE_FILE, assembly=ASSEMBLY_FILE):
    """Run the real command on the Census-format fixture files; returns the result."""
    return runner.invoke(args=["load-districts", "--senate", str(senate), "--assembly", str(assembly)])


def test_load_districts_keeps_land_shares_and_reports_the_rows_it_skipped(runner):
    result = load_fixture_districts(runner)
    assert result.exit_code == 0, result.output
    assert {d.ocd_id for d in db.session.scalars(db.select(District))} == {
        SD(46), SD(30), SD(31), SD(59), AD(109), AD(70), AD(69), AD(57)
    }
    assert db.session.get(District, SD(46)).name == "State Senate District 46"
    shares = {(z.zcta, z.district_ocd_id): z.land_share for z in db.session.scalars(db.select(ZipDistrict))}
    assert shares[("10027", SD(30))] == 0.6
    assert shares[("10027", SD(31))] == 0.4
    assert shares[("12207", SD(46))] == 1.0
    assert ("07001", "ocd-division/country:us/state:ny/sldu:12") not in shares
    output = result.output
    assert "Senate (tab20_sldu202420_zcta520_st36.txt): 4 districts, 4 ZIP code overlaps." in output
    assert "skipped 1 row(s): another state's row (line 6)" in output
    assert "skipped 1 row(s): code that is no district (line 7)" in output
    assert "skipped 1 row(s): blank ZCTA (district land in no ZIP code area) (line 8)" in output
    assert "skipped 1 row(s): malformed line (wrong number of columns) (line 9)" in output
    assert "Assembly (tab20_sldl202420_zcta520_st36.txt): 4 districts, 4 ZIP code overlaps." in output
    assert "estimated from ZIP codes" in output
    load = db.session.scalars(db.select(DataLoad).where(DataLoad.kind == "districts")).one()
    assert load.source == "tab20_sldu202420_zcta520_st36.txt, tab20_sldl202420_zcta520_st36.txt"


def test_a_reload_replaces_what_was_loaded_before(runner, tmp_path):
    load_fixture_districts(runner)
    senate = tmp_path / "senate.txt"
    lines = SENATE_FILE.read_text().splitlines()
    senate.write_text("\n".join([lines[0], lines[1]]) + "\n")  # only district 46 now
    result = load_fixture_districts(runner, senate=senate)
    assert result.exit_code == 0, result.output
    senate_now = db.session.scalars(db.select(District.ocd_id).where(District.chamber == "upper")).all()
    assert senate_now == [SD(46)]
    assert db.session.scalars(db.select(ZipDistrict).where(ZipDistrict.zcta == "10027")).all()  # Assembly kept


def test_a_file_with_the_wrong_header_loads_nothing_and_says_why(runner, tmp_path):
    load_fixture_districts(runner)
    result = load_fixture_districts(runner, senate=ASSEMBLY_FILE)
    assert result.exit_code == 1
    assert "Nothing loaded: tab20_sldl202420_zcta520_st36.txt: the header has no column GEOID_SLDU2024_20" in (
        result.output
    )
    assert "looks like the Assembly file" in result.output
    assert db.session.get(District, SD(30)) is not None  # the previous load stays
    missing = runner.invoke(args=["load-districts", "--senate", str(tmp_path / "nope.txt"),
                                  "--assembly", str(ASSEMBLY_FILE)])
    assert missing.exit_code == 1 and "cannot open" in missing.output


def test_a_zip_in_one_district_and_a_zip_split_between_two(runner):
    load_fixture_districts(runner)
    albany = districts.place_zip("12207", "NY")
    assert (albany.senate_district, albany.assembly_district) == (SD(46), AD(109))
    assert albany.senate_candidates == () and albany.assembly_candidates == ()
    harlem = districts.place_zip("10027", "NY")
    assert harlem.senate_district is None
    assert harlem.senate_candidates == (SD(30), SD(31))  # largest share first
    assert harlem.assembly_district == AD(70)  # 95% of the land
    po_box = districts.place_zip("12201", "NY")  # a PO box ZIP: no ZCTA
    assert po_box == districts.UNKNOWN
    assert districts.place_zip("07001", "NJ") == districts.UNKNOWN


def test_paper_signatures_and_pledges_get_their_districts(runner, make_campaign, make_staff):
    load_fixture_districts(runner)
    campaign = make_campaign()
    staff = make_staff()
    signature = paper.add_paper_signature(
        campaign.id, staff.id, "Albany lobby day (2026-03-04)", paper.PaperEntry(full_name="Ana Díaz", zip_code="12207")
    )
    pledge_result = pledging.create_pending_pledges(
        [(campaign.goals[0], [])],
        pledging.Supporter(full_name="Rosa Parks", email="rosa@example.org", zip_code="10027"),
    )
    db.session.commit()
    assert (signature.senate_district, signature.assembly_district) == (SD(46), AD(109))
    pledge = pledge_result.created[0]
    assert pledge.senate_district is None and pledge.senate_candidates == [SD(30), SD(31)]
    assert pledge.assembly_district == AD(70)


def test_reloading_districts_rederives_every_signature_placed_by_zip(runner, make_campaign, make_signature_row):
    load_fixture_districts(runner)
    campaign = make_campaign()
    by_zip = make_signature_row(campaign, zip_code="10027", **districts.place_zip("10027", "NY").values())
    chosen = make_signature_row(
        campaign, zip_code="10027", senate_district=SD(31), assembly_district=AD(70), districts_set_by="signer"
    )
    before = make_signature_row(campaign, zip_code="12207")  # signed before any district was loaded
    abroad = make_signature_row(campaign, zip_code=None, country="Canada")
    assert before.senate_district is None
    result = load_fixture_districts(runner)
    assert result.exit_code == 0, result.output
    assert "Placing signers in districts" in result.output
    assert "Districts re-derived for 2 signature(s)" in result.output
    db.session.expire_all()
    assert db.session.get(Signature, before.id).senate_district == SD(46)
    assert db.session.get(Signature, by_zip.id).senate_candidates == [SD(30), SD(31)]
    assert db.session.get(Signature, chosen.id).senate_district == SD(31)  # the signer's choice stays
    assert db.session.get(Signature, abroad.id).senate_district is None


def test_a_redrawn_map_moves_signers(runner, make_campaign, make_signature_row, tmp_path):
    load_fixture_districts(runner)
    campaign = make_campaign()
    signer = make_signature_row(campaign, zip_code="10027", **districts.place_zip("10027", "NY").values())
    senate = tmp_path / "senate.txt"
    header, *rows = SENATE_FILE.read_text().splitlines()
    # District 31 now holds the whole of ZIP 10027.
    senate.write_text("\n".join([header, rows[2].replace("|400000|0", "|1000000|0")]) + "\n")
    load_fixture_districts(runner, senate=senate)
    db.session.expire_all()
    moved = db.session.get(Signature, signer.id)
    assert moved.senate_district == SD(31) and moved.senate_candidates == []
    assert db.session.scalar(db.select(db.func.count()).select_from(Pledge)) == 0


def test_parse_district_accepts_what_staff_type():
    assert districts.parse_district("SD 12") == SD(12)
    assert districts.parse_district("Assembly 65") == AD(65)
    assert districts.parse_district("sldl:65") == AD(65)
    assert districts.parse_district(AD(65)) == AD(65)
    assert districts.parse_district("Kings County") is None
    assert districts.parse_district("SD 0") is None


def test_the_signatories_csv_has_the_districts_and_filters_by_one(
    runner, client, make_campaign, make_signature_row, make_staff
):
    from tests.conftest import login
    from tests.test_staff_exports import read_csv

    load_fixture_districts(runner)
    campaign = make_campaign(slug="c")
    for name, zip_code in (("Albany Signer", "12207"), ("Harlem Signer", "10027"), ("Brooklyn Signer", "11216")):
        make_signature_row(campaign, full_name=name, zip_code=zip_code, **districts.place_zip(zip_code, "NY").values())
    login(client, make_staff())
    rows = read_csv(client.get("/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed").data)
    by_name = {row["full_name"]: (row["senate_district"], row["assembly_district"]) for row in rows}
    assert by_name == {"Albany Signer": ("46", "109"), "Harlem Signer": ("", "70"), "Brooklyn Signer": ("59", "57")}
    rows = read_csv(client.get("/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed&s-district=AD+70").data)
    assert [row["full_name"] for row in rows] == ["Harlem Signer"]
    bad = client.get("/staff/exports/signatures.csv?s-campaign=c&s-status=confirmed&s-district=Kings")
    assert bad.status_code == 400 and "Write the district as SD 12" in bad.get_data(as_text=True)
    result = runner.invoke(args=["export-signatures", "--campaign", "c", "--district", "SD 46"])
    assert result.exit_code == 0 and "Albany Signer" in result.output and "Harlem Signer" not in result.output


def test_the_dashboard_counts_signers_per_district_with_the_legislator(
    runner, client, make_campaign, make_signature_row, make_staff
):
    from tests.conftest import login
    from tests.test_legislators import SAMPLE_CSV

    load_fixture_districts(runner)
    runner.invoke(args=["load-legislators", str(SAMPLE_CSV)])
    campaign = make_campaign()
    for zip_code in ("12207", "12207", "10027"):
        make_signature_row(campaign, zip_code=zip_code, **districts.place_zip(zip_code, "NY").values())
    login(client, make_staff())
    page = client.get("/staff/").get_data(as_text=True)
    assert "Signers by Senate district" in page and "Signers by Assembly district" in page
    assert "46 · Pat Fahy" in page and "109 · Gabriella A. Romero" in page
    assert "70" in page
    assert "whose district is not known (their ZIP code is split, or a PO box): 1" in page


def test_the_retention_purge_keeps_districts_and_erasure_removes_them(runner, make_campaign, make_signature_row):
    from datetime import timedelta

    from coalition.models.types import utcnow
    from coalition.services import privacy

    load_fixture_districts(runner)
    now = utcnow()
    old = make_campaign(slug="old", status="closed", closed_at=now - timedelta(days=400),
                        closes_at=now - timedelta(days=400))
    kept = make_signature_row(old, zip_code="12207", deliver_name=True, **districts.place_zip("12207", "NY").values())
    erased = make_signature_row(make_campaign(), email="erase.me@example.org", zip_code="12207",
                                **districts.place_zip("12207", "NY").values())
    privacy.purge_personal_data(12)
    privacy.erase_supporter("erase.me@example.org", None)
    db.session.commit()
    db.session.expire_all()
    purged = db.session.get(Signature, kept.id)
    assert purged.full_name == "" and (purged.senate_district, purged.assembly_district) == (SD(46), AD(109))
    gone = db.session.get(Signature, erased.id)
    assert gone.senate_district is None and gone.assembly_district is None
