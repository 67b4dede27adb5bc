"""Runs end to end through a real server and real processes: outcomes, controls, limits."""

from __future__ import annotations

import asyncio
import json
import os
import time

import psutil
import pytest
from waiting import eventually_async


async def test_python_run_succeeds_with_logs_progress_and_user(api):
    await api.job("hello", "jobs_lib:hello", default_args={"name": "default", "n": 2})
    run = await api.run("hello", {"name": "jobext"})
    assert run["status"] == "queued"
    assert run["trigger"] == "manual"
    assert run["args"] == {"name": "jobext", "n": 2}
    done = await api.wait(run["id"])
    assert done["status"] == "succeeded", done
    assert done["exit_code"] == 0
    assert done["progress"] == 1.0
    assert done["message"] == "greeted 2"
    assert done["duration_s"] >= 0
    assert done["started_at"] and done["ended_at"]
    assert done["user"]  # the permission tests check it is the caller's name
    logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
    texts = [(line["stream"], line["level"], line["text"]) for line in logs]
    assert ("stdout", None, "hello jobext 0") in texts
    assert ("stdout", None, "hello jobext 1") in texts
    assert ("log", "WARNING", "jobs_lib: done greeting") in texts
    assert any(t.startswith("returned {'greeted': 2}") for _, _, t in texts)
    seqs = [line["seq"] for line in logs]
    assert seqs == sorted(seqs)


@pytest.mark.parametrize(
    ("target", "args", "line"),
    [
        ("jobs_lib:async_job", {"value": 4}, "async 4"),
        ("jobs_lib:ClassJob", {"x": 7}, "class job 7"),
        ("jobs_lib.hello", {"n": 1}, "hello world 0"),
    ],
)
async def test_callable_shapes(api, target, args, line):
    await api.job("shape", target)
    run = await api.run("shape", args)
    assert (await api.wait(run["id"]))["status"] == "succeeded"
    await api.wait_log(run["id"], line)


async def test_failure_records_error_traceback_and_exit_code(api):
    await api.job("fail", "jobs_lib:fail")
    run = await api.wait((await api.run("fail", {"message": "it broke"}))["id"])
    assert run["status"] == "failed"
    assert run["error"].startswith("ValueError: it broke")
    assert "Traceback" in run["error"] and "jobs_lib.py" in run["error"]
    assert run["exit_code"] == 1
    await api.wait_log(run["id"], "about to fail")


async def test_sys_exit_and_crash(api):
    await api.job("exit", "jobs_lib:exit_code", max_concurrent=2)
    await api.job("crash", "jobs_lib:crash")
    exited = await api.wait((await api.run("exit", {"code": 3}))["id"])
    assert (exited["status"], exited["exit_code"]) == ("failed", 3)
    ok = await api.wait((await api.run("exit", {"code": 0}))["id"])
    assert ok["status"] == "succeeded"
    crashed = await api.wait((await api.run("crash"))["id"])
    assert crashed["status"] == "failed"
    assert "killed by signal 9" in crashed["error"]


async def test_import_error_fails_the_run(api):
    await api.job("missing", "no_such_module:func")
    run = await api.wait((await api.run("missing"))["id"])
    assert run["status"] == "failed"
    assert "ModuleNotFoundError" in run["error"]


async def test_bad_keyword_fails_with_message(api):
    await api.job("hello", "jobs_lib:hello")
    run = await api.wait((await api.run("hello", {"nope": 1}))["id"])
    assert run["status"] == "failed"
    assert "unexpected keyword argument 'nope'" in run["error"]


async def test_result_file_download(api):
    await api.job("res", "jobs_lib:write_result")
    run = await api.wait((await api.run("res", {"rows": 2}))["id"])
    assert run["records_written"] == 2
    result = run["result"]
    assert result["filename"] == f"res-{run['id']}.csv"
    assert result["media_type"] == "text/csv"
    assert result["url"].endswith(f"/jobext/api/v1/runs/{run['id']}/result")
    reply = await api.get(f"runs/{run['id']}/result")
    assert reply.code == 200
    assert reply.body == b"id,name\n0,row 0\n1,row 1\n"
    assert reply.headers["Content-Type"] == "text/csv"
    assert reply.headers["Content-Length"] == str(len(reply.body))
    assert reply.headers["Content-Disposition"] == f'attachment; filename="res-{run["id"]}.csv"'
    part = await api.get(f"runs/{run['id']}/result", headers={"Range": "bytes=8-14"})
    assert part.code == 206
    assert part.body == b"0,row 0"
    assert part.headers["Content-Range"] == f"bytes 8-14/{len(reply.body)}"
    no = await api.wait((await api.run("res", {"rows": 0, "suffix": ".txt"}))["id"])
    assert no["result"]["media_type"] == "text/plain"


