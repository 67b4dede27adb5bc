"""Cron schedules: syntax, errors, and fire times across both DST nights in two time zones.

2026 transitions used below (UTC):
  Europe/Berlin     spring 03-29 01:00 (02:00 CET -> 03:00 CEST), fall 10-25 01:00 (03:00 CEST -> 02:00 CET)
  America/New_York  spring 03-08 07:00 (02:00 EST -> 03:00 EDT), fall 11-01 06:00 (02:00 EDT -> 01:00 EST)
"""

from __future__ import annotations

import bisect
import datetime
import itertools
import random
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from jobext.errors import Invalid
from jobext.schedules.cron import CronSchedule

UTC = datetime.timezone.utc
BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"
MINUTE = datetime.timedelta(minutes=1)
SECOND = datetime.timedelta(seconds=1)


def utc(text: str) -> datetime.datetime:
    """``"2026-03-29 01:00"`` (seconds optional) as an aware UTC datetime."""
    return datetime.datetime.fromisoformat(text).replace(tzinfo=UTC)


def local(
    zone: str, *date: int, hour: int, minute: int, second: int = 0, fold: int = 0
) -> datetime.datetime:
    """An aware wall-clock time in ``zone``; ``fold=1`` picks the second of a repeated time."""
    year, month, day = date
    return datetime.datetime(
        year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold
    )


def fires(expression: str, zone: str, start: str, end: str) -> list[datetime.datetime]:
    return CronSchedule.parse(expression, zone).fires_between(utc(start), utc(end), 1000)


# --- both DST nights, fixed hours: once a night, never zero times, never twice ---------------

BERLIN_SPRING = ("2026-03-28 20:00", "2026-03-29 06:00")  # 21:00 CET .. 08:00 CEST
BERLIN_FALL = ("2026-10-24 20:00", "2026-10-25 06:00")  # 22:00 CEST .. 07:00 CET
NEW_YORK_SPRING = ("2026-03-08 02:00", "2026-03-08 12:00")  # 21:00 EST .. 08:00 EDT
NEW_YORK_FALL = ("2026-11-01 02:00", "2026-11-01 12:00")  # 22:00 EDT .. 07:00 EST


