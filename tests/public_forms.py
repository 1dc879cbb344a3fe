"""Shared by the bad-input and attack tests: valid public form data, the site's routes, and
a snapshot of the whole database to prove that a refused request wrote nothing."""

from __future__ import annotations

import os
import re
import time

import sqlalchemy as sa
from flask import Flask, current_app

from coalition.extensions import db
from coalition.tokens import make_token

GOAL = "alternatives-to-incarceration"


def form_started(seconds_ago: int = 60) -> str:
    """A valid signed time stamp for the anti-spam check."""
    return make_token("form-time", int(time.time()) - seconds_ago)


def sign_data(**overrides) -> dict:
    """A valid sign form; an override of None leaves that field out."""
    data = {
        "full_name": "Rosa Martínez",
        "email": "rosa@example.org",
        "zip_code": "10027",
        "country": "",
        "comment": "",
        "homepage": "",
        "form_started": form_started(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def pledge_data(**overrides) -> dict:
    """A valid pledge form for ``GOAL``."""
    data = {
        "full_name": "Rosa Parks",
        "email": "rosa.parks@example.org",
        "zip_code": "10027",
        "country": "",
        "actions": ["contact-legislators"],
        "message": "Count me in.",
        "homepage": "",
        "form_started": form_started(),
    }
    data.update(overrides)
    return data


def endorse_data(**overrides) -> dict:
    """A valid endorsement form."""
    data = {
        "organization_name": "Women in Prison Project",
        "website": "https://www.wipp.example.org",
        "org_type": "advocacy-group",
        "locality": "New York County",
        "contact_name": "Tamar Kraft",
        "contact_role": "Director",
        "contact_email": "director@wipp.example.org",
        "contact_phone": "212-254-5700",
        "statement": "We stand with women in prison and their families.",
        "authorized": "y",
        "public_consent": "y",
        "homepage": "",
        "form_started": form_started(),
    }
    data.update(overrides)
    return data


def outbox_texts() -> list[str]:
    """Every message written to the development outbox so far (tests send inline), oldest first."""
    folder = current_app.config["OUTBOX_DIR"]
    if not os.path.isdir(folder):
        return []
    paths = sorted((os.path.join(folder, name) for name in os.listdir(folder)), key=os.path.getmtime)
    texts = []
    for path in paths:
        with open(path, "rb") as handle:
            texts.append(handle.read().decode("utf-8", "replace"))
    return texts


def _unfold(text: str) -> str:
    # Quoted-printable soft line breaks and encoded "=" in long links.
    return text.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=")


def last_link(path_prefix: str, to: str | None = None) -> str:
    """The path of the newest emailed link that starts with ``path_prefix`` (e.g. "/confirm/"),
    in mail to ``to`` if given."""
    for text in reversed(outbox_texts()):
        if to is not None and not re.search(r"(?mi)^To: .*" + re.escape(to), text):
            continue
        found = re.findall(r"https?://[^/\s]+(" + re.escape(path_prefix) + r"[^\s\"<>]+)", _unfold(text))
        if found:
            return found[-1]
    raise AssertionError(f"no emailed link to {path_prefix}")


def database_snapshot() -> dict:
    """Every row of every table, to compare before and after a request."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        snapshot[table.name] = sorted((tuple(row) for row in rows), key=repr)
    db.session.rollback()
    return snapshot


def post_rules(app: Flask) -> list:
    """Every URL rule that accepts POST, in a stable order."""
    return sorted((rule for rule in app.url_map.iter_rules() if "POST" in rule.methods), key=lambda r: r.rule)


def staff_rules(app: Flask) -> list:
    """The staff area's rules (none until it exists)."""
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("staff.") or rule.rule.startswith("/staff")]


def build_path(rule, values: dict) -> str:
    """The path of ``rule`` with its arguments filled from ``values`` (by endpoint, then by name),
    using 1 for any other integer argument and "x" for any other text."""
    filled = {}
    for name in rule.arguments:
        key = f"{rule.endpoint}:{name}"
        if key in values:
            filled[name] = values[key]
        elif name in values:
            filled[name] = values[name]
        elif type(rule._converters[name]).__name__ == "IntegerConverter":
            filled[name] = 1
        else:
            filled[name] = "x"
    with current_app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **filled)
