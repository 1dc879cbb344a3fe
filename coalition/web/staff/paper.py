"""Entering paper signatures, one by one or from a CSV file."""

from __future__ import annotations

from flask import flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import CombinedMultiDict
from wtforms.fields.choices import SelectChoice

from coalition.extensions import db
from coalition.forms.staff import PaperSignatureForm, PaperUploadForm
from coalition.models import Campaign
from coalition.security import accepts_uploads
from coalition.services import paper as paper_service
from coalition.web.staff import bp


def _campaign_choices() -> list[SelectChoice]:
    campaigns = db.session.scalars(
        db.select(Campaign).where(Campaign.status != "archived").order_by(Campaign.status.desc(), Campaign.title)
    )
    return [SelectChoice(c.id, c.title) for c in campaigns]


def _page(entry_form, upload_form, result=None, status=200):
    return (
        render_template(
            "staff/paper.html",
            form=entry_form,
            upload_form=upload_form,
            result=result,
            recent=paper_service.recent_paper_signatures(current_user.id),
        ),
        status,
    )


def _forms(entry_data=None, upload_data=None):
    entry = PaperSignatureForm(formdata=entry_data, prefix="one", campaign=request.args.get("campaign", type=int))
    upload = PaperUploadForm(formdata=upload_data, prefix="csv", campaign=request.args.get("campaign", type=int))
    entry.campaign.choices = upload.campaign.choices = _campaign_choices()
    return entry, upload


@bp.route("/paper", methods=["GET", "POST"])
def paper():
    """Enter one paper signature; the campaign and source stay filled in for the next."""
    entry_form, upload_form = _forms(entry_data=request.form if request.method == "POST" else None)
    if request.method == "POST" and entry_form.validate():
        try:
            source = paper_service.paper_source(entry_form.event.data, entry_form.event_date.data)
            paper_service.add_paper_signature(
                entry_form.campaign.data,
                current_user.id,
                source,
                paper_service.PaperEntry(
                    full_name=entry_form.full_name.data,
                    email=entry_form.email.data or "",
                    zip_code=entry_form.zip_code.data or "",
                    country=entry_form.country.data or "",
                    wants_updates=entry_form.wants_updates.data,
                    deliver_name=entry_form.deliver_name.data,
                    comment=entry_form.comment.data or "",
                ),
            )
        except paper_service.PaperError as exc:
            db.session.rollback()
            # Beside the field it is about (a duplicate email beside the email).
            getattr(entry_form, exc.field or "full_name").errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("Signature of %(name)s added; it counts now.", name=entry_form.full_name.data), "success")
            # Keep the campaign and the source for the next sheet, clear the person.
            kept = PaperSignatureForm(
                formdata=None,
                prefix="one",
                campaign=entry_form.campaign.data,
                event=entry_form.event.data,
                event_date=entry_form.event_date.data,
            )
            kept.campaign.choices = entry_form.campaign.choices
            return _page(kept, upload_form)
    return _page(entry_form, upload_form, status=200 if not entry_form.errors else 400)


accepts_uploads("staff.paper_upload", "csv-file")


@bp.post("/paper/upload")
def paper_upload():
    """Import a CSV of paper signatures: all valid rows, or nothing, as chosen."""
    entry_form, upload_form = _forms(upload_data=CombinedMultiDict((request.files, request.form)))
    if not upload_form.validate():
        return _page(entry_form, upload_form, status=400)
    try:
        source = paper_service.paper_source(upload_form.event.data, upload_form.event_date.data)
        result = paper_service.import_paper_csv(
            upload_form.campaign.data,
            current_user.id,
            source,
            upload_form.file.data.read(),
            all_or_nothing=upload_form.mode.data == "all",
        )
    except paper_service.PaperError as exc:
        db.session.rollback()
        upload_form.file.errors.append(str(exc))
        return _page(entry_form, upload_form, status=400)
    if result.cancelled:
        db.session.rollback()
    else:
        db.session.commit()
    return _page(entry_form, upload_form, result=result)