@pytest.mark.parametrize(
    ("expression", "zone", "night", "expected"),
    [
        # Berlin spring: 02:00-02:59 does not exist; a time in it fires at 03:00 CEST.
        ("30 2 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 01:00"]),
        ("0 2 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 01:00"]),
        ("30 1 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 00:30"]),
        ("@daily", BERLIN, BERLIN_SPRING, ["2026-03-28 23:00"]),
        # 01:00 CET, then 02:00 (skipped) and 03:00 CEST are the same instant: one fire.
        ("0 1-3 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 00:00", "2026-03-29 01:00"]),
        ("0,30 2 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 01:00"]),
        # Berlin fall: 02:00-02:59 comes twice; a fixed hour fires in the first (CEST) copy.
        ("30 2 * * *", BERLIN, BERLIN_FALL, ["2026-10-25 00:30"]),
        ("0 2 * * *", BERLIN, BERLIN_FALL, ["2026-10-25 00:00"]),
        ("30 1 * * *", BERLIN, BERLIN_FALL, ["2026-10-24 23:30"]),
        ("@daily", BERLIN, BERLIN_FALL, ["2026-10-24 22:00"]),
        (
            "0 1-3 * * *",
            BERLIN,
            BERLIN_FALL,
            ["2026-10-24 23:00", "2026-10-25 00:00", "2026-10-25 02:00"],
        ),
        # New York spring: 02:00-02:59 does not exist; a time in it fires at 03:00 EDT.
        ("30 2 * * *", NEW_YORK, NEW_YORK_SPRING, ["2026-03-08 07:00"]),
        ("0 2 * * *", NEW_YORK, NEW_YORK_SPRING, ["2026-03-08 07:00"]),
        ("30 1 * * *", NEW_YORK, NEW_YORK_SPRING, ["2026-03-08 06:30"]),
        ("@daily", NEW_YORK, NEW_YORK_SPRING, ["2026-03-08 05:00"]),
        ("0 1-3 * * *", NEW_YORK, NEW_YORK_SPRING, ["2026-03-08 06:00", "2026-03-08 07:00"]),
        # New York fall: 01:00-01:59 comes twice; 02:00 is already EST.
        ("30 2 * * *", NEW_YORK, NEW_YORK_FALL, ["2026-11-01 07:30"]),
        ("0 2 * * *", NEW_YORK, NEW_YORK_FALL, ["2026-11-01 07:00"]),
        ("30 1 * * *", NEW_YORK, NEW_YORK_FALL, ["2026-11-01 05:30"]),
        ("@daily", NEW_YORK, NEW_YORK_FALL, ["2026-11-01 04:00"]),
        (
            "0 1-3 * * *",
            NEW_YORK,
            NEW_YORK_FALL,
            ["2026-11-01 05:00", "2026-11-01 07:00", "2026-11-01 08:00"],
        ),
    ],
)
def test_fixed_hour_fires_once_across_a_dst_night(
    expression: str, zone: str, night: tuple[str, str], expected: list[str]
) -> None:
    assert fires(expression, zone, *night) == [utc(text) for text in expected]


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # The day before, the short day, the day after: the short day fires exactly once.
        (
            "30 2 * * *",
            BERLIN,
            "2026-03-28 00:00",
            ["2026-03-28 01:30", "2026-03-29 01:00", "2026-03-30 00:30"],
        ),
        (
            "30 2 * * *",
            BERLIN,
            "2026-10-24 00:00",
            ["2026-10-24 00:30", "2026-10-25 00:30", "2026-10-26 01:30"],
        ),
        (
            "30 1 * * *",
            NEW_YORK,
            "2026-10-31 00:00",
            ["2026-10-31 05:30", "2026-11-01 05:30", "2026-11-02 06:30"],
        ),
        (
            "30 2 * * *",
            NEW_YORK,
            "2026-03-07 00:00",
            ["2026-03-07 07:30", "2026-03-08 07:00", "2026-03-09 06:30"],
        ),
    ],
)
def test_fixed_hour_fires_once_a_day_around_the_night(
    expression: str, zone: str, after: str, expected: list[str]
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    assert schedule.fire_times(utc(after), 3) == [utc(text) for text in expected]


# --- both DST nights, wildcard hours: the real clock -----------------------------------------


@pytest.mark.parametrize(
    ("expression", "zone", "window", "expected"),
    [
        # Every real hour; in spring there is no 02:00 local, in fall there are two.
        (
            "0 * * * *",
            BERLIN,
            ("2026-03-28 22:30", "2026-03-29 03:30"),
            # 00:00 CET, 01:00 CET, 03:00 CEST, 04:00 CEST, 05:00 CEST
            [
                "2026-03-28 23:00",
                "2026-03-29 00:00",
                "2026-03-29 01:00",
                "2026-03-29 02:00",
                "2026-03-29 03:00",
            ],
        ),
        (
            "0 * * * *",
            BERLIN,
            ("2026-10-24 22:30", "2026-10-25 03:30"),
            # 01:00 CEST, 02:00 CEST, 02:00 CET, 03:00 CET, 04:00 CET
            [
                "2026-10-24 23:00",
                "2026-10-25 00:00",
                "2026-10-25 01:00",
                "2026-10-25 02:00",
                "2026-10-25 03:00",
            ],
        ),
        (
            "0 * * * *",
            NEW_YORK,
            ("2026-03-08 04:30", "2026-03-08 09:30"),
            # 00:00 EST, 01:00 EST, 03:00 EDT, 04:00 EDT, 05:00 EDT
            [
                "2026-03-08 05:00",
                "2026-03-08 06:00",
                "2026-03-08 07:00",
                "2026-03-08 08:00",
                "2026-03-08 09:00",
            ],
        ),
        (
            "0 * * * *",
            NEW_YORK,
            ("2026-11-01 03:30", "2026-11-01 08:30"),
            # 00:00 EDT, 01:00 EDT, 01:00 EST, 02:00 EST, 03:00 EST
            [
                "2026-11-01 04:00",
                "2026-11-01 05:00",
                "2026-11-01 06:00",
                "2026-11-01 07:00",
                "2026-11-01 08:00",
            ],
        ),
        (
            "*/30 * * * *",
            BERLIN,
            ("2026-03-28 23:45", "2026-03-29 02:15"),
            # 01:00 CET, 01:30 CET, 03:00 CEST, 03:30 CEST, 04:00 CEST
            [
                "2026-03-29 00:00",
                "2026-03-29 00:30",
                "2026-03-29 01:00",
                "2026-03-29 01:30",
                "2026-03-29 02:00",
            ],
        ),
        (
            "*/30 * * * *",
            BERLIN,
            ("2026-10-24 23:45", "2026-10-25 02:15"),
            # 02:00 CEST, 02:30 CEST, 02:00 CET, 02:30 CET, 03:00 CET
            [
                "2026-10-25 00:00",
                "2026-10-25 00:30",
                "2026-10-25 01:00",
                "2026-10-25 01:30",
                "2026-10-25 02:00",
            ],
        ),
        (
            "*/30 * * * *",
            NEW_YORK,
            ("2026-03-08 05:45", "2026-03-08 08:15"),
            # 01:00 EST, 01:30 EST, 03:00 EDT, 03:30 EDT, 04:00 EDT
            [
                "2026-03-08 06:00",
                "2026-03-08 06:30",
                "2026-03-08 07:00",
                "2026-03-08 07:30",
                "2026-03-08 08:00",
            ],
        ),
        (
            "*/30 * * * *",
            NEW_YORK,
            ("2026-11-01 04:45", "2026-11-01 07:15"),
            # 01:00 EDT, 01:30 EDT, 01:00 EST, 01:30 EST, 02:00 EST
            [
                "2026-11-01 05:00",
                "2026-11-01 05:30",
                "2026-11-01 06:00",
                "2026-11-01 06:30",
                "2026-11-01 07:00",
            ],
        ),
        # A wall time skipped by the jump does not happen for a wildcard hour: 02:30 CET is
        # not made up at 03:00 CEST, so the fires stay one real hour apart.
        (
            "30 * * * *",
            BERLIN,
            ("2026-03-28 23:45", "2026-03-29 02:45"),
            ["2026-03-29 00:30", "2026-03-29 01:30", "2026-03-29 02:30"],
        ),
        # Every second, straight through each jump.
        (
            "* * * * * *",
            BERLIN,
            ("2026-03-29 00:59:57", "2026-03-29 01:00:02"),
            # 01:59:58 CET, 01:59:59 CET, 03:00:00 CEST, 03:00:01, 03:00:02
            [
                "2026-03-29 00:59:58",
                "2026-03-29 00:59:59",
                "2026-03-29 01:00:00",
                "2026-03-29 01:00:01",
                "2026-03-29 01:00:02",
            ],
        ),
        (
            "* * * * * *",
            BERLIN,
            ("2026-10-25 00:59:57", "2026-10-25 01:00:02"),
            # 02:59:58 CEST, 02:59:59 CEST, 02:00:00 CET, 02:00:01 CET, 02:00:02 CET
            [
                "2026-10-25 00:59:58",
                "2026-10-25 00:59:59",
                "2026-10-25 01:00:00",
                "2026-10-25 01:00:01",
                "2026-10-25 01:00:02",
            ],
        ),
        (
            "* * * * * *",
            NEW_YORK,
            ("2026-03-08 06:59:57", "2026-03-08 07:00:02"),
            [
                "2026-03-08 06:59:58",
                "2026-03-08 06:59:59",
                "2026-03-08 07:00:00",
                "2026-03-08 07:00:01",
                "2026-03-08 07:00:02",
            ],
        ),
        (
            "* * * * * *",
            NEW_YORK,
            ("2026-11-01 05:59:57", "2026-11-01 06:00:02"),
            [
                "2026-11-01 05:59:58",
                "2026-11-01 05:59:59",
                "2026-11-01 06:00:00",
                "2026-11-01 06:00:01",
                "2026-11-01 06:00:02",
            ],
        ),
    ],
)
def test_wildcard_hour_follows_the_real_clock_across_a_dst_night(
    expression: str, zone: str, window: tuple[str, str], expected: list[str]
) -> None:
    assert fires(expression, zone, *window) == [utc(text) for text in expected]


# --- next_after at and inside the transitions ------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        # Inside the Berlin gap. zoneinfo reads 02:15 with fold=0 by the old offset (01:15 UTC,
        # after the 03:00 CEST fire) and with fold=1 by the new one (00:15 UTC, before it).
        ("30 2 * * *", BERLIN, local(BERLIN, 2026, 3, 29, hour=2, minute=15), "2026-03-30 00:30"),
        (
            "30 2 * * *",
            BERLIN,
            local(BERLIN, 2026, 3, 29, hour=2, minute=15, fold=1),
            "2026-03-29 01:00",
        ),
        ("30 2 * * *", BERLIN, utc("2026-03-29 00:59:59"), "2026-03-29 01:00"),
        ("30 2 * * *", BERLIN, utc("2026-03-29 01:00"), "2026-03-30 00:30"),
        ("0 * * * *", BERLIN, local(BERLIN, 2026, 3, 29, hour=2, minute=15), "2026-03-29 02:00"),
        ("0 * * * *", BERLIN, utc("2026-03-29 00:00"), "2026-03-29 01:00"),
        # Inside the Berlin repeated hour 02:00-02:59.
        ("30 2 * * *", BERLIN, local(BERLIN, 2026, 10, 25, hour=2, minute=15), "2026-10-25 00:30"),
        ("30 2 * * *", BERLIN, local(BERLIN, 2026, 10, 25, hour=2, minute=45), "2026-10-26 01:30"),
        (
            "30 2 * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=15, fold=1),
            "2026-10-26 01:30",
        ),
        ("30 2 * * *", BERLIN, utc("2026-10-25 00:30"), "2026-10-26 01:30"),
        ("0 * * * *", BERLIN, local(BERLIN, 2026, 10, 25, hour=2, minute=30), "2026-10-25 01:00"),
        (
            "0 * * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=30, fold=1),
            "2026-10-25 02:00",
        ),
        ("0 * * * *", BERLIN, utc("2026-10-25 00:00"), "2026-10-25 01:00"),
        ("0 * * * *", BERLIN, utc("2026-10-25 01:00"), "2026-10-25 02:00"),
        (
            "*/30 * * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=45),
            "2026-10-25 01:00",
        ),
        (
            "*/30 * * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=59, second=59),
            "2026-10-25 01:00",
        ),
        (
            "* * * * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=30),
            "2026-10-25 00:30:01",
        ),
        (
            "* * * * * *",
            BERLIN,
            local(BERLIN, 2026, 10, 25, hour=2, minute=59, second=59),
            "2026-10-25 01:00:00",
        ),
        # Inside the New York gap and repeated hour 01:00-01:59.
        (
            "30 2 * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 3, 8, hour=2, minute=30),
            "2026-03-09 06:30",
        ),
        (
            "30 2 * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 3, 8, hour=2, minute=30, fold=1),
            "2026-03-08 07:00",
        ),
        (
            "30 1 * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 11, 1, hour=1, minute=15),
            "2026-11-01 05:30",
        ),
        (
            "30 1 * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 11, 1, hour=1, minute=15, fold=1),
            "2026-11-02 06:30",
        ),
        ("30 1 * * *", NEW_YORK, utc("2026-11-01 05:30"), "2026-11-02 06:30"),
        (
            "0 * * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 11, 1, hour=1, minute=30),
            "2026-11-01 06:00",
        ),
        (
            "0 * * * *",
            NEW_YORK,
            local(NEW_YORK, 2026, 11, 1, hour=1, minute=30, fold=1),
            "2026-11-01 07:00",
        ),
    ],
)
def test_next_after_inside_and_at_transitions(
    expression: str, zone: str, after: datetime.datetime, expected: str
) -> None:
    schedule = CronSchedule.parse(expression, zone)
    assert schedule.next_after(after) == utc(expected)


