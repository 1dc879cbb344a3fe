"""CSV exports of signatories, pledges and endorsements.

One way for all three: each export is a list of (header, column) pairs; its rows come
from one query read through a server-side cursor ``CHUNK_ROWS`` at a time (plain column
tuples, timestamps already formatted by the database, so nothing is parsed in Python and
memory stays flat), and every cell goes through ``neutralize`` into Python's ``csv``
writer. The CSV is UTF-8 with a byte-order mark (Excel then reads accented names
correctly), quoted as RFC 4180 says, lines ending in CRLF, and every cell that a
spreadsheet would read as a formula is neutralised. Each export is written to the audit
log: who, what, which filters, how many rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import String, func, type_coerce, update

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
    if db.engine.dialect.name == "postgresql":
        return type_coerce(func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS"), String)
    # SQLite keeps UTC times as "YYYY-MM-DD HH:MM:SS.ffffff" text.
    return type_coerce(func.substr(type_coerce(column, String), 1, 19), String)


class PerChunk:
    """A cell the SELECT does not give (a pledge's actions): ``lookup(ids)`` returns each
    row's value by the export's id, one query per chunk of rows."""

    def __init__(self, lookup: Callable[[list[int]], dict[int, str]]) -> None:
        self.lookup = lookup


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


@dataclass
class Export:
    """One export: its (header, column) pairs, its rows in chunks, what the audit log says of it."""

    kind: str
    subject: str
    filename: str
    filters: ExportFilters
    #: The SELECT of the rows (its FROM, joins and filters; its columns are replaced).
    statement: object
    id_column: object
    #: The CSV's columns, in order: (header, model column or ``PerChunk``).
    columns: list[tuple[str, object]]

    @property
    def header(self) -> list[str]:
        """The CSV's first line."""
        return [name for name, _column in self.columns]

    def count(self) -> int:
        """How many rows the export will have."""
        ids = self.statement.with_only_columns(self.id_column).subquery()
        return db.session.scalar(db.select(func.count()).select_from(ids)) or 0

    def blocks(self) -> Iterator[tuple[str, int]]:
        """The CSV rows as blocks of text (each ending with a line break), with how many
        rows each holds, in id order, from one query through a server-side cursor."""
        selected = [
            _timestamp(column) if isinstance(column.type, UTCDateTime) else column
            for _name, column in self.columns
            if not isinstance(column, PerChunk)
        ]
        per_chunk = [(place, column) for place, (_name, column) in enumerate(self.columns) if isinstance(column, PerChunk)]
        if per_chunk:  # their lookups need each row's id: it comes first, and is dropped
            selected.insert(0, self.id_column)
        statement = self.statement.with_only_columns(*selected).order_by(self.id_column)
        # Core, not the ORM: plain rows, no ORM bookkeeping; yield_per streams them.
        result = db.session.connection().execution_options(yield_per=CHUNK_ROWS).execute(statement)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        for rows in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            if per_chunk:
                rows = _with_looked_up(rows, per_chunk)
            writer.writerows(map(neutralize, row) for row in rows)
            yield buffer.getvalue(), len(rows)


def _with_looked_up(rows: list, per_chunk: list[tuple[int, PerChunk]]) -> list[list]:
    """The rows (id first, then dropped) with each ``PerChunk`` cell put in its place."""
    ids = [row[0] for row in rows]
    found = [(place, column.lookup(ids)) for place, column in per_chunk]
    filled = []
    for row in rows:
        values = list(row[1:])
        for place, values_by_id in found:
            values.insert(place, values_by_id[row[0]])
        filled.append(values)
    return filled


def _apply_common(stmt, created_column, status_column, filters: ExportFilters):
    if filters.status != "all":
        stmt = stmt.where(status_column == filters.status)
    if filters.date_from:
        stmt = stmt.where(created_column >= _day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(created_column < _day_start(filters.date_to + timedelta(days=1)))
    return stmt


def _district_number(column):
    """The district's number from its OCD id, in SQL (``.../sldu:12`` -> ``12``)."""
    prefixes = districts.OCD_PREFIX
    return func.replace(func.replace(column, prefixes["upper"], ""), prefixes["lower"], "")


#: The signatories' CSV: (header, column), in order.
SIGNATURE_COLUMNS = [
    ("campaign", Campaign.slug),
    ("signature_id", Signature.id),
    ("status", Signature.status),
    ("source", Signature.source),
    ("full_name", Signature.full_name),
    ("email", Signature.email),
    ("zip_code", Signature.zip_code),
    ("city", Signature.city),
    ("county", Signature.county),
    ("state", Signature.state),
    ("country", Signature.country),
    ("wants_updates", Signature.wants_updates),
    ("updates_consented_at", Signature.updates_consented_at),
    ("show_publicly", Signature.show_publicly),
    ("comment", Signature.comment),
    ("language", Signature.language),
    ("signed_at", Signature.created_at),
    ("confirmed_at", Signature.confirmed_at),
    ("paper_source", Signature.paper_source),
    ("invalidated_at", Signature.invalidated_at),
    ("invalidation_reason", Signature.invalidation_reason),
    ("senate_district", _district_number(Signature.senate_district)),
    ("assembly_district", _district_number(Signature.assembly_district)),
]
SIGNATURE_HEADER = [name for name, _column in SIGNATURE_COLUMNS]


def signatures_export(campaign: Campaign | None, filters: ExportFilters) -> Export:
    """Signatories of one campaign, or of every campaign when ``campaign`` is None."""
    if filters.status not in SIGNATURE_STATUSES:
        raise ValueError("unknown status")
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
        filters=filters,
        statement=stmt,
        id_column=Signature.id,
        columns=SIGNATURE_COLUMNS,
    )


def _pledge_actions(pledge_ids: list[int]) -> dict[int, str]:
    """Each pledge's chosen actions, as "key; key" in the goal's order."""
    actions: dict[int, list[str]] = {pledge_id: [] for pledge_id in pledge_ids}
    choices = db.session.execute(
        db.select(pledge_action_choices.c.pledge_id, PledgeAction.key)
        .join(PledgeAction, PledgeAction.id == pledge_action_choices.c.action_id)
        .where(pledge_action_choices.c.pledge_id.in_(pledge_ids))
        .order_by(PledgeAction.position)
    )
    for pledge_id, key in choices:
        actions[pledge_id].append(key)
    return {pledge_id: "; ".join(keys) for pledge_id, keys in actions.items()}


#: The pledges' CSV: (header, column), in order.
PLEDGE_COLUMNS = [
    ("goal", Goal.slug),
    ("pledge_id", Pledge.id),
    ("status", Pledge.status),
    ("full_name", Pledge.full_name),
    ("email", Pledge.email),
    ("zip_code", Pledge.zip_code),
    ("city", Pledge.city),
    ("county", Pledge.county),
    ("state", Pledge.state),
    ("country", Pledge.country),
    ("actions", PerChunk(_pledge_actions)),
    ("message", Pledge.message),
    ("language", Pledge.language),
    ("pledged_at", Pledge.created_at),
    ("confirmed_at", Pledge.confirmed_at),
    ("with_signature_id", Pledge.signature_id),
]
PLEDGE_HEADER = [name for name, _column in PLEDGE_COLUMNS]


def pledges_export(goal: Goal | None, filters: ExportFilters) -> Export:
    """Pledges for one goal, or for every goal when ``goal`` is None."""
    if filters.status not in PLEDGE_STATUSES:
        raise ValueError("unknown status")
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
        filters=filters,
        statement=stmt,
        id_column=Pledge.id,
        columns=PLEDGE_COLUMNS,
    )


