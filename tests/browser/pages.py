"""What the browser tests visit: the public pages by name (also the screenshot's name), and screen sizes."""

from __future__ import annotations

import tomllib
from pathlib import Path

from coalition import PROJECT_ROOT

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
#: Where screenshots (and pictures of failed tests' pages) are saved; git-ignored.
ARTIFACTS = Path(PROJECT_ROOT) / "test-artifacts"

#: The demo campaigns ``flask seed-demo`` adds: one open, one closed.
OPEN_CAMPAIGN = "alternatives-not-prison"
CLOSED_CAMPAIGN = "reentry-housing-2025"


def goal_slugs() -> list[str]:
    """The goals' slugs, in order, from the coalition's content file."""
    content_file = Path(PROJECT_ROOT) / "coalition" / "content" / "coalition.toml"
    with content_file.open("rb") as handle:
        return [goal["slug"] for goal in tomllib.load(handle)["goals"]]


#: name -> (path, expected HTTP status)
PUBLIC_PAGES: dict[str, tuple[str, int]] = {
    "home": ("/", 200),
    "campaigns": ("/campaigns", 200),
    "campaign-open": (f"/campaigns/{OPEN_CAMPAIGN}", 200),
    "campaign-closed": (f"/campaigns/{CLOSED_CAMPAIGN}", 200),
    "endorse": (f"/campaigns/{OPEN_CAMPAIGN}/endorse", 200),
    "endorsements": ("/endorsements", 200),
    **{f"goal-{slug}": (f"/goals/{slug}", 200) for slug in goal_slugs()},
    "about": ("/about", 200),
    "contact": ("/contact", 200),
    "privacy": ("/privacy", 200),
    "accessibility": ("/accessibility", 200),
    "not-found": ("/no-such-page", 404),
}