# --- an independent reference: check every minute (or second) of the night -------------------


def field_matches(field: str, value: int) -> bool:
    """Plain cron field matching (``*``, ``a``, ``a-b``, ``/n``, lists); enough for ORACLE."""
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            low, high = 0, value
        elif "-" in base:
            low, high = (int(part) for part in base.split("-"))
        else:
            low = high = int(base)
        if low <= value <= high and (value - low) % int(step or 1) == 0:
            return True
    return False


def reference_fires(
    expression: str, zone: str, start: datetime.datetime, end: datetime.datetime
) -> list[datetime.datetime]:
    """Fire times in (start, end] by the module's rules, found by testing every tick.

    Handles ``[second] minute hour * * *``. A tick fires when its wall time matches, except
    the second copy of a repeated time for a fixed-time schedule; for a fixed-time schedule,
    the first tick after a jump forward also fires when any skipped wall time matched. Vixie
    cron's rule: a schedule whose minute or hour field starts with ``*`` is a wildcard one.
    """
    fields = expression.split()
    second, minute, hour = fields[:3] if len(fields) == 6 else ["0", *fields[:2]]
    tick = SECOND if len(fields) == 6 else MINUTE
    fixed = not hour.startswith("*") and not minute.startswith("*")
    tz = ZoneInfo(zone)

    def matches(wall: datetime.datetime) -> bool:
        return (
            field_matches(second, wall.second)
            and field_matches(minute, wall.minute)
            and field_matches(hour, wall.hour)
        )

    result = []
    moment = start - datetime.timedelta(seconds=start.second % tick.seconds) + tick
    while moment <= end:
        now = moment.astimezone(tz)
        before = (moment - tick).astimezone(tz)
        wall = now.replace(tzinfo=None)
        repeated = now.replace(fold=1 - now.fold).utcoffset() != now.utcoffset()
        fire = matches(wall) and not (fixed and repeated and now.fold == 1)
        if fixed and now.utcoffset() > before.utcoffset():  # type: ignore[operator]
            skipped = before.replace(tzinfo=None) + tick
            while not fire and skipped < wall:
                fire = matches(skipped)
                skipped += tick
        if fire:
            result.append(moment)
        moment += tick
    return result


