"""Every bad input gets a clear error (right HTTP status, which field, why) and loses nothing.
No input, however malformed, yields a 500.

Error bodies are jupyter_server's JSON shape ``{"message": ..., "reason": ...}`` plus ``"field"``
naming the input at fault where there is one.
"""

from __future__ import annotations

import json
import logging
import random
import string
import urllib.parse
from typing import Any

import pytest
from conftest import API, Api, Reply
from sqlmodel import func, select
from tornado.httpclient import HTTPResponse
from waiting import eventually_async

from jobext.db.tables import RunEvent

ABSENT = object()  # "field" must not be required (no single input is at fault)
GOOD_JOB = {"name": "good", "kind": "python", "target": "jobs_lib:noop"}


@pytest.fixture(autouse=True)
def _loop_errors_without_carets(jp_asyncio_loop: Any) -> Any:
    """Log the server loop's unhandled errors as one line each, without a formatted traceback.

    A server task that died with an exception nobody retrieved reports it when it is
    garbage-collected, which may happen inside pytest's own ``ast.parse`` while it formats a
    failure; on CPython 3.11 the default handler's traceback (whose carets call ``ast.parse``
    again) then trips "AST constructor recursion depth mismatch" and aborts the whole session.
    This keeps such a jobext bug a plain test failure.
    """

    def handler(loop: Any, context: dict[str, Any]) -> None:
        logging.getLogger("asyncio").error(
            "%s: %r (%r)", context.get("message"), context.get("exception"), context.get("future")
        )

    jp_asyncio_loop.set_exception_handler(handler)
    yield


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(body: bytes) -> Any:
    """Parse as RFC 8259 JSON: Python's NaN/Infinity extensions are refused."""
    return json.loads(body, parse_constant=_reject_constant)


def assert_error(
    reply: Reply, status: int, field: Any = ABSENT, *, what: str = ""
) -> dict[str, Any]:
    """``reply`` is ``status`` with a JSON error body; ``field`` (when given) is named."""
    where = f"{what}: {reply!r}"
    assert reply.code == status, where
    content_type = reply.headers.get("Content-Type", "")
    assert content_type.startswith("application/json"), f"{where} (Content-Type {content_type})"
    body = strict_json(reply.body)
    assert isinstance(body, dict), where
    assert isinstance(body.get("message"), str) and body["message"].strip(), where
    assert isinstance(body.get("reason"), str) and body["reason"], where
    if field is not ABSENT:
        assert body.get("field") == field, f"{where}: field {body.get('field')!r} != {field!r}"
        if status == 400 and field:
            assert field in body["message"], f"{where}: the message does not name {field!r}"
    return body


def job_body(**changes: Any) -> dict[str, Any]:
    body = dict(GOOD_JOB)
    for key, value in changes.items():
        if value is ABSENT:
            body.pop(key, None)
        else:
            body[key] = value
    return body


async def jobs_state(api: Api) -> dict[str, Any]:
    """Every job definition and every run, as the API shows them."""
    jobs = (await api.get("jobs", params={"per_page": "1000"})).json()["items"]
    runs = (await api.get("runs", params={"per_page": "1000", "sort": "id"})).json()["items"]
    return {"jobs": jobs, "runs": runs}


# --------------------------------------------------------------------------- POST /jobs

NESTED = "[" * 100_000 + "]" * 100_000

REGISTER_RAW = [
    # (id, raw body, status, field)
    ("malformed", b'{"name": "x", ', 400, None),
    ("not-json", b"name=x&kind=python", 400, None),
    ("trailing-garbage", json.dumps(GOOD_JOB).encode() + b" }", 400, None),
    ("bad-utf8", b'{"name": "\xff\xfe", "kind": "python", "target": "a.b"}', 400, None),
    ("array", b"[1, 2, 3]", 400, None),
    ("string", b'"a job"', 400, None),
    ("number", b"42", 400, None),
    ("null", b"null", 400, None),
    ("true", b"true", 400, None),
    ("empty-body", b"", 400, "name"),
    ("empty-object", b"{}", 400, "name"),
    # Python's json module accepts these; JSON does not, and the server must not store them.
    ("nan", json.dumps(job_body()).encode()[:-1] + b', "timeout_s": NaN}', 400, None),
    ("infinity", json.dumps(job_body()).encode()[:-1] + b', "timeout_s": Infinity}', 400, None),
    (
        "timeout-1e400",
        json.dumps(job_body()).encode()[:-1] + b', "timeout_s": 1e400}',
        400,
        "timeout_s",
    ),
    (
        "backoff-1e400",
        json.dumps(job_body()).encode()[:-1] + b', "retry_backoff_s": 1e400}',
        400,
        "retry_backoff_s",
    ),
    (
        "deep-nesting",
        b'{"name": "x", "kind": "python", "target": "a.b", "default_args": '
        + NESTED.encode()
        + b"}",
        400,
        None,
    ),
]


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [pytest.param(raw, status, field, id=i) for i, raw, status, field in REGISTER_RAW],
)
async def test_register_malformed_body(api: Api, raw: bytes, status: int, field: Any) -> None:
    reply = await api.post("jobs", raw=raw)
    body = assert_error(reply, status, what=repr(raw[:60]))
    if field is not None:
        assert body.get("field") == field, reply
    assert (await api.get("jobs")).json()["total"] == 0


