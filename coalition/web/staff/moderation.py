"""Moderation: the endorsement queue, and finding and invalidating signatures."""

from __future__ import annotations

from datetime import timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from coalition.extensions import db
from coalition.forms.staff import (
    BulkInvalidateForm,
    ConfirmForm,
    EndorsementDisplayForm,
    InvalidateForm,
    RejectForm,
    SearchForm,
)
from coalition.models import Campaign, Endorsement
from coalition.services import endorsing as review_service
from coalition.services import moderation as moderation_service
from coalition.web.staff import bp
from coalition.urls import safe_next

#: What the review functions raise for a change staff may not make.
REVIEW_ERRORS = (review_service.EndorsementError, review_service.EndorsementNotFound)


@bp.get("/endorsements")
def endorsements():
    """Confirmed endorsements waiting for review."""
    return render_template(
        "staff/endorsements.html",
        queue=review_service.endorsements_awaiting_review(),
        reject_form=RejectForm(formdata=None),
        button_form=ConfirmForm(),
    )


@bp.post("/endorsements/<int:endorsement_id>/verify")
def verify_endorsement(endorsement_id: int):
    """Verify one endorsement."""
    if ConfirmForm().validate_on_submit():
        try:
            review_service.verify_endorsement(endorsement_id, current_user.id)
        except REVIEW_ERRORS as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Endorsement verified."), "success")
    return redirect(url_for("staff.endorsements"))


@bp.post("/endorsements/<int:endorsement_id>/reject")
def reject_endorsement(endorsement_id: int):
    """Reject one endorsement, with a reason."""
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Give a reason for the rejection."), "error")
        return redirect(url_for("staff.endorsements") + f"#endorsement-{endorsement_id}")
    try:
        review_service.reject_endorsement(endorsement_id, current_user.id, form.reason.data)
    except REVIEW_ERRORS as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Endorsement rejected; the reason is kept."), "success")
    return redirect(url_for("staff.endorsements"))


@bp.route("/endorsements/<int:endorsement_id>", methods=["GET", "POST"])
def endorsement(endorsement_id: int):
    """Edit what shows publicly of an endorsement."""
    item = db.get_or_404(Endorsement, endorsement_id)
    form = EndorsementDisplayForm(
        obj=None if request.method == "POST" else item,
        display_name=item.display_name or item.organization.name,
        display_statement=item.display_statement or item.statement,
    )
    if form.validate_on_submit():
        try:
            review_service.edit_endorsement_display(
                endorsement_id, current_user.id, form.display_name.data, form.display_statement.data or ""
            )
        except REVIEW_ERRORS as exc:
            db.session.rollback()
            form.display_name.errors.append(str(exc))
        else:
            db.session.commit()
            flash(_("What shows publicly is saved."), "success")
            return redirect(url_for("staff.endorsements"))
    return render_template("staff/endorsement.html", item=item, form=form)


@bp.get("/signatures")
def signatures():
    """Search signatures by email or name."""
    form = SearchForm(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    more = False
    if form.q.data:
        results = moderation_service.search_signatures(form.q.data)
    else:
        # Before any search: the latest signatures, newest first, a page at a time.
        results, more = moderation_service.latest_signatures(page)
    return render_template(
        "staff/signatures.html",
        form=form,
        results=results,
        searched=bool(form.q.data),
        page=page,
        more=more,
        limit=moderation_service.SEARCH_LIMIT,
        invalidate_form=InvalidateForm(formdata=None),
        button_form=ConfirmForm(),
    )


def _back_to_search() -> str:
    return safe_next(request.form.get("next"), url_for("staff.signatures"))


@bp.post("/signatures/<int:signature_id>/invalidate")
def invalidate_signature(signature_id: int):
    """Invalidate one signature."""
    form = InvalidateForm()
    if not form.validate_on_submit():
        flash(_("Give a reason to invalidate a signature."), "error")
        return redirect(_back_to_search())
    try:
        moderation_service.invalidate_signature(signature_id, current_user.id, form.reason.data)
    except moderation_service.ModerationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Signature invalidated: it no longer counts and is left out of exports."), "success")
    return redirect(_back_to_search())


@bp.post("/signatures/<int:signature_id>/wall")
def signature_wall(signature_id: int):
    """Hide a name from the public wall, or show it again, without touching the signature."""
    if ConfirmForm().validate_on_submit():
        hide = request.form.get("action") == "hide"
        try:
            moderation_service.set_hidden_from_wall(signature_id, current_user.id, hide)
        except moderation_service.ModerationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("The name is hidden from the wall; the signature still counts.") if hide else _("The name shows on the wall again."), "success")
    return redirect(_back_to_search())


@bp.post("/signatures/<int:signature_id>/restore")
def restore_signature(signature_id: int):
    """Undo an invalidation."""
    if ConfirmForm().validate_on_submit():
        try:
            moderation_service.restore_signature(signature_id, current_user.id)
        except moderation_service.ModerationError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(_("Signature restored."), "success")
    return redirect(_back_to_search())


def _criteria(form: BulkInvalidateForm) -> moderation_service.BulkCriteria:
    def utc(value):
        return value.replace(tzinfo=timezone.utc) if value else None

    return moderation_service.BulkCriteria(
        campaign_id=form.campaign.data,
        email_domain=form.email_domain.data or "",
        client_hash=form.client_hash.data or "",
        signed_from=utc(form.signed_from.data),
        signed_until=utc(form.signed_until.data),
    )


@bp.route("/signatures/bulk", methods=["GET", "POST"])
def invalidate_bulk():
    """Invalidate signatures in bulk: preview how many first, then confirm."""
    form = BulkInvalidateForm(
        campaign=request.args.get("campaign", type=int), client_hash=request.args.get("client_hash", "")
    )
    form.campaign.choices = [SelectChoice(c.id, c.title) for c in moderation_service.campaigns_for_moderation()]
    preview = None
    done = None
    if form.validate_on_submit():
        criteria = _criteria(form)
        try:
            if request.form.get("action") == "apply":
                if not (form.reason.data or "").strip():
                    raise moderation_service.ModerationError(_("Give a reason."))
                expected = moderation_service.BulkPreview(
                    confirmed=int(form.expected_confirmed.data or -1), pending=int(form.expected_pending.data or -1)
                )
                done = moderation_service.bulk_invalidate(criteria, current_user.id, form.reason.data, expected)
                db.session.commit()
                flash(
                    _(
                        "%(n)s signatures invalidated (%(c)s had been confirmed). They no longer count.",
                        n=done.total,
                        c=done.confirmed,
                    ),
                    "success",
                )
                return redirect(url_for("staff.invalidate_bulk"))
            preview = moderation_service.preview_bulk_invalidation(criteria)
        except moderation_service.ModerationError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            try:
                preview = moderation_service.preview_bulk_invalidation(criteria)
            except moderation_service.ModerationError:
                preview = None
        except ValueError:
            abort(400)
        if preview is not None:
            # What the confirmation will check has not changed; the submitted values would win otherwise.
            for hidden, value in ((form.expected_confirmed, preview.confirmed), (form.expected_pending, preview.pending)):
                hidden.raw_data = None
                hidden.data = str(value)
    campaign = db.session.get(Campaign, form.campaign.data) if form.campaign.data else None
    sample = moderation_service.bulk_invalidation_sample(_criteria(form)) if preview is not None and preview.total else []
    return render_template(
        "staff/bulk.html", form=form, preview=preview, campaign=campaign, sample=sample,
        sample_limit=moderation_service.BULK_SAMPLE,
    )
