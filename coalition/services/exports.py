"""CSV exports of signatories, pledges and endorsements.

Exports are streamed: one query, read ``CHUNK_ROWS`` rows at a time (a server-side
cursor on PostgreSQL) as plain column tuples with timestamps already formatted by the
database, so no ORM object piles up in the session and memory stays flat whatever the size. The CSV is UTF-8 with a byte-order mark
(Excel then reads accented names correctly), quoted as RFC 4180 says, lines ending
in CRLF, and every cell that a spreadsheet would read as a formula is neutralised.
Each export is written to the audit log: who, what, which filters, how many rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Boolean, Integer, String, case, func, literal_column, type_coerce, update

from coalition.database import write_intent
from coalition.extensions import db
from coalition.models import AuditEntry, Campaign, Endorsement, Goal, Organization, Pledge, PledgeAction, Signature
from coalition.models.pledges import pledge_action_choices
from coalition.models.types import UTCDateTime
from coalition.services import audit_log, districts

#: Rows read from the database at a time.
CHUNK_ROWS = 1000
#: Characters that make a spreadsheet treat a cell as a formula (or split it into one),
#: with the look-alikes a spreadsheet may read as them (fullwidth and small forms, which
#: some spreadsheets fold to ASCII) and the invisible characters that can hide in front of
#: one (a byte-order mark, zero-width spaces and joiners, the word joiner).
FORMULA_STARTS = (
    "=", "+", "-", "@", "\t", "\r", "\n",
    "\uff1d", "\uff0b", "\uff0d", "\uff20",  # fullwidth = + - @
    "\ufe66", "\ufe62", "\ufe63", "\ufe6b",  # small = + - @
    "\u2212",  # minus sign
    "\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u180e",  # invisible
)
BOM = "\ufeff"

SIGNATURE_STATUSES = ("confirmed", "pending", "invalidated", "all")
PLEDGE_STATUSES = ("confirmed", "pending", "invalidated", "all")
ENDORSEMENT_STATUSES = ("verified", "confirmed", "submitted", "rejected", "withdrawn", "all")


@dataclass(frozen=True)
class ExportFilters:
    """Which rows an export holds; the defaults give confirmed rows only."""

    status: str = "confirmed"
    #: First and last day (inclusive, UTC) of signing / pledging / endorsing.
    date_from: date | None = None
    date_to: date | None = None
    #: Only signers who consented to be emailed updates.
    consented_only: bool = False
    #: Only signers in this county (as derived from their ZIP code), e.g. "Kings County".
    county: str | None = None
    #: Only signers placed in this Senate or Assembly district (its OCD id; from the ZIP code or chosen).
    district: str | None = None

    def as_details(self) -> dict:
        """The filters as plain values, for the audit log."""
        return {
            "status": self.status,
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "consented_only": self.consented_only,
            "county": self.county,
            "district": self.district,
        }


_FORMULA_FIRST = frozenset(FORMULA_STARTS)


def neutralize(value: object) -> str:
    """A cell's text, prefixed with ``'`` when a spreadsheet would run it as a formula."""
    if value.__class__ is str:  # the common case first: exports run this millions of times
        return "'" + value if value[:1] in _FORMULA_FIRST else value  # type: ignore[return-value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return "'" + text if text[:1] in _FORMULA_FIRST else text


def _timestamp(column):
    """The column as "YYYY-MM-DD HH:MM:SS" text in UTC, formatted by the database.

    Formatting in SQL skips parsing a datetime object per cell in Python, which
    dominated the time of large exports.
    """
    if _postgres():
        return type_coerce(func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS"), String)
    # SQLite keeps UTC times as "YYYY-MM-DD HH:MM:SS.ffffff" text.
    return type_coerce(func.substr(type_coerce(column, String), 1, 19), String)


class Code:
    """A column holding a code from a fixed set (a status, a language), which the database
    or the app constrains: its cells need neither formula neutralising nor CSV quoting."""

    def __init__(self, column) -> None:
        self.column = column


def _postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def _cell(item, *, quoted: bool, empty_as_null: bool = False):
    """The column as its CSV cell's final text, computed by the database.

    Timestamps are formatted, booleans become yes/no, text a spreadsheet would read as a
    formula gets a leading ``'`` (as ``neutralize`` does in Python), and, if ``quoted``
    (SQLite's whole lines; PostgreSQL's COPY quotes by itself), text holding a quote,
    comma or line break is quoted as RFC 4180 says. All of it in SQL, so that no Python
    code runs per cell: that is what kept large exports far behind the database's own
    CSV output. With ``empty_as_null`` (for PostgreSQL's COPY,
    which quotes an empty string to tell it from NULL) empty text becomes NULL.
    """
    if isinstance(item, Code):
        return type_coerce(item.column, String)
    column = item
    if isinstance(column.type, UTCDateTime):
        return _timestamp(column)
    if isinstance(column.type, Boolean):
        return type_coerce(case((column.is_(True), "yes"), (column.is_(False), "no"), else_=None), String)
    if isinstance(column.type, Integer):
        return column
    text = type_coerce(column, String)
    # The first character's code: ascii() on PostgreSQL (any code point, despite its
    # name), unicode() on SQLite; one call, where substr() would build a string.
    first = (func.ascii if _postgres() else func.unicode)(text)
    # The constants are written into the SQL rather than bound: SQLite then compares
    # with them directly, measurably faster over millions of cells.
    codes = [literal_column(str(ord(start))) for start in FORMULA_STARTS]
    neutralized = case((first.in_(codes), _sql_text("'") + text), else_=text)
    if empty_as_null:
        return type_coerce(func.nullif(neutralized, _sql_text("")), String)
    if not quoted:
        return type_coerce(neutralized, String)
    # The quote test looks at the column itself: a leading ' never needs quoting.
    needs_quotes = text.op("GLOB")(_sql_text('*[",\r\n]*'))
    quote = _sql_text('"')
    return type_coerce(
        case((needs_quotes, quote + func.replace(neutralized, quote, _sql_text('""')) + quote), else_=neutralized),
        String,
    )


def _sql_text(value: str):
    """A constant string written into the SQL (ours, never a visitor's: quoted here)."""
    return literal_column("'" + value.replace("'", "''") + "'", String)


def _line(items):
    """One CSV line (without its line break) built by the database from the columns' cells."""
    return type_coerce(func.format(",".join(["%s"] * len(items)), *[_cell(item, quoted=True) for item in items]), String)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@dataclass
class Export:
    """One export: its header, its rows in chunks, and what the audit log says of it."""

    kind: str
    subject: str
    filename: str
    header: list[str]
    filters: ExportFilters
    #: The SELECT of the rows (its FROM, joins and filters; its columns are replaced).
    statement: object
    id_column: object
    #: The CSV's columns, in order: model columns, or ``Code(column)``.
    columns: list
    #: For an export with a cell the SQL does not give (pledges' actions): turns a chunk of
    #: rows (the id, then the cells) into CSV rows with a second query. None: each row's
    #: whole CSV line comes from the database.
    shape: Callable[[list], list[list]] | None = None

    def count(self) -> int:
        """How many rows the export will have."""
        ids = self.statement.with_only_columns(self.id_column).subquery()
        return db.session.scalar(db.select(func.count()).select_from(ids)) or 0

    def blocks(self) -> Iterator[tuple[str, int]]:
        """The CSV rows as blocks of text (each ending with a line break), with how many
        rows each holds, in id order, from one streamed query: it never re-scans what it
        has passed, and memory stays flat.

        The database builds the rows' text: on PostgreSQL, ``COPY … TO STDOUT (FORMAT
        csv)`` of the cells; on SQLite, one query of whole CSV lines. With ``shape``, the
        cells go through Python's CSV writer instead.
        """
        if self.shape:
            yield from self._written_blocks()
        elif _postgres():
            yield from self._copied_blocks()
        else:
            statement = self.statement.with_only_columns(_line(self.columns)).order_by(self.id_column)
            result = db.session.connection().execution_options(yield_per=CHUNK_ROWS).execute(statement)
            for lines in result.scalars().partitions():
                yield "\r\n".join(lines) + "\r\n", len(lines)

    def _written_blocks(self) -> Iterator[tuple[str, int]]:
        columns = [self.id_column, *(_cell(item, quoted=False) for item in self.columns)]
        statement = self.statement.with_only_columns(*columns).order_by(self.id_column)
        # Core, not the ORM: plain rows, no ORM bookkeeping.
        result = db.session.connection().execution_options(yield_per=CHUNK_ROWS).execute(statement)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        for rows in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(self.shape(rows))
            yield buffer.getvalue(), len(rows)

    def _copied_blocks(self) -> Iterator[tuple[str, int]]:
        columns = [_cell(item, quoted=False, empty_as_null=True) for item in self.columns]
        statement = self.statement.with_only_columns(*columns).order_by(self.id_column)
        connection = db.session.connection()
        compiled = statement.compile(dialect=connection.dialect)
        copy_sql = f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv)"
        rows: list = []
        with connection.connection.dbapi_connection.cursor() as cursor:
            with cursor.copy(copy_sql, compiled.params) as copy:
                for row in copy:  # one row at a time, as the server sends them
                    rows.append(row)
                    if len(rows) == CHUNK_ROWS:
                        yield _crlf_lines(b"".join(rows)), len(rows)
                        rows = []
        if rows:
            yield _crlf_lines(b"".join(rows)), len(rows)


