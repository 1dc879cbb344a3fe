"""Delivering a petition to legislators: whom it is addressed to, and who signed in each district.

Counts and names come from signatures' districts (estimated from ZIP codes). A packet
names only signers who agreed to be named (``deliver_name``), with their name and city;
it never holds an email, a ZIP code, a comment, a paper source, or anything that marks
a signer as incarcerated. Rows are read in batches (``yield_per``), never all at once.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import String, cast, func, select

from coalition.extensions import db
from coalition.models import Campaign, Committee, Endorsement, Legislator, Organization, Signature
from coalition.models.campaigns import ADDRESSEES
from coalition.services import audit_log, districts, legislators
from coalition.services.texts import _

#: Rows read from the database per round trip when listing signers.
BATCH = 2000


class AddresseeError(ValueError):
    """A choice of addressees that cannot be saved; the message says why."""


def set_addressees(
    campaign: Campaign,
    addressed_to: str,
    committee_id: int | None,
    legislator_ids: list[int],
    mail_subject: str,
    mail_body: str,
    staff_id: int,
) -> None:
    """Save whom the petition is addressed to, and the email text signers may send; flushes."""
    if addressed_to not in ADDRESSEES:
        raise AddresseeError(_("Choose whom the petition is addressed to."))
    committee = db.session.get(Committee, committee_id) if committee_id else None
    if addressed_to == "committee" and committee is None:
        raise AddresseeError(_("Choose the committee."))
    chosen = list(db.session.scalars(select(Legislator).where(Legislator.id.in_(legislator_ids or [0]))))
    if addressed_to == "chosen" and not chosen:
        raise AddresseeError(_("Choose at least one legislator."))
    campaign.addressed_to = addressed_to
    campaign.target_committee = committee if addressed_to == "committee" else None
    campaign.target_legislators = chosen if addressed_to == "chosen" else []
    campaign.legislator_mail_subject = " ".join(mail_subject.split())[:200]
    campaign.legislator_mail_body = mail_body.strip()[:2000]
    audit_log.record(
        "campaign.addressees",
        actor_id=staff_id,
        subject=f"campaign:{campaign.id}",
        details={"addressed_to": addressed_to, "committee_id": committee.id if committee else None,
                 "legislators": len(campaign.target_legislators)},
    )
    db.session.flush()


def signed_in_district(legislator: Legislator):
    """Confirmed signatures placed in the legislator's district (the Governor's: all of New York)."""
    if legislator.seat == "governor" or not legislator.district_ocd_id:
        return Signature.state == "NY"
    return districts.in_district(Signature, legislator.district_ocd_id)


def may_be_in_district(legislator: Legislator):
    """Signatures between districts that may be in the legislator's (a candidate of theirs)."""
    if legislator.seat == "governor" or not legislator.district_ocd_id:
        return None
    chamber = districts.chamber_of(legislator.district_ocd_id)
    district_column = Signature.senate_district if chamber == "upper" else Signature.assembly_district
    candidates = Signature.senate_candidates if chamber == "upper" else Signature.assembly_candidates
    # Candidates are a JSON list of OCD ids; an id is never a substring of another id
    # followed by a quote, so matching the quoted id is exact on SQLite and PostgreSQL alike.
    return district_column.is_(None) & cast(candidates, String).contains(f'"{legislator.district_ocd_id}"')


def _confirmed(campaign: Campaign):
    return (Signature.campaign_id == campaign.id) & (Signature.status == "confirmed")


def count_in(campaign: Campaign, condition) -> int:
    """How many confirmed signatures of the campaign meet a condition."""
    if condition is None:
        return 0
    return db.session.scalar(select(func.count()).select_from(Signature).where(_confirmed(campaign), condition)) or 0


@dataclass(frozen=True)
class NamedSigner:
    """A signer as a packet names them: name (NFC) and city. Nothing else."""

    name: str
    city: str


