"""CSV exports: the page with their filters, and the streamed downloads."""

from __future__ import annotations

from flask import Response, render_template, request, stream_with_context
from flask_babel import gettext as _
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
