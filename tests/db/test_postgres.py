"""The REST API end to end with PostgreSQL as the database.

Each test gets a fresh PostgreSQL database (created here, dropped with ``WITH (FORCE)`` after)
and a pytest-jupyter server whose jobext uses it (this module overrides the ``db_url`` fixture).
If PostgreSQL is not reachable the tests FAIL, saying so: CI starts it (``.ci/postgres``). Set
``JOBEXT_TEST_POSTGRES`` to use another server than
``postgresql+psycopg://postgres@127.0.0.1:5432``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import psutil
import psycopg
import pytest
from pg import POSTGRES, admin, server_on_fresh_database
from sqlalchemy import text
from sqlalchemy.engine import make_url
from waiting import eventually_async

TIMEOUT = 60.0


# ---------------------------------------------------------------------------- database


pg_database, jp_server_cleanup, db_url = server_on_fresh_database()


# ---------------------------------------------------------------------------- helpers


def run_processes(uuid: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if (
                proc.environ().get("JOBEXT_RUN_UUID") == uuid
                and proc.status() != psutil.STATUS_ZOMBIE
            ):
                found.append(proc)
    return found


async def finish(api: Any, job: str, args: Any = None) -> dict[str, Any]:
    """Enqueue a run of ``job`` and wait until it has ended."""
    run = await api.run(job, args)
    return await api.wait(run["id"], timeout=TIMEOUT)  # type: ignore[no-any-return]


async def ids(api: Any, **params: Any) -> tuple[list[int], int]:
    reply = await api.get("runs", params={"per_page": 1000, **params})
    assert reply.code == 200, reply
    body = reply.json()
    return [r["id"] for r in body["items"]], body["total"]


# ---------------------------------------------------------------------------- tests


async def test_the_server_uses_postgres(jobext_app, api, pg_database):
    assert jobext_app.db.dialect == "postgresql"
    assert jobext_app.db.engine.url.database == pg_database
    with (
        admin() as conn,
        psycopg.connect(
            make_url(POSTGRES)
            .set(drivername="postgresql", database=pg_database)
            .render_as_string(hide_password=False)
        ) as db,
    ):
        assert conn.execute("SELECT 1").fetchone() == (1,)
        tables = {r[0] for r in db.execute("SELECT tablename FROM pg_tables").fetchall()}
    assert {"jobext_job", "jobext_run", "jobext_run_event", "jobext_worker"} <= tables
    await api.job("noop", "jobs_lib:noop")
    run = await finish(api, "noop")
    assert run["status"] == "succeeded"
    assert run["created_at"].endswith("Z") and run["ended_at"].endswith("Z")


async def test_a_read_is_one_snapshot(jobext_app, pg_database):
    """A page's items and its total are two statements of one read: a commit between them
    must not show (READ COMMITTED would give each statement its own snapshot)."""
    dsn = make_url(POSTGRES).set(drivername="postgresql", database=pg_database)
    with psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True) as other:
        other.execute("CREATE TABLE scratch (x int)")

        def read(session: Any) -> tuple[int, int]:
            count = text("SELECT count(*) FROM scratch")
            before = session.execute(count).scalar_one()
            other.execute("INSERT INTO scratch VALUES (1)")
            return before, session.execute(count).scalar_one()

        assert await jobext_app.db.read(read) == (0, 0)
        assert (
            await jobext_app.db.read(
                lambda s: s.execute(text("SELECT count(*) FROM scratch")).scalar_one()
            )
            == 1
        )


async def test_numbering_a_runs_events_lets_its_row_be_updated(jobext_app, api, pg_database):
    """While a flush numbers a run's events, the run's row can still be updated (as a claim's
    compare-and-set does): a claim holding its job's row and a run's end that flushes a queued
    run's events before its own claim would otherwise wait on each other, a deadlock. Another
    flush of the same run still waits, and so does the run's deletion."""
    import threading

    from jobext.runs.event_rows import NUMBERING_SPACE, Event, write_events
    from jobext.times import utcnow

    await api.job("short", "jobs_lib:noop")
    run = await finish(api, "short")
    numbered = threading.Event()
    release = threading.Event()

    def flush() -> None:
        with jobext_app.db.writing() as session:
            write_events(session, [Event(run["id"], 0, utcnow(), "log", "a line")])
            numbered.set()
            release.wait(30)

    def others() -> list[str]:
        dsn = make_url(POSTGRES).set(drivername="postgresql", database=pg_database)
        seen = []
        with psycopg.connect(dsn.render_as_string(hide_password=False)) as conn:
            for sql in (
                "UPDATE jobext_run SET updated_at = updated_at WHERE id = %(id)s",
                "SELECT pg_advisory_xact_lock(%(space)s, CAST(%(id)s - 2147483648 AS int))",
                "DELETE FROM jobext_run WHERE id = %(id)s",
            ):
                conn.execute("SET lock_timeout = '500ms'")
                try:
                    conn.execute(sql, {"id": run["id"], "space": NUMBERING_SPACE})
                    seen.append("done")
                except psycopg.errors.LockNotAvailable:
                    seen.append("waits")
                conn.rollback()
        return seen

    flusher = threading.Thread(target=flush)
    flusher.start()
    try:
        assert await asyncio.to_thread(numbered.wait, 30)
        assert await asyncio.to_thread(others) == ["done", "waits", "waits"]
    finally:
        release.set()
        await asyncio.to_thread(flusher.join, 30)


