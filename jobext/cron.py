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
  Where the clock jumps, the rule of Vixie cron decides, by the hour field:

  * a *fixed* hour (a number, list or range: anything not starting with ``*``; aliases other
    than ``@hourly``) names a time of day. If that time is skipped by a spring-forward jump,
    the schedule fires once, at the first instant after the jump; if it is repeated by a
    fall-back, the schedule fires once, in the first occurrence.
  * a *wildcard* hour (``*``, ``*/n``) runs by the real clock: it fires in both copies of a
    repeated hour, and wall times skipped by a jump simply do not happen (``*/30 * * * *``
    still fires every 30 real minutes across both nights).

The module knows nothing of HTTP or storage; bad input raises :class:`jobext.errors.Invalid`.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from itertools import islice
from typing import Any

from croniter import CroniterBadDateError, CroniterError, croniter  # type: ignore[import-untyped]

from jobext.errors import Invalid

__all__ = ["FIRST_YEAR", "LAST_YEAR", "CronSchedule"]

FIRST_YEAR = 1970
LAST_YEAR = 2199

_UTC = datetime.timezone.utc
_ZERO = datetime.timedelta(0)
_SECOND = datetime.timedelta(seconds=1)
# The Gregorian calendar, weekdays included, repeats every 400 years: a day-of-month, month and
# day-of-week combination that matches nothing in 400 years matches nothing ever. It also lets
# rare but real patterns (the fifth Friday of February: 28 years apart) through croniter's
# default 50-year search.
_SEARCH_YEARS = 400

_SHAPE = (
    "expected 5 fields (minute hour day month weekday), "
    "6 or 7 (Quartz: seconds first, optional year)"
)
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_WEEKDAYS = {
    name: number for number, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])
}
# Zone keys that ZoneInfo loads but that are no IANA zone: the server's own setting, and the
# leap-second ("right/") variants whose UTC would be off by the leap seconds.
_NOT_IANA = re.compile(r"^(localtime|posixrules|posix/.*|right/.*)$")


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    expected: str
    names: Mapping[str, int] = dataclasses.field(default_factory=dict)

    def value(self, token: str, whole: str) -> int:
        """The number ``token`` stands for, checked against the field's range."""
        if token.isdecimal() and token.isascii():
            number = int(token)
        elif token.lower() in self.names:
            number = self.names[token.lower()]
        else:
            raise _field_error(self, whole, token, f"is not {self.expected}")
        if not self.low <= number <= self.high:
            raise _field_error(self, whole, token, f"is out of range {self.low}-{self.high}")
        return number


_SECONDS = _Field("second", 0, 59, "a number 0-59")
_MINUTES = _Field("minute", 0, 59, "a number 0-59")
_HOURS = _Field("hour", 0, 23, "a number 0-23")
_DAYS = _Field("day-of-month", 1, 31, "a day 1-31, L or a nearest weekday such as 15W")
_MONTH = _Field("month", 1, 12, "a month (1-12 or jan-dec)", _MONTHS)
_WEEKDAY = _Field(
    "day-of-week", 0, 7, "a weekday (0-7, where 0 and 7 are Sunday, or sun-sat)", _WEEKDAYS
)
_YEARS = _Field("year", FIRST_YEAR, LAST_YEAR, f"a year {FIRST_YEAR}-{LAST_YEAR}")
_FIVE = (_MINUTES, _HOURS, _DAYS, _MONTH, _WEEKDAY)
_SIX = (_SECONDS, *_FIVE)


def _field_error(field: _Field, whole: str, token: str, problem: str) -> Invalid:
    """``minute field '61' is out of range 0-59``, or ``... field '5,61': '61' is ...``."""
    if token == whole:
        return Invalid("cron", f"{field.name} field {whole!r} {problem}")
    return Invalid("cron", f"{field.name} field {whole!r}: {token!r} {problem}")


