"""New York's legislators and committees, loaded from Open States, corrected by staff.

``load_legislators`` reads Open States' data for New York, either its folder of YAML
files in the ``people`` format (``legislature/``, ``executive/``, ``committees/``) or its
CSV download, and updates the legislators in place by their Open States id. People no
longer listed are marked former, never deleted (delivered packets name them). Contact
details staff corrected by hand are kept over a reload unless the reload is told to
overwrite them.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from coalition.extensions import db
from coalition.models import Campaign, Committee, DataLoad, Legislator
from coalition.models.types import utcnow
from coalition.services import audit_log
from coalition.services import districts
from coalition.services.districts import CHAMBER_NAMES, ocd_id

#: libyaml's safe loader when PyYAML was built with it (five times faster), else the Python one.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: The fields a reload compares (and reports when they change).
TRACKED_FIELDS = ("name", "seat", "district_ocd_id", "party", "email", "url", "offices")
#: The contact details staff may correct; a reload keeps corrected ones.
CONTACT_FIELDS = ("email", "url", "offices")
#: The Open States role types this site keeps.
KEPT_SEATS = ("upper", "lower", "governor")


class LegislatorFileError(ValueError):
    """Open States data that cannot be read; the message says which file and why."""


@dataclass
class Person:
    """One legislator as the files describe them."""

    openstates_id: str
    name: str
    seat: str
    district_ocd_id: str | None
    party: str = ""
    email: str = ""
    url: str = ""
    offices: list[dict] = field(default_factory=list)


@dataclass
class CommitteeRecord:
    """One committee as the files describe it."""

    openstates_id: str
    name: str
    chamber: str
    member_ids: list[str]


@dataclass
class LegislatorLoadReport:
    """What load-legislators changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    former: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    corrections_kept: list[str] = field(default_factory=list)
    unchanged: int = 0
    by_seat: dict[str, int] = field(default_factory=dict)
    committees: int = 0
    skipped: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as lines of text."""
        seats = ", ".join(
            f"{self.by_seat.get(seat, 0)} {label}"
            for seat, label in (("upper", "Senate"), ("lower", "Assembly"), ("governor", "Governor"))
        )
        out = [
            f"Current: {seats}; {self.committees} committees.",
            f"{len(self.added)} added, {len(self.updated)} updated, {self.unchanged} unchanged, "
            f"{len(self.former)} now former, {len(self.returned)} back.",
        ]
        for label, names in (
            ("added", self.added),
            ("updated", self.updated),
            ("now former", self.former),
            ("back", self.returned),
            ("hand corrections kept (use --overwrite-corrections to replace them)", self.corrections_kept),
            ("skipped", self.skipped),
        ):
            if names:
                out.append(f"  {label}: " + "; ".join(names[:20]) + (" ..." if len(names) > 20 else ""))
        return out


def _is_current(role: dict, today: date) -> bool:
    end = role.get("end_date")
    if not end:
        return True
    # The Governor's term is listed with its end date in the future.
    return str(end) >= today.isoformat()


#: Where each seat's official pages live (a senator who sat in the Assembly lists both).
SEAT_DOMAINS = {"upper": ("nysenate.gov",), "lower": ("nyassembly.gov", "assembly.state.ny.us"), "governor": ("ny.gov",)}


def _official_url(links: list, seat: str) -> str:
    urls = [str(link.get("url") or "") for link in links or [] if isinstance(link, dict)]
    plain = [u for u in urls if u.startswith("https://") and "?" not in u]
    own = [u for u in plain if any(domain in u for domain in SEAT_DOMAINS.get(seat, ()))]
    return (own or plain or urls or [""])[0][:500]


def _offices(raw: list) -> list[dict]:
    offices = []
    for office in raw or []:
        if not isinstance(office, dict):
            continue
        kind = "capitol" if office.get("classification") == "capitol" else "district"
        address = " ".join(str(office.get("address") or "").split())
        phone = str(office.get("voice") or "").strip()
        if address or phone:
            offices.append({"kind": kind, "address": address[:300], "phone": phone[:40]})
    return offices


def person_from_yaml(data: dict, today: date) -> Person | None:
    """The person of one Open States YAML file, or None when they hold no seat we keep now."""
    roles = [r for r in data.get("roles") or [] if isinstance(r, dict) and _is_current(r, today)]
    role = next((r for r in roles if r.get("type") in KEPT_SEATS), None)
    if role is None:
        return None
    seat = role["type"]
    district = None
    if seat in ("upper", "lower"):
        try:
            district = ocd_id(seat, int(str(role.get("district")).strip()))
        except ValueError:
            return None
    parties = [p for p in data.get("party") or [] if isinstance(p, dict) and not p.get("end_date")]
    return Person(
        openstates_id=str(data["id"]),
        name=" ".join(str(data.get("name") or "").split())[:200],
        seat=seat,
        district_ocd_id=district,
        party=str(parties[0].get("name") or "")[:100] if parties else "",
        email=str(data.get("email") or "").strip()[:320],
        url=_official_url(data.get("links") or [], seat),
        offices=_offices(data.get("offices") or []),
    )


def _read_yaml(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.load(handle, Loader=_YAML_LOADER)  # nosec B506 - a safe loader (C or Python)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LegislatorFileError(f"{path.name}: cannot be read as YAML ({exc.__class__.__name__}).") from exc
    if not isinstance(data, dict) or not data.get("id"):
        raise LegislatorFileError(f"{path.name}: not an Open States record (no id).")
    return data


def read_folder(folder: Path, today: date) -> tuple[list[Person], list[CommitteeRecord], list[str]]:
    """People and committees of an Open States folder for New York."""
    if not (folder / "legislature").is_dir():
        raise LegislatorFileError(f"{folder.name}: no legislature/ folder (give Open States' data/ny folder).")
    people, skipped = [], []
    for sub in ("legislature", "executive"):
        for path in sorted((folder / sub).glob("*.yml")) if (folder / sub).is_dir() else []:
            data = _read_yaml(path)
            person = person_from_yaml(data, today)
            if person is None:
                if sub == "legislature":
                    skipped.append(f"{path.name}: no current seat")
                continue
            people.append(person)
    committees = []
    for path in sorted((folder / "committees").glob("*.yml")) if (folder / "committees").is_dir() else []:
        data = _read_yaml(path)
        committees.append(
            CommitteeRecord(
                openstates_id=str(data["id"]),
                name=" ".join(str(data.get("name") or "").split())[:300],
                chamber=str(data.get("chamber") or "legislature")[:16],
                member_ids=[str(m.get("person_id")) for m in data.get("members") or []
                            if isinstance(m, dict) and m.get("person_id")],
            )
        )
    return people, committees, skipped


#: Columns of Open States' CSV download that this site reads.
CSV_COLUMNS = ("id", "name", "current_chamber", "current_district")


def read_csv(text: str) -> tuple[list[Person], list[str]]:
    """People of Open States' CSV download for New York (legislators only, no committees)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LegislatorFileError("The CSV has no column " + ", ".join(missing) + " (is it Open States' people CSV?).")
    people, skipped = [], []
    for row in reader:
        seat = (row.get("current_chamber") or "").strip()
        try:
            district = ocd_id(seat, int((row.get("current_district") or "").strip()))
        except (KeyError, ValueError):
            skipped.append(f"line {reader.line_num}: no Senate or Assembly seat")
            continue
        offices = []
        for kind in ("capitol", "district"):
            address = " ".join((row.get(f"{kind}_address") or "").split())
            phone = (row.get(f"{kind}_voice") or "").strip()
            if address or phone:
                offices.append({"kind": kind, "address": address[:300], "phone": phone[:40]})
        links = [{"url": u.strip()} for u in (row.get("links") or "").replace(";", " ").split()]
        people.append(
            Person(
                openstates_id=row["id"].strip(),
                name=" ".join(row["name"].split())[:200],
                seat=seat,
                district_ocd_id=district,
                party=(row.get("current_party") or "").strip()[:100],
                email=(row.get("email") or "").strip()[:320],
                url=_official_url(links, seat),
                offices=offices,
            )
        )
    return people, skipped