async def test_register_enqueue_succeed_with_logs_and_result(api):
    job = await api.job(
        "report", "jobs_lib:write_result", description="rows to CSV", default_args={"rows": 2}
    )
    assert job["name"] == "report" and job["description"] == "rows to CSV"
    listed = (await api.get("jobs", params={"search": "CSV"})).json()
    assert [j["name"] for j in listed["items"]] == ["report"] and listed["total"] == 1

    run = await api.run("report", {"rows": 5})
    assert run["status"] == "queued" and run["args"] == {"rows": 5}
    done = await api.wait(run["id"], timeout=TIMEOUT)
    assert done["status"] == "succeeded", done
    assert done["records_written"] == 5 and done["exit_code"] == 0
    assert done["started_at"] and done["ended_at"] and done["duration_s"] >= 0
    result = done["result"]
    assert result["filename"] == f"report-{run['id']}.csv"
    assert result["media_type"] == "text/csv"
    reply = await api.get(f"runs/{run['id']}/result")
    assert reply.code == 200
    assert reply.body.decode().splitlines() == ["id,name"] + [f"{i},row {i}" for i in range(5)]
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert int(reply.headers["Content-Length"]) == len(reply.body) == result["size"]
    assert "attachment" in reply.headers["Content-Disposition"]
    assert f"report-{run['id']}.csv" in reply.headers["Content-Disposition"]

    await api.job("hello", "jobs_lib:hello")
    hello = await finish(api, "hello", {"name": "pg", "n": 3})
    assert hello["status"] == "succeeded" and hello["progress"] == 1.0
    logs = (await api.get(f"runs/{hello['id']}/logs")).json()["items"]
    texts = [(line["stream"], line["level"], line["text"]) for line in logs]
    for i in range(3):
        assert ("stdout", None, f"hello pg {i}") in texts
    assert ("log", "WARNING", "jobs_lib: done greeting") in texts
    seqs = [line["seq"] for line in logs]
    assert seqs == sorted(set(seqs))
    page = (await api.get(f"runs/{hello['id']}/logs", params={"after": seqs[1], "limit": 2})).json()
    assert [line["seq"] for line in page["items"]] == seqs[2:4]


async def test_failed_run_records_the_error(api):
    await api.job("fail", "jobs_lib:fail")
    await api.job("exit", "jobs_lib:exit_code")
    failed = await finish(api, "fail", {"message": "broken on postgres"})
    assert failed["status"] == "failed"
    assert failed["error"].startswith("ValueError: broken on postgres")
    assert "Traceback" in failed["error"]
    assert failed["exit_code"] == 1 and failed["ended_at"]
    await api.wait_log(failed["id"], "about to fail")
    exited = await finish(api, "exit", {"code": 3})
    assert (exited["status"], exited["exit_code"]) == ("failed", 3)


