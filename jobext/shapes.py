"""What every API model shares: an input refuses unknown fields, strips text and takes no NaN; an
output (a response shape) declares every key its serializer writes; the generic page of a list;
and the one translation of a pydantic error into :class:`~jobext.errors.Invalid`.

The response models are the one declaration of what the API returns: the OpenAPI document's
``components.schemas`` are generated from them (:func:`jobext.http.spec.components`), and
``tests/http/test_shapes.py`` holds each serializer (``run_json`` & co., which build plain dicts
because lists return up to 1000 runs a page) to its model through a real server."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from jobext.errors import Invalid

#: The upper bound of durations in seconds that inputs accept.
TEN_YEARS_S = 10 * 366 * 24 * 3600

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def _drop_null(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """In the JSON schema of ``model``, its ``not_null`` fields take no null (what the
    validator below enforces), so the OpenAPI document says so too."""
    properties = schema.get("properties", {})
    for name in getattr(model, "not_null", ()):
        prop = properties.get(name)
        if not prop or "anyOf" not in prop:
            continue
        branches = [b for b in prop["anyOf"] if b.get("type") != "null"]
        if len(branches) == 1:
            del prop["anyOf"]
            prop.update(branches[0])
        else:
            prop["anyOf"] = branches
        if prop.get("default", 0) is None:
            del prop["default"]


class Input(BaseModel):
    """An API input: unknown fields are refused, text is stripped, no NaN or infinity."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        json_schema_extra=_drop_null,
    )
    #: Fields that may be left out but never sent as null (the stored value cannot be null).
    not_null: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in cls.not_null:
                if key in data and data[key] is None:
                    raise Invalid(key, "cannot be null")
        return data


class Output(BaseModel):
    """A response shape: a field without a default is a key the reply always has (null when its
    type allows it); a field defaulting to None is a key the reply may leave out. Validating a
    reply refuses any key the model does not declare, so model and serializer cannot drift."""

    model_config = ConfigDict(extra="forbid")


class Page(Output, Generic[T]):
    """What every list answers: one page of ``items`` and how many match in all."""

    items: list[T]
    page: int = Field(description="0-based")
    per_page: int
    total: int = Field(description="how many match, on all pages")


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