#: The endorsements' CSV: (header, column), in order.
ENDORSEMENT_COLUMNS = [
    ("campaign", Campaign.slug),
    ("endorsement_id", Endorsement.id),
    ("status", Endorsement.status),
    ("organization", Organization.name),
    ("organization_domain", Organization.domain),
    ("organization_website", Organization.website),
    ("organization_type", Organization.org_type),
    ("organization_locality", Organization.locality),
    ("contact_name", Endorsement.contact_name),
    ("contact_role", Endorsement.contact_role),
    ("contact_email", Endorsement.contact_email),
    ("contact_phone", Endorsement.contact_phone),
    ("statement", Endorsement.statement),
    ("public_consent", Endorsement.public_consent),
    ("display_name", Endorsement.display_name),
    ("display_statement", Endorsement.display_statement),
    ("submitted_at", Endorsement.submitted_at),
    ("confirmed_at", Endorsement.confirmed_at),
    ("reviewed_at", Endorsement.reviewed_at),
    ("rejection_reason", Endorsement.rejection_reason),
]
ENDORSEMENT_HEADER = [name for name, _column in ENDORSEMENT_COLUMNS]


def endorsements_export(campaign: Campaign | None, filters: ExportFilters) -> Export:
    """Endorsements of one campaign, or of every campaign when ``campaign`` is None."""
    if filters.status not in ENDORSEMENT_STATUSES:
        raise ValueError("unknown status")
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
        filters=filters,
        statement=stmt,
        id_column=Endorsement.id,
        columns=ENDORSEMENT_COLUMNS,
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
