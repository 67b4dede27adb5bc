"""Parsing of raw request values into checked numbers, naming the field when one is wrong."""

from __future__ import annotations

from jobext.errors import Invalid


def parse_int(
    field: str,
    raw: str | None,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """``raw`` as a whole number within bounds; ``default`` when it is missing or empty."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid(field, f"must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise Invalid(field, f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise Invalid(field, f"must be at most {maximum}")
    return value
