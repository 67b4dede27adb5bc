"""Builders of the OpenAPI document's pieces, shared by every resource's part of it.

Each resource (jobs, runs, schedules, batches, workers, apps) describes its own paths with these;
:mod:`jobext.http.openapi` assembles them into the one document served at ``/openapi.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from jobext.db.paging import MAX_PER_PAGE

REF = "#/components/schemas/"

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


def page_of(item: str) -> dict[str, Any]:
    """A page of ``item``s, as every list answers."""
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": ref(item)},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


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
