"""Logging in and out, one's own password, and (admins) the staff accounts."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from coalition.extensions import client_address_key, db, limiter
from coalition.forms.staff import (
    ChangePasswordForm,
    ConfirmForm,
    LoginForm,
    NewStaffForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    StaffRoleForm,
)
from coalition.i18n import current_language
from coalition.services import staff as staff_service
from coalition.web.staff import LAST_SEEN_KEY, admin_only, bp
from coalition.urls import safe_next


def _account_key() -> str:
    """Rate-limit key for the account being tried: a keyed hash of the submitted email."""
    email = (request.form.get("email") or "").strip().lower()
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(), hashlib.sha256)
    return "staff-login:" + digest.hexdigest()[:32]


def _account_and_address_key() -> str:
    """Rate-limit key for the account tried from this client address (both as keyed hashes)."""
    return f"{_account_key()}:{client_address_key()}"


def _failed(response) -> bool:
    # Only failed attempts count: a successful login redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed
)
# Failures per account and address are limited tightly, per account only loosely: an
# attacker elsewhere, guessing, locks out their own address, never the account's owner.
@limiter.limit(
    lambda: current_app.config["STAFF_LOGIN_RATE_LIMIT_ACCOUNT_ADDRESS"],
    key_func=_account_and_address_key,
    methods=["POST"],
    deduct_when=_failed,
    scope="staff-login-account-address",
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
    """End the session, and every copy of it: a cookie copied before logout no longer works."""
    if current_user.is_authenticated:
        staff_service.end_sessions(current_user._get_current_object())
        db.session.commit()
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




def _reset_account_key() -> str:
    return "staff-reset:" + _account_key().partition(":")[2]


@bp.route("/password-reset", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_PASSWORD_RESET_RATE_LIMIT_ADDRESS"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["STAFF_PASSWORD_RESET_RATE_LIMIT_ACCOUNT"],
    key_func=_reset_account_key,
    methods=["POST"],
    scope="staff-password-reset-account",
)
def forgot_password():
    """Ask for a reset link by email: the same answer whether or not the address is a staff account."""
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        staff_service.request_password_reset(form.email.data or "", current_language())
        db.session.commit()
        return render_template("staff/password_reset_sent.html")
    return render_template("staff/password_reset_request.html", form=form)




@bp.route("/password-reset/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["STAFF_PASSWORD_RESET_RATE_LIMIT_ADDRESS"], methods=["POST"])
def reset_password(token: str):
    """Choose a new password from the emailed link (once, within the hour); every session ends."""
    try:
        staff_service.account_for_reset(token)
    except staff_service.StaffError as exc:
        return render_template("staff/password_reset_invalid.html", reason=str(exc)), 404
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            staff_service.reset_password(token, form.new_password.data)
        except staff_service.StaffError as exc:
            db.session.rollback()
            return render_template("staff/password_reset_invalid.html", reason=str(exc)), 404
        db.session.commit()
        # Whoever was logged in here (or anywhere) must log in again, with the new password.
        logout_user()
        session.clear()
        flash(_("Your password is changed, and every session of your account has ended. Log in with the new password."), "success")
        return redirect(url_for("staff.login"))
    return render_template("staff/password_reset.html", form=form)


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