def transitions(zone: str, year: int) -> list[datetime.datetime]:
    """UTC hours at which ``zone`` changes its offset in ``year``."""
    tz = ZoneInfo(zone)
    hour = datetime.datetime(year, 1, 1, tzinfo=UTC)
    found = []
    while hour.year == year:
        if (hour + datetime.timedelta(hours=1)).astimezone(tz).utcoffset() != hour.astimezone(
            tz
        ).utcoffset():
            found.append(hour + datetime.timedelta(hours=1))
        hour += datetime.timedelta(hours=1)
    return found


REFERENCE_SCHEDULES = [
    "30 2 * * *",
    "0 2 * * *",
    "30 1 * * *",
    "0 0 * * *",
    "0 1-3 * * *",
    "15,45 1-2 * * *",
    "* 2 * * *",
    "45 23 * * *",
    "0 * * * *",
    "*/30 * * * *",
    "30 * * * *",
    "*/7 * * * *",
    "*/20 */2 * * *",
    # Vixie's rule: a wildcard minute makes a wildcard schedule, whatever the hour.
    "*/15 2 * * *",
    "*/15 1 * * *",
    "* 3 * * *",
    "*/10 1-3 * * *",
    "15 */2 * * *",
]
# Lord Howe moves its clock by 30 minutes; Sydney changes in the southern seasons.
REFERENCE_ZONES = [BERLIN, NEW_YORK, "Australia/Lord_Howe", "Australia/Sydney"]


