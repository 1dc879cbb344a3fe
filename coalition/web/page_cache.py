"""A short-lived copy of each campaign page as anonymous visitors see it.

A campaign that goes viral is read far more than it is signed, and rendering its page
(two full forms, counts, signers, endorsements) costs tens of times what sending stored
bytes does. So each worker keeps the page it rendered, per campaign and language, and
serves it again with the two things that differ from one visitor to the next put back
in: the visitor's CSRF token and the signed time the form was shown.

Freshness:

- A commit in this process that changes what a campaign page shows (a confirmation, a
  moderation, an edit; not a new pending signature or a queued email) drops every copy
  in this process at once, so whoever made a change sees it on their next page.
- Other workers on the machine learn of it through a stamp file whose time the change
  sets; each looks at it (one ``stat``) before serving a copy, and drops copies older
  than ``PAGE_CACHE_GRACE_SECONDS``: during a rush of confirmations a worker renders a
  page at most about once per grace period, not once per confirmation.
- Whatever else may change unseen (another machine's commits, a deadline passing) shows
  within ``PAGE_CACHE_SECONDS``; a copy never outlives its campaign's closing time.

A view keeps its pages by being named with ``keep_pages(endpoint)``; a kept copy is
served by a ``before_request`` hook that runs right after the security checks, before
the rate limiter works out (for a page it never limits) which limits apply and before
the view is dispatched: that machinery cost as much as serving the copy.

Staff (signed in), a visitor with a message waiting to be shown, and any address with a
query string always get a freshly rendered page. ``PAGE_CACHE_SECONDS = 0`` turns the
cache off.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, has_app_context, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from coalition.database import NO_PUBLIC_CHANGE_OPTION
from coalition.extensions import db
from coalition.forms.antispam import form_stamp
from coalition.i18n import select_locale

#: Where the visitor's CSRF token and the form's signed start time go back in.
CSRF_MARK = "\x00csrf-token\x00"
STARTED_MARK = "\x00form-started\x00"
#: Copies kept per worker (campaigns × languages); beyond it the oldest are dropped.
MAX_ENTRIES = 256

#: Tables whose rows never show on a campaign page: writing them drops no copy.
UNSHOWN_TABLES = frozenset(
    {"outgoing_mail", "audit_entries", "staff_users", "pledges", "pledge_count_shards", "alembic_version"}
)
#: Signature columns a campaign page never shows (the confirmation-email bookkeeping).
UNSHOWN_SIGNATURE_COLUMNS = frozenset({"confirmation_sends", "last_confirmation_sent_at"})


@dataclass
class Entry:
    """One rendered page, with its visitor-specific values replaced by marks."""

    html: str
    rendered_at: float
    expires_at: float
    #: Whether the page holds a form (and so the marks to fill in).
    has_forms: bool

    def page(self) -> str:
        """The page for this visitor: a new CSRF token (in the session) and start time."""
        if not self.has_forms:
            return self.html
        return self.html.replace(CSRF_MARK, generate_csrf()).replace(STARTED_MARK, form_stamp())


class PageCache:
    """The copies one worker (one app) keeps, and how it learns they are stale."""

    def __init__(self, app: Flask) -> None:
        self.seconds = float(app.config["PAGE_CACHE_SECONDS"])
        self.grace = float(app.config["PAGE_CACHE_GRACE_SECONDS"])
        self.stamp_path = app.config["PAGE_CACHE_STAMP_FILE"] or os.path.join(app.instance_path, "public-pages.stamp")
        self.entries: dict[tuple, Entry] = {}
        self._stamp_seen = self._read_stamp()

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    # --- Serving -------------------------------------------------------------------------

    def request_key(self) -> tuple | None:
        """The key of this request's page (its endpoint, its address's values, the language),
        or None when it must be rendered afresh."""
        if not self.enabled or request.method not in ("GET", "HEAD") or request.query_string:
            return None
        if session.get("_flashes") or current_user.is_authenticated:
            return None
        # The language's code as chosen, without building Babel's Locale (a tenth of the cost
        # of serving a copy); the page itself is rendered in the same choice.
        return (request.endpoint, *(request.view_args or {}).values(), select_locale())

    def get(self, key: tuple) -> Entry | None:
        """The copy for ``key`` if it is still fresh."""
        self._notice_other_workers()
        entry = self.entries.get(key)
        if entry is None:
            return None
        if time.monotonic() >= entry.expires_at:
            self.entries.pop(key, None)
            return None
        return entry

    def put(self, key: tuple, html: str, form_started: list[str], closes_at: datetime | None) -> None:
        """Keep ``html``, rendered for this request, with its visitor-specific values marked.

        ``form_started`` holds the signed start times of the page's forms (none: no form,
        and then no CSRF token either).
        """
        marked = html
        if form_started:
            csrf_token = generate_csrf()
            for value in (csrf_token, *form_started):
                if not value or len(value) < 16:  # too short to be found only where it belongs
                    return
            marked = marked.replace(csrf_token, CSRF_MARK)
            for value in form_started:
                marked = marked.replace(value, STARTED_MARK)
        now = time.monotonic()
        expires_at = now + self.seconds
        if closes_at is not None:
            expires_at = min(expires_at, now + max(0.0, closes_at.timestamp() - time.time()))
        if len(self.entries) >= MAX_ENTRIES:
            for old in sorted(self.entries, key=lambda k: self.entries[k].rendered_at)[: MAX_ENTRIES // 4]:
                self.entries.pop(old, None)
        self.entries[key] = Entry(marked, now, expires_at, has_forms=bool(form_started))

    # --- Staleness -----------------------------------------------------------------------

    def changed(self) -> None:
        """This process committed a change a campaign page shows: drop every copy, tell the others."""
        self.entries.clear()
        if not self.enabled:
            return
        now = time.time_ns()
        try:
            with open(self.stamp_path, "a"):
                pass
            os.utime(self.stamp_path, ns=(now, now))
        except OSError:
            current_app.logger.warning("page cache: cannot write the stamp file; other workers rely on its expiry")
            return
        self._stamp_seen = self._read_stamp()

    def _read_stamp(self) -> int:
        try:
            return os.stat(self.stamp_path).st_mtime_ns
        except OSError:
            return 0

    def _notice_other_workers(self) -> None:
        stamp = self._read_stamp()
        if stamp == self._stamp_seen:
            return
        self._stamp_seen = stamp
        # Another worker changed something: copies older than the grace period go now,
        # younger ones when they reach it.
        for entry in self.entries.values():
            entry.expires_at = min(entry.expires_at, entry.rendered_at + self.grace)


#: Endpoints whose pages are kept (see ``keep_pages``).
_KEPT_ENDPOINTS: set[str] = set()


def keep_pages(endpoint: str) -> None:
    """Serve kept copies of this endpoint's pages before its view (which renders and ``put``s them)."""
    _KEPT_ENDPOINTS.add(endpoint)


