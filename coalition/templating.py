"""Template filters: plain text into paragraphs, numbers and dates in the reader's language."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal
from flask import Flask, current_app
from flask_babel import format_date, format_datetime, get_locale, ngettext
from markupsafe import Markup, escape

from coalition.formatting import render_campaign_body
from coalition.i18n import current_language
from coalition.models.types import utcnow
from coalition.services.campaigns import next_milestone
from coalition.urls import mailto_link, tel_link

_BLANK_LINE = re.compile(r"\n\s*\n")


def paragraphs(text: str | None) -> Markup:
    """Plain text with blank lines between paragraphs, as escaped ``<p>`` elements."""
    if not text:
        return Markup("")
    parts = [part.strip() for part in _BLANK_LINE.split(text.replace("\r\n", "\n")) if part.strip()]
    return Markup("\n").join(Markup("<p>{}</p>").format(escape(part)) for part in parts)


def number(value: int | None) -> str:
    """A count with the reader's thousands separator, as es-US writes it in Spanish ("2,500")."""
    return format_decimal(value or 0, locale=_number_locale())


def _number_locale() -> str:
    # Spanish in New York writes numbers the American way, not Spain's "2.500".
    return "es_US" if current_language() == "es" else "en_US"


def percent(part: int, whole: int) -> str:
    """``part`` as a share of ``whole``: one decimal below 1% ("0.7%"), whole numbers above."""
    if not whole:
        return format_decimal(0, locale=_number_locale()) + "%"
    share = 100 * part / whole
    pattern = "0.0" if 0 < share < 1 else "#,##0"
    return format_decimal(share, format=pattern, locale=_number_locale()) + "%"


def long_date(value: datetime | None) -> str:
    """A date such as "March 4, 2027" in the reader's language."""
    return format_date(value, format="long") if value else ""


def date_time(value: datetime | None) -> str:
    """A date and time in the reader's language."""
    return format_datetime(value, format="medium") if value else ""


def staff_time(value: datetime | None) -> str:
    """A date and time in the coalition's zone, with the zone named ("Mar 4, 2027, 9:05:00 AM EST")."""
    if not value:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["TIME_ZONE"]))
    return f"{babel_format_datetime(local, format='medium', tzinfo=local.tzinfo, locale=get_locale())} {local.strftime('%Z')}"


def time_left(deadline: datetime | None, now: datetime | None = None) -> str:
    """How long until ``deadline``, in words ("3 days left")."""
    if deadline is None:
        return ""
    seconds = (deadline - (now or utcnow())).total_seconds()
    if seconds <= 0:
        return ""
    days = int(seconds // 86400)
    if days >= 1:
        return ngettext("%(num)d day left", "%(num)d days left", days)
    hours = int(seconds // 3600)
    if hours >= 1:
        return ngettext("%(num)d hour left", "%(num)d hours left", hours)
    return ngettext("%(num)d minute left", "%(num)d minutes left", max(1, int(seconds // 60)))


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.jinja_env.filters.update(
        paragraphs=paragraphs,
        number=number,
        percent=percent,
        milestone=next_milestone,
        long_date=long_date,
        date_time=date_time,
        staff_time=staff_time,
        time_left=time_left,
        campaign_body=render_campaign_body,
        tel_link=tel_link,
    )
    app.jinja_env.globals.update(mailto_link=mailto_link)
