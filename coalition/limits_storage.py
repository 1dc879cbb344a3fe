"""The in-memory rate-limit storage, with its sweep of expired counters once a second.

``limits``' ``memory://`` storage starts a new thread 10 ms after every hit to sweep all
its counters for expired ones. A signature hits three counters, one of them per
mailbox, kept for a day: after a busy day a worker holds hundreds of thousands of
counters, and sweeping them all after each signature made signing slower and slower.
Expired counters are already ignored when read; the sweep only frees their memory, so
once a second is plenty. The site uses this storage wherever ``memory://`` is set.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage

#: The scheme this storage registers with ``limits`` (``memory://`` is mapped to it).
SCHEME = "coalition-memory"
#: Seconds between two sweeps of expired counters.
SWEEP_SECONDS = 1.0


class SweepingMemoryStorage(MemoryStorage):
    """``memory://`` with its expiry sweep at most once every ``SWEEP_SECONDS``."""

    STORAGE_SCHEME = [SCHEME]

    # MemoryStorage calls its private __schedule_expiry after each hit; this is that
    # method (name-mangled), replaced. Checked on limits 5.8.0 (pinned, and the newest
    # release): it still sweeps every counter after each hit. Tests check the effect, and
    # fail if a release renames the method, changes its signature or stops calling it.
    def _MemoryStorage__schedule_expiry(self) -> None:
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True
            self.timer.start()


def storage_uri(uri: str) -> str:
    """The storage URI to give Flask-Limiter: ``memory://`` becomes this storage's."""
    return f"{SCHEME}://" if uri.strip() in ("memory://", "memory:") else uri