@pytest.mark.parametrize("zone", REFERENCE_ZONES)
@pytest.mark.parametrize("expression", REFERENCE_SCHEDULES)
def test_matches_reference_around_every_2026_transition(expression: str, zone: str) -> None:
    schedule = CronSchedule.parse(expression, zone)
    rng = random.Random(f"{expression} {zone}")
    for change in transitions(zone, 2026):
        start, end = change - datetime.timedelta(hours=14), change + datetime.timedelta(hours=14)
        expected = reference_fires(expression, zone, start, end)
        assert schedule.fires_between(start, end, 10_000) == expected
        # next_after from random instants, from fire times, and a second either side of them.
        afters = [start + datetime.timedelta(seconds=rng.uniform(0, 86_400)) for _ in range(12)]
        afters += [
            fire + delta
            for fire in rng.sample(expected, min(3, len(expected)))
            for delta in (-SECOND, 0 * SECOND, SECOND)
        ]
        for after in sorted(afters):
            index = bisect.bisect_right(expected, after)
            if index < len(expected):
                assert schedule.next_after(after) == expected[index], after


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
@pytest.mark.parametrize("expression", ["*/20 * * * * *", "*/15 30 2 * * *", "0 0 1 * * ?"])
def test_seconds_match_reference_around_the_2026_transitions(expression: str, zone: str) -> None:
    schedule = CronSchedule.parse(expression.replace("?", "*"), zone)
    for change in transitions(zone, 2026):
        start, end = change - datetime.timedelta(hours=2), change + datetime.timedelta(hours=2)
        expected = reference_fires(expression.replace("?", "*"), zone, start, end)
        assert schedule.fires_between(start, end, 10_000) == expected


@pytest.mark.parametrize("zone", [BERLIN, NEW_YORK])
@pytest.mark.parametrize(
    "expression", ["30 2 * * *", "30 1 * * *", "0 * * * *", "*/30 * * * *", "*/10 * * * * *"]
)
def test_next_after_is_monotonic_and_agrees_with_fire_times(expression: str, zone: str) -> None:
    schedule = CronSchedule.parse(expression, zone)
    rng = random.Random(expression + zone)
    afters = [
        change + datetime.timedelta(seconds=rng.uniform(-4 * 3600, 4 * 3600))
        for change in transitions(zone, 2026)
        for _ in range(150)
    ]
    previous: datetime.datetime | None = None
    for after in sorted(afters):
        fire = schedule.next_after(after)
        assert fire is not None
        assert fire > after
        assert fire.tzinfo is UTC
        assert schedule.fire_times(after, 1) == [fire]
        assert schedule.fires_between(after, fire, 5) == [fire]  # nothing fires in between
        assert previous is None or fire >= previous
        previous = fire


def test_fire_times_strictly_increase_through_a_year_of_transitions() -> None:
    schedule = CronSchedule.parse("*/30 * * * *", NEW_YORK)
    times = schedule.fire_times(utc("2026-01-01 00:00"), 2 * 24 * 366)
    assert all(b - a == datetime.timedelta(minutes=30) for a, b in itertools.pairwise(times))


# --- syntax ----------------------------------------------------------------------------------


def test_quartz_seconds_every_hour() -> None:
    schedule = CronSchedule.parse("0 0 * * * ?")
    assert schedule.has_seconds
    assert schedule.fire_times(utc("2026-06-01 10:15"), 2) == [
        utc("2026-06-01 11:00"),
        utc("2026-06-01 12:00"),
    ]


def test_quartz_every_five_seconds() -> None:
    schedule = CronSchedule.parse("*/5 * * * * ?")
    assert schedule.fire_times(utc("2026-06-01 10:00:02.5"), 3) == [
        utc("2026-06-01 10:00:05"),
        utc("2026-06-01 10:00:10"),
        utc("2026-06-01 10:00:15"),
    ]


def test_five_fields_have_no_seconds() -> None:
    assert not CronSchedule.parse("* * * * *").has_seconds
    assert CronSchedule.parse("0 0 12 1 1 ? 2027").has_seconds


def test_year_field_fires_then_never_again() -> None:
    schedule = CronSchedule.parse("0 0 12 1 1 ? 2027")
    fire = schedule.next_after(utc("2026-06-01 00:00"))
    assert fire == utc("2027-01-01 12:00")
    assert schedule.next_after(fire) is None
    assert schedule.fire_times(utc("2026-06-01 00:00"), 5) == [fire]


def test_year_in_the_past_is_valid_and_never_fires_again() -> None:
    assert CronSchedule.parse("0 0 12 1 1 ? 2020").next_after(utc("2026-01-01 00:00")) is None