async def test_history_filters_and_pagination(api):
    await api.job("ok", "jobs_lib:noop", max_concurrent=10)
    await api.job("bad", "jobs_lib:fail", max_concurrent=10)
    await api.job("slow", "jobs_lib:loop")

    oks = [await api.run("ok") for _ in range(3)]
    for run in oks:
        assert (await api.wait(run["id"], timeout=TIMEOUT))["status"] == "succeeded"
    # A boundary between two batches of runs (the server and this test share the clock).
    await asyncio.sleep(0.05)
    boundary = dt.datetime.now(dt.timezone.utc)
    await asyncio.sleep(0.05)
    bads = [await api.run("bad") for _ in range(2)]
    for run in bads:
        assert (await api.wait(run["id"], timeout=TIMEOUT))["status"] == "failed"
    slow = await api.run("slow", {"seconds": 120})
    await api.wait(slow["id"], "running", timeout=TIMEOUT)

    ok_ids = sorted(r["id"] for r in oks)
    bad_ids = sorted(r["id"] for r in bads)
    everything = sorted([*ok_ids, *bad_ids, slow["id"]])

    async def check(expected: list[int], **params: Any) -> None:
        got, total = await ids(api, **params)
        assert (sorted(got), total) == (sorted(expected), len(expected)), params

    await check([slow["id"]], status="IN_PROGRESS")
    await check(ok_ids, status="SUCCEEDED")
    await check(bad_ids, status="FAILED")
    await check([*ok_ids, *bad_ids], status="succeeded,failed")
    await check([slow["id"]], status="running")
    await check(ok_ids, job="ok")
    await check([], job="ok", status="FAILED")
    await check(bad_ids, job="bad", status="FAILED")
    await check([], job="nobody")

    # from / to, ISO 8601 and compact.
    iso_boundary = boundary.isoformat(timespec="microseconds").replace("+00:00", "Z")
    await check([*bad_ids, slow["id"]], **{"from": iso_boundary})
    await check(ok_ids, to=iso_boundary)
    await check(bad_ids, **{"from": iso_boundary, "status": "FAILED"})
    today = dt.datetime.now(dt.timezone.utc).date()
    await check(everything, **{"from": (today - dt.timedelta(days=1)).strftime("%Y%m%d")})
    await check([], to=(today - dt.timedelta(days=1)).strftime("%Y%m%d"))
    await check([], **{"from": (today + dt.timedelta(days=2)).strftime("%Y%m%dT%H%M%S")})
    bad = await api.get("runs", params={"from": "not a date"})
    assert bad.code == 400 and bad.json()["field"] == "from"

    # Pagination: stable totals, disjoint pages that cover everything, newest first.
    seen: list[int] = []
    for page in range(4):
        body = (await api.get("runs", params={"per_page": 2, "page": page})).json()
        assert (body["total"], body["page"], body["per_page"]) == (len(everything), page, 2)
        seen.extend(r["id"] for r in body["items"])
        assert len(body["items"]) == min(2, max(0, len(everything) - 2 * page))
    assert seen == sorted(everything, reverse=True)
    ascending = (await api.get("runs", params={"sort": "id", "per_page": 3})).json()
    assert [r["id"] for r in ascending["items"]] == everything[:3]
    assert ascending["total"] == len(everything)
    one = (await api.get("runs", params={"job": "ok", "per_page": 1, "page": 2})).json()
    assert (one["total"], [r["id"] for r in one["items"]]) == (3, [ok_ids[0]])
    job_runs = (await api.get("jobs/ok/runs", params={"per_page": 2})).json()
    assert job_runs["total"] == 3 and len(job_runs["items"]) == 2

    stopped = await api.post(f"runs/{slow['id']}/stop", params={"force": "true"})
    assert stopped.code == 200 and stopped.json()["status"] == "stopped"


async def test_max_concurrent_conflict_and_stops(api):
    await api.job("loop", "jobs_lib:loop")
    first = await api.run("loop", {"seconds": 120})
    await api.wait(first["id"], "running", timeout=TIMEOUT)
    busy = await api.post("jobs/loop/runs", {})
    assert busy.code == 409, busy
    assert busy.json()["reason"] == "busy" and busy.json()["message"]

    # Graceful stop: stopping, then stopped once the process honours it.
    await api.wait_log(first["id"], "tick 2", timeout=TIMEOUT)
    reply = await api.post(f"runs/{first['id']}/stop")
    assert reply.code == 200 and reply.json()["status"] in ("stopping", "stopped")
    ended = await api.wait(first["id"], timeout=TIMEOUT)
    assert ended["status"] == "stopped" and ended["error"]
    await eventually_async(
        lambda: not run_processes(first["uuid"]),
        timeout=TIMEOUT,
        message="the stopped run's process to end",
    )
    again = await api.post(f"runs/{first['id']}/stop")
    assert again.code == 409

    # Force stop: stopped at once, and its process is killed.
    second = await api.run("loop", {"seconds": 120})
    await api.wait_log(second["id"], "tick 2", timeout=TIMEOUT)
    reply = await api.post(f"runs/{second['id']}/stop", params={"force": "true"})
    assert reply.code == 200 and reply.json()["status"] == "stopped", reply
    assert "force" in reply.json()["error"]
    await eventually_async(
        lambda: not run_processes(second["uuid"]),
        timeout=TIMEOUT,
        message="the force-stopped run's process to end",
    )
    assert (await api.get(f"runs/{second['id']}")).json()["status"] == "stopped"

    # max_concurrent=2 allows two (the test server has two worker slots), then 409.
    await api.job("pair", "jobs_lib:loop", max_concurrent=2)
    pair = [await api.run("pair", {"seconds": 120}) for _ in range(2)]
    assert (await api.post("jobs/pair/runs", {})).code == 409
    for run in pair:
        reply = await api.post(f"runs/{run['id']}/stop", params={"force": "true"})
        assert reply.code == 200 and reply.json()["status"] == "stopped"

    # queue_when_busy: the next run waits in "queued" instead of a 409, and runs later.
    await api.job("waiter", "jobs_lib:loop", queue_when_busy=True)
    head = await api.run("waiter", {"seconds": 120})
    await api.wait(head["id"], "running", timeout=TIMEOUT)
    queued = await api.run("waiter", {"seconds": 0.1})
    assert queued["status"] == "queued"
    await api.wait_log(head["id"], "tick 2", timeout=TIMEOUT)
    assert (await api.get(f"runs/{queued['id']}")).json()["status"] == "queued"
    reply = await api.post(f"runs/{head['id']}/stop", params={"force": "true"})
    assert reply.code == 200 and reply.json()["status"] == "stopped"
    assert (await api.wait(queued["id"], timeout=TIMEOUT))["status"] == "succeeded"