def load_legislators(path: str, overwrite_corrections: bool = False, today: date | None = None) -> LegislatorLoadReport:
    """Update legislators (and committees, from a folder) in place from Open States data at ``path``.

    Raises ``LegislatorFileError``. Flushes; the caller commits.
    """
    today = today or date.today()
    source = Path(path)
    committees: list[CommitteeRecord] | None = None
    if source.is_dir():
        people, committees, skipped = read_folder(source, today)
    elif source.is_file():
        try:
            text = source.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise LegislatorFileError(f"{source.name}: cannot be read as UTF-8 text.") from exc
        people, skipped = read_csv(text)
    else:
        raise LegislatorFileError(f"{path}: no such file or folder.")
    if not people:
        raise LegislatorFileError(f"{source.name}: no current legislators found; nothing changed.")
    seen = {p.openstates_id for p in people}
    if len(seen) != len(people):
        raise LegislatorFileError(f"{source.name}: the same Open States id is listed twice.")
    report = LegislatorLoadReport(skipped=skipped)
    existing = {row.openstates_id: row for row in db.session.scalars(select(Legislator))}
    now = utcnow()
    for person in people:
        row = existing.get(person.openstates_id)
        report.by_seat[person.seat] = report.by_seat.get(person.seat, 0) + 1
        if row is None:
            db.session.add(Legislator(**vars(person), current=True, loaded_at=now))
            report.added.append(person.name)
            continue
        keep_contact = row.corrected_at is not None and not overwrite_corrections
        changed = []
        for name in TRACKED_FIELDS:
            new = getattr(person, name)
            if name in CONTACT_FIELDS and keep_contact:
                continue
            if getattr(row, name) != new:
                setattr(row, name, new)
                changed.append(name)
        if keep_contact and any(getattr(row, n) != getattr(person, n) for n in CONTACT_FIELDS):
            report.corrections_kept.append(person.name)
        if overwrite_corrections and row.corrected_at is not None:
            row.corrected_at = None
        if not row.current:
            row.current = True
            report.returned.append(person.name)
        elif changed:
            report.updated.append(f"{person.name} ({', '.join(changed)})")
        else:
            report.unchanged += 1
        row.loaded_at = now
    for key, row in existing.items():
        if key not in seen and row.current and (committees is not None or row.seat != "governor"):
            row.current = False
            report.former.append(row.name)
    db.session.flush()
    if committees is not None:
        report.committees = _load_committees(committees)
    db.session.add(DataLoad(kind="legislators", source=os.path.basename(os.path.normpath(path)),
                            summary="\n".join(report.lines())))
    db.session.flush()
    return report


