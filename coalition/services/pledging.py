"""Pledges of support for the coalition's goals.

A pledge is pending until its owner confirms it from the emailed link (the same link
and page as a signature: ``services/confirmations.py``); only confirmed pledges count.
One pledge per goal and mailbox: the database's unique (goal, normalised email) stops
duplicates, and a duplicate never tells the visitor so. The visitor sees the same
thank-you page, and a pending pledge's confirmation is sent again, a few times at most.

``create_pending_pledges`` writes pledges for several goals without committing or
queuing mail, so that one submission (a signature with pledges) can confirm all of
them in one email; ``make_pledge`` is the goal page's whole submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from coalition.extensions import db
from coalition.models import Goal, Pledge, PledgeAction
from coalition.models.types import utcnow
from coalition.services import confirmations, counting, districts, mailbox_limit, subscriptions
from coalition.services.addresses import lookup_zip, normalize_email
from coalition.services.names import name_problem

#: How many confirmation emails one pledge may get (the first and a few re-sends).
MAX_CONFIRMATION_SENDS = 3


class PledgeError(ValueError):
    """The pledge cannot be made as given (unknown ZIP code or action); forms check first."""


@dataclass
class Supporter:
    """Who is pledging, as they typed it (the form has checked it)."""

    full_name: str
    email: str
    #: A US ZIP code, or None with ``country`` for someone outside the US.
    zip_code: str | None = None
    country: str | None = None
    language: str = "en"
    #: Keyed hash of the client address (``addresses.hash_client_address``).
    client_hash: str | None = None
    #: Ticked "keep me updated by email" (about this goal and the coalition's news).
    wants_updates: bool = False


@dataclass
class PendingPledges:
    """What ``create_pending_pledges`` found or wrote, goal by goal."""

    #: Pledges written now.
    created: list[Pledge] = field(default_factory=list)
    #: Pledges that already existed for these goals and this mailbox (any state).
    existing: list[Pledge] = field(default_factory=list)
    #: The pledges the confirmation email should cover: the new ones, and existing
    #: pending ones that have not had their share of re-sends.
    to_confirm: list[Pledge] = field(default_factory=list)


def get_goal(slug: str) -> Goal | None:
    """The goal with this slug, or None."""
    return db.session.execute(db.select(Goal).where(Goal.slug == slug)).scalar_one_or_none()


def offered_actions(goal: Goal) -> list[PledgeAction]:
    """The actions a supporter may pledge for this goal now (retired ones are not offered)."""
    return [action for action in goal.actions if action.active]


def pledge_counts(goal_ids: list[int]) -> dict[int, int]:
    """Confirmed pledges per goal (from the counters, never by counting rows)."""
    return counting.pledge_counts(goal_ids)


def _chosen_actions(goal: Goal, action_keys: Sequence[str]) -> list[PledgeAction]:
    offered = {action.key: action for action in offered_actions(goal)}
    unknown = [key for key in action_keys if key not in offered]
    if unknown:
        raise PledgeError(f"goal {goal.slug!r} offers no action {unknown[0]!r}")
    return [offered[key] for key in dict.fromkeys(action_keys)]


def _existing_pledge(goal_id: int, email_normalized: str) -> Pledge | None:
    stmt = db.select(Pledge).where(Pledge.goal_id == goal_id, Pledge.email_normalized == email_normalized)
    return db.session.execute(stmt).scalar_one_or_none()


def _place_fields(supporter: Supporter) -> dict:
    if supporter.zip_code:
        place = lookup_zip(supporter.zip_code)
        if place is None:
            raise PledgeError("unknown ZIP code")
        return {
            "zip_code": place.zip_code,
            "city": place.city,
            "county": place.county,
            "state": place.state,
            **districts.place_zip(place.zip_code, place.state).values(),
        }
    if not (supporter.country or "").strip():
        raise PledgeError("a ZIP code or a country is needed")
    return {"country": supporter.country.strip()[:100]}


def first_action(goal: Goal):
    """The goal's first action still offered: what a pledge made on the sign form records."""
    offered = sorted((action for action in goal.actions if action.active), key=lambda action: (action.position, action.id))
    return offered[0] if offered else None


