"""The baseline of the signing and page benchmarks: the least a Flask app could do.

``POST /sign`` reads the form and does one INSERT into the real ``signatures`` table,
with the site's own engine settings (SQLite pragmas, BEGIN IMMEDIATE for a POST,
``pool_pre_ping`` on PostgreSQL), then answers 303, as the site does. ``GET /sign``
returns a small form with the same hidden fields, so the same load generator drives both.
``GET /page`` returns, from memory, the bytes of the real campaign page.

Settings come from the same ``COALITION_*`` variables as the site; the campaign
signed is ``BENCH_MINIMAL_CAMPAIGN_ID`` and the page file ``BENCH_PAGE_FILE``.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import datetime, timezone

from flask import Flask, Response, redirect, request
from sqlalchemy import MetaData, Table, create_engine
from sqlalchemy.exc import IntegrityError

from coalition.config import engine_options
from coalition.database import install_sqlite_tuning

app = Flask(__name__)
# The site's own engine options for this database (see coalition.config.engine_options).
engine = create_engine(
    os.environ["COALITION_DATABASE_URL"],
    **engine_options(os.environ["COALITION_DATABASE_URL"], {"pool_pre_ping": True, "hide_parameters": True}),
)
install_sqlite_tuning(engine, int(os.environ.get("COALITION_SQLITE_BUSY_TIMEOUT_MS", "15000")))
signatures = Table("signatures", MetaData(), autoload_with=engine)
CAMPAIGN_ID = int(os.environ.get("BENCH_MINIMAL_CAMPAIGN_ID", "0"))

_page_file = os.environ.get("BENCH_PAGE_FILE", "")
PAGE = open(_page_file, "rb").read() if _page_file and os.path.exists(_page_file) else b"no page"

FORM = (
    b'<!doctype html><form method="post"><input type="hidden" name="csrf_token" value="-">'
    b'<input type="hidden" name="form_started" value="-"></form>'
)


@app.get("/sign")
def sign_form():
    """The form (hidden fields only)."""
    return Response(FORM, mimetype="text/html")


@app.post("/sign")
def sign():
    """One INSERT, then 303; a repeated email is refused by the unique constraint, as on the site."""
    email = request.form["email"].strip()
    now = datetime.now(timezone.utc)
    try:
        with engine.begin() as connection:
            connection.execute(
                signatures.insert().values(
                    campaign_id=CAMPAIGN_ID,
                    status="pending",
                    source="online",
                    full_name=unicodedata.normalize("NFC", request.form["full_name"]),
                    email=email,
                    email_normalized=email.lower(),
                    zip_code=request.form.get("zip_code") or None,
                    comment="",
                    show_publicly=False,
                    wants_updates=bool(request.form.get("wants_updates")),
                    updates_consented_at=now,
                    language="en",
                    confirmation_sends=0,
                    created_at=now,
                )
            )
    except IntegrityError:
        pass
    return redirect("/sign/thanks", code=303)


@app.get("/page")
def page():
    """The real campaign page's bytes, from memory."""
    return Response(PAGE, mimetype="text/html")