def _split_step(field: _Field, whole: str, item: str) -> tuple[str, int | None]:
    if "/" not in item:
        return item, None
    base, step = item.split("/", 1)
    if not (step.isdecimal() and step.isascii() and int(step) >= 1):
        raise _field_error(field, whole, item, f"has step {step!r}; a step is a whole number >= 1")
    return base, int(step)


def _split_range(field: _Field, whole: str, base: str) -> tuple[int, int]:
    parts = base.split("-")
    if len(parts) > 2 or "" in parts:
        raise _field_error(field, whole, base, f"is not {field.expected} or a range of them")
    first = field.value(parts[0], whole)
    return first, field.value(parts[-1], whole)


def _plain_item(field: _Field, whole: str, item: str) -> str:
    """One list entry of ``*``, a value or a range, each with an optional step, for croniter."""
    if re.fullmatch(r"[hr](\(.*\))?(/.*)?", item, re.IGNORECASE):
        # croniter would accept R and pick a different minute in every process, so servers
        # sharing a database would disagree on the schedule.
        raise _field_error(field, whole, item, "is hashed (H) or random (R): write the value")
    base, step = _split_step(field, whole, item)
    suffix = "" if step is None else f"/{step}"
    if base == "*":
        return f"*{suffix}"
    low, high = _split_range(field, whole, base)
    if "-" not in base:
        return f"{low}{suffix}"
    if low == high:
        # croniter reads an equal range ("9-9") as the whole cycle, every hour; it means 9.
        return str(low)
    return f"{low}-{high}{suffix}"


def _day_item(whole: str, item: str) -> str:
    if item.lower() == "l":
        return "l"
    nearest = re.fullmatch(r"(\d+)w|w(\d+)", item, re.IGNORECASE)
    if nearest:
        return f"{_DAYS.value(nearest.group(1) or nearest.group(2), whole)}w"
    return _plain_item(_DAYS, whole, item)


def _weekday_item(whole: str, item: str) -> str:
    nth = re.fullmatch(r"(\w+)#(\w*)", item)
    if nth:
        if nth.group(2) not in {"1", "2", "3", "4", "5"}:
            raise _field_error(_WEEKDAY, whole, item, "needs a week 1-5 after '#'")
        return f"{_WEEKDAY.value(nth.group(1), whole) % 7}#{nth.group(2)}"
    last = re.fullmatch(r"l(\w+)|(\w+)l", item, re.IGNORECASE)
    if last:
        return f"l{_WEEKDAY.value(last.group(1) or last.group(2), whole) % 7}"
    return _plain_item(_WEEKDAY, whole, item)


def _cron_field(field: _Field, text: str) -> str:
    """A field checked and rewritten for croniter; raises Invalid saying what is wrong."""
    if text == "?":
        if field in (_DAYS, _WEEKDAY):
            return "*"
        raise _field_error(
            field, text, text, "is not allowed: '?' only stands for day-of-month or day-of-week"
        )
    items = text.split(",")
    if "" in items:
        raise _field_error(field, text, text, "has an empty list entry")
    if "?" in items:
        raise _field_error(field, text, "?", "must be the whole field")
    if field is _DAYS:
        return ",".join(_day_item(text, item) for item in items)
    if field is _WEEKDAY:
        return ",".join(_weekday_item(text, item) for item in items)
    return ",".join(_plain_item(field, text, item) for item in items)


def _years(text: str) -> tuple[int, ...] | None:
    """The years a 7th field allows, ascending; None for every year."""
    years: set[int] = set()
    for item in text.split(","):
        if not item:
            raise _field_error(_YEARS, text, text, "has an empty list entry")
        base, step = _split_step(_YEARS, text, item)
        if base == "*":
            if step is None:
                return None
            low, high = FIRST_YEAR, LAST_YEAR
        else:
            low, high = _split_range(_YEARS, text, base)
            if "-" not in base and step is not None:
                high = LAST_YEAR
            if low > high:
                raise _field_error(_YEARS, text, item, "runs backwards")
        years.update(range(low, high + 1, step or 1))
    return tuple(sorted(years))


