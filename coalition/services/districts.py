"""Senate and Assembly districts: loading the Census ZIP relationship files, placing signers.

The Census Bureau publishes, for each state legislative district, how its land overlaps
each ZIP Code Tabulation Area (ZCTA). We keep, per pair, the share of the ZIP area's
land inside the district. A signer's district is then the one holding 90% or more of
their ZIP area's land; otherwise they are "between districts" and keep the candidates.
Land is not population, so every count by district is an estimate from ZIP codes.

Districts are derived data: ``rederive_zip_codes`` recomputes them for every signature
and pledge whose districts were not chosen by its signer or set by staff.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, union, update

from coalition.extensions import db
from coalition.models import DataLoad, District, Pledge, Signature, ZipDistrict

#: New York's two-digit state code (FIPS), the start of every GEOID of its districts.
NY_STATE_CODE = "36"
#: The share of a ZIP area's land one district must hold for the signer to be placed in it.
MAJORITY_SHARE = 0.9
#: How many ZIP codes ``rederive_districts`` updates per transaction.
REDERIVE_BATCH = 200

CHAMBER_LAYERS = {"upper": "SLDU", "lower": "SLDL"}
CHAMBER_OCD = {"upper": "sldu", "lower": "sldl"}
CHAMBER_NAMES = {"upper": "Senate", "lower": "Assembly"}
#: What an OCD id of each chamber starts with, before the district's number.
OCD_PREFIX = {chamber: f"ocd-division/country:us/state:ny/{code}:" for chamber, code in CHAMBER_OCD.items()}


class DistrictFileError(ValueError):
    """A relationship file that cannot be read at all (no or wrong header); the message says why."""


def ocd_id(chamber: str, number: int) -> str:
    """The OCD id of a New York district: ``ocd-division/country:us/state:ny/sldu:12``."""
    return f"ocd-division/country:us/state:ny/{CHAMBER_OCD[chamber]}:{number}"


def chamber_of(district_ocd_id: str) -> str:
    """upper or lower, from an OCD id."""
    return "upper" if "/sldu:" in district_ocd_id else "lower"


def number_of(district_ocd_id: str) -> int:
    """The district's number, from an OCD id."""
    return int(district_ocd_id.rsplit(":", 1)[1])


@dataclass
class ChamberReport:
    """What one relationship file held."""

    chamber: str
    file_name: str
    districts: int = 0
    overlaps: int = 0
    #: Rows skipped, by reason, with the first few line numbers of each.
    skipped: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def skip(self, reason: str, line: int) -> None:
        """Note a skipped row."""
        self.skipped[reason].append(line)

    def lines(self) -> list[str]:
        """The report as lines of text."""
        out = [
            f"{CHAMBER_NAMES[self.chamber]} ({self.file_name}): {self.districts} districts, "
            f"{self.overlaps} ZIP code overlaps."
        ]
        for reason, numbers in sorted(self.skipped.items()):
            shown = ", ".join(str(n) for n in numbers[:5]) + (", ..." if len(numbers) > 5 else "")
            out.append(f"  skipped {len(numbers)} row(s): {reason} (line {shown})")
        return out


