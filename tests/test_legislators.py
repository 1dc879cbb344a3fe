"""Loading New York's legislators from Open States: the real files, the CSV form, reloads."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from coalition.extensions import db
from coalition.models import Committee, DataLoad, Legislator
from coalition.services import legislators
from tests.conftest import service_missing

#: The real Open States files (August 2026), outside the project.
OPENSTATES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "openstates-ny"
SAMPLE_CSV = Path(__file__).parent / "data" / "openstates-ny-sample.csv"
FAHY = "ocd-person/a3e0c7bc-45f6-4a6b-a092-1c124c149a6d"
#: A day inside the files' terms (the Governor's ends 2027-01-01).
TODAY = date(2026, 8, 10)


@pytest.fixture
def openstates_folder():
    """The real Open States folder for New York (skipped, or failed under CI, when absent)."""
    if not (OPENSTATES / "legislature").is_dir():
        service_missing(f"the Open States files are not at {os.path.normpath(OPENSTATES)}")
    return OPENSTATES


def load_real(app, folder, **kwargs):
    """Load the real files as the command does, with a fixed day."""
    report = legislators.load_legislators(str(folder), today=TODAY, **kwargs)
    db.session.commit()
    return report


def test_loading_the_real_open_states_files(app, openstates_folder):
    report = load_real(app, openstates_folder)
    assert report.by_seat == {"upper": 63, "lower": 150, "governor": 1}
    assert len(report.added) == 214
    seats = db.session.execute(
        db.select(Legislator.seat, db.func.count()).where(Legislator.current.is_(True)).group_by(Legislator.seat)
    ).all()
    assert dict(seats) == {"upper": 63, "lower": 150, "governor": 1}
    fahy = db.session.execute(db.select(Legislator).filter_by(openstates_id=FAHY)).scalar_one()
    # Her current seat is the Senate's; her Assembly seat ended in 2025.
    assert (fahy.name, fahy.seat, fahy.district_number) == ("Pat Fahy", "upper", 46)
    assert fahy.email == "fahy@nysenate.gov"
    assert fahy.offices_of("capitol") == [
        {"kind": "capitol", "address": "Room 708, Legislative Office Building 198 State St., Albany, NY 12247",
         "phone": "518-455-2225"}
    ]
    assert fahy.url == "https://www.nysenate.gov/senators/patricia-fahy"
    governor = db.session.execute(db.select(Legislator).filter_by(seat="governor")).scalar_one()
    assert governor.name == "Kathy Hochul" and governor.district_ocd_id is None
    aging = db.session.execute(db.select(Committee).filter_by(name="Aging", chamber="lower")).scalar_one()
    assert "Rebecca Seawright" in [m.name for m in aging.members]
    assert db.session.scalars(db.select(DataLoad).filter_by(kind="legislators")).one().source == "openstates-ny"


def test_a_reload_updates_in_place_marks_former_and_reports(app, openstates_folder, tmp_path):
    load_real(app, openstates_folder)
    fahy_id = db.session.execute(db.select(Legislator.id).filter_by(openstates_id=FAHY)).scalar_one()
    folder = tmp_path / "ny"
    shutil.copytree(openstates_folder, folder)
    gone = next((folder / "legislature").glob("Al-Stirpe-*.yml"))
    gone.unlink()
    fahy_file = next((folder / "legislature").glob("Patricia-Fahy-*.yml"))
    fahy_file.write_text(fahy_file.read_text().replace("fahy@nysenate.gov", "pat.fahy@nysenate.gov"))
    report = load_real(app, folder)
    assert report.former == ["Al Stirpe"]
    assert report.updated == ["Pat Fahy (email)"]
    assert report.unchanged == 212
    fahy = db.session.get(Legislator, fahy_id)  # the same row, updated
    assert fahy.email == "pat.fahy@nysenate.gov"
    stirpe = db.session.execute(db.select(Legislator).filter_by(name="Al Stirpe")).scalar_one()
    assert stirpe.current is False  # kept, never deleted
    report = load_real(app, openstates_folder)
    assert report.returned == ["Al Stirpe"]


def test_hand_corrections_are_kept_over_a_reload_unless_asked(app, openstates_folder, make_staff):
    load_real(app, openstates_folder)
    staff = make_staff()
    fahy = db.session.execute(db.select(Legislator).filter_by(openstates_id=FAHY)).scalar_one()
    legislators.correct_contact(fahy, "office@fahy.example.org", fahy.url,
                                [{"kind": "capitol", "address": "Room 1, Albany", "phone": "518-000-0000"}], staff.id)
    db.session.commit()
    report = load_real(app, openstates_folder)
    assert report.corrections_kept == ["Pat Fahy"]
    assert fahy.email == "office@fahy.example.org"
    report = load_real(app, openstates_folder, overwrite_corrections=True)
    assert fahy.email == "fahy@nysenate.gov" and fahy.corrected_at is None


def test_the_csv_download_form_and_the_command(app, runner):
    result = runner.invoke(args=["load-legislators", str(SAMPLE_CSV)])
    assert result.exit_code == 0, result.output
    assert "Current: 1 Senate, 1 Assembly, 0 Governor; 0 committees." in result.output
    assert "skipped: line 4: no Senate or Assembly seat" in result.output
    fahy = db.session.execute(db.select(Legislator).filter_by(openstates_id=FAHY)).scalar_one()
    assert fahy.district_ocd_id == "ocd-division/country:us/state:ny/sldu:46"
    assert fahy.url == "https://www.nysenate.gov/senators/patricia-fahy"
    romero = db.session.execute(db.select(Legislator).filter_by(seat="lower")).scalar_one()
    assert romero.offices_of("district")[0]["phone"] == "518-462-4300"


def test_bad_paths_and_files_get_a_clear_message(app, runner, tmp_path):
    missing = runner.invoke(args=["load-legislators", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no such file or folder" in missing.output
    (tmp_path / "people.csv").write_text("a,b\n1,2\n")
    wrong = runner.invoke(args=["load-legislators", str(tmp_path / "people.csv")])
    assert wrong.exit_code == 1 and "The CSV has no column id, name, current_chamber, current_district" in wrong.output
    (tmp_path / "ny" / "legislature").mkdir(parents=True)
    (tmp_path / "ny" / "legislature" / "broken.yml").write_text("id: [unclosed\n")
    broken = runner.invoke(args=["load-legislators", str(tmp_path / "ny")])
    assert broken.exit_code == 1 and "broken.yml: cannot be read as YAML" in broken.output
    assert db.session.scalar(db.select(db.func.count()).select_from(Legislator)) == 0