REGISTER_FIELDS = [
    # (id, body, status, field)
    ("missing-name", job_body(name=ABSENT), 400, "name"),
    ("missing-kind", job_body(kind=ABSENT), 400, "kind"),
    ("missing-target", job_body(target=ABSENT), 400, "target"),
    ("name-space", job_body(name="my job"), 400, "name"),
    ("name-slash", job_body(name="a/b"), 400, "name"),
    ("name-dotdot", job_body(name="../etc"), 400, "name"),
    ("name-empty", job_body(name=""), 400, "name"),
    ("name-leading-dash", job_body(name="-x"), 400, "name"),
    ("name-unicode", job_body(name="jöb"), 400, "name"),
    ("name-too-long", job_body(name="a" * 129), 400, "name"),
    ("name-number", job_body(name=5), 400, "name"),
    ("name-null", job_body(name=None), 400, "name"),
    ("kind-unknown", job_body(kind="cobol"), 400, "kind"),
    ("kind-number", job_body(kind=3), 400, "kind"),
    ("kind-list", job_body(kind=["python"]), 400, "kind"),
    ("extra-field", job_body(colour="blue"), 400, "colour"),
    ("max-concurrent-str", job_body(max_concurrent="x"), 400, "max_concurrent"),
    ("max-concurrent-neg", job_body(max_concurrent=-1), 400, "max_concurrent"),
    ("max-concurrent-zero", job_body(max_concurrent=0), 400, "max_concurrent"),
    ("max-concurrent-float", job_body(max_concurrent=1.5), 400, "max_concurrent"),
    ("max-concurrent-huge", job_body(max_concurrent=10**30), 400, "max_concurrent"),
    ("timeout-neg", job_body(timeout_s=-5), 400, "timeout_s"),
    ("timeout-zero", job_body(timeout_s=0), 400, "timeout_s"),
    ("timeout-str", job_body(timeout_s="soon"), 400, "timeout_s"),
    ("timeout-overflow", job_body(timeout_s=10**400), 400, "timeout_s"),
    ("retries-str", job_body(retries="a"), 400, "retries"),
    ("retries-neg", job_body(retries=-1), 400, "retries"),
    ("retry-backoff-neg", job_body(retry_backoff_s=-1), 400, "retry_backoff_s"),
    ("keep-runs-negative", job_body(keep_runs=-1), 400, "keep_runs"),
    ("keep-days-negative", job_body(keep_days=-1), 400, "keep_days"),
    ("keep-runs-huge", job_body(keep_runs=10**30), 400, "keep_runs"),
    ("queue-when-busy-maybe", job_body(queue_when_busy="maybe"), 400, "queue_when_busy"),
    ("restartable-list", job_body(restartable=[]), 400, "restartable"),
    ("description-number", job_body(description=5), 400, "description"),
    ("description-too-long", job_body(description="x" * 10_001), 400, "description"),
    ("connection-object", job_body(connection={}), 400, "connection"),
    ("default-args-number", job_body(default_args=5), 400, "default_args"),
    ("default-args-list", job_body(default_args=[1, 2]), 400, "default_args"),
    ("default-args-string", job_body(default_args="a=1"), 400, "default_args"),
    ("default-args-bad-key", job_body(default_args={"not an id": 1}), 400, "default_args"),
    ("target-empty", job_body(target=""), 400, "target"),
    ("target-blank", job_body(target="   "), 400, "target"),
    ("target-number", job_body(target=7), 400, "target"),
    ("target-words", job_body(target="not a path"), 400, "target"),
    ("target-bare-module", job_body(target="jobs_lib"), 400, "target"),
    ("target-digit-start", job_body(target="1mod:f"), 400, "target"),
    ("target-empty-attr", job_body(target="jobs_lib:"), 400, "target"),
    ("target-empty-module", job_body(target=":noop"), 400, "target"),
    ("target-double-dot", job_body(target="a..b:c"), 400, "target"),
    ("target-path", job_body(target="/tmp/x.py:f"), 400, "target"),
]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [pytest.param(body, status, field, id=i) for i, body, status, field in REGISTER_FIELDS],
)
async def test_register_bad_field(api: Api, body: Any, status: int, field: str) -> None:
    reply = await api.post("jobs", body)
    assert_error(reply, status, field, what=json.dumps(body)[:200])
    assert (await api.get("jobs")).json()["total"] == 0


async def test_register_unpaired_surrogate(api: Api) -> None:
    """A JSON string may spell a lone UTF-16 surrogate (``"\\ud800"``); it is not text."""
    for field in ("description", "connection", "kernel"):
        raw = json.dumps(job_body(**{field: "a\ud800b"})).encode()
        assert b"\\ud800" in raw
        reply = await api.post("jobs", raw=raw)
        assert_error(reply, 400, field, what=field)
    raw = json.dumps(job_body(default_args={"x": "\udfff"})).encode()
    reply = await api.post("jobs", raw=raw)
    assert reply.code < 500, reply
    assert reply.code in (201, 400), reply
    if reply.code == 201:
        strict_json(reply.body)
        assert strict_json((await api.get("jobs/good")).body)["name"] == "good"


async def test_enqueue_unpaired_surrogate_poisons_nothing(api: Api, jobext_app: Any) -> None:
    """Args holding a lone surrogate are refused (400 args), or else stored so that the run and
    every list holding it can still be read. Either way, one such request must not stop other
    runs' events from reaching the database ("log lines ... never lost")."""
    await api.job("hello", "jobs_lib:hello")
    reply = await api.post("jobs/hello/runs", raw=b'{"args": {"name": "\\udfff"}}')
    assert reply.code in (201, 400), reply
    if reply.code == 400:
        assert_error(reply, 400, "args")
    for path in ("runs", "jobs/hello", "jobs/hello/runs", "jobs/hello/stats", "stats"):
        listing = await api.get(path)
        assert listing.code == 200, f"{path}: {listing}"
        strict_json(listing.body)

    # An ordinary run afterwards: its log lines must be written to the database.
    await api.job("other", "jobs_lib:hello", max_concurrent=5)
    other = await api.wait((await api.run("other", {"n": 2}))["id"], "succeeded")
    stored = 0

    async def written() -> bool:
        nonlocal stored
        stored = await jobext_app.db.read(
            lambda session: session.exec(
                select(func.count()).select_from(RunEvent).where(RunEvent.run_id == other["id"])
            ).one()
        )
        return bool(stored and not jobext_app.hub._pending)

    await eventually_async(
        written,
        timeout=5,
        interval=0.1,
        message=lambda: (
            "an event of a later, ordinary run to reach the database"
            if not stored
            else f"{len(jobext_app.hub._pending)} events stuck unwritten to be written"
        ),
    )


async def test_register_duplicate_name(api: Api) -> None:
    first = await api.job("dup", "jobs_lib:hello", description="the first")
    reply = await api.post("jobs", {"name": "dup", "kind": "python", "target": "jobs_lib:fail"})
    body = assert_error(reply, 409, "name")
    assert "dup" in body["message"]
    # The first definition is untouched.
    job = (await api.get("jobs/dup")).json()
    assert job["target"] == "jobs_lib:hello" and job["description"] == "the first"
    assert job["created_at"] == first["created_at"]


@pytest.mark.parametrize("jobext_config", [{"allowed_kinds": ["python"]}])
async def test_register_disabled_kind(api: Api) -> None:
    reply = await api.post("jobs", {"name": "sh", "kind": "shell", "target": "echo hi"})
    body = assert_error(reply, 403, "kind")
    assert "shell" in body["message"]
    # A kind this version does not run at all is refused too, never with a 500.
    reply = await api.post("jobs", {"name": "nb", "kind": "notebook", "target": "x.ipynb"})
    assert reply.code in (400, 403), reply
    assert_error(reply, reply.code, "kind")
    assert (await api.get("jobs")).json()["total"] == 0