@dataclass
class DistrictLoadReport:
    """What load-districts did."""

    chambers: list[ChamberReport]
    zip_codes: int = 0
    split_zip_codes: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The report as lines of text."""
        out = []
        for chamber in self.chambers:
            out.extend(chamber.lines())
            split = self.split_zip_codes.get(chamber.chamber, 0)
            out.append(f"  {split} ZIP code(s) have no district holding 90% of their land (between districts).")
        out.append(f"{self.zip_codes} ZIP code areas in all. Land share is not population share: "
                   "counts by district are estimated from ZIP codes.")
        return out


def _read_chamber(chamber: str, lines: Iterable[str], file_name: str) -> tuple[ChamberReport, dict, dict]:
    """Parse one pipe-delimited relationship file: (report, districts, {(zcta, ocd): land_part, total})."""
    layer = CHAMBER_LAYERS[chamber]
    file_name = os.path.basename(file_name)
    report = ChamberReport(chamber=chamber, file_name=file_name)
    rows = iter(lines)
    try:
        header = next(rows).lstrip("\ufeff").rstrip("\r\n").split("|")
    except StopIteration as exc:
        raise DistrictFileError(f"{file_name}: the file is empty.") from exc
    wanted = {
        "geoid": f"GEOID_{layer}2024_20",
        "name": f"NAMELSAD_{layer}2024_20",
        "zcta": "GEOID_ZCTA5_20",
        "part": "AREALAND_PART",
        "zcta_land": "AREALAND_ZCTA5_20",
    }
    columns = {}
    for key, title in wanted.items():
        if title not in header:
            other = "SLDL" if layer == "SLDU" else "SLDU"
            hint = (
                f" (it looks like the {CHAMBER_NAMES['lower' if chamber == 'upper' else 'upper']} file)"
                if f"GEOID_{other}2024_20" in header
                else ""
            )
            raise DistrictFileError(f"{file_name}: the header has no column {title}{hint}.")
        columns[key] = header.index(title)
    districts: dict[str, str] = {}
    overlaps: dict[tuple[str, str], list[float]] = {}
    for line_number, line in enumerate(rows, start=2):
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        cells = line.split("|")
        if len(cells) != len(header):
            report.skip("malformed line (wrong number of columns)", line_number)
            continue
        geoid, name, zcta = (cells[columns[k]].strip() for k in ("geoid", "name", "zcta"))
        if not geoid:
            # The part of a ZCTA outside every district of this kind (e.g. water): nothing to keep.
            report.skip("no district (blank district code)", line_number)
            continue
        if len(geoid) != 5 or not geoid[:2].isdigit():
            report.skip("malformed district code", line_number)
            continue
        if geoid[:2] != NY_STATE_CODE:
            report.skip("another state's row", line_number)
            continue
        if not geoid[2:].isdigit() or int(geoid[2:]) == 0:
            # e.g. 36ZZZ: the Census code for area in no district.
            report.skip("code that is no district", line_number)
            continue
        district = ocd_id(chamber, int(geoid[2:]))
        districts.setdefault(district, name[:100] or f"{CHAMBER_NAMES[chamber]} District {int(geoid[2:])}")
        if not zcta:
            report.skip("blank ZCTA (district land in no ZIP code area)", line_number)
            continue
        if len(zcta) != 5 or not zcta.isdigit():
            report.skip("malformed ZCTA", line_number)
            continue
        try:
            part = float(cells[columns["part"]] or 0)
            total = float(cells[columns["zcta_land"]] or 0)
        except ValueError:
            report.skip("malformed land area", line_number)
            continue
        if total <= 0 or part < 0 or part > total:
            report.skip("land area out of range", line_number)
            continue
        pair = overlaps.setdefault((zcta, district), [0.0, total])
        pair[0] += part
    report.districts = len(districts)
    report.overlaps = len(overlaps)
    return report, districts, overlaps


def load_districts(senate: tuple[str, Iterable[str]], assembly: tuple[str, Iterable[str]]) -> DistrictLoadReport:
    """Replace every district and ZIP overlap with the two files' (``(file name, lines)`` each).

    Raises ``DistrictFileError`` for a file without the expected header; rows that cannot
    be used are skipped and reported. Flushes; the caller commits (one transaction, so a
    failed load leaves the previous districts in place).
    """
    parsed = [_read_chamber("upper", senate[1], senate[0]), _read_chamber("lower", assembly[1], assembly[0])]
    db.session.execute(delete(ZipDistrict))
    db.session.execute(delete(District))
    zip_codes: set[str] = set()
    report = DistrictLoadReport(chambers=[p[0] for p in parsed])
    for chamber_report, districts, overlaps in parsed:
        if districts:
            db.session.execute(
                insert(District),
                [
                    {"ocd_id": key, "chamber": chamber_report.chamber, "number": number_of(key), "name": name}
                    for key, name in districts.items()
                ],
            )
        shares = [
            {"zcta": zcta, "district_ocd_id": key, "land_share": min(1.0, part / total)}
            for (zcta, key), (part, total) in overlaps.items()
        ]
        if shares:
            db.session.execute(insert(ZipDistrict), shares)
        by_zip: dict[str, float] = defaultdict(float)
        for row in shares:
            zip_codes.add(row["zcta"])
            by_zip[row["zcta"]] = max(by_zip[row["zcta"]], row["land_share"])
        report.split_zip_codes[chamber_report.chamber] = sum(1 for s in by_zip.values() if s < MAJORITY_SHARE)
    report.zip_codes = len(zip_codes)
    db.session.add(
        DataLoad(
            kind="districts",
            source=", ".join(os.path.basename(name) for name in (senate[0], assembly[0])),
            summary="\n".join(report.lines()),
        )
    )
    db.session.flush()
    return report


@dataclass(frozen=True)
class SignerPlace:
    """A signer's districts as their ZIP code places them."""

    senate_district: str | None = None
    assembly_district: str | None = None
    senate_candidates: tuple[str, ...] = ()
    assembly_candidates: tuple[str, ...] = ()

    def values(self) -> dict:
        """The columns of ``SignerDistricts`` (derived from the ZIP code)."""
        return {
            "senate_district": self.senate_district,
            "assembly_district": self.assembly_district,
            "senate_candidates": list(self.senate_candidates),
            "assembly_candidates": list(self.assembly_candidates),
            "districts_set_by": "zip",
        }