async def test_run_without_result_answers_404(api):
    await api.job("noop", "jobs_lib:noop")
    run = await api.wait((await api.run("noop"))["id"])
    assert run["result"] is None
    reply = await api.get(f"runs/{run['id']}/result")
    assert reply.code == 404 and reply.json()["reason"] == "no_result"


async def test_steps_are_recorded(api):
    await api.job("steps", "jobs_lib:steps")
    run = await api.wait((await api.run("steps"))["id"])
    assert [(s["name"], s["status"]) for s in run["steps"]] == [
        ("extract", "succeeded"),
        ("load", "succeeded"),
    ]
    assert all(s["started_at"] and s["ended_at"] for s in run["steps"])


async def test_shell_job_with_string_and_list_args(api):
    await api.job("echo", "echo", kind="shell", max_concurrent=3)
    first = await api.wait((await api.run("echo", "one two"))["id"])
    assert first["status"] == "succeeded"
    await api.wait_log(first["id"], "one two")
    second = await api.wait((await api.run("echo", ["it's", "a $HOME"]))["id"])
    await api.wait_log(second["id"], "it's a $HOME")
    await api.job("false", "exit 4", kind="shell")
    failed = await api.wait((await api.run("false"))["id"])
    assert (failed["status"], failed["exit_code"]) == ("failed", 4)
    assert "exited with code 4" in failed["error"]
    await api.job("stderr", "echo oops >&2", kind="shell")
    err = await api.wait((await api.run("stderr"))["id"])
    logs = (await api.get(f"runs/{err['id']}/logs")).json()["items"]
    assert {"stream": "stderr", "text": "oops"}.items() <= next(
        line for line in logs if line["text"] == "oops"
    ).items()


async def _tick_count(api, run_id):
    items = (await api.get(f"runs/{run_id}/logs", params={"limit": "10000"})).json()["items"]
    return sum(1 for line in items if line["text"].startswith("tick "))


async def test_pause_at_checkpoint_and_resume(api):
    await api.job("loop", "jobs_lib:loop")
    run = await api.run("loop", {"seconds": 60, "tick": 0.02})
    await api.wait_log(run["id"], "tick 3")
    reply = await api.post(f"runs/{run['id']}/pause")
    assert reply.code == 200 and reply.json()["status"] in ("pausing", "paused")
    await api.wait(run["id"], "paused", timeout=10)
    await asyncio.sleep(0.3)
    before = await _tick_count(api, run["id"])
    await asyncio.sleep(0.5)
    assert await _tick_count(api, run["id"]) == before, "a paused job kept working"
    assert (await api.post(f"runs/{run['id']}/pause")).code == 200  # pausing twice is harmless
    resumed = await api.post(f"runs/{run['id']}/resume")
    assert resumed.code == 200 and resumed.json()["status"] == "running"
    await api.wait_log(run["id"], f"tick {before + 5}")
    assert (await api.post(f"runs/{run['id']}/resume")).code == 409
    await api.post(f"runs/{run['id']}/stop")
    assert (await api.wait(run["id"]))["status"] == "stopped"


async def test_shell_job_pauses_by_stopping_its_process_group(api):
    await api.job("count", "for i in $(seq 1 600); do echo tick $i; sleep 0.05; done", kind="shell")
    run = await api.run("count")
    await api.wait_log(run["id"], "tick 3")
    await api.post(f"runs/{run['id']}/pause")
    await api.wait(run["id"], "paused", timeout=10)
    await asyncio.sleep(0.3)
    before = await _tick_count(api, run["id"])
    await asyncio.sleep(0.5)
    assert await _tick_count(api, run["id"]) == before
    await api.post(f"runs/{run['id']}/resume")
    await api.wait_log(run["id"], f"tick {before + 3}")
    await api.post(f"runs/{run['id']}/pause")
    await api.wait(run["id"], "paused", timeout=10)
    await api.post(f"runs/{run['id']}/stop")  # stopping a paused shell job must not hang
    assert (await api.wait(run["id"], timeout=15))["status"] == "stopped"


