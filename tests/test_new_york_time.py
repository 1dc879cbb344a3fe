"""Staff pages in New York time, and the dashboard's days as New York days."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from coalition.services import dashboard
from coalition.templating import staff_time

UTC = timezone.utc


def test_staff_times_are_new_york_times_with_the_zone_named(app):
    with app.test_request_context("/staff/"):
        assert staff_time(datetime(2027, 1, 15, 14, 5, tzinfo=UTC)) == "Jan 15, 2027, 9:05:00\u202fAM EST"
        assert staff_time(datetime(2027, 7, 4, 3, 30, tzinfo=UTC)) == "Jul 3, 2027, 11:30:00\u202fPM EDT"
        assert staff_time(None) == ""


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        # Winter (EST, UTC-5): New York's midnight is 05:00 UTC.
        (datetime(2026, 3, 7, 4, 59, 59, tzinfo=UTC), date(2026, 3, 6)),
        (datetime(2026, 3, 7, 5, 0, 0, tzinfo=UTC), date(2026, 3, 7)),
        # The clocks go forward on March 8: from the 9th, midnight is 04:00 UTC.
        (datetime(2026, 3, 9, 3, 59, 59, tzinfo=UTC), date(2026, 3, 8)),
        (datetime(2026, 3, 9, 4, 0, 0, tzinfo=UTC), date(2026, 3, 9)),
    ],
)
def test_a_signature_counts_on_its_new_york_day(app, make_campaign, make_signature_row, moment, day):
    campaign = make_campaign()
    make_signature_row(campaign, confirmed_at=moment)
    per_day = dict(dashboard.signatures_per_day(campaign.id, days=5, today=date(2026, 3, 10)))
    assert per_day == {d: int(d == day) for d in (date(2026, 3, 6) + timedelta(days=n) for n in range(5))}


def test_today_begins_at_new_yorks_midnight(app):
    with app.app_context():
        assert dashboard.local_today(datetime(2026, 12, 2, 4, 59, tzinfo=UTC)) == date(2026, 12, 1)
        assert dashboard.local_today(datetime(2026, 12, 2, 5, 0, tzinfo=UTC)) == date(2026, 12, 2)
        assert dashboard.start_of_local_day(date(2026, 12, 2)) == datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
        assert dashboard.start_of_local_day(date(2026, 7, 4)) == datetime(2026, 7, 4, 4, 0, tzinfo=UTC)
