"""Builders of the OpenAPI document's pieces, shared by every resource's part of it.

Each resource (jobs, runs, schedules, batches, workers, apps) describes its own paths with these;
:mod:`jobext.http.openapi` assembles them into the one document served at ``/openapi.json``. The
schemas of what the API returns are not written here: :func:`components` and :func:`page_of`
generate them from the response models (:class:`~jobext.shapes.Output`) in each resource's
``shapes.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema

from jobext.db.paging import MAX_PER_PAGE
from jobext.shapes import Output, Page

REF = "#/components/schemas/"
NULL = {"type": "null"}
#: Keywords whose value is data, not a schema: left as they are.
_DATA = frozenset({"enum", "const", "examples", "required"})
#: Keywords whose value maps names to schemas.
_NAMED = frozenset({"properties", "$defs", "patternProperties"})

#: What each error status means, unless an operation says more.
ERROR_TEXT = {
    400: "bad input: `field` names it, `message` says why",
    403: "not allowed",
    404: "no such resource",
    409: "illegal transition or conflict: `message` says why",
}


def ref(name: str) -> dict[str, str]:
    """A reference to the schema ``name`` in ``components.schemas``."""
    return {"$ref": REF + name}


def json_reply(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A JSON response."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int, **texts: str) -> dict[str, Any]:
    """Error responses (the ``Error`` shape) for ``codes``; ``texts`` override the meaning of a
    code, keyed ``e404=...``."""
    return {str(c): json_reply(ref("Error"), texts.get(f"e{c}", ERROR_TEXT[c])) for c in codes}


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """A JSON request body."""
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An optional query parameter (a string unless ``schema`` says otherwise)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def path(name: str, description: str) -> dict[str, Any]:
    """A path parameter: an integer id when ``name`` ends in ``_id``, else a string."""
    schema = {"type": "integer", "minimum": 1} if name.endswith("_id") else {"type": "string"}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def comma_list(names: Iterable[str]) -> dict[str, Any]:
    """The schema of a query value naming one or more of ``names``, comma-separated."""
    one = "(" + "|".join(re.escape(n) for n in names) + ")"
    return {"type": "string", "pattern": rf"^ *{one} *(, *{one} *)*$"}


def sort_values(sortable: Iterable[str]) -> list[str]:
    """What ``sort`` accepts for a list sortable by ``sortable``: each field, ascending or
    descending (``-field``)."""
    fields = list(sortable)
    return fields + [f"-{f}" for f in fields]


def paging(sortable: Sequence[str], *, search: str = "substring to match") -> list[dict[str, Any]]:
    """The ``page``, ``per_page``, ``sort`` and ``search`` parameters of a list."""
    return [
        query("page", "0-based page", {"type": "integer", "minimum": 0, "maximum": 10**9}),
        query(
            "per_page",
            "items a page",
            {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50},
        ),
        query(
            "sort",
            "`field` or `-field` (descending)",
            {"type": "string", "enum": sort_values(sortable)},
        ),
        query("search", search),
    ]


def _tidy(node: Any) -> Any:
    """A pydantic JSON schema as the document shows it: no ``title`` or ``default`` (a response
    has no defaults), objects left open to keys added later, and a nullable scalar as
    ``type: [X, "null"]`` (OpenAPI 3.1) rather than an ``anyOf``."""
    if isinstance(node, list):
        return [_tidy(n) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("title", "default") or (
            key == "additionalProperties" and isinstance(value, bool)
        ):
            continue
        if key in _NAMED:
            out[key] = {name: _tidy(schema) for name, schema in value.items()}
        else:
            out[key] = value if key in _DATA else _tidy(value)
    branches = out.get("anyOf")
    if isinstance(branches, list) and len(branches) == 2 and NULL in branches:
        other = branches[1 - branches.index(NULL)]
        # An enum or const would refuse the null that the type list lets in: keep the anyOf.
        if isinstance(other.get("type"), str) and not {"$ref", "enum", "const"} & set(other):
            del out["anyOf"]
            out = {**other, **out, "type": [other["type"], "null"]}
    return out


class OutputSchema(GenerateJsonSchema):
    """The JSON schema generator of the response models (:func:`_tidy` over pydantic's)."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        return _tidy(super().generate(schema, mode))  # type: ignore[no-any-return]


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model``, with the models it uses referred to in
    ``components.schemas`` (in its ``$defs``, for :func:`components` to hoist)."""
    return model.model_json_schema(ref_template=REF + "{model}", schema_generator=OutputSchema)


def components(*models: type[BaseModel]) -> dict[str, Any]:
    """``components.schemas`` entries for ``models``, each under its class name, with every model
    and enum they use hoisted beside them (one entry a name, whoever uses it)."""
    found: dict[str, Any] = {}
    for model in models:
        schema = schema_of(model)
        for name, sub in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if found.setdefault(name, sub) != sub:
                raise ValueError(f"two different schemas are named {name!r}")
    return found


def page_of(item: type[Output]) -> dict[str, Any]:
    """A page of ``item``s, as every list answers (``item`` itself is in the components)."""
    schema = schema_of(Page[item])  # type: ignore[valid-type]
    schema.pop("$defs", None)
    return schema


def op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One operation."""
    return {"summary": summary, "responses": responses, **extra}


def sse_event(name: str, data: dict[str, Any], description: str) -> dict[str, Any]:
    """One kind of Server-Sent Event: its ``event`` name and the JSON its ``data`` holds."""
    return {
        "type": "object",
        "description": description,
        "required": ["event", "data"],
        "properties": {
            "event": {"const": name},
            "id": {"type": "string"},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": data,
            },
        },
    }


def sse_stream(description: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A ``text/event-stream`` response whose events are each one of ``events`` (the schema
    describes one event, as OpenAPI 3.2's ``itemSchema`` does; validators such as
    schemathesis read it so on 3.1)."""
    return {
        "description": description,
        "content": {"text/event-stream": {"schema": {"oneOf": events}}},
    }


def link(operation: str, description: str, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link from a response to the operation ``operation`` (an operationId),
    with its parameters taken from the response (``$response.body#/id``)."""
    return {"operationId": operation, "description": description, "parameters": parameters}


def links(parameter: str, source: str, targets: Iterable[tuple[str, str, str]]) -> dict[str, Any]:
    """The links of a response to each of ``targets`` (``(link name, operationId, what)``), all
    passing ``source`` (e.g. ``$response.body#/id``) as the path parameter ``parameter``."""
    return {name: link(operation, what, **{parameter: source}) for name, operation, what in targets}