# --------------------------------------------------------------------------- PATCH /jobs/{name}

PATCH_CASES = [
    # (id, raw body, status, field)
    ("rename", json.dumps({"name": "other"}).encode(), 400, "name"),
    ("change-kind", json.dumps({"kind": "shell"}).encode(), 400, "kind"),
    ("malformed", b"{oops", 400, None),
    ("array", b"[]", 400, None),
    ("string", b'"x"', 400, None),
    ("unknown-field", json.dumps({"colour": 1}).encode(), 400, "colour"),
    ("target-null", json.dumps({"target": None}).encode(), 400, "target"),
    ("target-bad", json.dumps({"target": "not a path"}).encode(), 400, "target"),
    ("target-empty", json.dumps({"target": ""}).encode(), 400, "target"),
    ("max-concurrent-null", json.dumps({"max_concurrent": None}).encode(), 400, "max_concurrent"),
    ("max-concurrent-zero", json.dumps({"max_concurrent": 0}).encode(), 400, "max_concurrent"),
    ("retries-null", json.dumps({"retries": None}).encode(), 400, "retries"),
    ("timeout-neg", json.dumps({"timeout_s": -5}).encode(), 400, "timeout_s"),
    ("default-args-number", json.dumps({"default_args": 5}).encode(), 400, "default_args"),
    ("default-args-list", json.dumps({"default_args": [1]}).encode(), 400, "default_args"),
    ("keep-runs-huge", json.dumps({"keep_runs": 10**30}).encode(), 400, "keep_runs"),
    ("description-surrogate", b'{"description": "\\ud800"}', 400, "description"),
]


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [pytest.param(raw, status, field, id=i) for i, raw, status, field in PATCH_CASES],
)
async def test_patch_bad_input(api: Api, raw: bytes, status: int, field: Any) -> None:
    before = await api.job("victim", "jobs_lib:hello", description="keep me", default_args={"n": 1})
    reply = await api.patch("jobs/victim", raw=raw)
    body = assert_error(reply, status, what=repr(raw[:80]))
    if field is not None:
        assert body.get("field") == field, reply
    after = (await api.get("jobs/victim")).json()
    assert {k: after[k] for k in before} == before


async def test_patch_unknown_job(api: Api) -> None:
    reply = await api.patch("jobs/nope", {"description": "x"})
    body = assert_error(reply, 404)
    assert "nope" in body["message"]
    assert (await api.get("jobs")).json()["total"] == 0


async def test_unknown_job_everywhere(api: Api) -> None:
    for method, path in (
        ("GET", "jobs/nope"),
        ("DELETE", "jobs/nope"),
        ("GET", "jobs/nope/stats"),
        ("GET", "jobs/nope/runs"),
        ("POST", "jobs/nope/runs"),
        ("GET", "jobs/%F0%9F%92%A5"),
        ("GET", "jobs/" + "x" * 5000),
    ):
        reply = await api.call(method, path, {} if method == "POST" else None)
        assert_error(reply, 404, what=f"{method} {path[:40]}")


# --------------------------------------------------------------------------- enqueue

ENQUEUE_CASES = [
    # (id, raw body, headers, status, field)
    ("args-list", json.dumps({"args": [1, 2]}).encode(), None, 400, "args"),
    ("args-string", json.dumps({"args": "n=2"}).encode(), None, 400, "args"),
    ("args-number", json.dumps({"args": 5}).encode(), None, 400, "args"),
    ("args-bool", json.dumps({"args": True}).encode(), None, 400, "args"),
    ("args-bad-key", json.dumps({"args": {"not an id": 1}}).encode(), None, 400, "args"),
    ("args-keyword", json.dumps({"args": {"": 1}}).encode(), None, 400, "args"),
    ("not-json", b"args=1", None, 400, None),
    ("malformed", b'{"args": {', None, 400, None),
    ("array", b"[]", None, 400, None),
    ("number", b"1", None, 400, None),
    ("unknown-field", json.dumps({"colour": "red"}).encode(), None, 400, "colour"),
    ("follow-maybe", json.dumps({"follow": "maybe"}).encode(), None, 400, "follow"),
    ("follow-list", json.dumps({"follow": [True]}).encode(), None, 400, "follow"),
    (
        "bad-args-with-stream",
        json.dumps({"args": [1]}).encode(),
        {"Accept": "text/event-stream"},
        400,
        "args",
    ),
    ("deep-nesting", b'{"args": {"a": ' + NESTED.encode() + b"}}", None, 400, None),
]


@pytest.mark.parametrize(
    ("raw", "headers", "status", "field"),
    [pytest.param(r, h, s, f, id=i) for i, r, h, s, f in ENQUEUE_CASES],
)
async def test_enqueue_bad_input(
    api: Api, raw: bytes, headers: dict[str, str] | None, status: int, field: Any
) -> None:
    await api.job("hello", "jobs_lib:hello")
    reply = await api.post("jobs/hello/runs", raw=raw, headers=headers)
    body = assert_error(reply, status, what=repr(raw[:60]))
    if field is not None:
        assert body.get("field") == field, reply
    assert (await api.get("runs")).json()["total"] == 0


# --------------------------------------------------------------------------- GET /runs