async def test_restart_creates_a_new_run(api):
    await api.job("fail", "jobs_lib:fail")
    old = await finish(api, "fail", {"message": "first"})
    assert old["status"] == "failed"
    reply = await api.post(f"runs/{old['id']}/restart")
    assert reply.code == 201, reply
    new = reply.json()
    assert new["id"] != old["id"] and new["uuid"] != old["uuid"]
    assert new["restarted_from"] == old["id"]
    assert new["trigger"] == "restart" and new["args"] == old["args"]
    assert reply.headers["Location"].endswith(f"/runs/{new['id']}")
    kept = (await api.get(f"runs/{old['id']}")).json()
    assert kept["restarted_as"] == new["id"]
    assert (kept["status"], kept["error"], kept["ended_at"]) == (
        old["status"],
        old["error"],
        old["ended_at"],
    )
    assert (await api.wait(new["id"], timeout=TIMEOUT))["status"] == "failed"
    assert (await api.post(f"runs/{old['id']}/restart")).code == 409  # restarted already

    await api.job("ok", "jobs_lib:noop")
    done = await finish(api, "ok")
    assert (await api.post(f"runs/{done['id']}/restart")).code == 409  # succeeded
    await api.job("once", "jobs_lib:fail", restartable=False)
    once = await finish(api, "once")
    refused = await api.post(f"runs/{once['id']}/restart")
    assert refused.code == 409 and refused.json()["reason"] == "not_restartable"
    assert (await api.post("runs/999999/restart")).code == 404


async def test_remove_a_run(api, jobext_app):
    await api.job("report", "jobs_lib:write_result")
    run = await finish(api, "report")
    assert run["status"] == "succeeded" and run["result"]
    result_dir = jobext_app.runs.results_dir / run["uuid"]
    assert result_dir.is_dir()
    reply = await api.delete(f"runs/{run['id']}")
    assert reply.code == 204, reply
    assert (await api.get(f"runs/{run['id']}")).code == 404
    assert (await api.get(f"runs/{run['id']}/logs")).code == 404
    assert (await api.get(f"runs/{run['id']}/result")).code == 404
    assert not result_dir.exists()
    assert (await api.delete(f"runs/{run['id']}")).code == 404

    await api.job("loop", "jobs_lib:loop")
    busy = await api.run("loop", {"seconds": 120})
    await api.wait(busy["id"], "running", timeout=TIMEOUT)
    refused = await api.delete(f"runs/{busy['id']}")
    assert refused.code == 409 and refused.json()["reason"] == "in_progress"
    await api.post(f"runs/{busy['id']}/stop", params={"force": "true"})
    assert (await api.delete(f"runs/{busy['id']}")).code == 204
    assert (await ids(api, job="loop")) == ([], 0)


async def test_job_stats_and_server_stats(api):
    await api.job("hello", "jobs_lib:hello", max_concurrent=5)
    await api.job("fail", "jobs_lib:fail")
    oks = [await finish(api, "hello", {"n": n}) for n in (1, 2)]
    failed = await finish(api, "fail")
    assert [r["status"] for r in oks] == ["succeeded", "succeeded"]

    stats = (await api.get("jobs/hello/stats")).json()
    assert (stats["total"], stats["succeeded"], stats["failed"], stats["stopped"]) == (2, 2, 0, 0)
    expected = sum(r["duration_s"] for r in oks) / 2
    assert stats["average_duration_s"] == pytest.approx(expected, abs=0.002)
    assert stats["average_duration_s"] > 0
    assert stats["latest_run"]["id"] == oks[-1]["id"]
    fail_stats = (await api.get("jobs/fail/stats")).json()
    assert (fail_stats["total"], fail_stats["failed"], fail_stats["average_duration_s"]) == (
        1,
        1,
        None,
    )
    detail = (await api.get("jobs/hello")).json()
    assert detail["stats"]["total"] == 2 and detail["latest_run"]["id"] == oks[-1]["id"]

    overview = (await api.get("stats")).json()
    assert overview["jobs"] == 2
    assert overview["workers"] >= 1
    assert overview["runs"]["succeeded"] == 2 and overview["runs"]["failed"] == 1
    assert sum(overview["runs"].values()) == 3
    assert failed["id"] > oks[-1]["id"]