def _load_committees(records: list[CommitteeRecord]) -> int:
    by_person = {row.openstates_id: row for row in db.session.scalars(select(Legislator))}
    existing = {row.openstates_id: row for row in db.session.scalars(select(Committee))}
    for record in records:
        row = existing.get(record.openstates_id)
        if row is None:
            row = Committee(openstates_id=record.openstates_id, name=record.name, chamber=record.chamber)
            db.session.add(row)
        row.name, row.chamber, row.current = record.name, record.chamber, True
        row.members = [by_person[m] for m in dict.fromkeys(record.member_ids) if m in by_person]
    listed = {r.openstates_id for r in records}
    for key, row in existing.items():
        if key not in listed:
            row.current = False
    return len(records)


def representatives(senate_district: str | None, assembly_district: str | None) -> list[Legislator]:
    """The current state senator and assembly member of these districts (those known)."""
    wanted = [d for d in (senate_district, assembly_district) if d]
    if not wanted:
        return []
    rows = db.session.scalars(
        select(Legislator).where(Legislator.current.is_(True), Legislator.district_ocd_id.in_(wanted))
    ).all()
    return sorted(rows, key=lambda r: r.seat != "upper")


def by_district(district_ocd_ids: list[str]) -> dict[str, Legislator]:
    """The current legislator of each of these districts."""
    if not district_ocd_ids:
        return {}
    rows = db.session.scalars(
        select(Legislator).where(Legislator.current.is_(True), Legislator.district_ocd_id.in_(district_ocd_ids))
    )
    return {row.district_ocd_id: row for row in rows}