def _serve_a_kept_page():
    if request.endpoint not in _KEPT_ENDPOINTS:
        return None
    cache = page_cache()
    key = cache.request_key()
    if key is None:
        return None
    entry = cache.get(key)
    return entry.page() if entry is not None else None


def init_app(app: Flask) -> None:
    """Give the app its page cache and watch the session's commits for public changes.

    Call it before ``security.init_app``, whose checks go in front of every other
    ``before_request`` function, this one's included.
    """
    app.extensions["page_cache"] = PageCache(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _serve_a_kept_page)
    _listen_once()


def page_cache() -> PageCache:
    """The current app's page cache."""
    return current_app.extensions["page_cache"]


# --- What counts as a change a campaign page shows -----------------------------------------

_CHANGED = "page_cache_changed"


def _signature_change_shows(state, new: bool, deleted: bool) -> bool:
    """Whether a signature's change shows: only confirmed signatures are counted or listed."""
    current = state.dict.get("status")
    if new:
        return current == "confirmed"
    statuses = {current, *state.attrs.status.history.deleted}
    if "confirmed" not in statuses and current is not None:
        return False  # pending (or invalidated) before and after: never shown
    if deleted:
        return True
    changed = {attr.key for attr in state.attrs if attr.history.has_changes()}
    return bool(changed - UNSHOWN_SIGNATURE_COLUMNS)


def _after_flush(session: Session, _flush_context) -> None:
    if session.info.get(_CHANGED):
        return
    from coalition.models import Signature

    for objects, new, deleted in ((session.new, True, False), (session.dirty, False, False), (session.deleted, False, True)):
        for obj in objects:
            state = inspect(obj)
            if state.mapper.local_table.name in UNSHOWN_TABLES:
                continue
            if isinstance(obj, Signature):
                if not _signature_change_shows(state, new, deleted):
                    continue
            elif not new and not deleted and not session.is_modified(obj):
                continue
            session.info[_CHANGED] = True
            return


def _on_execute(orm_execute_state) -> None:
    if not (orm_execute_state.is_update or orm_execute_state.is_delete or orm_execute_state.is_insert):
        return
    if orm_execute_state.execution_options.get(NO_PUBLIC_CHANGE_OPTION):
        return
    table = getattr(orm_execute_state.statement, "table", None)
    if table is not None and getattr(table, "name", None) in UNSHOWN_TABLES:
        return
    orm_execute_state.session.info[_CHANGED] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_CHANGED, False) and has_app_context():
        cache = current_app.extensions.get("page_cache")
        if cache is not None:
            cache.changed()


def _after_rollback(session: Session) -> None:
    session.info.pop(_CHANGED, None)


_listening = False


def _listen_once() -> None:
    global _listening
    if _listening:
        return
    event.listen(db.session, "after_flush", _after_flush)
    event.listen(db.session, "do_orm_execute", _on_execute)
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", _after_rollback)
    _listening = True