@pytest.mark.parametrize(
    ("years", "expected"),
    [
        ("2026-2030/2", [2026, 2028, 2030]),
        ("2026,2028", [2026, 2028]),
        ("2026/3", [2026, 2029, 2032, 2035]),
        ("*/50", [2070, 2120, 2170]),  # counted from 1970
        ("2198-2199", [2198, 2199]),
        ("*", [2026, 2027, 2028, 2029]),
    ],
)
def test_year_field_forms(years: str, expected: list[int]) -> None:
    schedule = CronSchedule.parse(f"0 0 0 1 1 ? {years}")
    fired = schedule.fire_times(utc("2025-06-01 00:00"), 4)
    assert fired == [datetime.datetime(year, 1, 1, tzinfo=UTC) for year in expected]


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("@yearly", "2027-01-01 00:00"),
        ("@annually", "2027-01-01 00:00"),
        ("@monthly", "2026-07-01 00:00"),
        ("@weekly", "2026-06-07 00:00"),  # 2026-06-01 is a Monday
        ("@daily", "2026-06-02 00:00"),
        ("@midnight", "2026-06-02 00:00"),
        ("@hourly", "2026-06-01 01:00"),
        ("@Daily", "2026-06-02 00:00"),
    ],
)
def test_aliases(alias: str, expected: str) -> None:
    assert CronSchedule.parse(alias).next_after(utc("2026-06-01 00:00")) == utc(expected)


# --- Vixie's rule: a minute OR hour field starting with * makes a wildcard schedule -----------


@pytest.mark.parametrize(
    ("expression", "zone", "night", "expected"),
    [
        # Berlin spring: 02:00-02:59 does not exist, and a wildcard schedule does not make it up.
        ("*/15 2 * * *", BERLIN, BERLIN_SPRING, []),
        ("* 2 * * *", BERLIN, BERLIN_SPRING, []),
        # Berlin fall: both copies of 02:00-02:59, by the real clock.
        (
            "*/15 2 * * *",
            BERLIN,
            BERLIN_FALL,
            [
                "2026-10-25 00:00",
                "2026-10-25 00:15",
                "2026-10-25 00:30",
                "2026-10-25 00:45",
                "2026-10-25 01:00",
                "2026-10-25 01:15",
                "2026-10-25 01:30",
                "2026-10-25 01:45",
            ],
        ),
        # New York spring: no 02:xx EST.
        ("*/30 2 * * *", NEW_YORK, NEW_YORK_SPRING, []),
        # New York fall: 01:00-01:59 twice (EDT, then EST).
        (
            "*/30 1 * * *",
            NEW_YORK,
            NEW_YORK_FALL,
            ["2026-11-01 05:00", "2026-11-01 05:30", "2026-11-01 06:00", "2026-11-01 06:30"],
        ),
        # The same hours with a fixed minute stay fixed-time: once, never zero times.
        ("15,45 2 * * *", BERLIN, BERLIN_SPRING, ["2026-03-29 01:00"]),
        ("15,45 2 * * *", BERLIN, BERLIN_FALL, ["2026-10-25 00:15", "2026-10-25 00:45"]),
        ("0,30 1 * * *", NEW_YORK, NEW_YORK_FALL, ["2026-11-01 05:00", "2026-11-01 05:30"]),
    ],
)
def test_wildcard_minute_runs_by_the_real_clock_across_a_dst_night(
    expression: str, zone: str, night: tuple[str, str], expected: list[str]
) -> None:
    assert fires(expression, zone, *night) == [utc(text) for text in expected]


@pytest.mark.parametrize(
    ("expression", "rule"),
    [
        ("30 2 * * *", "fixed-time"),
        ("0,30 1-3 * * *", "fixed-time"),
        ("@daily", "fixed-time"),
        ("*/15 2 * * *", "wildcard"),
        ("* 2 * * *", "wildcard"),
        ("0 * * * *", "wildcard"),
        ("0 */2 * * *", "wildcard"),
        ("@hourly", "wildcard"),
        # Quartz: the seconds field plays no part, as cron has none.
        ("*/10 30 2 * * ?", "fixed-time"),
        ("0 */5 2 * * ?", "wildcard"),
    ],
)
def test_dst_rule_follows_vixie(expression: str, rule: str) -> None:
    assert CronSchedule.parse(expression, BERLIN).dst_rule == rule


def test_hourly_alias_runs_by_the_real_clock() -> None:
    fired = fires("@hourly", BERLIN, "2026-10-24 23:30", "2026-10-25 01:30")
    assert fired == [utc("2026-10-25 00:00"), utc("2026-10-25 01:00")]


