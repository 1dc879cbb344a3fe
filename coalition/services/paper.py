"""Paper signatures: collected at events and by mail, entered by staff one by one or from a CSV.

A paper signature is confirmed when entered and counts at once. It may have no
email (people in prison often have none); when it has one, it is deduplicated
against every signature of the campaign, online or paper, by the normalised email
(the database's unique constraint decides, so two staff entering the same person
at once cannot both succeed). An upload either imports every valid row and lists
each rejected row with its reason, or imports nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.exc import IntegrityError

from coalition.extensions import db
from coalition.models import Signature
from coalition.models.types import utcnow
from coalition.services import audit_log, counting, districts
from coalition.services.addresses import InvalidEmail, check_email, lookup_zip, normalize_email
from coalition.services.names import has_invisible_characters
from coalition.services.texts import _

#: Most rows one upload may hold.
MAX_UPLOAD_ROWS = 5000
#: Accepted column names (lower case) for each field of an uploaded CSV.
COLUMN_NAMES = {
    "full_name": ("full_name", "full name", "name"),
    "email": ("email", "e-mail", "email address"),
    "zip_code": ("zip_code", "zip", "zip code", "postal code"),
    "country": ("country",),
    "wants_updates": ("wants_updates", "updates", "wants updates"),
    "comment": ("comment", "comments", "note"),
    "deliver_name": ("deliver_name", "deliver name", "name delivered"),
}
YES = frozenset({"yes", "y", "true", "1", "x", "sí", "si"})


class PaperError(ValueError):
    """A paper signature or upload that cannot be accepted; the message says why, and
    ``field`` names the entry's field it is about, when it is about one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class PaperEntry:
    """One paper signature as written on the sheet, before checks."""

    full_name: str
    email: str = ""
    zip_code: str = ""
    country: str = ""
    wants_updates: bool = False
    comment: str = ""
    #: The sheet shows they agreed to have their name delivered to their legislators.
    deliver_name: bool = False


def paper_source(event: str, day: date) -> str:
    """The stored source of a batch: the event or mailing, and its date."""
    event = " ".join(event.split())
    if not event:
        raise PaperError(_("Say where the signatures were collected."))
    return f"{event[:185]} ({day.isoformat()})"


def _signature_from(entry: PaperEntry, campaign_id: int, staff_id: int, source: str) -> Signature:
    """A paper signature ready to add, or ``PaperError`` saying what is wrong with the entry."""
    name = " ".join(entry.full_name.split())
    if not name:
        raise PaperError(_("The name is missing."))
    # A NUL would cut the name short in exports (and PostgreSQL cannot store one); hidden
    # characters would show on nothing but change what the name is.
    if has_invisible_characters(name):
        raise PaperError(_("The name holds invisible or control characters."))
    if len(name) > 200:
        raise PaperError(_("The name is longer than 200 characters."))
    email = normalized = None
    if entry.email.strip():
        try:
            email = check_email(entry.email)
        except InvalidEmail as exc:
            raise PaperError(_("The email is not valid.")) from exc
        normalized = normalize_email(email)
    place = None
    zip_code = entry.zip_code.strip()
    if zip_code:
        place = lookup_zip(zip_code)
        if place is None:
            raise PaperError(_("The ZIP code %(zip)s is not a known US ZIP code.", zip=zip_code[:10]))
    if len(entry.comment) > 500:
        raise PaperError(_("The comment is longer than 500 characters."))
    now = utcnow()
    return Signature(
        campaign_id=campaign_id,
        status="confirmed",
        source="paper",
        full_name=name,
        email=email,
        email_normalized=normalized,
        zip_code=place.zip_code if place else None,
        city=place.city if place else None,
        county=place.county if place else None,
        state=place.state if place else None,
        country=(entry.country.strip()[:100] or None) if not place else None,
        comment=entry.comment.strip(),
        deliver_name=bool(entry.deliver_name),
        **(districts.place_zip(place.zip_code, place.state) if place else districts.UNKNOWN).values(),
        wants_updates=bool(entry.wants_updates and email),
        updates_consented_at=now if entry.wants_updates and email else None,
        paper_source=source,
        entered_by_id=staff_id,
        created_at=now,
        confirmed_at=now,
        language="en",
    )


def _already_signed(campaign_id: int, normalized: str | None) -> bool:
    if not normalized:
        return False
    return (
        db.session.execute(
            db.select(Signature.id).where(Signature.campaign_id == campaign_id, Signature.email_normalized == normalized)
        ).first()
        is not None
    )


def _insert(signature: Signature) -> None:
    """Add one signature in a savepoint; a duplicate email raises ``PaperError``."""
    try:
        with db.session.begin_nested():
            db.session.add(signature)
    except IntegrityError as exc:
        raise PaperError(_("This email has already signed this campaign."), "email") from exc
    counting.add_to_signature_count(signature.campaign_id, 1)