def create_pending_pledges(
    goal_actions: Sequence[tuple[Goal, Sequence[str]]],
    supporter: Supporter,
    message: str = "",
    signature_id: int | None = None,
) -> PendingPledges:
    """Write a pending pledge for each goal (with the chosen action keys); no commit, no mail.

    Where this mailbox already pledged for a goal, nothing is written for it: the
    existing pledge is returned instead, and put in ``to_confirm`` if it is still
    pending and may have its confirmation sent again. The caller queues the email
    for ``to_confirm`` (``confirmations.queue_confirmation_email``), calls
    ``note_confirmation_sent`` and commits. Raises ``PledgeError`` for an unknown
    ZIP code or action key.
    """
    if name_problem(supporter.full_name):
        raise PledgeError("the name holds a link, a line break or invisible characters")
    email_normalized = normalize_email(supporter.email)
    place = _place_fields(supporter)
    result = PendingPledges()
    for goal, action_keys in goal_actions:
        actions = _chosen_actions(goal, action_keys)
        existing = _existing_pledge(goal.id, email_normalized)
        if existing is None:
            pledge = Pledge(
                goal_id=goal.id,
                status="pending",
                full_name=supporter.full_name.strip()[:200],
                email=supporter.email,
                email_normalized=email_normalized,
                message=(message or "").strip(),
                language=supporter.language,
                client_hash=supporter.client_hash,
                signature_id=signature_id,
                actions=actions,
                **place,
                # A mailbox that unsubscribed is not signed up again by the tick alone.
                **subscriptions.consent_values(supporter.wants_updates, email_normalized),
            )
            try:
                # A savepoint, so that losing a race with the same mailbox's other
                # submission undoes only this insert.
                with db.session.begin_nested():
                    db.session.add(pledge)
                    db.session.flush()
            except IntegrityError:
                existing = _existing_pledge(goal.id, email_normalized)
                if existing is None:
                    raise
            else:
                result.created.append(pledge)
                result.to_confirm.append(pledge)
                continue
        result.existing.append(existing)
        if existing.status == "pending" and existing.confirmation_sends < MAX_CONFIRMATION_SENDS:
            result.to_confirm.append(existing)
    return result


def note_confirmation_sent(pledges: Sequence[Pledge]) -> None:
    """Record that a confirmation email covering these pledges was queued."""
    now = utcnow()
    for pledge in pledges:
        pledge.confirmation_sends = (pledge.confirmation_sends or 0) + 1
        pledge.last_confirmation_sent_at = now


def make_pledge(
    goal: Goal, action_keys: Sequence[str], supporter: Supporter, message: str = ""
) -> PendingPledges:
    """Pledge for one goal: write it pending and queue its confirmation email (the caller commits).

    A duplicate (same goal and mailbox) writes nothing and only re-sends a pending
    pledge's confirmation, a few times at most; the caller shows the same thank-you
    page either way.
    """
    result = create_pending_pledges([(goal, action_keys)], supporter, message=message)
    # Every email a visitor causes counts against the one limit per mailbox.
    emailed = bool(result.to_confirm) and mailbox_limit.take_allowance(supporter.email, "pledge confirmation")
    if emailed:
        opt_in = None
        refused_tick = [p for p in result.created if supporter.wants_updates and not p.wants_updates]
        if refused_tick:
            # The tick of a mailbox that unsubscribed: the email offers to opt in again.
            opt_in = subscriptions.unsubscribe_token("p", refused_tick[0].id, refused_tick[0].email_normalized)
        confirmations.queue_confirmation_email(
            supporter.email, supporter.language, pledges=result.to_confirm, opt_in_token=opt_in
        )
        note_confirmation_sent(result.to_confirm)
    return result


def purge_unconfirmed(older_than: timedelta) -> int:
    """Delete pledges still pending after ``older_than``; return how many (the caller commits)."""
    cutoff = utcnow() - older_than
    removed = db.session.execute(
        delete(Pledge)
        .where(Pledge.status == "pending", Pledge.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    return int(removed or 0)