@pytest.mark.parametrize(
    ("expression", "zone", "expected"),
    [
        # Names, any case; 2026-06-06 is a Saturday.
        ("0 9 * jan,JUL mon-fri", BERLIN, ["2026-07-01 07:00", "2026-07-02 07:00"]),
        ("0 0 9 ? * MON-FRI", "UTC", ["2026-06-08 09:00", "2026-06-09 09:00"]),
        ("0 0 9 ? * Sun", "UTC", ["2026-06-07 09:00", "2026-06-14 09:00"]),
        # Day-of-week numbers are cron's also in Quartz form: 1 is Monday, 0 and 7 Sunday.
        ("0 0 9 ? * 1", "UTC", ["2026-06-08 09:00", "2026-06-15 09:00"]),
        ("0 0 * * 0", "UTC", ["2026-06-07 00:00", "2026-06-14 00:00"]),
        ("0 0 * * 7", "UTC", ["2026-06-07 00:00", "2026-06-14 00:00"]),
        ("0 0 12 15 * ?", "UTC", ["2026-06-15 12:00", "2026-07-15 12:00"]),
        # Day-of-month OR day-of-week when both are given: Fridays and the 13th.
        ("0 0 13 * fri", "UTC", ["2026-06-12 00:00", "2026-06-13 00:00"]),
        ("0 0 L * *", "UTC", ["2026-06-30 00:00", "2026-07-31 00:00"]),
        ("0 0 * * 5L", "UTC", ["2026-06-26 00:00", "2026-07-31 00:00"]),
        ("0 0 * * fri#2", "UTC", ["2026-06-12 00:00", "2026-07-10 00:00"]),
        ("0 0 15W * *", "UTC", ["2026-06-15 00:00", "2026-07-15 00:00"]),
        # croniter alone reads "9-9" as every hour.
        ("0 9-9 * * *", "UTC", ["2026-06-06 09:00", "2026-06-07 09:00"]),
        ("0 22-1 * * *", "UTC", ["2026-06-06 01:00", "2026-06-06 22:00"]),
        ("0 0 29 2 *", "UTC", ["2028-02-29 00:00", "2032-02-29 00:00"]),
        # Feb 2036 is the next February with five Fridays, then 2064.
        ("0 0 * 2 5#5", "UTC", ["2036-02-29 00:00", "2064-02-29 00:00"]),
        # Zones that are no whole hour from UTC, and UTC itself.
        ("30 9 * * *", "Asia/Kolkata", ["2026-06-06 04:00", "2026-06-07 04:00"]),
        ("0 0 * * *", "Asia/Kolkata", ["2026-06-06 18:30", "2026-06-07 18:30"]),
        ("0 6 * * *", "Asia/Kathmandu", ["2026-06-06 00:15", "2026-06-07 00:15"]),
        ("0 12 * * *", "UTC", ["2026-06-06 12:00", "2026-06-07 12:00"]),
    ],
)
def test_syntax_and_zones(expression: str, zone: str, expected: list[str]) -> None:
    schedule = CronSchedule.parse(expression, zone)
    assert schedule.fire_times(utc("2026-06-06 00:00"), 2) == [utc(text) for text in expected]


