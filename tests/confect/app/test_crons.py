"""Cron schedules read as cron reads them (in UTC), as Convex's backend reads its cron strings."""

import datetime as dt

import pytest

from confect import Crons, SchemaError
from confect.app.crons import CronSpec


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def runs(expression: str, start: dt.datetime, count: int) -> list[dt.datetime]:
    """The next `count` runs of `expression` after `start`."""
    spec = CronSpec.parse(expression)
    moment = start.timestamp() * 1000
    found: list[dt.datetime] = []
    for _ in range(count):
        moment = spec.next_after(moment)
        found.append(dt.datetime.fromtimestamp(moment / 1000, dt.UTC))
    return found


def test_a_restricted_day_of_month_and_day_of_week_match_either():
    # 2026-02-01 is a Sunday: the 13th (a Friday) and every Friday run
    assert runs("0 12 13 * 5", utc(2026, 2, 1), 3) == [
        utc(2026, 2, 6, 12),
        utc(2026, 2, 13, 12),
        utc(2026, 2, 20, 12),
    ]
    assert runs("0 0 1,15 * mon", utc(2026, 6, 1), 3) == [  # Monday the 1st, both at once
        utc(2026, 6, 8),
        utc(2026, 6, 15),
        utc(2026, 6, 22),
    ]


def test_a_star_in_one_day_field_leaves_the_other_alone():
    assert runs("0 0 * * 5", utc(2026, 2, 1), 2) == [utc(2026, 2, 6), utc(2026, 2, 13)]
    assert runs("0 0 13 * *", utc(2026, 2, 1), 2) == [utc(2026, 2, 13), utc(2026, 3, 13)]


def test_names_of_months_and_days_ranges_steps_and_sunday_as_seven():
    assert runs("30 9 * jan-mar mon-fri", utc(2026, 3, 31, 10), 1) == [utc(2027, 1, 1, 9, 30)]
    assert runs("0 */8 * * SUN", utc(2026, 2, 1), 4) == [
        utc(2026, 2, 1, 8),
        utc(2026, 2, 1, 16),
        utc(2026, 2, 8, 0),
        utc(2026, 2, 8, 8),
    ]
    assert runs("0 0 * * 7", utc(2026, 2, 2), 1) == [utc(2026, 2, 8)]  # a Sunday
    assert runs("10-30/10 1 * * *", utc(2026, 2, 1), 4) == [
        utc(2026, 2, 1, 1, 10),
        utc(2026, 2, 1, 1, 20),
        utc(2026, 2, 1, 1, 30),
        utc(2026, 2, 2, 1, 10),
    ]


def test_the_next_run_is_strictly_later_and_on_the_minute():
    on_a_run = utc(2026, 2, 1, 0, 5)
    assert runs("*/5 * * * *", on_a_run, 1) == [utc(2026, 2, 1, 0, 10)]
    within = on_a_run + dt.timedelta(seconds=30, milliseconds=250)
    assert runs("*/5 * * * *", within, 1) == [utc(2026, 2, 1, 0, 10)]


def test_the_helpers_run_in_utc():
    crons = Crons()
    crons.hourly("hourly", "fns:log", minute_utc=7)
    crons.daily("daily", "fns:log", hour_utc=3, minute_utc=30)
    crons.weekly("weekly", "fns:log", day_of_week=2, hour_utc=4)  # Tuesday
    crons.monthly("monthly", "fns:log", day=31, hour_utc=5)
    start = utc(2026, 4, 1).timestamp() * 1000  # a Wednesday

    def next_run(name: str) -> dt.datetime:
        return dt.datetime.fromtimestamp(crons.jobs[name].next_after(start) / 1000, dt.UTC)

    assert next_run("hourly") == utc(2026, 4, 1, 0, 7)
    assert next_run("daily") == utc(2026, 4, 1, 3, 30)
    assert next_run("weekly") == utc(2026, 4, 7, 4)
    assert next_run("monthly") == utc(2026, 5, 31, 5)  # April has no 31st


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("61 * * * *", "not a valid cron expression"),
        ("* * * foo *", "not a valid cron expression"),
        ("0 0 30 2 *", "not a valid cron expression"),  # February has no 30th: never runs
        ("* * * *", "expected 5 fields, got 4"),
        ("0 0 * * * 2030", "expected 5 fields, got 6"),
    ],
)
def test_a_bad_expression_is_refused_when_defined(expression: str, why: str):
    with pytest.raises(SchemaError, match=why):
        Crons().cron("bad", expression, "fns:log")
