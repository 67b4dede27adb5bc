"""What every API input model shares: unknown fields are refused, text is stripped, no NaN; and
the one translation of a pydantic error into :class:`~jobext.errors.Invalid`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from jobext.errors import Invalid

#: The upper bound of durations in seconds that inputs accept.
TEN_YEARS_S = 10 * 366 * 24 * 3600

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


def validation_error(exc: ValidationError) -> Invalid:
    """The first problem pydantic found, as :class:`Invalid` naming the field."""
    first = exc.errors()[0]
    # The input models are flat: the first element names the field; deeper ones name union
    # branches or list positions that mean nothing to the caller.
    loc = first.get("loc", ())
    field = str(loc[0]) if loc else None
    message = first.get("msg", "is not valid")
    if first.get("type") == "extra_forbidden":
        message = "is not a known field"
    elif first.get("type") == "missing":
        message = "is required"
    return Invalid(field, message)


def parse(model: type[M], data: Any) -> M:
    """``data`` (a request body) as ``model``; 400 naming the field when it does not fit."""
    if not isinstance(data, dict):
        raise Invalid(None, "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from None