RUNS_QUERY_CASES = [
    # (id, path, params, field)
    ("page-neg", "runs", {"page": "-1"}, "page"),
    ("page-abc", "runs", {"page": "abc"}, "page"),
    ("page-float", "runs", {"page": "1.5"}, "page"),
    ("per-page-zero", "runs", {"per_page": "0"}, "per_page"),
    ("per-page-huge", "runs", {"per_page": "5000"}, "per_page"),
    ("per-page-neg", "runs", {"per_page": "-3"}, "per_page"),
    ("per-page-word", "runs", {"per_page": "all"}, "per_page"),
    ("sort-nope", "runs", {"sort": "nope"}, "sort"),
    ("sort-desc-nope", "runs", {"sort": "-nope"}, "sort"),
    ("sort-sql", "runs", {"sort": "id; DROP TABLE jobext_run"}, "sort"),
    ("status-bogus", "runs", {"status": "bogus"}, "status"),
    ("status-list-bogus", "runs", {"status": "failed,bogus"}, "status"),
    ("status-commas", "runs", {"status": ",,"}, "status"),
    ("from-notadate", "runs", {"from": "notadate"}, "from"),
    ("to-notadate", "runs", {"to": "2022-13-45"}, "to"),
    ("from-compact-bad", "runs", {"from": "20221345"}, "from"),
    ("from-after-to", "runs", {"from": "2022-03-01", "to": "2022-02-01"}, "to"),
    ("from-overflow", "runs", {"from": "9999-12-31T23:59:59-01:00"}, "from"),
    ("to-underflow", "runs", {"to": "0001-01-01T00:00:00+01:00"}, "to"),
    ("uuid-bad", "runs", {"uuid": "not-a-uuid"}, "uuid"),
    ("batch-x", "runs", {"batch": "x"}, "batch"),
    ("schedule-x", "runs", {"schedule": "1.0"}, "schedule"),
    ("jobs-page-neg", "jobs", {"page": "-1"}, "page"),
    ("jobs-per-page-zero", "jobs", {"per_page": "0"}, "per_page"),
    ("jobs-sort-nope", "jobs", {"sort": "nope"}, "sort"),
    ("job-runs-status", "jobs/hello/runs", {"status": "bogus"}, "status"),
    ("job-runs-from", "jobs/hello/runs", {"from": "yesterday"}, "from"),
    ("job-runs-per-page", "jobs/hello/runs", {"per_page": "1001"}, "per_page"),
]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [pytest.param(p, q, f, id=i) for i, p, q, f in RUNS_QUERY_CASES],
)
async def test_list_bad_query(api: Api, path: str, params: dict[str, str], field: str) -> None:
    await api.job("hello", "jobs_lib:hello")
    reply = await api.get(path, params=params)
    assert_error(reply, 400, field, what=f"{path} {params}")


HUGE = str(10**30)
HUGE_QUERY_CASES = [
    ("runs", {"page": HUGE}),
    ("runs", {"batch": HUGE}),
    ("runs", {"schedule": "-" + HUGE}),
    ("runs", {"per_page": "1000", "page": str(2**62)}),
    ("jobs", {"page": HUGE}),
    ("jobs/hello/runs", {"page": HUGE}),
]


@pytest.mark.parametrize(
    ("path", "params"), [pytest.param(p, q, id=f"{p}-{next(iter(q))}") for p, q in HUGE_QUERY_CASES]
)
async def test_list_huge_numbers_never_fail(api: Api, path: str, params: dict[str, str]) -> None:
    """Legal in form but beyond any stored value: an empty page (or a 400 naming the
    parameter), never a database overflow."""
    await api.job("hello", "jobs_lib:hello")
    run = await api.run("hello")
    await api.wait(run["id"])
    reply = await api.get(path, params=params)
    what = f"{path} {params}"
    assert reply.code in (200, 400), f"{what}: {reply}"
    if reply.code == 200:
        assert strict_json(reply.body)["items"] == [], what
    else:
        assert_error(reply, 400, list(params)[-1], what=what)


# --------------------------------------------------------------------------- one run

BAD_RUN_IDS = ["abc", "999999", "-1", "0", "1e9", "1.0", "0x1", str(2**63), str(10**40), "%20"]


@pytest.mark.parametrize("run_id", BAD_RUN_IDS)
async def test_unknown_run_everywhere(api: Api, run_id: str) -> None:
    await api.job("hello", "jobs_lib:hello")
    run = await api.run("hello")
    await api.wait(run["id"])
    for method, suffix in (
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/stop"),
        ("POST", "/pause"),
        ("POST", "/resume"),
        ("POST", "/restart"),
        ("GET", "/logs"),
        ("GET", "/events"),
        ("GET", "/result"),
    ):
        reply = await api.call(method, f"runs/{run_id}{suffix}", {} if method == "POST" else None)
        assert_error(reply, 404, what=f"{method} runs/{run_id}{suffix}")
    assert (await api.get(f"runs/{run['id']}")).json()["status"] == "succeeded"
    assert (await api.get("runs")).json()["total"] == 1


async def test_bad_run_parameters(api: Api) -> None:
    await api.job("hello", "jobs_lib:hello")
    run = await api.wait((await api.run("hello"))["id"], "succeeded")
    rid = run["id"]
    cases = [
        ("GET", f"runs/{rid}/logs", {"after": "-1"}, None, "after"),
        ("GET", f"runs/{rid}/logs", {"after": "x"}, None, "after"),
        ("GET", f"runs/{rid}/logs", {"after": str(10**30)}, None, "after"),
        ("GET", f"runs/{rid}/logs", {"limit": "0"}, None, "limit"),
        ("GET", f"runs/{rid}/logs", {"limit": "x"}, None, "limit"),
        ("GET", f"runs/{rid}/logs", {"limit": "-5"}, None, "limit"),
        ("GET", f"runs/{rid}/logs", {"limit": "100000000"}, None, "limit"),
        ("GET", f"runs/{rid}/logs", {"follow": "maybe"}, None, "follow"),
        ("GET", f"runs/{rid}/events", None, {"Last-Event-ID": "abc"}, "Last-Event-ID"),
        ("GET", f"runs/{rid}/events", None, {"Last-Event-ID": "-5"}, "Last-Event-ID"),
        ("GET", f"runs/{rid}/events", None, {"Last-Event-ID": "1.5"}, "Last-Event-ID"),
        ("GET", f"runs/{rid}/logs", {"follow": "true"}, {"Last-Event-ID": "x"}, "Last-Event-ID"),
        ("POST", f"runs/{rid}/stop", {"force": "maybe"}, None, "force"),
        ("POST", f"runs/{rid}/stop", {"force": "2"}, None, "force"),
    ]
    for method, path, params, headers, field in cases:
        reply = await api.call(
            method, path, {} if method == "POST" else None, params=params, headers=headers
        )
        assert_error(reply, 400, field, what=f"{method} {path} {params} {headers}")
    assert (await api.get(f"runs/{rid}")).json() == run


@pytest.mark.parametrize(
    ("headers", "params"),
    [
        pytest.param({"Last-Event-ID": HUGE}, None, id="header"),
        pytest.param(None, {"last_event_id": str(2**63)}, id="query"),
        pytest.param({"Last-Event-ID": HUGE}, {"follow": "true"}, id="logs-follow"),
    ],
)
async def test_huge_last_event_id(
    api: Api, headers: dict[str, str] | None, params: dict[str, str] | None
) -> None:
    """An event id beyond any stored one replays nothing (or is refused with a 400)."""
    await api.job("hello", "jobs_lib:hello")
    run = await api.wait((await api.run("hello"))["id"], "succeeded")
    path = "logs" if params and "follow" in params else "events"
    reply = await api.get(f"runs/{run['id']}/{path}", headers=headers, params=params)
    assert reply.code in (200, 400), reply
    if reply.code == 400:
        assert_error(reply, 400, "Last-Event-ID")
    else:
        assert b"event: close" in reply.body, reply