async def test_graceful_stop_records_who_and_is_prompt(api):
    await api.job("sleep", "jobs_lib:sleep_no_checkpoint")
    run = await api.run("sleep", {"seconds": 60})
    await api.wait_log(run["id"], "sleeping")
    started = time.monotonic()
    reply = await api.post(f"runs/{run['id']}/stop")
    assert reply.code == 200 and reply.json()["status"] in ("stopping", "stopped")
    done = await api.wait(run["id"], timeout=15)
    assert done["status"] == "stopped"
    assert time.monotonic() - started < 5, "SIGTERM should end a sleeping job at once"
    logs = (await api.get(f"runs/{run['id']}/logs")).json()["items"]
    assert any(line["stream"] == "jobext" and "stop requested by" in line["text"] for line in logs)
    assert (await api.post(f"runs/{run['id']}/stop")).code == 409


async def test_stop_escalates_to_kill_after_grace(api):
    await api.job("stubborn", "jobs_lib:ignore_sigterm")
    run = await api.run("stubborn")
    await api.wait_log(run["id"], "ignoring SIGTERM")
    started = time.monotonic()
    await api.post(f"runs/{run['id']}/stop")
    done = await api.wait(run["id"], timeout=20)
    elapsed = time.monotonic() - started
    assert done["status"] == "stopped"
    assert 2.0 <= elapsed < 15, elapsed  # the grace period is 3 s in these tests


async def test_force_stop_ends_at_once_and_kills_the_process_group(api):
    await api.job("spawn", "jobs_lib:spawn_child")
    run = await api.run("spawn")
    logs = await api.wait_log(run["id"], "child ")
    child_pid = int(
        next(line["text"] for line in logs if line["text"].startswith("child ")).split()[1]
    )
    assert psutil.pid_exists(child_pid)
    reply = await api.post(f"runs/{run['id']}/stop", params={"force": "true"})
    assert reply.code == 200 and reply.json()["status"] == "stopped"
    await eventually_async(
        lambda: not psutil.pid_exists(child_pid) or psutil.Process(child_pid).status() == "zombie",
        timeout=10,
        message="the job's child to end (it outlived a forced stop)",
    )


async def test_queued_run_stops_at_once(api):
    await api.job("q", "jobs_lib:loop", queue_when_busy=True)
    first = await api.run("q", {"seconds": 30})
    second = await api.run("q", {"seconds": 30})
    await api.wait(first["id"], "running")
    assert (await api.get(f"runs/{second['id']}")).json()["status"] == "queued"
    stopped = await api.post(f"runs/{second['id']}/stop")
    assert stopped.json()["status"] == "stopped"
    await api.post(f"runs/{first['id']}/stop", params={"force": "1"})


async def test_timeout_fails_the_run(api):
    await api.job("slow", "jobs_lib:sleep_no_checkpoint", timeout_s=0.5)
    run = await api.wait((await api.run("slow", {"seconds": 30}))["id"], timeout=20)
    assert run["status"] == "failed"
    assert "timed out after 0.5 s" in run["error"]


async def test_max_concurrent_refuses_and_queue_when_busy_waits(api):
    await api.job("one", "jobs_lib:loop")
    first = await api.run("one", {"seconds": 30})
    refused = await api.post("jobs/one/runs", {"args": {"seconds": 1}})
    assert refused.code == 409
    assert refused.json()["reason"] == "busy"
    assert "max_concurrent=1" in refused.json()["message"]
    assert (await api.patch("jobs/one", {"queue_when_busy": True})).code == 200
    waiting = await api.run("one", {"seconds": 0.1})
    await asyncio.sleep(0.5)
    assert (await api.get(f"runs/{waiting['id']}")).json()["status"] == "queued"
    await api.post(f"runs/{first['id']}/stop")
    assert (await api.wait(waiting["id"], timeout=20))["status"] == "succeeded"


async def test_max_workers_bounds_running_processes(api):
    for name in ("a", "b", "c"):
        await api.job(name, "jobs_lib:loop")
    runs = [await api.run(name, {"seconds": 30}) for name in ("a", "b", "c")]
    await api.wait(runs[0]["id"], "running")
    await api.wait(runs[1]["id"], "running")
    await asyncio.sleep(0.5)
    assert (await api.get(f"runs/{runs[2]['id']}")).json()["status"] == "queued"
    await api.post(f"runs/{runs[0]['id']}/stop", params={"force": "true"})
    await api.wait(runs[2]["id"], "running")
    for run in runs[1:]:
        await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


