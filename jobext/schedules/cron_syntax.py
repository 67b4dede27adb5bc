"""Cron syntax: checking an expression field by field and compiling it for croniter.

What the syntax is, and how fire times follow from it, is told in :mod:`jobext.cron`. This
module turns an expression into a croniter over naive wall-clock time (the time-zone rules live
in :mod:`jobext.cron`), with error messages that name the field at fault.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from jobext.errors import Invalid

FIRST_YEAR = 1970
LAST_YEAR = 2199

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


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone ``name``; raise :class:`Invalid` on ``timezone`` for anything else."""
    hint = "use an IANA name such as 'Europe/Berlin' or 'UTC'"
    if not name:
        raise Invalid("timezone", f"is empty; {hint}")
    if _NOT_IANA.match(name):
        raise Invalid("timezone", f"{name!r} is not an IANA time zone; {hint}")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise Invalid("timezone", f"unknown time zone {name!r}; {hint}") from None


@dataclasses.dataclass(frozen=True)
class Compiled:
    """A checked expression: a croniter over wall-clock time, and what it needs besides."""

    cron: Any
    #: The years it may fire in (a 7th field), or None for any year.
    years: tuple[int, ...] | None
    #: True for a fixed-time schedule: neither its minute nor its hour field starts with ``*``
    #: (Vixie cron's rule; see the DST rules in ``jobext.schedules.cron``).
    fixed_time: bool
    #: True for 6 and 7 fields (seconds first).
    seconds: bool


def compile_expression(expression: str) -> Compiled:
    """Check ``expression`` (aliases, 5, 6 or 7 fields) and compile it; raise
    :class:`Invalid` on ``cron`` naming the field and the problem."""
    text = expression.strip()
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
    minute, hour = written[names.index(_MINUTES)], written[names.index(_HOURS)]
    wildcard = minute.startswith("*") or hour.startswith("*")
    return Compiled(cron, years, not wildcard, len(names) == 6)