# --------------------------------------------------------------------------- states


async def test_illegal_transitions(api: Api) -> None:
    """pause/resume/stop/restart/delete in a state that does not allow them: 409 with a message
    naming the state; the run is left as it was."""
    await api.job("looper", "jobs_lib:loop", max_concurrent=1, queue_when_busy=True)
    await api.job("quick", "jobs_lib:noop")
    await api.job("broken", "jobs_lib:fail")
    await api.job("fixed", "jobs_lib:fail", restartable=False)
    running = await api.run("looper", {"seconds": 60})
    queued = await api.run("looper", {"seconds": 60})
    done = await api.run("quick")
    failed = await api.run("broken")
    unrestartable = await api.run("fixed")
    try:
        running = await api.wait(running["id"], "running")
        done = await api.wait(done["id"], "succeeded")
        failed = await api.wait(failed["id"], "failed")
        unrestartable = await api.wait(unrestartable["id"], "failed")
        queued = (await api.get(f"runs/{queued['id']}")).json()
        assert queued["status"] == "queued", queued

        cases = [
            ("pause", done, "succeeded"),
            ("pause", failed, "failed"),
            ("pause", queued, "queued"),
            ("resume", running, "running"),
            ("resume", queued, "queued"),
            ("resume", done, "succeeded"),
            ("stop", done, "succeeded"),
            ("stop", failed, "failed"),
            ("restart", done, "succeeded"),
            ("restart", running, "running"),
            ("restart", queued, "queued"),
            ("delete", running, "running"),
            ("delete", queued, "queued"),
        ]
        snapshot = await jobs_state(api)
        for action, run, state in cases:
            if action == "delete":
                reply = await api.delete(f"runs/{run['id']}")
            else:
                reply = await api.post(f"runs/{run['id']}/{action}")
            body = assert_error(reply, 409, what=f"{action} a {state} run")
            assert state in body["message"], f"{action} a {state} run: {body}"

        reply = await api.post(f"runs/{unrestartable['id']}/restart")
        body = assert_error(reply, 409, what="restart of a job with restartable: false")
        assert "restart" in body["message"]

        # max_concurrent=1 without queue_when_busy: a second run while one is in progress.
        await api.job("single", "jobs_lib:loop")
        single = await api.run("single", {"seconds": 60})
        reply = await api.post("jobs/single/runs", {"args": {"seconds": 1}})
        body = assert_error(reply, 409, what="enqueue beyond max_concurrent")
        assert "max_concurrent" in body["message"]
        reply = await api.delete("jobs/looper")
        assert_error(reply, 409, what="delete a job with runs in progress")

        # Nothing changed: same jobs, same runs, same states (progress of live runs may move).
        after = await jobs_state(api)
        jobs_before = {j["name"]: j for j in snapshot["jobs"]}
        jobs_after = {j["name"]: j for j in after["jobs"] if j["name"] != "single"}
        assert jobs_after == jobs_before
        before_runs = {r["id"]: (r["status"], r["restarted_as"]) for r in snapshot["runs"]}
        after_runs = {
            r["id"]: (r["status"], r["restarted_as"])
            for r in after["runs"]
            if r["id"] != single["id"]
        }
        assert after_runs == before_runs

        # A restart of the failed run is legal once; a second one is a conflict.
        reply = await api.post(f"runs/{failed['id']}/restart")
        assert reply.code == 201, reply
        again = await api.post(f"runs/{failed['id']}/restart")
        body = assert_error(again, 409, what="second restart")
        assert str(reply.json()["id"]) in body["message"]

        # A stopped run cannot be stopped, paused or resumed again.
        stopped = (await api.post(f"runs/{queued['id']}/stop")).json()
        assert stopped["status"] == "stopped", stopped
        for action in ("stop", "pause", "resume"):
            reply = await api.post(f"runs/{queued['id']}/{action}")
            body = assert_error(reply, 409, what=f"{action} a stopped run")
            assert "stopped" in body["message"]
    finally:
        for run_id in (running["id"], queued["id"]):
            await api.post(f"runs/{run_id}/stop", params={"force": "true"})
        single_runs = (await api.get("jobs/single/runs")).json().get("items", [])
        for run in single_runs:
            await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


# --------------------------------------------------------------------------- results


async def test_result_missing(api: Api) -> None:
    await api.job("quick", "jobs_lib:noop")
    await api.job("looper", "jobs_lib:loop")
    done = await api.wait((await api.run("quick"))["id"], "succeeded")
    running = await api.run("looper", {"seconds": 60})
    try:
        for run in (done, running):
            reply = await api.get(f"runs/{run['id']}/result")
            assert_error(reply, 404, what=f"result of {run['job']}")
            reply = await api.call("HEAD", f"runs/{run['id']}/result")
            assert reply.code == 404, reply
    finally:
        await api.post(f"runs/{running['id']}/stop", params={"force": "true"})


BAD_RANGES = [
    "bytes=abc",
    "bytes=100-50",
    "bytes=99999-",
    "bytes=-0",
    "bytes=-",
    "bytes=" + "9" * 40 + "-",
    "bytes=\u00e9-1".encode().decode("latin-1"),
]


@pytest.mark.parametrize("header", BAD_RANGES)
async def test_bad_range(api: Api, header: str) -> None:
    """An unsatisfiable or malformed ``Range``: 416 with ``Content-Range: bytes */size`` (and,
    for GET, the JSON error body every jobext error has); the file stays whole."""
    await api.job("report", "jobs_lib:write_result")
    run = await api.wait((await api.run("report", {"rows": 3}))["id"], "succeeded")
    size = run["result"]["size"]
    assert size > 0
    # A good range works, so the bad one below is refused for being bad.
    reply = await api.get(f"runs/{run['id']}/result", headers={"Range": "bytes=0-1"})
    assert reply.code == 206 and reply.body == b"id", reply
    assert reply.headers["Content-Range"] == f"bytes 0-1/{size}"

    reply = await api.call("HEAD", f"runs/{run['id']}/result", headers={"Range": header})
    assert reply.code == 416, f"HEAD Range: {header}: {reply}"
    assert reply.headers.get("Content-Range") == f"bytes */{size}"
    reply = await api.get(f"runs/{run['id']}/result", headers={"Range": header})
    assert reply.code == 416, f"GET Range: {header}: {reply}"
    assert reply.headers.get("Content-Range") == f"bytes */{size}", reply.headers
    assert_error(reply, 416, what=f"GET Range: {header}")
    # Still there, whole.
    reply = await api.get(f"runs/{run['id']}/result")
    assert reply.code == 200 and len(reply.body) == size