def add_paper_signature(campaign_id: int, staff_id: int, source: str, entry: PaperEntry) -> Signature:
    """Enter one paper signature; it counts at once. Raises ``PaperError`` with the reason."""
    signature = _signature_from(entry, campaign_id, staff_id, source)
    if _already_signed(campaign_id, signature.email_normalized):
        raise PaperError(_("This email has already signed this campaign."), "email")
    _insert(signature)
    audit_log.record(
        "paper.add", actor_id=staff_id, subject=f"signature:{signature.id}", details={"campaign_id": campaign_id}
    )
    return signature


@dataclass
class RejectedRow:
    """A row of an upload that was not imported, and why."""

    line: int
    name: str
    reason: str


@dataclass
class UploadResult:
    """What an upload did."""

    rows: int = 0
    imported: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    #: True when nothing was imported because some rows were rejected (all-or-nothing).
    cancelled: bool = False


def _decode(data: bytes) -> str:
    # Excel saves "CSV UTF-8" with a BOM, and plain "CSV" in Windows-1252.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_paper_csv(data: bytes) -> list[tuple[int, PaperEntry]]:
    """The entries of an uploaded CSV with their line numbers; ``PaperError`` if unreadable."""
    text = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise PaperError(_("The file is empty.")) from exc
    except csv.Error as exc:
        raise PaperError(_("The file could not be read as CSV.")) from exc
    columns: dict[str, int] = {}
    for index, title in enumerate(header):
        key = title.strip().lower()
        for name, aliases in COLUMN_NAMES.items():
            if key in aliases and name not in columns:
                columns[name] = index
    if "full_name" not in columns:
        raise PaperError(_("The first line must name the columns, including one called full_name (or name)."))
    entries = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(entries) >= MAX_UPLOAD_ROWS:
                raise PaperError(_("More than %(n)s rows: split the file.", n=MAX_UPLOAD_ROWS))

            def cell(name: str) -> str:
                index = columns.get(name)
                return row[index].strip() if index is not None and index < len(row) else ""

            entries.append(
                (
                    reader.line_num,
                    PaperEntry(
                        full_name=cell("full_name"),
                        email=cell("email"),
                        zip_code=cell("zip_code"),
                        country=cell("country"),
                        wants_updates=cell("wants_updates").lower() in YES,
                        comment=cell("comment"),
                        deliver_name=cell("deliver_name").lower() in YES,
                    ),
                )
            )
    except csv.Error as exc:
        raise PaperError(_("The file could not be read as CSV (line %(n)s).", n=reader.line_num)) from exc
    if not entries:
        raise PaperError(_("The file has no signatures below its first line."))
    return entries


def import_paper_csv(
    campaign_id: int, staff_id: int, source: str, data: bytes, all_or_nothing: bool = True
) -> UploadResult:
    """Import an uploaded CSV of paper signatures.

    With ``all_or_nothing``, one rejected row means nothing is imported; otherwise every
    valid row is imported. Either way every rejected row is returned with its reason.
    The caller commits (or rolls back when ``cancelled``).
    """
    entries = read_paper_csv(data)
    result = UploadResult(rows=len(entries))
    seen: dict[str, int] = {}
    valid: list[tuple[int, Signature]] = []
    for line, entry in entries:
        try:
            signature = _signature_from(entry, campaign_id, staff_id, source)
            key = signature.email_normalized
            if key and key in seen:
                raise PaperError(_("Same email as line %(n)s of this file.", n=seen[key]))
            if _already_signed(campaign_id, key):
                raise PaperError(_("This email has already signed this campaign."))
            if key:
                seen[key] = line
            valid.append((line, signature))
        except PaperError as exc:
            result.rejected.append(RejectedRow(line=line, name=entry.full_name[:200], reason=str(exc)))
    if result.rejected and all_or_nothing:
        result.cancelled = True
        return result
    for line, signature in valid:
        try:
            _insert(signature)
        except PaperError as exc:
            result.rejected.append(RejectedRow(line=line, name=signature.full_name, reason=str(exc)))
            if all_or_nothing:
                result.cancelled = True
                result.imported = 0
                return result
        else:
            result.imported += 1
    result.rejected.sort(key=lambda row: row.line)
    audit_log.record(
        "paper.import",
        actor_id=staff_id,
        subject=f"campaign:{campaign_id}",
        details={
            "rows": result.rows,
            "imported": result.imported,
            "rejected": len(result.rejected),
            "all_or_nothing": all_or_nothing,
            "source": source,
        },
    )
    return result


def recent_paper_signatures(staff_id: int, limit: int = 10) -> list[Signature]:
    """The paper signatures this staff member entered last, newest first."""
    return list(
        db.session.scalars(
            db.select(Signature)
            .where(Signature.source == "paper", Signature.entered_by_id == staff_id)
            .order_by(Signature.id.desc())
            .limit(limit)
        )
    )