UNKNOWN = SignerPlace()


def _place_from(shares: list[tuple[str, float]]) -> SignerPlace:
    """Decide from (district, share) pairs of one ZIP area."""
    result = {}
    for chamber, prefix in (("upper", "senate"), ("lower", "assembly")):
        mine = sorted(((s, d) for d, s in shares if chamber_of(d) == chamber), reverse=True)
        district, candidates = None, ()
        if mine and mine[0][0] >= MAJORITY_SHARE:
            district = mine[0][1]
        elif mine:
            candidates = tuple(d for _, d in mine)
        result[f"{prefix}_district"] = district
        result[f"{prefix}_candidates"] = candidates
    return SignerPlace(**result)


def place_zip(zip_code: str | None, state: str | None) -> SignerPlace:
    """The districts of a New York ZIP code; unknown outside New York or for a ZIP with no ZCTA (PO box)."""
    if not zip_code or state != "NY":
        return UNKNOWN
    shares = db.session.execute(
        select(ZipDistrict.district_ocd_id, ZipDistrict.land_share).where(ZipDistrict.zcta == zip_code[:5])
    ).all()
    return _place_from([(d, s) for d, s in shares])


def signature_districts(signature: Signature | Pledge) -> dict[str, str | None]:
    """A signature's (or pledge's) districts, for narrowing an audience: ``{"upper": ocd id, "lower": ocd id}``.

    None where the district is not known (abroad, no ZCTA, between districts and not chosen).
    """
    return {"upper": signature.senate_district, "lower": signature.assembly_district}


def in_district(model, district_ocd_id: str):
    """A WHERE condition: the signature (or pledge) is placed in this district (for filters)."""
    column = model.senate_district if chamber_of(district_ocd_id) == "upper" else model.assembly_district
    return column == district_ocd_id


def zip_codes_to_rederive() -> list[str]:
    """The ZIP codes of signatures and pledges placed by their ZIP code (not chosen, not set by staff)."""
    return sorted(
        z
        for (z,) in db.session.execute(
            union(
                select(Signature.zip_code).where(Signature.districts_set_by == "zip", Signature.zip_code.is_not(None)),
                select(Pledge.zip_code).where(Pledge.districts_set_by == "zip", Pledge.zip_code.is_not(None)),
            )
        )
    )


def zip_shares() -> dict[str, list[tuple[str, float]]]:
    """Every ZIP area's (district, land share) pairs, read once for a re-derivation."""
    shares: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for zcta, district, share in db.session.execute(
        select(ZipDistrict.zcta, ZipDistrict.district_ocd_id, ZipDistrict.land_share)
    ):
        shares[zcta].append((district, share))
    return shares