async def test_head_result_has_the_headers_of_get(api: Api) -> None:
    """HEAD answers what GET would, without the body (RFC 9110 §9.3.2)."""
    await api.job("report", "jobs_lib:write_result")
    run = await api.wait((await api.run("report", {"rows": 3}))["id"], "succeeded")
    for headers in ({}, {"Range": "bytes=0-1"}):
        got = await api.get(f"runs/{run['id']}/result", headers=dict(headers))
        head = await api.call("HEAD", f"runs/{run['id']}/result", headers=dict(headers))
        assert head.code == got.code and head.body == b"", (head, got)
        for name in ("Content-Type", "Content-Length", "Content-Disposition", "Content-Range"):
            assert head.headers.get(name) == got.headers.get(name), f"{name} {headers}"
        assert got.headers["Content-Type"].startswith("text/csv"), got.headers


@pytest.mark.parametrize("header", ["items=0-1", "bytes=0-1,3-4"])
async def test_range_not_understood_is_ignored(api: Api, header: str) -> None:
    """RFC 9110 §14.2: "An origin server MUST ignore a Range header field that contains a range
    unit it does not understand", and a server may ignore a multi-range request it does not
    serve; neither is unsatisfiable (416): the whole file (200) or the ranges (206) it is."""
    await api.job("report", "jobs_lib:write_result")
    run = await api.wait((await api.run("report", {"rows": 3}))["id"], "succeeded")
    reply = await api.get(f"runs/{run['id']}/result", headers={"Range": header})
    assert reply.code in (200, 206), f"Range: {header}: {reply}"
    if reply.code == 200:
        assert len(reply.body) == run["result"]["size"]


# --------------------------------------------------------------------------- loses nothing


async def test_bad_requests_lose_nothing(api: Api) -> None:
    """All the bad requests above, against a server holding data: afterwards every job and run
    is exactly as it was, and no job or run was added."""
    await api.job("victim", "jobs_lib:write_result", description="keep", default_args={"rows": 2})
    await api.job("broken", "jobs_lib:fail")
    done = await api.wait((await api.run("victim"))["id"], "succeeded")
    failed = await api.wait((await api.run("broken"))["id"], "failed")
    logs_before = (await api.get(f"runs/{failed['id']}/logs")).json()["items"]
    result_before = (await api.get(f"runs/{done['id']}/result")).body
    before = await jobs_state(api)

    unexpected: list[str] = []

    async def bad(expected: tuple[int, ...], method: str, path: str, **kw: Any) -> None:
        reply = await api.call(method, path, **kw)
        if reply.code not in expected:
            unexpected.append(f"{method} {path} {str(kw)[:120]} -> {reply!r:.200}")

    for _, raw, _, _ in REGISTER_RAW:
        await bad((400,), "POST", "jobs", raw=raw)
    for _, body, _, _ in REGISTER_FIELDS:
        await bad((400, 409), "POST", "jobs", body={**body, "name": "victim"})
        await bad((400,), "POST", "jobs", body=body)
    for _, raw, _, _ in PATCH_CASES:
        await bad((400,), "PATCH", "jobs/victim", raw=raw)
    for _, raw, headers, _, _ in ENQUEUE_CASES:
        await bad((400,), "POST", "jobs/victim/runs", raw=raw, headers=headers)
    for _, path, params, _ in RUNS_QUERY_CASES:
        await bad((400,), "GET", path.replace("hello", "victim"), params=params)
    for run_id in BAD_RUN_IDS:
        await bad((404,), "DELETE", f"runs/{run_id}")
        await bad((404,), "POST", f"runs/{run_id}/restart", body={})
        await bad((404,), "POST", f"runs/{run_id}/stop", body={}, params={"force": "true"})
    for rid in (done["id"], failed["id"]):
        await bad((400,), "POST", f"runs/{rid}/stop", body={}, params={"force": "maybe"})
        for action in ("pause", "resume", "stop"):
            await bad((409,), "POST", f"runs/{rid}/{action}", body={})
        await bad((400,), "GET", f"runs/{rid}/logs", params={"after": "-1"})
        await bad((400,), "GET", f"runs/{rid}/events", headers={"Last-Event-ID": "x"})
    await bad((409,), "POST", f"runs/{done['id']}/restart", body={})
    await bad((416,), "GET", f"runs/{done['id']}/result", headers={"Range": "bytes=999-"})
    await bad((404,), "DELETE", "jobs/nope")

    after = await jobs_state(api)
    assert after == before, f"the data changed; unexpected replies: {unexpected}"
    assert (await api.get(f"runs/{failed['id']}/logs")).json()["items"] == logs_before
    assert (await api.get(f"runs/{done['id']}/result")).body == result_before
    assert not unexpected, "\n".join(unexpected)


# --------------------------------------------------------------------------- fuzz

FUZZ_SEED = 20260401
FUZZ_REQUESTS = 800
KNOWN_FIELDS = [
    "name",
    "kind",
    "target",
    "description",
    "connection",
    "kernel",
    "default_args",
    "max_concurrent",
    "queue_when_busy",
    "timeout_s",
    "retries",
    "retry_backoff_s",
    "restartable",
    "keep_runs",
    "args",
    "follow",
]
KNOWN_PARAMS = [
    "page",
    "per_page",
    "sort",
    "search",
    "job",
    "status",
    "from",
    "to",
    "uuid",
    "batch",
    "schedule",
    "user",
    "after",
    "limit",
    "follow",
    "force",
    "last_event_id",
]
WEIRD_STRINGS = [
    "",
    " ",
    "0",
    "-1",
    "1e9",
    "NaN",
    "Infinity",
    "null",
    "true",
    "[]",
    "{}",
    "%",
    "%00",
    "\x00",
    "\u202e",
    "💥",
    "ü",
    "a" * 3000,
    "../../etc/passwd",
    "' OR 1=1 --",
    "%_\\",
    "IN_PROGRESS",
    "queued,",
    str(10**30),
    str(-(10**30)),
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00+14:00",
    "20220230",
    "2022-02-21T25:00",
    "-0",
    "1_000",
    "١٢",
    "\ud7ff",
    "\t\n",
]


