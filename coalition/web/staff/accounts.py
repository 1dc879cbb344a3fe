"""Logging in and out, one's own password, and (admins) the staff accounts."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from coalition.extensions import db, limiter
from coalition.forms.staff import ChangePasswordForm, ConfirmForm, LoginForm, NewStaffForm, StaffRoleForm
from coalition.services import staff as staff_service
from coalition.web.staff import LAST_SEEN_KEY, admin_only, bp
from coalition.urls import safe_next


def _account_key() -> str:
    """Rate-limit key for the account being tried: a keyed hash of the submitted email."""
    email = (request.form.get("email") or "").strip().lower()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(), hashlib.sha256)
    return "staff-login:" + digest.hexdigest()[:32]


def _failed(response) -> bool:
    # Only failed attempts count: a successful login redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT_ACCOUNT"],
    key_func=_account_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="staff-login-account",
)
def login():
    """The staff login form."""
    fallback = url_for("staff.dashboard")
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next"), fallback))
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = staff_service.authenticate(form.email.data or "", form.password.data or "")
        if user is not None:
            db.session.commit()
            # A fresh session at login: nothing from before it (fixation) carries over.
            session.clear()
            login_user(user)
            session[LAST_SEEN_KEY] = int(time.time())
            return redirect(safe_next(request.args.get("next"), fallback))
        db.session.rollback()
        failed = True
    form.password.data = ""
    return render_template("staff/login.html", form=form, failed=failed)


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    session.clear()
    flash(_("You are logged out."), "info")
    return redirect(url_for("staff.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """A staff member changes their own password; their other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            staff_service.change_password(current_user._get_current_object(), form.current_password.data, form.new_password.data)
        except staff_service.StaffError:
            db.session.rollback()
            form.current_password.errors.append(_("The current password is not correct."))
        else:
            db.session.commit()
            # This session carries on under the new session version.
            login_user(current_user._get_current_object())
            flash(_("Your password is changed. You were logged out everywhere else."), "success")
            return redirect(url_for("staff.dashboard"))
    return render_template("staff/password.html", form=form)


@bp.route("/accounts", methods=["GET", "POST"])
@admin_only
def accounts():
    """The staff accounts, and the form to add one."""
    form = NewStaffForm()
    created = password = None
    if form.validate_on_submit():
        try:
            created, password = staff_service.create_staff(
                form.email.data, form.role.data, actor_id=current_user.id
            )
        except staff_service.StaffError as exc:
            db.session.rollback()
            form.email.errors.append(_("This account could not be added: %(reason)s.", reason=str(exc)))
        else:
            db.session.commit()
            form = NewStaffForm(formdata=None)
    return render_template(
        "staff/accounts.html",
        form=form,
        staff=staff_service.all_staff(),
        created=created,
        password=password,
        button_form=ConfirmForm(),
    )


@bp.post("/accounts/<int:user_id>/role")
@admin_only
def set_role(user_id: int):
    """Change a staff member's role."""
    form = StaffRoleForm()
    if form.validate_on_submit():
        try:
            staff_service.set_role(current_user.id, user_id, form.role.data)
        except staff_service.StaffError as exc:
            db.session.rollback()
            flash(_("Not changed: %(reason)s.", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Role changed."), "success")
    return redirect(url_for("staff.accounts"))


@bp.post("/accounts/<int:user_id>/active")
@admin_only
def set_active(user_id: int):
    """Disable or re-enable a staff account."""
    form = ConfirmForm()
    if form.validate_on_submit():
        active = request.form.get("active") == "1"
        try:
            staff_service.set_active(current_user.id, user_id, active)
        except staff_service.StaffError as exc:
            db.session.rollback()
            flash(_("Not changed: %(reason)s.", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Account enabled.") if active else _("Account disabled; its sessions have ended."), "success")
    return redirect(url_for("staff.accounts"))
