"""Partners' embedded petitions: each verified partner's own address, framing rules, snippet, counts.

A partner is an organization with a verified endorsement. Its embed address is
``/embed/<its domain>/campaigns/<slug>``; that address alone may be framed, and only by
the partner's own website (its domain over https, with and without ``www.``, and the
exact origin of the website it gave), so one header never lists a hundred sites.
Signatures through the embed record the partner (attribution only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import escape
from sqlalchemy import func

from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Organization, Signature
from coalition.services import audit_log
from coalition.urls import external_url

#: What may appear in a frame-ancestors source: a host name or address, maybe a port.
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?$")
#: The frame's height in the snippet: the whole form fits on a phone without a scroll bar inside.
SNIPPET_HEIGHT = 1200


def embed_partner(domain: str) -> Organization | None:
    """The organization whose embed address names ``domain``, if it is a verified partner."""
    domain = (domain or "").strip().lower()
    if not _HOST.match(domain):
        return None
    return db.session.execute(
        db.select(Organization)
        .where(Organization.domain == domain)
        .where(Organization.endorsements.any(Endorsement.status == "verified"))
    ).scalar_one_or_none()


def frame_ancestors(organization: Organization) -> list[str]:
    """The origins that may frame this partner's embed: its domain over https (with and
    without ``www.``) and the exact origin of the website it gave."""
    sources = []
    if _HOST.match(organization.domain):
        sources = [f"https://{organization.domain}", f"https://www.{organization.domain}"]
    parts = urlsplit(organization.website or "")
    host = (parts.netloc or "").lower()
    if parts.scheme in ("http", "https") and _HOST.match(host):
        origin = f"{parts.scheme}://{host}"
        if origin not in sources:
            sources.append(origin)
    return sources


def embed_snippet(endorsement: Endorsement, language: str = "en") -> str:
    """The copy-paste ``<iframe>`` for an endorser's website, as plain text (for the email
    that tells an endorser it is verified; a template escapes it for the staff page)."""
    campaign = endorsement.campaign
    src = external_url(
        "embed.sign", language=language, partner=endorsement.organization.domain, slug=campaign.slug
    )
    title = (campaign.title_es if language == "es" else "") or campaign.title
    frame_title = f"{title} · Coalition for Women Prisoners"
    note = (
        "If you add a sandbox attribute, keep allow-same-origin allow-forms allow-scripts "
        "allow-popups: without them the browser sends Origin: null and signatures are refused."
        if language != "es"
        else "Si agrega un atributo sandbox, mantenga allow-same-origin allow-forms allow-scripts "
        "allow-popups: sin ellos el navegador envía Origin: null y las firmas se rechazan."
    )
    return (
        f'<iframe src="{escape(src)}" title="{escape(frame_title)}" loading="lazy" '
        f'width="100%" height="{SNIPPET_HEIGHT}" style="border:0;max-width:560px"></iframe>\n'
        f"<!-- {note} -->"
    )


def set_show_embed_count(endorsement_id: int, staff_id: int, show: bool) -> Endorsement:
    """Show (or stop showing) on the campaign page how many signed through this partner."""
    endorsement = db.session.get(Endorsement, endorsement_id)
    if endorsement is None:
        raise LookupError(endorsement_id)
    endorsement.show_embed_count = show
    audit_log.record(
        "endorsement.show_embed_count" if show else "endorsement.hide_embed_count",
        actor_id=staff_id,
        subject=f"endorsement:{endorsement_id}",
    )
    db.session.flush()
    return endorsement


@dataclass(frozen=True)
class PartnerCount:
    """Confirmed signatures one partner's embed brought, for the campaign page."""

    name: str
    count: int


def public_partner_counts(campaign_id: int) -> list[PartnerCount]:
    """For verified endorsers who agreed to be shown and whose count staff chose to show:
    the confirmed signatures through each one's embed, most first. Signatures are counted
    only when staff chose to show a count (few campaigns, few partners, an indexed column)."""
    shown = db.session.execute(
        db.select(Endorsement.organization_id, Endorsement.display_name, Organization.name)
        .join(Organization, Organization.id == Endorsement.organization_id)
        .where(
            Endorsement.campaign_id == campaign_id,
            Endorsement.status == "verified",
            Endorsement.public_consent.is_(True),
            Endorsement.show_embed_count.is_(True),
        )
    ).all()
    if not shown:
        return []
    counts = dict(
        db.session.execute(
            db.select(Signature.partner_id, func.count())
            .where(
                Signature.campaign_id == campaign_id,
                Signature.status == "confirmed",
                Signature.partner_id.in_([row.organization_id for row in shown]),
            )
            .group_by(Signature.partner_id)
        ).all()
    )
    rows = [PartnerCount(display or name, int(counts.get(org_id, 0))) for org_id, display, name in shown]
    return sorted((row for row in rows if row.count), key=lambda row: (-row.count, row.name.casefold()))


def campaign_embed_partners(campaign: Campaign) -> list[Endorsement]:
    """The campaign's verified endorsements, whose organizations may embed it (staff page)."""
    return list(
        db.session.scalars(
            db.select(Endorsement)
            .where(Endorsement.campaign_id == campaign.id, Endorsement.status == "verified")
            .join(Organization)
            .order_by(Organization.name)
        )
    )
