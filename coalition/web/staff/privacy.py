"""Erasing a supporter on request (preview first), and the audit log (admins)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coalition.extensions import db
from coalition.forms.staff import EraseForm
from coalition.services import audit_log
from coalition.services import privacy as privacy_service
from coalition.services import staff as staff_service
from coalition.web.staff import admin_only, bp


@bp.route("/privacy", methods=["GET", "POST"])
def privacy():
    """Erase a supporter: see what would go, then erase it."""
    form = EraseForm()
    preview = None
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "erase":
                report = privacy_service.erase_supporter(form.email.data, current_user.id)
                db.session.commit()
                flash(
                    _("Erased: %(n)s records deleted or anonymised. The audit log records it without the email.", n=report.total),
                    "success",
                )
                return redirect(url_for("staff.privacy"))
            preview = privacy_service.preview_erasure(form.email.data)
        except privacy_service.PrivacyError as exc:
            db.session.rollback()
            form.email.errors.append(str(exc))
    return render_template("staff/privacy.html", form=form, preview=preview)


@bp.get("/audit")
@admin_only
def audit():
    """The audit log, newest first."""
    page = max(1, request.args.get("page", 1, type=int))
    prefix = request.args.get("action", "")
    per_page = 100
    entries = audit_log.recent_entries(limit=per_page + 1, offset=(page - 1) * per_page, action_prefix=prefix)
    actors = {user.id: user.email for user in staff_service.all_staff()}
    return render_template(
        "staff/audit.html",
        entries=entries[:per_page],
        actors=actors,
        more=len(entries) > per_page,
        page=page,
        prefix=prefix,
    )