def _crlf_lines(data: bytes) -> str:
    """COPY's CSV rows (whole rows, ending in LF) with CRLF line ends, as text.

    A line feed inside a quoted cell stays as it is: between two quote characters the
    text alternates outside and inside quotes (an escaped quote, ``""``, toggles twice).
    """
    if b'"' not in data:
        return data.replace(b"\n", b"\r\n").decode("utf-8")
    parts = data.split(b'"')
    parts[::2] = [part.replace(b"\n", b"\r\n") for part in parts[::2]]
    return b'"'.join(parts).decode("utf-8")


def _apply_common(stmt, created_column, status_column, filters: ExportFilters):
    if filters.status != "all":
        stmt = stmt.where(status_column == filters.status)
    if filters.date_from:
        stmt = stmt.where(created_column >= _day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(created_column < _day_start(filters.date_to + timedelta(days=1)))
    return stmt


SIGNATURE_HEADER = [
    "campaign",
    "signature_id",
    "status",
    "source",
    "full_name",
    "email",
    "zip_code",
    "city",
    "county",
    "state",
    "country",
    "wants_updates",
    "updates_consented_at",
    "show_publicly",
    "comment",
    "language",
    "signed_at",
    "confirmed_at",
    "paper_source",
    "invalidated_at",
    "invalidation_reason",
    "senate_district",
    "assembly_district",
]


def _district_number(column):
    """The district's number from its OCD id, in SQL (``.../sldu:12`` -> ``12``; digits, never a formula)."""
    prefixes = districts.OCD_PREFIX
    return func.replace(func.replace(column, _sql_text(prefixes["upper"]), ""), _sql_text(prefixes["lower"]), "")


def signatures_export(campaign: Campaign | None, filters: ExportFilters) -> Export:
    """Signatories of one campaign, or of every campaign when ``campaign`` is None."""
    if filters.status not in SIGNATURE_STATUSES:
        raise ValueError("unknown status")
    columns = [
        Campaign.slug,
        Signature.id,
        Code(Signature.status),
        Code(Signature.source),
        Signature.full_name,
        Signature.email,
        Signature.zip_code,
        Signature.city,
        Signature.county,
        Signature.state,
        Signature.country,
        Signature.wants_updates,
        Signature.updates_consented_at,
        Signature.show_publicly,
        Signature.comment,
        Code(Signature.language),
        Signature.created_at,
        Signature.confirmed_at,
        Signature.paper_source,
        Signature.invalidated_at,
        Signature.invalidation_reason,
        Code(_district_number(Signature.senate_district)),
        Code(_district_number(Signature.assembly_district)),
    ]
    stmt = db.select(Signature.id).join(Campaign, Campaign.id == Signature.campaign_id)
    if campaign is not None:
        stmt = stmt.where(Signature.campaign_id == campaign.id)
    stmt = _apply_common(stmt, Signature.created_at, Signature.status, filters)
    if filters.consented_only:
        stmt = stmt.where(Signature.wants_updates.is_(True))
    if filters.county:
        stmt = stmt.where(func.lower(Signature.county) == filters.county.strip().lower())
    if filters.district:
        stmt = stmt.where(districts.in_district(Signature, filters.district))
    slug = campaign.slug if campaign else "all-campaigns"
    return Export(
        kind="signatures",
        subject=f"campaign:{campaign.id}" if campaign else "campaign:all",
        filename=f"signatures-{slug}-{date.today().isoformat()}.csv",
        header=SIGNATURE_HEADER,
        filters=filters,
        statement=stmt,
        id_column=Signature.id,
        columns=columns,
    )


PLEDGE_HEADER = [
    "goal",
    "pledge_id",
    "status",
    "full_name",
    "email",
    "zip_code",
    "city",
    "county",
    "state",
    "country",
    "actions",
    "message",
    "language",
    "pledged_at",
    "confirmed_at",
    "with_signature_id",
]


def _pledge_rows(rows: list) -> list[list]:
    ids = [row[0] for row in rows]
    actions: dict[int, list[str]] = {pledge_id: [] for pledge_id in ids}
    choices = db.session.execute(
        db.select(pledge_action_choices.c.pledge_id, PledgeAction.key)
        .join(PledgeAction, PledgeAction.id == pledge_action_choices.c.action_id)
        .where(pledge_action_choices.c.pledge_id.in_(ids))
        .order_by(PledgeAction.position)
    )
    for pledge_id, key in choices:
        actions[pledge_id].append(key)
    shaped = []
    for row in rows:
        values = list(row[1:])
        values.insert(10, neutralize("; ".join(actions[row[0]])))
        shaped.append(values)
    return shaped


def pledges_export(goal: Goal | None, filters: ExportFilters) -> Export:
    """Pledges for one goal, or for every goal when ``goal`` is None."""
    if filters.status not in PLEDGE_STATUSES:
        raise ValueError("unknown status")
    columns = [
        Goal.slug,
        Pledge.id,
        Code(Pledge.status),
        Pledge.full_name,
        Pledge.email,
        Pledge.zip_code,
        Pledge.city,
        Pledge.county,
        Pledge.state,
        Pledge.country,
        Pledge.message,
        Code(Pledge.language),
        Pledge.created_at,
        Pledge.confirmed_at,
        Pledge.signature_id,
    ]
    stmt = db.select(Pledge.id).join(Goal, Goal.id == Pledge.goal_id)
    if goal is not None:
        stmt = stmt.where(Pledge.goal_id == goal.id)
    stmt = _apply_common(stmt, Pledge.created_at, Pledge.status, filters)
    if filters.county:
        stmt = stmt.where(func.lower(Pledge.county) == filters.county.strip().lower())
    slug = goal.slug if goal else "all-goals"
    return Export(
        kind="pledges",
        subject=f"goal:{goal.id}" if goal else "goal:all",
        filename=f"pledges-{slug}-{date.today().isoformat()}.csv",
        header=PLEDGE_HEADER,
        filters=filters,
        statement=stmt,
        id_column=Pledge.id,
        columns=columns,
        shape=_pledge_rows,
    )


ENDORSEMENT_HEADER = [
    "campaign",
    "endorsement_id",
    "status",
    "organization",
    "organization_domain",
    "organization_website",
    "organization_type",
    "organization_locality",
    "contact_name",
    "contact_role",
    "contact_email",
    "contact_phone",
    "statement",
    "public_consent",
    "display_name",
    "display_statement",
    "submitted_at",
    "confirmed_at",
    "reviewed_at",
    "rejection_reason",
]


def endorsements_export(campaign: Campaign | None, filters: ExportFilters) -> Export:
    """Endorsements of one campaign, or of every campaign when ``campaign`` is None."""
    if filters.status not in ENDORSEMENT_STATUSES:
        raise ValueError("unknown status")
    columns = [
        Campaign.slug,
        Endorsement.id,
        Code(Endorsement.status),
        Organization.name,
        Organization.domain,
        Organization.website,
        Organization.org_type,
        Organization.locality,
        Endorsement.contact_name,
        Endorsement.contact_role,
        Endorsement.contact_email,
        Endorsement.contact_phone,
        Endorsement.statement,
        Endorsement.public_consent,
        Endorsement.display_name,
        Endorsement.display_statement,
        Endorsement.submitted_at,
        Endorsement.confirmed_at,
        Endorsement.reviewed_at,
        Endorsement.rejection_reason,
    ]
    stmt = (
        db.select(Endorsement.id)
        .join(Campaign, Campaign.id == Endorsement.campaign_id)
        .join(Organization, Organization.id == Endorsement.organization_id)
    )
    if campaign is not None:
        stmt = stmt.where(Endorsement.campaign_id == campaign.id)
    stmt = _apply_common(stmt, Endorsement.submitted_at, Endorsement.status, filters)
    slug = campaign.slug if campaign else "all-campaigns"
    return Export(
        kind="endorsements",
        subject=f"campaign:{campaign.id}" if campaign else "campaign:all",
        filename=f"endorsements-{slug}-{date.today().isoformat()}.csv",
        header=ENDORSEMENT_HEADER,
        filters=filters,
        statement=stmt,
        id_column=Endorsement.id,
        columns=columns,
    )


def _write_audit_entry(export: Export, actor_id: int | None, via: str) -> int:
    # End the read transaction first: on SQLite a reader that starts writing can fail.
    db.session.commit()
    with write_intent():
        entry = audit_log.record(
            f"export.{export.kind}",
            actor_id=actor_id,
            subject=export.subject,
            details={**export.filters.as_details(), "via": via, "rows": None, "completed": False},
        )
        db.session.commit()
    return entry.id


def _finish_audit_entry(entry_id: int, rows: int, completed: bool) -> None:
    db.session.commit()
    with write_intent():
        entry = db.session.get(AuditEntry, entry_id)
        details = {**entry.details, "rows": rows, "completed": completed}
        db.session.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(details=details))
        db.session.commit()


def stream_csv(
    export: Export, actor_id: int | None, via: str = "web", on_rows: Callable[[int], None] | None = None
) -> Iterator[str]:
    """The export as CSV text chunks; writes its audit entry before the first and after the last.

    An export cut short (the download interrupted) is recorded with ``completed: false``.
    """
    entry_id = _write_audit_entry(export, actor_id, via)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(export.header)
    written = 0
    completed = False
    try:
        yield BOM + buffer.getvalue()
        for text, rows in export.blocks():
            written += rows
            yield text
            if on_rows:
                on_rows(rows)
        completed = True
    finally:
        _finish_audit_entry(entry_id, written, completed)


def counties_with_signatures() -> list[str]:
    """The counties signers live in, for the export filter's choices."""
    return [
        county
        for county in db.session.scalars(
            db.select(Signature.county).where(Signature.county.is_not(None), Signature.county != "").distinct().order_by(Signature.county)
        )
    ]
