"""Email confirmation of what a supporter submitted: signatures and pledges, in one link.

One submission (a signature, a pledge, or a signature with pledges) gets one email
with one signed link naming every record it covers. The link opens a page with a
"Confirm" button (a POST), so mail scanners that open links confirm nothing.
Confirming is a conditional update per record (pending -> confirmed), so however
many times or however concurrently the link is used, each record counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import update

from coalition import mail
from coalition.extensions import db
from coalition.models import Campaign, Goal, Pledge, Signature
from coalition.models.types import utcnow
from coalition.services import counting
from coalition.tokens import link_reference, make_token, read_references, read_token, reference_matches
from coalition.urls import external_url

TOKEN_PURPOSE = "confirm-submission"
#: Confirmation links work for seven days.
TOKEN_MAX_AGE_SECONDS = 7 * 24 * 3600


@dataclass
class Submission:
    """The records one confirmation link covers."""

    signatures: list[Signature] = field(default_factory=list)
    pledges: list[Pledge] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when none of the records exists any more (erased, or never confirmed and purged)."""
        return not self.signatures and not self.pledges

    @property
    def all_confirmed(self) -> bool:
        """True when every record is already confirmed (the link was used before)."""
        return all(s.status == "confirmed" for s in self.signatures) and all(
            p.status == "confirmed" for p in self.pledges
        )


@dataclass
class ConfirmationResult:
    """What a confirmation changed."""

    signatures_confirmed: int = 0
    pledges_confirmed: int = 0
    submission: Submission = field(default_factory=Submission)


def confirmation_token(signatures: Sequence[Signature] = (), pledges: Sequence[Pledge] = ()) -> str:
    """A signed link token for these records, each named by id and link key (never reused)."""
    return _token([(s.id, s.link_key) for s in signatures], [(p.id, p.link_key) for p in pledges])


def _token(signatures: Sequence[tuple[int, str | None]], pledges: Sequence[tuple[int, str | None]]) -> str:
    return make_token(
        TOKEN_PURPOSE,
        {
            "s": [link_reference(*reference) for reference in sorted(signatures)],
            "p": [link_reference(*reference) for reference in sorted(pledges)],
        },
    )


def _references(payload: dict, key: str) -> dict[int, str | None]:
    return read_references(payload.get(key) if isinstance(payload, dict) else None)


def load_submission(token: str) -> Submission:
    """The records a token covers; raises ``TokenInvalid`` or ``TokenExpired``.

    A record whose link key is not the token's is left out: it is not the record the
    link was made for, only one given the same id after that one was deleted.
    """
    payload = read_token(TOKEN_PURPOSE, token, TOKEN_MAX_AGE_SECONDS)
    signature_refs, pledge_refs = _references(payload, "s"), _references(payload, "p")
    signatures = (
        list(
            db.session.scalars(
                db.select(Signature).where(Signature.id.in_(signature_refs)).order_by(Signature.id)
            )
        )
        if signature_refs
        else []
    )
    pledges = (
        list(db.session.scalars(db.select(Pledge).where(Pledge.id.in_(pledge_refs)).order_by(Pledge.id)))
        if pledge_refs
        else []
    )
    # Invalidated records stay invalidated: a link cannot bring them back.
    return Submission(
        signatures=[
            s for s in signatures
            if s.status != "invalidated" and reference_matches(s.link_key, signature_refs[s.id])
        ],
        pledges=[
            p for p in pledges
            if p.status != "invalidated" and reference_matches(p.link_key, pledge_refs[p.id])
        ],
    )


def confirm_submission(token: str) -> ConfirmationResult:
    """Confirm every pending record the token covers and count each once (the caller commits)."""
    submission = load_submission(token)
    result = ConfirmationResult(submission=submission)
    now = utcnow()
    for signature in submission.signatures:
        changed = db.session.execute(
            update(Signature)
            .where(Signature.id == signature.id, Signature.status == "pending")
            .values(status="confirmed", confirmed_at=now)
        ).rowcount
        if changed:
            counting.add_to_signature_count(signature.campaign_id, 1)
            result.signatures_confirmed += 1
    for pledge in submission.pledges:
        changed = db.session.execute(
            update(Pledge)
            .where(Pledge.id == pledge.id, Pledge.status == "pending")
            .values(status="confirmed", confirmed_at=now)
        ).rowcount
        if changed:
            counting.add_to_pledge_count(pledge.goal_id, 1)
            result.pledges_confirmed += 1
    for record in (*submission.signatures, *submission.pledges):
        db.session.refresh(record)
    return result


def queue_confirmation_email(
    to_address: str,
    language: str,
    signatures: list[Signature] = (),
    pledges: list[Pledge] = (),
    opt_in_token: str | None = None,
) -> None:
    """Queue the one email that confirms these records (the caller commits).

    Written in the language the supporter used on the site.
    """
    db.session.flush()
    campaigns = [db.session.get(Campaign, s.campaign_id) for s in signatures]
    name = (signatures[0].full_name if signatures else pledges[0].full_name) if (signatures or pledges) else ""
    _queue_email(to_address, language, [(s.id, s.link_key) for s in signatures], campaigns, pledges, name, opt_in_token)


def queue_signature_confirmation(
    to_address: str,
    language: str,
    signature_id: int,
    link_key: str,
    campaign: Campaign,
    full_name: str,
    pledges: list[Pledge] = (),
    opt_in_token: str | None = None,
) -> None:
    """``queue_confirmation_email`` for a signature just written, by id and link key (signing's
    common case).

    ``opt_in_token`` (an unsubscribe link's token): the supporter ticked "keep me updated"
    but their mailbox had unsubscribed, so the email offers the link to opt in again.
    """
    if pledges:
        db.session.flush()
    _queue_email(to_address, language, [(signature_id, link_key)], [campaign], pledges, full_name, opt_in_token)


def _queue_email(
    to_address: str,
    language: str,
    signatures: list[tuple[int, str | None]],
    campaigns: list[Campaign],
    pledges: list[Pledge],
    name: str,
    opt_in_token: str | None = None,
) -> None:
    token = _token(signatures, [(p.id, p.link_key) for p in pledges])
    goals = [db.session.get(Goal, p.goal_id) for p in pledges]
    locale = language if language in current_app.config["LANGUAGES"] else "en"
    link = external_url("confirm.confirm", language=locale, token=token)
    with force_locale(locale):
        if signatures and len(campaigns) == 1:
            title = (campaigns[0].title_es if locale == "es" else "") or campaigns[0].title
            subject = _("Please confirm your signature: “%(title)s”", title=title)
        elif signatures:
            subject = _("Please confirm your signature")
        else:
            subject = _("Please confirm your pledge")
        body = render_template(
            "email/confirm_submission.txt",
            name=name.split()[0] if name.split() else "",
            campaigns=campaigns,
            goal_actions=[(goal, list(pledge.actions)) for goal, pledge in zip(goals, pledges)],
            link=link,
            days=TOKEN_MAX_AGE_SECONDS // 86400,
            opt_in_link=external_url("subscriptions.unsubscribe", language=locale, token=opt_in_token)
            if opt_in_token
            else None,
        )
    mail.queue_mail(to_address, subject, body, language=locale)