def current_legislators(seat: str | None = None) -> list[Legislator]:
    """Current legislators (of one seat), Senate first, by district."""
    stmt = select(Legislator).where(Legislator.current.is_(True))
    if seat:
        stmt = stmt.where(Legislator.seat == seat)
    rows = list(db.session.scalars(stmt))
    order = {"governor": 0, "upper": 1, "lower": 2}
    return sorted(rows, key=lambda r: (order[r.seat], r.district_number or 0, r.name))


def all_legislators() -> list[Legislator]:
    """Every legislator, current ones first (for the staff page)."""
    order = {"governor": 0, "upper": 1, "lower": 2}
    rows = list(db.session.scalars(select(Legislator)))
    return sorted(rows, key=lambda r: (not r.current, order[r.seat], r.district_number or 0, r.name))


def current_committees() -> list[Committee]:
    """Committees listed in the last load, by chamber and name."""
    return list(
        db.session.scalars(select(Committee).where(Committee.current.is_(True)).order_by(Committee.chamber, Committee.name))
    )


def correct_contact(legislator: Legislator, email: str, url: str, offices: list[dict], staff_id: int) -> None:
    """Staff correct a legislator's contact details by hand; a reload keeps them. Flushes."""
    legislator.email = email.strip()[:320]
    legislator.url = url.strip()[:500]
    legislator.offices = [o for o in offices if o.get("address") or o.get("phone")]
    legislator.corrected_at = utcnow()
    audit_log.record("legislator.correct", actor_id=staff_id, subject=f"legislator:{legislator.id}")
    db.session.flush()


def forget_correction(legislator: Legislator, staff_id: int) -> None:
    """Let the next reload replace the hand-corrected contact details again. Flushes."""
    legislator.corrected_at = None
    audit_log.record("legislator.uncorrect", actor_id=staff_id, subject=f"legislator:{legislator.id}")
    db.session.flush()


def addressees(campaign: Campaign) -> list[Legislator]:
    """The current legislators (or the Governor) a campaign's petition is addressed to."""
    kind = campaign.addressed_to
    if kind == "governor":
        return current_legislators("governor")
    if kind == "legislature":
        return current_legislators("upper") + current_legislators("lower")
    if kind == "senate":
        return current_legislators("upper")
    if kind == "assembly":
        return current_legislators("lower")
    if kind == "committee" and campaign.target_committee is not None:
        return [m for m in campaign.target_committee.members if m.current]
    if kind == "chosen":
        return [m for m in campaign.target_legislators if m.current]
    return []


def seat_label(legislator: Legislator) -> str:
    """e.g. "Senate District 12", "Assembly District 65", "Governor" (English; templates translate)."""
    if legislator.seat == "governor":
        return "Governor"
    return f"{CHAMBER_NAMES[legislator.seat]} District {legislator.district_number}"


@dataclass
class SignerLegislators:
    """What the confirmation page shows a signer: their legislators, and the choices left to make."""

    campaign: Campaign
    legislators: list[Legislator]
    #: Per chamber the signer is between districts in: [(district OCD id, legislator or None, district name)].
    choices: dict[str, list[tuple[str, Legislator | None, str]]]
    mail_subject: str
    mail_body: str


def for_signer(signer, campaign: Campaign, default_subject: str, default_body: str) -> SignerLegislators:
    """The legislators of a signature's districts and, where it is between districts, its candidates."""
    names = districts.district_names()
    pending = districts.needs_choice(signer)
    candidates = by_district([d for ds in pending.values() for d in ds])
    choices = {
        chamber: [(d, candidates.get(d), names.get(d, d)) for d in ds] for chamber, ds in pending.items()
    }
    return SignerLegislators(
        campaign=campaign,
        legislators=representatives(signer.senate_district, signer.assembly_district),
        choices=choices,
        mail_subject=campaign.legislator_mail_subject or default_subject,
        mail_body=campaign.legislator_mail_body or default_body,
    )