class Fuzzer:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def text(self) -> str:
        rng = self.rng
        pick = rng.random()
        if pick < 0.4:
            return rng.choice(WEIRD_STRINGS)
        if pick < 0.7:
            return "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 30)))
        chars = (chr(rng.randint(1, 0x2FFFF)) for _ in range(rng.randint(1, 12)))
        return "".join(c for c in chars if not 0xD800 <= ord(c) <= 0xDFFF) or "x"

    def number(self) -> Any:
        rng = self.rng
        return rng.choice(
            [
                rng.randint(-5, 5),
                rng.randint(-(2**70), 2**70),
                10 ** rng.randint(10, 400),
                -(10 ** rng.randint(10, 40)),
                rng.uniform(-1e6, 1e6),
                rng.choice([1e308, -1e308, 5e-324, -0.0, 0.5]),
            ]
        )

    def value(self, depth: int = 0) -> Any:
        rng = self.rng
        pick = rng.random()
        if depth > 3 or pick < 0.3:
            return self.text()
        if pick < 0.55:
            return self.number()
        if pick < 0.65:
            return rng.choice([True, False, None])
        if pick < 0.8:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {self.key(): self.value(depth + 1) for _ in range(rng.randint(0, 4))}

    def key(self) -> str:
        return self.rng.choice(KNOWN_FIELDS) if self.rng.random() < 0.6 else self.text()

    def body(self) -> bytes:
        rng = self.rng
        pick = rng.random()
        if pick < 0.15:
            return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 200)))
        if pick < 0.25:
            depth = rng.choice([10, 500, 5000, 200_000])
            opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
            return (opener * depth + "1" + closer * depth).encode()
        if pick < 0.35:
            return json.dumps(self.value()).encode()
        if pick < 0.45:
            text = json.dumps({self.key(): self.value() for _ in range(3)})
            return text.encode()[: rng.randint(0, len(text))]  # truncated
        if pick < 0.5:
            return rng.choice(
                [
                    b"NaN",
                    b'{"timeout_s": Infinity}',
                    b'{"a": "\\ud800"}',
                    b'{"args": {"x": "\\udfff"}}',
                    b'{"description": "\\udfff"}',
                    b"\xef\xbb\xbf{}",
                ]
            )
        # An object of mostly known fields with garbage values: reaches the validators.
        body = {self.key(): self.value() for _ in range(rng.randint(1, 6))}
        if rng.random() < 0.5:
            body.setdefault("kind", rng.choice(["python", "shell", "notebook", "query", "x"]))
        return json.dumps(body).encode()

    def query(self) -> str:
        rng = self.rng
        parts = []
        for _ in range(rng.randint(0, 4)):
            key = rng.choice(KNOWN_PARAMS) if rng.random() < 0.8 else self.text()
            if rng.random() < 0.2:
                raw = bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 8)))
                value = urllib.parse.quote_from_bytes(raw, safe="")
            else:
                value = urllib.parse.quote(str(self.value(depth=3)), safe="")
            parts.append(f"{urllib.parse.quote(key, safe='')}={value}")
        if rng.random() < 0.05:
            parts.append("&&=&=x&" + "%ZZ")
        return "&".join(parts)

    def header(self) -> str:
        rng = self.rng
        text = "".join(rng.choice(string.digits + "-=,bytes ax") for _ in range(rng.randint(0, 25)))
        if rng.random() < 0.4:
            return f"bytes={rng.choice(['', str(rng.randint(0, 99)), HUGE])}-" + rng.choice(
                ["", str(rng.randint(0, 99)), HUGE, text]
            )
        return text

    def segment(self) -> str:
        """A path segment that names nothing (never an existing job or run)."""
        rng = self.rng
        choice = rng.choice(
            [
                self.text(),
                str(rng.randint(10**6, 10**9)),
                str(-rng.randint(0, 10**6)),
                str(10 ** rng.randint(15, 60)),
                "1e3",
                "0x10",
                "..",
                ".",
            ]
        )
        choice = choice.replace("/", "_").strip() or "x"
        return "fz-" + choice if choice in ("victim", "keep") else choice