def _croniter_reason(error: Exception) -> str:
    """croniter's own explanation, without the expression it repeats in brackets."""
    text = re.sub(r"^\[.*?\]\s*", "", str(error)).split("  Cron:")[0]
    return re.sub(r"^is not acceptable[.,]?\s*", "", text).strip() or "is not acceptable"


def _compile(
    fields: list[str], written: list[str], names: tuple[_Field, ...], seconds: bool
) -> Any:
    """A croniter over naive wall-clock time for the checked ``fields`` (as ``written``)."""
    expression = " ".join(fields)
    try:
        return croniter(
            expression,
            datetime.datetime(FIRST_YEAR, 1, 1),
            ret_type=datetime.datetime,
            second_at_beginning=seconds,
            max_years_between_matches=_SEARCH_YEARS,
        )
    except CroniterError as error:
        # Only L/W/# combinations get here; name the field by trying each alone.
        for index, field in enumerate(names):
            alone = ["*"] * len(fields)
            alone[index] = fields[index]
            try:
                croniter(" ".join(alone), second_at_beginning=seconds)
            except CroniterError:
                reason = _croniter_reason(error).removeprefix(f"{field.name} field ")
                problem = f"{field.name} field {written[index]!r}: {reason}"
                raise Invalid("cron", problem) from error
        raise Invalid("cron", _croniter_reason(error)) from error


def _zone(name: str) -> zoneinfo.ZoneInfo:
    hint = "use an IANA name such as 'Europe/Berlin' or 'UTC'"
    if not name:
        raise Invalid("timezone", f"is empty; {hint}")
    if _NOT_IANA.match(name):
        raise Invalid("timezone", f"{name!r} is not an IANA time zone; {hint}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid("timezone", f"unknown time zone {name!r}; {hint}") from None


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
    _fixed_hour: bool = dataclasses.field(init=False, repr=False, compare=False)
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
        text = self.expression.strip()
        if not text:
            raise Invalid("cron", f"the expression is empty; {_SHAPE}")
        if text.startswith("@"):
            if text.lower() == "@reboot":
                raise Invalid(
                    "cron", "@reboot is not supported: a schedule fires at times, not at startup"
                )
            if text.lower() not in _ALIASES:
                raise Invalid("cron", f"unknown alias {text!r}; use one of {', '.join(_ALIASES)}")
            text = _ALIASES[text.lower()]
        written = text.split()
        if len(written) not in (5, 6, 7):
            raise Invalid("cron", f"{_SHAPE}; got {len(written)}")
        names = _FIVE if len(written) == 5 else _SIX
        years = _years(written[6]) if len(written) == 7 else None
        # zip stops at the year field, which croniter never sees.
        fields = [_cron_field(field, value) for field, value in zip(names, written, strict=False)]
        cron = _compile(fields, written, names, seconds=len(names) == 6)
        zone = _zone(self.timezone)
        hour = written[names.index(_HOURS)]
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_cron", cron)
        object.__setattr__(self, "_years", years)
        object.__setattr__(self, "_fixed_hour", not hour.startswith("*"))
        object.__setattr__(self, "_seconds", len(names) == 6)
        if self._next_wall(copy.copy(cron), datetime.datetime(FIRST_YEAR, 1, 1) - _SECOND) is None:
            raise Invalid(
                "cron", "never fires: no date matches its day-of-month, month, weekday and year"
            )

    @property
    def has_seconds(self) -> bool:
        """True for 6- and 7-field expressions, which fire with per-second precision."""
        return self._seconds

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
                if not self._fixed_hour:
                    yield from self._copies(cron, transition + second - _SECOND, end, second)
            elif not self._fixed_hour:
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
                if self._fixed_hour:
                    yield transition
                wall = transition.replace(tzinfo=None) + second - _SECOND
            else:
                end = transition.replace(tzinfo=None) + first
                yield from self._copies(cron, found - _SECOND, end, first)
                if not self._fixed_hour:
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