async def test_restart_makes_a_new_run_and_keeps_the_old(api):
    await api.job("fail", "jobs_lib:fail")
    old = await api.wait((await api.run("fail", {"message": "first"}))["id"])
    reply = await api.post(f"runs/{old['id']}/restart")
    assert reply.code == 201
    new = reply.json()
    assert new["id"] != old["id"] and new["uuid"] != old["uuid"]
    assert new["restarted_from"] == old["id"]
    assert new["trigger"] == "restart"
    assert new["args"] == {"message": "first"}
    kept = (await api.get(f"runs/{old['id']}")).json()
    assert kept["status"] == "failed" and kept["restarted_as"] == new["id"]
    assert kept["error"] == old["error"]
    again = await api.post(f"runs/{old['id']}/restart")
    assert again.code == 409 and str(new["id"]) in again.json()["message"]
    await api.wait(new["id"])


async def test_restart_rules(api):
    await api.job("ok", "jobs_lib:noop")
    done = await api.wait((await api.run("ok"))["id"])
    refused = await api.post(f"runs/{done['id']}/restart")
    assert refused.code == 409 and "succeeded" in refused.json()["message"]
    await api.job("once", "jobs_lib:fail", restartable=False)
    failed = await api.wait((await api.run("once"))["id"])
    assert (await api.post(f"runs/{failed['id']}/restart")).code == 409
    await api.job("stop-me", "jobs_lib:loop")
    stopped = await api.run("stop-me", {"seconds": 30})
    await api.post(f"runs/{stopped['id']}/stop", params={"force": "true"})
    assert (await api.post(f"runs/{stopped['id']}/restart")).code == 201


async def test_remove_run(api, jobext_app):
    await api.job("res", "jobs_lib:write_result")
    run = await api.wait((await api.run("res"))["id"])
    path = jobext_app.runs.results_dir / run["uuid"]
    assert path.is_dir()
    assert (await api.delete(f"runs/{run['id']}")).code == 204
    assert (await api.get(f"runs/{run['id']}")).code == 404
    assert (await api.get(f"runs/{run['id']}/logs")).code == 404
    assert not path.exists()
    assert (await api.delete(f"runs/{run['id']}")).code == 404
    await api.job("long", "jobs_lib:loop")
    live = await api.run("long", {"seconds": 30})
    busy = await api.delete(f"runs/{live['id']}")
    assert busy.code == 409
    await api.post(f"runs/{live['id']}/stop", params={"force": "true"})


async def test_keep_runs_prunes_history(api):
    await api.job("keep", "jobs_lib:noop", keep_runs=2)
    ids = [(await api.wait((await api.run("keep"))["id"]))["id"] for _ in range(4)]

    async def kept() -> list[int] | None:
        listed = (await api.get("runs", params={"job": "keep"})).json()
        left = [r["id"] for r in listed["items"]]
        return left if len(left) == 2 else None

    # Runs that end within a second of each other share one retention pass.
    assert await eventually_async(kept, message="the two newest runs alone") == ids[:-3:-1]


async def test_logs_paging(api):
    await api.job("many", "jobs_lib:many_lines")
    run = await api.wait((await api.run("many", {"count": 250}))["id"])
    seen, after = [], 0
    while True:
        page = (
            await api.get(f"runs/{run['id']}/logs", params={"after": after, "limit": 100})
        ).json()
        seen += [line["text"] for line in page["items"] if line["stream"] == "stdout"]
        if not page["more"]:
            break
        after = page["next_after"]
    assert seen == [f"line {i}" for i in range(250)]


async def test_logs_tail_gives_the_last_lines_and_follows_on(api):
    await api.job("many", "jobs_lib:many_lines")
    run = await api.wait((await api.run("many", {"count": 250}))["id"])
    logs = f"runs/{run['id']}/logs"
    everything = (await api.get(logs, params={"limit": 1000})).json()["items"]
    page = (await api.get(logs, params={"tail": 5})).json()
    assert page["items"] == everything[-5:] and page["more"] is False
    assert page["next_after"] == everything[-1]["seq"]
    assert (await api.get(logs, params={"after": page["next_after"]})).json()["items"] == []
    # The tail of a stream: the last 3 lines, then it ends (the run has ended).
    body = (await api.get(logs, params={"tail": 3, "follow": "true"})).body.decode()
    streamed = [
        json.loads(line[len("data: ") :])
        for line in body.splitlines()
        if line.startswith('data: {"seq"')
    ]
    assert streamed == everything[-3:]
    bad = await api.call("GET", logs, params={"tail": 3, "after": 1})
    assert bad.code == 400 and json.loads(bad.body)["field"] == "tail"


