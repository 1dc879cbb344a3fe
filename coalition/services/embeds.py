"""Partners' embedded petitions: each verified partner's own address, framing rules, snippet, counts.

A partner is an organization with a verified endorsement. Its embed address is
``/embed/<its domain>/campaigns/<slug>``; that address alone may be framed, and only by
the partner's own website (its domain over https, with and without ``www.``, and the
exact origin of the website it gave), so one header never lists a hundred sites.
A partner's other websites (a second domain, a page on a hosting service) are added by
staff (``add_partner_site``), and each gets an address of its own, ``/embed/<that
domain>/...``, which that site alone may frame. Signatures through any of them record the
partner organization (attribution only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import escape
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from coalition.extensions import db
from coalition.models import Campaign, Endorsement, Organization, PartnerSite, Signature
from coalition.services import audit_log
from coalition.urls import external_url

#: What may appear in a frame-ancestors source: a host name or address, maybe a port.
_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?$")
#: The frame's height in the snippet: the whole form fits on a phone without a scroll bar inside.
SNIPPET_HEIGHT = 1200


@dataclass(frozen=True)
class EmbedAddress:
    """Whose embed an address names: a partner organization, through its own domain or
    through one of the sites staff added for it (``site``)."""

    organization: Organization
    site: PartnerSite | None = None

    @property
    def domain(self) -> str:
        """The domain the address names (``/embed/<domain>/...``)."""
        return self.site.domain if self.site else self.organization.domain

    @property
    def name(self) -> str:
        return self.organization.name


def embed_partner(domain: str) -> EmbedAddress | None:
    """Whose embed address names ``domain``: a verified partner's own domain, or a site
    staff added for a verified partner. None for anything else."""
    domain = (domain or "").strip().lower()
    if not _HOST.match(domain):
        return None
    verified = Organization.endorsements.any(Endorsement.status == "verified")
    organization = db.session.execute(
        db.select(Organization).where(Organization.domain == domain).where(verified)
    ).scalar_one_or_none()
    if organization is not None:
        return EmbedAddress(organization)
    site = db.session.execute(
        db.select(PartnerSite)
        .join(Organization, Organization.id == PartnerSite.organization_id)
        .where(PartnerSite.domain == domain)
        .where(verified)
    ).scalar_one_or_none()
    return EmbedAddress(site.organization, site) if site is not None else None


def frame_ancestors(address: EmbedAddress) -> list[str]:
    """The origins that may frame this embed address.

    A site staff added: that site alone (its scheme, with and without ``www.``). The
    partner's own address: its domain over https (with and without ``www.``) and the
    exact origin of the website it gave.
    """
    if address.site is not None:
        site = address.site
        return [f"{site.scheme}://{site.domain}", f"{site.scheme}://www.{site.domain}"]
    organization = address.organization
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


def embed_snippet(endorsement: Endorsement, language: str = "en", site: PartnerSite | None = None) -> str:
    """The copy-paste ``<iframe>`` for an endorser's website (or, with ``site``, for that
    other website of theirs), as plain text (for the email that tells an endorser it is
    verified; a template escapes it for the staff page)."""
    campaign = endorsement.campaign
    domain = site.domain if site is not None else endorsement.organization.domain
    src = external_url("embed.sign", language=language, partner=domain, slug=campaign.slug)
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


class PartnerSiteRefused(ValueError):
    """A site staff typed cannot be added; ``reason`` says why: ``"not-an-address"``,
    ``"taken"`` (another partner's site, or an organization's own domain) or ``"own-domain"``
    (this partner's own domain, which has its address already). Nothing was saved."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


#: The longest address staff may type for a site.
SITE_ADDRESS_MAX = 300


def parse_site(typed: str) -> tuple[str, str]:
    """(scheme, domain) of a website staff typed: ``https://www.example.org/about``,
    ``example.org`` or ``http://localhost:8123``. The domain is lower case, in ASCII
    (IDNA), without ``www.``, with a port only if not the scheme's default.
    Raises ``PartnerSiteRefused("not-an-address")``."""
    text = (typed or "").strip()
    if not text or len(text) > SITE_ADDRESS_MAX or any(c.isspace() or ord(c) < 32 for c in text):
        raise PartnerSiteRefused("not-an-address")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        raise PartnerSiteRefused("not-an-address")
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").rstrip(".").encode("idna").decode("ascii").lower()
        port = parts.port
    except (UnicodeError, ValueError):
        raise PartnerSiteRefused("not-an-address") from None
    if host.startswith("www."):
        host = host[4:]
    if "." not in host and host != "localhost":
        raise PartnerSiteRefused("not-an-address")
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    if not _HOST.match(host):
        raise PartnerSiteRefused("not-an-address")
    return scheme, host


def add_partner_site(organization_id: int, typed: str, staff_id: int | None) -> PartnerSite:
    """Add another website of a partner organization: it gets its own embed address.

    Refused (``PartnerSiteRefused``) when it is not a website's address, when it is the
    organization's own domain, or when it is another organization's domain or site: an
    address names one partner. The caller commits.
    """
    organization = db.session.get(Organization, organization_id)
    if organization is None:
        raise LookupError(organization_id)
    scheme, domain = parse_site(typed)
    if domain == organization.domain:
        raise PartnerSiteRefused("own-domain")
    taken = db.session.execute(
        db.select(Organization.id).where(Organization.domain == domain)
        .union_all(db.select(PartnerSite.id).where(PartnerSite.domain == domain))
    ).first()
    if taken is not None:
        raise PartnerSiteRefused("taken")
    site = PartnerSite(organization_id=organization.id, domain=domain, scheme=scheme, added_by_id=staff_id)
    try:
        with db.session.begin_nested():
            db.session.add(site)
    except IntegrityError:
        # Added by someone else at the same moment: the unique constraint decided.
        raise PartnerSiteRefused("taken") from None
    audit_log.record(
        "partner_site.add", actor_id=staff_id, subject=f"organization:{organization.id}",
        details={"site_id": site.id, "domain": domain},
    )
    return site


def remove_partner_site(site_id: int, staff_id: int | None) -> None:
    """Remove a site staff added: its embed address stops answering. The caller commits."""
    site = db.session.get(PartnerSite, site_id)
    if site is None:
        raise LookupError(site_id)
    audit_log.record(
        "partner_site.remove", actor_id=staff_id, subject=f"organization:{site.organization_id}",
        details={"site_id": site.id, "domain": site.domain},
    )
    db.session.delete(site)
    db.session.flush()


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