def named_signers(campaign: Campaign, condition) -> Iterator[NamedSigner]:
    """The consenting signers meeting a condition, by city then name, read in batches."""
    if condition is None:
        return
    stmt = (
        select(Signature.full_name, Signature.city)
        .where(
            _confirmed(campaign),
            condition,
            Signature.deliver_name.is_(True),
            Signature.anonymized_at.is_(None),
        )
        .order_by(Signature.city, Signature.full_name, Signature.id)
        .execution_options(yield_per=BATCH)
    )
    for name, city in db.session.execute(stmt):
        yield NamedSigner(name=unicodedata.normalize("NFC", " ".join((name or "").split())), city=city or "")


def endorsing_organizations(campaign: Campaign, legislator: Legislator) -> list[str]:
    """Names of the organizations with a verified endorsement of the campaign whose ZIP code is in the district."""
    rows = db.session.execute(
        select(Organization.name, Organization.zip_code)
        .join(Endorsement, Endorsement.organization_id == Organization.id)
        .where(Endorsement.campaign_id == campaign.id, Endorsement.status == "verified")
        .order_by(Organization.name)
    ).all()
    if legislator.seat == "governor":
        return [name for name, zip_code in rows]
    out = []
    for name, zip_code in rows:
        if not zip_code:
            continue
        place = districts.place_zip(zip_code, "NY")
        if legislator.district_ocd_id in (
            place.senate_district,
            place.assembly_district,
            *place.senate_candidates,
            *place.assembly_candidates,
        ):
            out.append(name)
    return out


@dataclass
class PacketSummary:
    """What one legislator's packet holds, in numbers (for the download page and the audit)."""

    legislator: Legislator
    signers: int
    maybe: int


def packet_summaries(campaign: Campaign) -> list[PacketSummary]:
    """For each legislator the campaign is addressed to: how many signed in, and may live in, the district."""
    targeted = legislators.addressees(campaign)
    district_column = {
        "upper": Signature.senate_district,
        "lower": Signature.assembly_district,
    }
    counts: dict[str, int] = {}
    for chamber, column in district_column.items():
        if any(t.seat == chamber for t in targeted):
            counts.update(
                db.session.execute(
                    select(column, func.count()).where(_confirmed(campaign), column.is_not(None)).group_by(column)
                ).all()
            )
    # Signers between districts, counted per candidate in one pass (not one scan per legislator).
    maybe: dict[str, int] = {}
    between = select(Signature.senate_district, Signature.senate_candidates,
                     Signature.assembly_district, Signature.assembly_candidates).where(
        _confirmed(campaign), (Signature.senate_district.is_(None)) | (Signature.assembly_district.is_(None))
    ).execution_options(yield_per=BATCH)
    for senate, senate_candidates, assembly, assembly_candidates in db.session.execute(between):
        for district, candidates in ((senate, senate_candidates), (assembly, assembly_candidates)):
            if district is None:
                for candidate in candidates or []:
                    maybe[candidate] = maybe.get(candidate, 0) + 1
    summaries = []
    for legislator in targeted:
        if legislator.seat == "governor":
            summaries.append(PacketSummary(legislator, count_in(campaign, signed_in_district(legislator)), 0))
        else:
            summaries.append(PacketSummary(legislator, counts.get(legislator.district_ocd_id, 0),
                                           maybe.get(legislator.district_ocd_id, 0)))
    return summaries


def record_download(campaign: Campaign, staff_id: int, legislator_ids: list[int], kind: str) -> None:
    """Audit one packet download (a PDF or the zip of all); the caller commits."""
    audit_log.record(
        f"packet.{kind}",
        actor_id=staff_id,
        subject=f"campaign:{campaign.id}",
        details={"legislators": legislator_ids},
    )


def plain_text(body: str) -> str:
    """The petition text without its light formatting marks (for print)."""
    text = re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"\1 (\2)", body or "")
    return re.sub(r"\*\*?([^*]+)\*\*?", r"\1", text)


def consenting_names(campaign: Campaign) -> Iterator[str]:
    """Every name a packet of the campaign may print (consenting, confirmed), read in batches."""
    stmt = (
        select(Signature.full_name)
        .where(_confirmed(campaign), Signature.deliver_name.is_(True), Signature.anonymized_at.is_(None))
        .execution_options(yield_per=BATCH)
    )
    for (name,) in db.session.execute(stmt):
        yield unicodedata.normalize("NFC", name or "")

