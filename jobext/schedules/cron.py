"""Cron schedules: the instants a cron expression fires at, computed in the schedule's time zone.

Syntax
  * 5 fields: ``minute hour day-of-month month day-of-week``, with lists, ranges, steps and
    names (``jan``-``dec``, ``sun``-``sat``, any case); ``L`` (last day), ``15W`` (nearest
    weekday) in day-of-month; ``fri#2`` (second Friday) and ``5L`` / ``L5`` (last Friday) in
    day-of-week.
  * Aliases ``@yearly`` ``@annually`` ``@monthly`` ``@weekly`` ``@daily`` ``@midnight``
    ``@hourly``. ``@reboot`` is refused: a schedule fires at times, not at server start.
  * Quartz style (as JobStreamer writes it): 6 fields with seconds first, or 7 with a year last.
    ``?`` ("no specific value") may stand for a whole day-of-month or day-of-week field and
    means ``*``. The year field takes ``*``, ``2027``, ``2026-2030``, ``2026,2028``,
    ``2026/2`` (from 2026), ``*/2`` (from 1970), within 1970-2199.

Day-of-week numbers are cron's in every form, Quartz included: 0 and 7 are Sunday, 1 Monday,
... 6 Saturday. Quartz itself counts 1=Sunday ... 7=Saturday, so a Quartz expression that uses
numbers must be rewritten; names (``MON-FRI``) mean the same in both. When day-of-month and
day-of-week are both restricted, a day matching either one fires (as in Vixie cron).

Time zones and daylight saving time
  Fire times are wall-clock times in the schedule's zone, returned as aware UTC datetimes.
  Where the clock jumps, the rule of Vixie (and Debian) cron decides, by the minute and hour
  fields:

  * a *wildcard* schedule, whose minute OR hour field starts with ``*`` (``*``, ``*/n``,
    ``*/15 2 * * *``, ``* 3 * * *``, ``0 * * * *``, ``@hourly``), runs by the real clock: it
    fires in both copies of a repeated hour, and wall times skipped by a jump simply do not
    happen (``*/30 * * * *`` still fires every 30 real minutes across both nights;
    ``*/15 2 * * *`` fires eight times on a fall-back night in Berlin and not at all on the
    spring-forward night).
  * any other schedule is *fixed-time* (numbers, lists and ranges in both fields; aliases
    other than ``@hourly``): it names times of day. A time skipped by a spring-forward jump
    fires once, at the first instant after the jump; a time repeated by a fall-back fires
    once, in the first occurrence.

  A leading seconds field (Quartz) plays no part in the choice, as cron has none.

The module knows nothing of HTTP or storage; bad input raises :class:`jobext.errors.Invalid`.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime
import zoneinfo
from collections.abc import Iterator
from itertools import islice
from typing import Any

from croniter import CroniterBadDateError  # type: ignore[import-untyped]

from jobext.errors import Invalid
from jobext.schedules.cron_syntax import FIRST_YEAR, LAST_YEAR, compile_expression, zone

__all__ = ["FIRST_YEAR", "LAST_YEAR", "CronSchedule"]


_UTC = datetime.timezone.utc
_ZERO = datetime.timedelta(0)
_SECOND = datetime.timedelta(seconds=1)


def _instant(wall: datetime.datetime, offset: datetime.timedelta) -> datetime.datetime:
    return (wall - offset).replace(tzinfo=_UTC)


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression in a time zone, answering when it fires.

    Construct with :meth:`parse` (or directly: both validate). Instances are immutable,
    hashable, and safe to share between threads.
    """

    expression: str
    timezone: str = "UTC"
    _zone: zoneinfo.ZoneInfo = dataclasses.field(init=False, repr=False, compare=False)
    _cron: Any = dataclasses.field(init=False, repr=False, compare=False)
    _years: tuple[int, ...] | None = dataclasses.field(init=False, repr=False, compare=False)
    _fixed_time: bool = dataclasses.field(init=False, repr=False, compare=False)
    _seconds: bool = dataclasses.field(init=False, repr=False, compare=False)

    @classmethod
    def parse(cls, expression: str, timezone: str = "UTC") -> CronSchedule:
        """Check ``expression`` and ``timezone`` and return the schedule.

        Raises Invalid naming ``cron`` or ``timezone`` and saying what is wrong, also for an
        expression that can never fire (``0 0 30 2 *``). An expression whose years are all
        past is valid: it just fires no more.
        """
        if not isinstance(expression, str):
            raise Invalid("cron", "must be a string")
        if not isinstance(timezone, str):
            raise Invalid("timezone", "must be a string such as 'Europe/Berlin' or 'UTC'")
        return cls(expression.strip(), timezone.strip())

    def __post_init__(self) -> None:
        compiled = compile_expression(self.expression)
        object.__setattr__(self, "_zone", zone(self.timezone))
        object.__setattr__(self, "_cron", compiled.cron)
        object.__setattr__(self, "_years", compiled.years)
        object.__setattr__(self, "_fixed_time", compiled.fixed_time)
        object.__setattr__(self, "_seconds", compiled.seconds)
        start = datetime.datetime(FIRST_YEAR, 1, 1) - _SECOND
        if self._next_wall(copy.copy(compiled.cron), start) is None:
            raise Invalid(
                "cron", "never fires: no date matches its day-of-month, month, weekday and year"
            )

    @property
    def has_seconds(self) -> bool:
        """True for 6- and 7-field expressions, which fire with per-second precision."""
        return self._seconds

    @property
    def dst_rule(self) -> str:
        """``"wildcard"`` (runs by the real clock where DST moves it) or ``"fixed-time"`` (fires
        once at each named time of day): see the module's doc."""
        return "fixed-time" if self._fixed_time else "wildcard"

    def next_after(self, after: datetime.datetime) -> datetime.datetime | None:
        """The first fire time strictly after the aware ``after``, in UTC; None if none is left."""
        return next(self._fires(after), None)

    def fire_times(self, after: datetime.datetime, count: int) -> list[datetime.datetime]:
        """The next ``count`` fire times strictly after ``after``, UTC, strictly increasing.

        Fewer when the schedule runs out (a year field in the past).
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        return list(islice(self._fires(after), count))

    def fires_between(
        self, start: datetime.datetime, end: datetime.datetime, limit: int
    ) -> list[datetime.datetime]:
        """Fire times ``t`` with ``start < t <= end``: the earliest ``limit`` of them, UTC."""
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        end = _as_utc(end, "end")
        fires = []
        for fire in islice(self._fires(start), limit):
            if fire > end:
                break
            fires.append(fire)
        return fires

    def _fires(self, after: datetime.datetime) -> Iterator[datetime.datetime]:
        """All fire times strictly after ``after``, ascending, without repeats."""
        after = _as_utc(after, "after")
        return (fire for fire in _increasing(self._candidates(after)) if fire > after)

    def _candidates(self, after: datetime.datetime) -> Iterator[datetime.datetime]:
        """Fire times after ``after``, ascending except that one instant may come twice.

        croniter searches naive wall-clock time (its own handling of aware times doubles fixed
        hours in a repeated hour); the mapping to UTC is done here, with zoneinfo's fold.
        """
        # croniter keeps its position on the instance: a private copy per search lets threads
        # share the schedule.
        cron = copy.copy(self._cron)
        start = after.replace(microsecond=0)
        local = start.astimezone(self._zone)
        wall = local.replace(tzinfo=None, fold=0)
        first, second = self._offsets(wall)
        if first > second:
            # `after` lies in a repeated hour. A wall-clock search cannot order the two copies
            # by itself, and the first copy's later times come before the second copy's.
            transition = self._transition(wall, first, second).replace(tzinfo=None)
            end = transition + first
            if local.fold == 0:
                yield from self._copies(cron, wall, end, first)
                if not self._fixed_time:
                    yield from self._copies(cron, transition + second - _SECOND, end, second)
            elif not self._fixed_time:
                yield from self._copies(cron, wall, end, second)
            wall = end - _SECOND
        while (found := self._next_wall(cron, wall)) is not None:
            first, second = self._offsets(found)
            if first == second:
                yield _instant(found, first)
                wall = found
                continue
            transition = self._transition(found, first, second)
            if first < second:
                # Skipped by a spring-forward jump: a fixed time of day still happens once.
                if self._fixed_time:
                    yield transition
                wall = transition.replace(tzinfo=None) + second - _SECOND
            else:
                end = transition.replace(tzinfo=None) + first
                yield from self._copies(cron, found - _SECOND, end, first)
                if not self._fixed_time:
                    yield from self._copies(cron, found - _SECOND, end, second)
                wall = end - _SECOND

    def _copies(
        self,
        cron: Any,
        after: datetime.datetime,
        before: datetime.datetime,
        offset: datetime.timedelta,
    ) -> Iterator[datetime.datetime]:
        """The matching wall times in ``(after, before)``, read with UTC offset ``offset``."""
        wall = self._next_wall(cron, after)
        while wall is not None and wall < before:
            yield _instant(wall, offset)
            wall = self._next_wall(cron, wall)

    def _next_wall(self, cron: Any, wall: datetime.datetime) -> datetime.datetime | None:
        """The first matching naive wall-clock time strictly after ``wall``, or None."""
        while True:
            try:
                found: datetime.datetime = cron.get_next(datetime.datetime, start_time=wall)
            except (CroniterBadDateError, OverflowError, ValueError):
                # No match in _SEARCH_YEARS, or beyond the year 9999.
                return None
            if self._years is None:
                return found
            allowed = bisect.bisect_left(self._years, found.year)
            if allowed == len(self._years):
                return None
            if self._years[allowed] == found.year:
                return found
            wall = datetime.datetime(self._years[allowed], 1, 1) - _SECOND

    def _offsets(self, wall: datetime.datetime) -> tuple[datetime.timedelta, datetime.timedelta]:
        """UTC offsets of ``wall`` read as the first and as the second occurrence (PEP 495).

        Equal for an ordinary time; first > second in a repeated hour; first < second for a
        time skipped by a jump forward.
        """
        aware = wall.replace(tzinfo=self._zone)
        # ZoneInfo always knows the offset of an aware time; `or` only satisfies the type.
        return aware.utcoffset() or _ZERO, aware.replace(fold=1).utcoffset() or _ZERO

    def _transition(
        self, wall: datetime.datetime, first: datetime.timedelta, second: datetime.timedelta
    ) -> datetime.datetime:
        """The UTC instant at which the offset changed to ``second`` around ``wall``.

        ``wall`` is repeated or skipped; its two readings lie on either side of the change.
        """
        low = int(_instant(wall, max(first, second)).timestamp())
        high = int(_instant(wall, min(first, second)).timestamp())
        while high - low > 1:
            middle = (low + high) // 2
            if datetime.datetime.fromtimestamp(middle, self._zone).utcoffset() == second:
                high = middle
            else:
                low = middle
        return datetime.datetime.fromtimestamp(high, _UTC)


def _as_utc(moment: datetime.datetime, name: str) -> datetime.datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got {moment!r}")
    return moment.astimezone(_UTC)


def _increasing(instants: Iterator[datetime.datetime]) -> Iterator[datetime.datetime]:
    """Drop repeats: several skipped wall times can all fire at the end of the same jump."""
    last: datetime.datetime | None = None
    for instant in instants:
        if last is None or instant > last:
            last = instant
            yield instant