def rederive_zip_codes(zip_codes: Iterable[str], shares: dict[str, list[tuple[str, float]]]) -> int:
    """Recompute the districts of the signatures and pledges with these ZIP codes; return how many.

    One UPDATE per ZIP code and table, whatever the number of signers. Signatures whose
    signer chose, or staff set, their districts stay. Flushes; the caller commits (the
    command commits every ``REDERIVE_BATCH`` ZIP codes, so a reload never holds one long lock).
    """
    changed = 0
    for zip_code in zip_codes:
        place = _place_from(shares.get(zip_code[:5], []))
        for model in (Signature, Pledge):
            changed += db.session.execute(
                update(model)
                .where(model.zip_code == zip_code, model.districts_set_by == "zip", model.state == "NY")
                .values(**place.values())
                .execution_options(synchronize_session=False)
            ).rowcount or 0
    return changed


def parse_district(text: str) -> str | None:
    """A district's OCD id from what staff type: an OCD id, ``sldu:12``, ``SD12``, ``Senate 12``, ``AD 65``...

    None when the text names no district.
    """
    text = " ".join((text or "").lower().split())
    if text.startswith("ocd-division/country:us/state:ny/"):
        text = text.rsplit("/", 1)[1]
    for chamber, words in (("upper", ("sldu:", "sd", "senate district", "senate")),
                           ("lower", ("sldl:", "ad", "assembly district", "assembly"))):
        for word in words:
            if text.startswith(word) and text[len(word):].strip().isdigit():
                number = int(text[len(word):].strip())
                if number > 0:
                    return ocd_id(chamber, number)
    return None


def district_names() -> dict[str, str]:
    """Every loaded district's name by OCD id."""
    return dict(db.session.execute(select(District.ocd_id, District.name)).all())


def last_load(kind: str) -> DataLoad | None:
    """The latest load of districts or legislators."""
    return db.session.execute(
        select(DataLoad).where(DataLoad.kind == kind).order_by(DataLoad.loaded_at.desc(), DataLoad.id.desc()).limit(1)
    ).scalar_one_or_none()


def district_counts() -> dict[str, int]:
    """How many districts of each chamber are loaded."""
    return dict(db.session.execute(select(District.chamber, func.count()).group_by(District.chamber)).all())


#: The answer "I don't know" to "which legislator represents you?".
DONT_KNOW = "unknown"


class DistrictChoiceError(ValueError):
    """A district that is not one of the signer's candidates."""


def needs_choice(signer: Signature | Pledge) -> dict[str, list[str]]:
    """The chambers in which a signer is between districts: ``{"upper": [candidates], ...}``."""
    out = {}
    if signer.senate_district is None and signer.senate_candidates:
        out["upper"] = list(signer.senate_candidates)
    if signer.assembly_district is None and signer.assembly_candidates:
        out["lower"] = list(signer.assembly_candidates)
    return out


def choose_districts(signer: Signature | Pledge, choices: dict[str, str], by: str = "signer") -> bool:
    """Save which district of its candidates a signer lives in (per chamber, or ``DONT_KNOW``); flushes.

    Returns whether a district was set. A signer who chose is no longer re-derived from
    the ZIP code. Raises ``DistrictChoiceError`` for a district that is not a candidate.
    """
    chosen = False
    for chamber, answer in choices.items():
        column = "senate" if chamber == "upper" else "assembly"
        candidates = getattr(signer, f"{column}_candidates") or []
        if answer == DONT_KNOW or not answer:
            continue
        if answer not in candidates:
            raise DistrictChoiceError(answer)
        setattr(signer, f"{column}_district", answer)
        chosen = True
    if chosen:
        signer.districts_set_by = by
    db.session.flush()
    return chosen


def set_districts_by_staff(signer: Signature, senate: str | None, assembly: str | None) -> None:
    """Staff set a (paper) signature's districts, from anything ``parse_district`` reads; flushes.

    A signature set by staff is no longer re-derived from its ZIP code.
    """
    signer.senate_district = senate
    signer.assembly_district = assembly
    signer.districts_set_by = "staff"
    db.session.flush()
