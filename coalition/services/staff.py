"""Staff accounts: passwords (argon2id), roles, enabling and disabling.

Every function flushes and leaves the commit to its caller, so a view or a command
decides the transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, render_template
from flask_babel import force_locale

from coalition import mail
from coalition.services.texts import _
from coalition.tokens import TokenExpired, TokenInvalid, make_token, read_token
from coalition.urls import external_url

from coalition.extensions import db
from coalition.models import StaffUser
from coalition.models.staff import STAFF_ROLES
from coalition.models.types import utcnow
from coalition.services import audit_log
from coalition.services.addresses import InvalidEmail, check_email

#: Shortest password accepted.
MIN_PASSWORD_LENGTH = 12
#: Longest password accepted (hashing a huge one would be a cheap denial of service).
MAX_PASSWORD_LENGTH = 256


class StaffError(ValueError):
    """A staff-account change that the rules refuse; the message says why."""


class WeakPassword(StaffError):
    """The password is too short or too long."""


def password_hasher() -> PasswordHasher:
    """An argon2id hasher with the configured cost."""
    config = current_app.config
    return PasswordHasher(
        time_cost=int(config.get("ARGON2_TIME_COST", 3)),
        memory_cost=int(config.get("ARGON2_MEMORY_COST_KIB", 65536)),
        parallelism=int(config.get("ARGON2_PARALLELISM", 4)),
    )


def check_password_strength(password: str) -> None:
    """Raise ``WeakPassword`` unless the password's length is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(_("use at least %(n)s characters", n=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(_("use at most %(n)s characters", n=MAX_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """The argon2id hash of an acceptable password."""
    check_password_strength(password)
    return password_hasher().hash(password)


def generate_password() -> str:
    """A random password of 20 URL-safe characters, well above the minimum."""
    return secrets.token_urlsafe(15)


def normalize_staff_email(email: str) -> str:
    """The login email, checked and lower-cased; raises ``StaffError`` when it is not an email."""
    try:
        return check_email(email).lower()
    except InvalidEmail as exc:
        raise StaffError(_("not a valid email address")) from exc


def find_by_email(email: str) -> StaffUser | None:
    """The staff account with this login email, if any."""
    return db.session.execute(
        db.select(StaffUser).where(StaffUser.email == email.strip().lower())
    ).scalar_one_or_none()


#: Verified against when no account matches, so a wrong email takes as long as a wrong password.
_DUMMY_HASH_CACHE: dict[str, str] = {}


def _dummy_hash() -> str:
    hasher = password_hasher()
    key = f"{hasher.time_cost}:{hasher.memory_cost}:{hasher.parallelism}"
    if key not in _DUMMY_HASH_CACHE:
        _DUMMY_HASH_CACHE[key] = hasher.hash(secrets.token_hex(16))
    return _DUMMY_HASH_CACHE[key]


def authenticate(email: str, password: str) -> StaffUser | None:
    """The active account these credentials open, or None; upgrades an outdated hash."""
    hasher = password_hasher()
    user = find_by_email(email) if email else None
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    if user is None:
        try:
            hasher.verify(_dummy_hash(), password)
        except VerificationError:
            pass
        return None
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if not user.active:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def create_staff(
    email: str, role: str, password: str | None = None, actor_id: int | None = None
) -> tuple[StaffUser, str | None]:
    """Create an account; returns it and the generated password when none was given."""
    if role not in STAFF_ROLES:
        raise StaffError(_("the role must be admin or organizer"))
    address = normalize_staff_email(email)
    if find_by_email(address) is not None:
        raise StaffError(_("there is already a staff account with this email"))
    generated = None
    if password is None:
        password = generated = generate_password()
    user = StaffUser(email=address, role=role, password_hash=hash_password(password), active=True)
    db.session.add(user)
    db.session.flush()
    audit_log.record("staff.create", actor_id=actor_id, subject=f"staff:{user.id}", details={"role": role})
    return user, generated


def end_sessions(user: StaffUser) -> None:
    """End every session of this account, every copy of its cookie included (flushes).

    A session names the account's session version (``StaffUser.get_id``), and the user
    loader (``coalition.auth.load_staff``) compares it on every request: a new version
    makes every session made before it anonymous at its next request. Logout, a password
    change or reset, disabling and a change of role call this.
    """
    user.session_version += 1
    db.session.flush()


def set_password(user: StaffUser, new_password: str) -> None:
    """Give an account a new password and end every session it has (the change of
    password and the reset by email both come here)."""
    user.password_hash = hash_password(new_password)
    end_sessions(user)