async def test_delete_runs_by_filter_keeps_what_is_in_progress(api):
    await api.job("noop", "jobs_lib:noop", max_concurrent=5)
    await api.job("loop", "jobs_lib:loop")
    done = [await api.wait((await api.run("noop"))["id"]) for _ in range(3)]
    running = await api.run("loop", {"seconds": 30})
    await api.wait(running["id"], "running")
    refused = await api.call("DELETE", "runs")
    assert refused.code == 400  # no filter: never the whole history by accident
    reply = await api.delete("runs", params={"job": "noop", "status": "SUCCEEDED"})
    assert reply.json() == {"deleted": 3, "in_progress": 0, "in_batches": 0}
    for run in done:
        assert (await api.call("GET", f"runs/{run['id']}")).code == 404
    kept = await api.delete("runs", params={"job": "loop"})
    assert kept.json() == {"deleted": 0, "in_progress": 1, "in_batches": 0}
    assert (await api.get(f"runs/{running['id']}")).json()["status"] == "running"
    await api.post(f"runs/{running['id']}/stop", params={"force": "true"})


async def test_no_zombies_after_runs(api):
    await api.job("noop", "jobs_lib:noop", max_concurrent=10)
    for _ in range(5):
        await api.wait((await api.run("noop"))["id"])
    await asyncio.sleep(0.2)
    zombies = [
        p for p in psutil.Process(os.getpid()).children(recursive=True) if p.status() == "zombie"
    ]
    assert not zombies


async def test_a_removed_runs_id_is_never_reused(api):
    await api.job("loop", "jobs_lib:loop")
    run = await api.run("loop", {"seconds": 30})
    await api.post(f"runs/{run['id']}/stop", params={"force": "true"})
    assert (await api.delete(f"runs/{run['id']}")).code == 204
    await asyncio.sleep(0.2)
    new = await api.run("loop", {"seconds": 0.1})
    assert new["id"] > run["id"]
    done = await api.wait(new["id"])
    assert done["status"] == "succeeded"
    events = (await api.get(f"runs/{new['id']}/logs")).json()["items"]
    assert not any("stop" in line["text"] for line in events)


async def test_a_run_reads_the_same_alone_as_in_a_list(api):
    # GET /runs/{id} reads the run as a plain row, the list through the ORM: the same JSON.
    await api.job("writer", "jobs_lib:write_result", max_concurrent=3)
    await api.job("steps", "jobs_lib:steps")
    await api.job("fail", "jobs_lib:fail")
    ids = [
        (await api.run("writer", {"rows": 2, "suffix": ".csv"}))["id"],
        (await api.run("steps"))["id"],
        (await api.run("fail", {"message": "ünïcødé"}))["id"],
    ]
    for run_id in ids:
        await api.wait(run_id)
    listed = {r["id"]: r for r in (await api.get("runs", params={"per_page": 100})).json()["items"]}
    for run_id in ids:
        alone = (await api.get(f"runs/{run_id}")).json()
        assert alone == listed[run_id]
    assert listed[ids[0]]["result"]["filename"] == f"writer-{ids[0]}.csv"
    assert listed[ids[1]]["steps"] and listed[ids[2]]["error"].startswith("ValueError: ünïcødé")
    assert (await api.get("runs/999999")).code == 404


async def test_a_stop_is_not_taken_back_by_older_news(api, jobext_app):
    # The heartbeat re-reads the runs this server holds and steers their processes to match.
    # A read that began before a stop committed, applied after it, must not undo the stop: the
    # process, which SIGTERM kills at once (as one that has not yet installed the runner's
    # handler), ends stopped, not "killed by signal 15".
    await api.job("sudden", "jobs_lib:die_on_sigterm")
    run = await api.run("sudden", {"seconds": 60})
    await api.wait_log(run["id"], "SIGTERM ends me")
    older = await jobext_app.runs.get(run["id"])
    assert older.status == "running"
    assert (await api.post(f"runs/{run['id']}/stop")).code == 200
    jobext_app.runs.control.apply(older)
    done = await api.wait(run["id"], timeout=30)
    assert done["status"] == "stopped", done
