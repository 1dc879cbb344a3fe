"""Loading the coalition's content file into the database, and reading it back."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from coalition.extensions import db
from coalition.models import Belief, ContentBlock, Goal, PledgeAction


class ContentFileError(ValueError):
    """The content file is missing, not TOML, or lacks a required entry."""


@dataclass
class LoadReport:
    """What a load changed."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(self.added or self.updated)


def read_content_file(path: str | Path) -> dict:
    """Parse and check the content file; raise ``ContentFileError`` with a clear reason."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ContentFileError(f"content file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ContentFileError(f"content file {path} is not valid TOML: {exc}") from exc
    goals = data.get("goals") or []
    if not goals:
        raise ContentFileError("content file has no [[goals]]")
    slugs = [goal.get("slug") for goal in goals]
    if any(not slug for slug in slugs) or len(set(slugs)) != len(slugs):
        raise ContentFileError("every goal needs a slug, and slugs must be unique")
    for goal in goals:
        for required in ("title", "summary"):
            if not goal.get(required):
                raise ContentFileError(f"goal {goal['slug']!r} has no {required}")
    return data


def _assign(obj, values: dict, overwrite: bool, report: LoadReport, label: str) -> None:
    """Set attributes on a new object, or on an existing one when overwriting."""
    is_new = obj.id is None
    if not is_new and not overwrite:
        report.unchanged += 1
        return
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if is_new:
        report.added.append(label)
    elif changed:
        report.updated.append(label)
    else:
        report.unchanged += 1


def load_content(path: str | Path, overwrite: bool = False) -> LoadReport:
    """Load the content file: add what is missing; with ``overwrite``, replace changed text.

    Without ``overwrite``, text staff edited on the site is left alone. Loading the
    same file twice changes nothing. The caller commits.
    """
    data = read_content_file(path)
    report = LoadReport()

    for key, block in (data.get("blocks") or {}).items():
        obj = db.session.execute(db.select(ContentBlock).filter_by(key=key)).scalar_one_or_none()
        if obj is None:
            obj = ContentBlock(key=key)
            db.session.add(obj)
        values = {
            "title": block.get("title", ""),
            "body": block.get("body", "").strip(),
            "title_es": block.get("title_es", ""),
            "body_es": block.get("body_es", "").strip(),
        }
        _assign(obj, values, overwrite, report, f"block {key}")

    for position, item in enumerate(data.get("beliefs") or []):
        obj = db.session.execute(db.select(Belief).filter_by(key=item["key"])).scalar_one_or_none()
        if obj is None:
            obj = Belief(key=item["key"])
            db.session.add(obj)
        values = {"position": position, "text": item["text"].strip(), "text_es": item.get("text_es", "").strip()}
        _assign(obj, values, overwrite, report, f"belief {item['key']}")

    for position, item in enumerate(data["goals"]):
        goal = db.session.execute(db.select(Goal).filter_by(slug=item["slug"])).scalar_one_or_none()
        if goal is None:
            goal = Goal(slug=item["slug"])
            db.session.add(goal)
        values = {
            "position": position,
            "title": item["title"].strip(),
            "summary": item["summary"].strip(),
            "body": item.get("body", "").strip(),
            "title_es": item.get("title_es", "").strip(),
            "summary_es": item.get("summary_es", "").strip(),
            "body_es": item.get("body_es", "").strip(),
        }
        _assign(goal, values, overwrite, report, f"goal {item['slug']}")
        db.session.flush()
        existing = {action.key: action for action in goal.actions}
        for action_position, action_item in enumerate(item.get("actions") or []):
            action = existing.get(action_item["key"])
            if action is None:
                action = PledgeAction(key=action_item["key"], goal=goal)
                db.session.add(action)
            values = {
                "position": action_position,
                "label": action_item["label"],
                "label_es": action_item.get("label_es", ""),
            }
            _assign(action, values, overwrite, report, f"action {item['slug']}/{action_item['key']}")
    db.session.flush()
    return report


def goals_in_order() -> list[Goal]:
    """The goals, in the order the coalition lists them."""
    return list(db.session.execute(db.select(Goal).order_by(Goal.position, Goal.id)).scalars())


def beliefs_in_order() -> list[Belief]:
    """The beliefs, in order."""
    return list(db.session.execute(db.select(Belief).order_by(Belief.position, Belief.id)).scalars())


def content_blocks() -> dict[str, ContentBlock]:
    """Every content block by key."""
    return {block.key: block for block in db.session.execute(db.select(ContentBlock)).scalars()}