def change_password(user: StaffUser, current_password: str, new_password: str) -> None:
    """Change one's own password after checking the current one; ends the other sessions."""
    try:
        password_hasher().verify(user.password_hash, current_password)
    except (VerificationError, InvalidHashError) as exc:
        raise StaffError(_("the current password is not correct")) from exc
    set_password(user, new_password)
    audit_log.record("staff.password", actor_id=user.id, subject=f"staff:{user.id}")


#: Password-reset links work for an hour, once.
RESET_TOKEN_PURPOSE = "staff-password-reset"
RESET_MAX_AGE_SECONDS = 3600


def _reset_stamp(user: StaffUser) -> str:
    # Changes with the password (and every session end), so a used link is worth nothing.
    return hashlib.sha256(f"{user.password_hash}:{user.session_version}".encode()).hexdigest()[:20]


def password_reset_token(user: StaffUser) -> str:
    """The signed token of a password-reset link: this account, as its password is now."""
    return make_token(RESET_TOKEN_PURPOSE, {"u": user.id, "v": _reset_stamp(user)})


def request_password_reset(email: str, language: str = "en") -> bool:
    """Queue a reset link if ``email`` is an active staff account's (the caller commits and
    wakes the sender); whether one was queued. The visitor is told the same either way."""
    user = find_by_email(email) if email else None
    if user is None or not user.active:
        return False
    link = external_url("staff.reset_password", language=language, token=password_reset_token(user))
    locale = language if language in current_app.config["LANGUAGES"] else "en"
    with force_locale(locale):
        subject = _("Reset your staff password")
        body = render_template("email/staff_password_reset.txt", link=link, minutes=RESET_MAX_AGE_SECONDS // 60)
    mail.queue_mail(user.email, subject, body, language=locale)
    audit_log.record("staff.password_reset_request", actor_id=None, subject=f"staff:{user.id}")
    return True


def account_for_reset(token: str) -> StaffUser:
    """The active account a reset link is for; raises ``StaffError`` for a link that is
    expired, used, altered, or for a disabled account."""
    try:
        payload = read_token(RESET_TOKEN_PURPOSE, token, RESET_MAX_AGE_SECONDS)
    except TokenExpired as exc:
        raise StaffError(_("this link has expired: ask for a new one")) from exc
    except TokenInvalid as exc:
        raise StaffError(_("this link is not valid: ask for a new one")) from exc
    user = db.session.get(StaffUser, payload.get("u")) if isinstance(payload, dict) and isinstance(payload.get("u"), int) else None
    if user is None or not user.active or not hmac.compare_digest(str(payload.get("v")), _reset_stamp(user)):
        raise StaffError(_("this link was already used or is not valid: ask for a new one"))
    return user


def reset_password(token: str, new_password: str) -> StaffUser:
    """Set a new password from a reset link: once, within the hour; every session of the
    account ends."""
    user = account_for_reset(token)
    set_password(user, new_password)
    audit_log.record("staff.password_reset", actor_id=user.id, subject=f"staff:{user.id}")
    return user


def _active_admins() -> int:
    return len(
        db.session.scalars(
            db.select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
        ).all()
    )


def _staff(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise StaffError(_("no such staff account"))
    return user


def set_role(actor_id: int, user_id: int, role: str) -> StaffUser:
    """Change an account's role; the last active admin keeps theirs."""
    if role not in STAFF_ROLES:
        raise StaffError(_("the role must be admin or organizer"))
    user = _staff(user_id)
    if user.role == role:
        return user
    if user.role == "admin" and user.active and _active_admins() <= 1:
        raise StaffError(_("the last active admin cannot lose the admin role"))
    previous, user.role = user.role, role
    # A new role must take effect now, not at the next login.
    end_sessions(user)
    audit_log.record(
        "staff.role", actor_id=actor_id, subject=f"staff:{user.id}", details={"from": previous, "to": role}
    )
    return user


def set_active(actor_id: int, user_id: int, active: bool) -> StaffUser:
    """Enable or disable an account; disabling ends its sessions. No one disables themselves."""
    user = _staff(user_id)
    if user.active == active:
        return user
    if not active and user.id == actor_id:
        raise StaffError(_("you cannot disable your own account"))
    if not active and user.role == "admin" and _active_admins() <= 1:
        raise StaffError(_("the last active admin cannot be disabled"))
    user.active = active
    end_sessions(user)
    audit_log.record("staff.enable" if active else "staff.disable", actor_id=actor_id, subject=f"staff:{user.id}")
    return user


def all_staff() -> list[StaffUser]:
    """Every staff account, active ones first, then by email."""
    return list(db.session.scalars(db.select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.email)))