def test_after_in_any_zone_means_the_same_instant() -> None:
    schedule = CronSchedule.parse("30 9 * * *", "Asia/Kolkata")
    tokyo = datetime.datetime(2026, 6, 6, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert schedule.next_after(tokyo) == schedule.next_after(utc("2026-06-06 00:00"))


def test_fires_between_limit_and_bounds() -> None:
    schedule = CronSchedule.parse("*/5 * * * *")
    start, end = utc("2026-06-01 10:00"), utc("2026-06-01 11:00")
    assert schedule.fires_between(start, end, 3) == [
        utc("2026-06-01 10:05"),
        utc("2026-06-01 10:10"),
        utc("2026-06-01 10:15"),
    ]
    everything = schedule.fires_between(start, end, 100)
    assert len(everything) == 12  # start excluded, end included
    assert everything[0] == utc("2026-06-01 10:05")
    assert everything[-1] == end
    assert schedule.fires_between(start, end, 0) == []
    assert schedule.fires_between(end, start, 10) == []


def test_expression_is_kept_as_written_and_schedules_compare_by_value() -> None:
    schedule = CronSchedule.parse("  0 0 9 ? * MON-FRI ", " Europe/Berlin ")
    assert schedule.expression == "0 0 9 ? * MON-FRI"
    assert schedule.timezone == "Europe/Berlin"
    assert schedule == CronSchedule.parse("0 0 9 ? * MON-FRI", "Europe/Berlin")
    assert len({schedule, CronSchedule.parse("0 0 9 ? * MON-FRI", "Europe/Berlin")}) == 1
    assert CronSchedule.parse("* * * * *").timezone == "UTC"


def test_naive_datetimes_are_refused() -> None:
    schedule = CronSchedule.parse("* * * * *")
    with pytest.raises(ValueError, match="aware"):
        schedule.next_after(datetime.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="aware"):
        schedule.fires_between(utc("2026-01-01 00:00"), datetime.datetime(2026, 1, 2), 5)


# --- errors name the field and say why -------------------------------------------------------

SHAPE = (
    "expected 5 fields (minute hour day month weekday), 6 or 7 "
    "(Quartz: seconds first, optional year)"
)


@pytest.mark.parametrize(
    ("expression", "zone", "field", "message"),
    [
        ("", "UTC", "cron", f"cron: the expression is empty; {SHAPE}"),
        ("   ", "UTC", "cron", "cron: the expression is empty"),
        ("* * * *", "UTC", "cron", f"cron: {SHAPE}; got 4"),
        ("* * * * * * * *", "UTC", "cron", f"cron: {SHAPE}; got 8"),
        ("61 * * * *", "UTC", "cron", "cron: minute field '61' is out of range 0-59"),
        ("5,61 * * * *", "UTC", "cron", "cron: minute field '5,61': '61' is out of range 0-59"),
        ("0 24 * * *", "UTC", "cron", "cron: hour field '24' is out of range 0-23"),
        ("0 1-24 * * *", "UTC", "cron", "cron: hour field '1-24': '24' is out of range 0-23"),
        ("0 0 32 * *", "UTC", "cron", "cron: day-of-month field '32' is out of range 1-31"),
        ("0 0 0 * *", "UTC", "cron", "cron: day-of-month field '0' is out of range 1-31"),
        ("0 0 * 13 *", "UTC", "cron", "cron: month field '13' is out of range 1-12"),
        ("0 0 * * 8", "UTC", "cron", "cron: day-of-week field '8' is out of range 0-7"),
        ("60 0 0 * * ?", "UTC", "cron", "cron: second field '60' is out of range 0-59"),
        ("0 0 0 1 1 ? 1969", "UTC", "cron", "cron: year field '1969' is out of range 1970-2199"),
        ("0 0 0 1 1 ? 2200", "UTC", "cron", "cron: year field '2200' is out of range 1970-2199"),
        ("0 0 0 1 1 ? 2030-2026", "UTC", "cron", "cron: year field '2030-2026' runs backwards"),
        ("0 0 * foo *", "UTC", "cron", "cron: month field 'foo' is not a month (1-12 or jan-dec)"),
        ("0 0 * * funday", "UTC", "cron", "cron: day-of-week field 'funday' is not a weekday"),
        ("abc * * * *", "UTC", "cron", "cron: minute field 'abc' is not a number 0-59"),
        ("-1 * * * *", "UTC", "cron", "cron: minute field '-1' is not a number 0-59"),
        ("1-2-3 * * * *", "UTC", "cron", "cron: minute field '1-2-3' is not a number 0-59"),
        ("*/0 * * * *", "UTC", "cron", "cron: minute field '*/0' has step '0'"),
        ("*/x * * * *", "UTC", "cron", "cron: minute field '*/x' has step 'x'"),
        ("1,,2 * * * *", "UTC", "cron", "cron: minute field '1,,2' has an empty list entry"),
        ("? * * * *", "UTC", "cron", "cron: minute field '?' is not allowed: '?' only stands"),
        ("0 0 1,? * *", "UTC", "cron", "cron: day-of-month field '1,?': '?' must be the whole"),
        ("H * * * *", "UTC", "cron", "cron: minute field 'H' is hashed (H) or random (R)"),
        ("R * * * *", "UTC", "cron", "cron: minute field 'R' is hashed (H) or random (R)"),
        ("0 0 * * 5#6", "UTC", "cron", "cron: day-of-week field '5#6' needs a week 1-5"),
        ("0 0 15W,1 * *", "UTC", "cron", "cron: day-of-month field '15W,1': 'W' can only be"),
        ("0 0 * * 1,5#2", "UTC", "cron", "cron: day-of-week field '1,5#2': does not support"),
        ("0 0 30 2 *", "UTC", "cron", "cron: never fires"),
        ("0 0 31 4,6,9,11 *", "UTC", "cron", "cron: never fires"),
        ("0 0 12 29 2 ? 2027", "UTC", "cron", "cron: never fires"),
        ("@reboot", "UTC", "cron", "cron: @reboot is not supported"),
        ("@fortnightly", "UTC", "cron", "cron: unknown alias '@fortnightly'; use one of @yearly"),
        (
            "* * * * *",
            "Mars/Base",
            "timezone",
            "timezone: unknown time zone 'Mars/Base'; use an IANA name such as 'Europe/Berlin' "
            "or 'UTC'",
        ),
        ("* * * * *", "", "timezone", "timezone: is empty; use an IANA name"),
        ("* * * * *", "Europe", "timezone", "timezone: unknown time zone 'Europe'"),
        ("* * * * *", "../../etc/passwd", "timezone", "timezone: unknown time zone"),
        ("* * * * *", "localtime", "timezone", "timezone: 'localtime' is not an IANA time zone"),
    ],
)
def test_errors_name_the_field_and_say_why(
    expression: str, zone: str, field: str, message: str
) -> None:
    with pytest.raises(Invalid) as caught:
        CronSchedule.parse(expression, zone)
    assert caught.value.field == field
    assert caught.value.message.startswith(message)


@pytest.mark.parametrize(("expression", "zone"), [(None, "UTC"), ("* * * * *", 3)])
def test_non_strings_are_invalid(expression: Any, zone: Any) -> None:
    with pytest.raises(Invalid):
        CronSchedule.parse(expression, zone)
