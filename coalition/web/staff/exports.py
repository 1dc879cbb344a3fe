"""CSV exports: the page with their filters, and the streamed downloads."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from coalition.extensions import db
from coalition.forms.staff import EndorsementExportForm, PledgeExportForm, SignatureExportForm
from coalition.i18n import localized
from coalition.models import Campaign, Goal
from coalition.services import districts
from coalition.services import exports as export_service
from coalition.web.staff import bp


def _campaign_choices() -> list[SelectChoice]:
    campaigns = db.session.scalars(db.select(Campaign).order_by(Campaign.status, Campaign.title))
    return [SelectChoice("", _("All campaigns"))] + [SelectChoice(c.slug, c.title) for c in campaigns]


def _forms(formdata=None) -> dict:
    """The three filter forms, each with its own prefix so their fields can share a page."""
    counties = [SelectChoice("", _("All counties"))] + [
        SelectChoice(c, c) for c in export_service.counties_with_signatures()
    ]
    signatures = SignatureExportForm(formdata=formdata if formdata is not None and "s-status" in formdata else None, prefix="s")
    signatures.campaign.choices = _campaign_choices()
    signatures.county.choices = counties
    pledges = PledgeExportForm(formdata=formdata if formdata is not None and "p-status" in formdata else None, prefix="p")
    goals = db.session.scalars(db.select(Goal).order_by(Goal.position))
    pledges.goal.choices = [SelectChoice("", _("All goals"))] + [SelectChoice(g.slug, localized(g, "title")) for g in goals]
    pledges.county.choices = counties
    endorsements = EndorsementExportForm(
        formdata=formdata if formdata is not None and "e-status" in formdata else None, prefix="e"
    )
    endorsements.campaign.choices = _campaign_choices()
    return {"signatures": signatures, "pledges": pledges, "endorsements": endorsements}


@bp.get("/exports")
def exports():
    """The exports and their filters."""
    return render_template("staff/exports.html", forms=_forms())


_PLACE = {
    "zip_code": _l("The US ZIP code given."),
    "city": _l("The city of that ZIP code."),
    "county": _l("The county of that ZIP code."),
    "state": _l("The state of that ZIP code, in two letters."),
    "country": _l("The country of someone outside the US (instead of a ZIP code)."),
}
_LANGUAGE = _l("en or es: the language they used on the site.")

#: What each column of each export holds, for staff: every header of ``coalition.services.exports``
#: has its line here (a test checks it), in the CSV's own order.
COLUMN_MEANINGS = {
    "signatures": {
        "campaign": _l("The campaign’s short name, as in its address (/campaigns/short-name)."),
        "signature_id": _l("The signature’s number in the database: quote it when asking for a correction."),
        "status": _l("confirmed (it counts), pending (the email’s link not followed yet) or invalidated (by staff)."),
        "source": _l("online (the sign form, on this site or a partner’s) or paper (entered by staff)."),
        "full_name": _l("The name as the signer gave it; empty once anonymized."),
        "email": _l("The email as typed; empty for a paper signature without one."),
        **_PLACE,
        "wants_updates": _l("yes if they agreed to be emailed updates."),
        "updates_consented_at": _l("When they gave that consent."),
        "show_publicly": _l("yes if they agreed to show their first name and city on the campaign page."),
        "comment": _l("Their comment, if they wrote one."),
        "language": _LANGUAGE,
        "signed_at": _l("When they signed (or staff entered it, for paper)."),
        "confirmed_at": _l("When it was confirmed by email (entered, for paper)."),
        "paper_source": _l("For paper: where and when it was collected, for example “Albany lobby day (2026-03-04)”."),
        "invalidated_at": _l("When staff invalidated it."),
        "invalidation_reason": _l("Why staff invalidated it."),
        "senate_district": _l(
            "The number of the signer’s State Senate district, estimated from the ZIP code or chosen by the "
            "signer; empty when not known (outside New York, a PO box, a ZIP code split between districts)."
        ),
        "assembly_district": _l("The number of the signer’s Assembly district, found the same way."),
    },
    "pledges": {
        "goal": _l("The goal’s short name, as in its address (/goals/short-name)."),
        "pledge_id": _l("The pledge’s number in the database."),
        "status": _l("confirmed, pending (the email’s link not followed yet) or invalidated."),
        "full_name": _l("The name as the supporter gave it."),
        "email": _l("The email as typed."),
        **_PLACE,
        "actions": _l("The actions they pledged to take, by their short names, separated by “; ”."),
        "message": _l("Their message to the coalition, if they wrote one."),
        "language": _LANGUAGE,
        "pledged_at": _l("When they pledged."),
        "confirmed_at": _l("When they confirmed by email."),
        "with_signature_id": _l("The number of the signature made in the same form, if any."),
    },
    "endorsements": {
        "campaign": _l("The campaign’s short name, as in its address (/campaigns/short-name)."),
        "endorsement_id": _l("The endorsement’s number in the database."),
        "status": _l(
            "submitted (email not confirmed yet), confirmed (waiting for review), verified, rejected or withdrawn."
        ),
        "organization": _l("The organization’s name, as submitted."),
        "organization_domain": _l("Its web domain (its partner embed address uses it)."),
        "organization_website": _l("Its website."),
        "organization_type": _l(
            "service-provider, advocacy-group, faith-community, union, legal-services, community-group, academic or other."
        ),
        "organization_locality": _l("The city or county where it works."),
        "contact_name": _l("Who endorsed on its behalf (never shown publicly)."),
        "contact_role": _l("Their role in the organization (never shown publicly)."),
        "contact_email": _l("Their email (never shown publicly)."),
        "contact_phone": _l("Their phone number, if given (never shown publicly)."),
        "statement": _l("The organization’s statement, as written."),
        "public_consent": _l("yes if it may be shown publicly."),
        "display_name": _l("The name shown publicly, as edited by staff."),
        "display_statement": _l("The statement shown publicly, as edited by staff."),
        "submitted_at": _l("When it was submitted."),
        "confirmed_at": _l("When its contact confirmed it by email."),
        "reviewed_at": _l("When staff reviewed it."),
        "rejection_reason": _l("Why staff rejected it."),
    },
}


@bp.get("/exports/columns")
def export_columns():
    """What each column of each export holds."""
    files = [
        ("signatures", _("Signatories"), "signatures-<campaign>-<date>.csv", export_service.SIGNATURE_HEADER),
        ("pledges", _("Pledges"), "pledges-<goal>-<date>.csv", export_service.PLEDGE_HEADER),
        ("endorsements", _("Endorsements"), "endorsements-<campaign>-<date>.csv", export_service.ENDORSEMENT_HEADER),
    ]
    tables = [
        (kind, title, filename, [(name, COLUMN_MEANINGS[kind][name]) for name in header])
        for kind, title, filename, header in files
    ]
    return render_template("staff/export_columns.html", tables=tables)


def _csv_response(export: export_service.Export) -> Response:
    body = stream_with_context(export_service.stream_csv(export, actor_id=current_user.id, via="web"))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Cache-Control"] = "no-store"
    # nginx passes the rows on as they come instead of spooling personal data to its disk.
    response.headers["X-Accel-Buffering"] = "no"
    return response


def _filters(form) -> export_service.ExportFilters:
    return export_service.ExportFilters(
        status=form.status.data,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        consented_only=bool(getattr(form, "consented_only", None) and form.consented_only.data),
        county=(form.county.data or None) if hasattr(form, "county") else None,
        district=districts.parse_district(form.district.data or "") if hasattr(form, "district") else None,
    )


def _by_slug(model, slug: str | None):
    if not slug:
        return None
    return db.session.execute(db.select(model).filter_by(slug=slug)).scalar_one()


@bp.get("/exports/signatures.csv")
def export_signatures():
    """Download signatories as CSV (confirmed only unless the filters say otherwise)."""
    forms = _forms(request.args)
    form = forms["signatures"]
    if not form.validate():
        return render_template("staff/exports.html", forms=forms), 400
    return _csv_response(export_service.signatures_export(_by_slug(Campaign, form.campaign.data), _filters(form)))


@bp.get("/exports/pledges.csv")
def export_pledges():
    """Download pledges as CSV."""
    forms = _forms(request.args)
    form = forms["pledges"]
    if not form.validate():
        return render_template("staff/exports.html", forms=forms), 400
    return _csv_response(export_service.pledges_export(_by_slug(Goal, form.goal.data), _filters(form)))


@bp.get("/exports/endorsements.csv")
def export_endorsements():
    """Download endorsements as CSV."""
    forms = _forms(request.args)
    form = forms["endorsements"]
    if not form.validate():
        return render_template("staff/exports.html", forms=forms), 400
    return _csv_response(export_service.endorsements_export(_by_slug(Campaign, form.campaign.data), _filters(form)))