async def test_fuzz_never_500(
    api: Api, http_server_client: Any, jp_auth_header: dict[str, str], jp_base_url: str
) -> None:
    """A few hundred random and malformed requests across every endpoint (fixed seed): no reply
    is a 5xx, every error body is JSON with a message, and the data already stored is intact."""
    await api.job("keep", "jobs_lib:write_result", description="precious", default_args={"rows": 2})
    await api.job("victim", "jobs_lib:noop")
    await api.job("broken", "jobs_lib:fail")
    done = await api.wait((await api.run("keep"))["id"], "succeeded")
    failed = await api.wait((await api.run("broken"))["id"], "failed")
    existing_ids = {done["id"], failed["id"]}
    before = await jobs_state(api)
    keep_result = (await api.get(f"runs/{done['id']}/result")).body

    fz = Fuzzer(FUZZ_SEED)
    rng = fz.rng

    def any_name() -> str:
        return rng.choice(["keep", "victim", "broken", fz.segment()])

    def bad_id() -> str:
        while True:
            seg = fz.segment()
            try:
                if int(seg) in existing_ids:
                    continue
            except ValueError:
                pass
            return seg

    def final_id() -> str:
        return str(rng.choice(sorted(existing_ids)))

    # (method, path factory, sends a body)
    endpoints: list[tuple[str, Any, bool]] = [
        ("GET", lambda: "jobs", False),
        ("POST", lambda: "jobs", True),
        ("PUT", lambda: "jobs", True),
        ("GET", lambda: f"jobs/{any_name()}", False),
        ("PATCH", lambda: "jobs/victim", True),
        ("PATCH", lambda: f"jobs/{fz.segment()}", True),
        ("DELETE", lambda: f"jobs/{fz.segment()}", False),
        ("GET", lambda: f"jobs/{any_name()}/stats", False),
        ("GET", lambda: f"jobs/{any_name()}/runs", False),
        ("POST", lambda: "jobs/victim/runs", True),
        ("POST", lambda: f"jobs/{fz.segment()}/runs", True),
        ("GET", lambda: "runs", False),
        ("GET", lambda: f"runs/{rng.choice([final_id(), bad_id()])}", False),
        ("DELETE", lambda: f"runs/{bad_id()}", False),
        ("POST", lambda: f"runs/{rng.choice([final_id(), bad_id()])}/stop", True),
        ("POST", lambda: f"runs/{rng.choice([final_id(), bad_id()])}/pause", True),
        ("POST", lambda: f"runs/{rng.choice([final_id(), bad_id()])}/resume", True),
        ("POST", lambda: f"runs/{bad_id()}/restart", True),
        ("POST", lambda: f"runs/{done['id']}/restart", True),
        ("GET", lambda: f"runs/{rng.choice([final_id(), bad_id()])}/logs", False),
        ("GET", lambda: f"runs/{rng.choice([final_id(), bad_id()])}/events", False),
        ("GET", lambda: f"runs/{rng.choice([str(done['id']), bad_id()])}/result", False),
        ("HEAD", lambda: f"runs/{rng.choice([str(done['id']), bad_id()])}/result", False),
        ("GET", lambda: "stats", False),
        ("GET", lambda: "openapi.json", False),
    ]

    async def send(
        method: str, path: str, query: str, body: bytes | None, headers: dict[str, str]
    ) -> HTTPResponse:
        quoted = "/".join(urllib.parse.quote(seg, safe="") for seg in path.split("/"))
        url = f"{jp_base_url}{API}/{quoted}" + (f"?{query}" if query else "")
        return await http_server_client.fetch(
            url,
            method=method,
            body=body,
            headers={**jp_auth_header, **headers},
            raise_error=False,
            allow_nonstandard_methods=True,
            request_timeout=30,
        )

    failures: list[tuple[str, str]] = []  # (kind of failure, one example)
    created_jobs: set[str] = set()
    for i in range(FUZZ_REQUESTS):
        method, make_path, has_body = rng.choice(endpoints)
        path = make_path()
        query = fz.query() if rng.random() < 0.7 else ""
        body = fz.body() if has_body else None
        headers: dict[str, str] = {}
        if rng.random() < 0.3:
            headers["Last-Event-ID"] = fz.header()
        if path.endswith("/result") and rng.random() < 0.6:
            headers["Range"] = fz.header()
        if rng.random() < 0.1:
            headers["Accept"] = rng.choice(["text/event-stream", "*/*", "application/xml"])
        if rng.random() < 0.1:
            headers["Content-Type"] = rng.choice(
                ["text/plain", "application/x-www-form-urlencoded"]
            )
        endpoint = _shape(path)
        described = f"#{i} {method} {path[:60]!r} ?{query[:80]} body={body[:80] if body else b''!r} {headers}"
        response = await send(method, path, query, body, headers)
        code = response.code
        content_type = response.headers.get("Content-Type", "")
        if code == 599 or code >= 500:
            failures.append(
                (f"{code} {method} {endpoint}", f"{described}: {(response.body or b'')[:300]!r}")
            )
            continue
        if method == "POST" and path == "jobs" and code == 201:
            created_jobs.add(json.loads(response.body)["name"])
        if method == "HEAD" or code in (204, 304):
            continue
        if content_type.startswith("text/event-stream"):
            if b"event: close" not in (response.body or b""):
                failures.append((f"stream without close: {method} {endpoint}", described))
            continue
        if code >= 400 or content_type.startswith("application/json"):
            try:
                parsed = strict_json(response.body or b"")
            except ValueError as exc:
                failures.append(
                    (
                        f"{code} body not JSON: {method} {endpoint}",
                        f"{described}: {response.body[:200]!r} ({exc})",
                    )
                )
                continue
            if code >= 400 and not (isinstance(parsed, dict) and parsed.get("message")):
                failures.append(
                    (f"{code} without message: {method} {endpoint}", f"{described}: {parsed!r}")
                )

    # Loses nothing: every job and run stored before is there as it was (the victim job may have
    # been changed by a request that happened to be valid, and got runs of its own).
    lost: list[str] = []
    after = await jobs_state(api)
    jobs_after = {j["name"]: j for j in after["jobs"]}
    for job in before["jobs"]:
        if job["name"] not in jobs_after:
            lost.append(f"job {job['name']} is gone")
        elif job["name"] != "victim" and jobs_after[job["name"]] != job:
            lost.append(f"job {job['name']} changed: {jobs_after[job['name']]}")
    unexplained = set(jobs_after) - {j["name"] for j in before["jobs"]} - created_jobs
    if unexplained:
        lost.append(f"jobs appeared without a 201: {sorted(unexplained)}")
    runs_after = {r["id"]: r for r in after["runs"]}
    for run in before["runs"]:
        if runs_after.get(run["id"]) != run:
            lost.append(f"run {run['id']} changed or is gone: {runs_after.get(run['id'])}")
    strays = {r["job"] for r in after["runs"] if r["id"] not in existing_ids} - {"victim"}
    if strays:
        lost.append(f"runs appeared for {sorted(strays)}")
    if (await api.get(f"runs/{done['id']}/result")).body != keep_result:
        lost.append("the result file of the kept run changed")

    # One line per distinct kind of failure (status, method, endpoint), with a count.
    kinds: dict[str, list[str]] = {}
    for kind, example in failures:
        kinds.setdefault(kind, []).append(example)
    summary = [f"{len(v)}x {k}\n    e.g. {v[0][:400]}" for k, v in sorted(kinds.items())]
    assert not failures and not lost, (
        f"{len(failures)} bad replies out of {FUZZ_REQUESTS}:\n"
        + "\n".join(summary)
        + ("\nlost data:\n" + "\n".join(lost) if lost else "")
    )


def _shape(path: str) -> str:
    """``runs/17/stop`` -> ``runs/{}/stop``: the endpoint of a fuzzed path."""
    parts = path.split("/")
    if len(parts) > 1:
        parts[1] = "{}"
    return "/".join(parts)


async def test_paths_no_file_system_takes_are_400_naming_the_field(api: Api) -> None:
    """Found by schemathesis: a name too long for the file system (or holding a NUL) in a
    notebook target, an import folder or an app path made os.stat raise, and the server 500."""
    long_name = "x" * 5000
    cases = [
        ("jobs", {"name": "nb", "kind": "notebook", "target": long_name + ".ipynb"}, "target"),
        ("jobs", {"name": "nb", "kind": "notebook", "target": "a\u0000b.ipynb"}, "target"),
        (
            "jobs",
            {
                "name": "py",
                "kind": "python",
                "target": "jobs_lib:noop",
                "options": {"import_path": long_name},
            },
            "options",
        ),
        ("apps", {"name": "app", "path": long_name}, "path"),
    ]
    for path, body, field in cases:
        reply = await api.call("POST", path, body=body)
        assert reply.code == 400, (path, body["name"], reply.body[:200])
        assert json.loads(reply.body)["field"] == field
