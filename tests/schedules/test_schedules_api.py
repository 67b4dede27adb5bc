"""Schedules through a real server: the API, firing, overlap, misfire, retries, retention."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import update
from waiting import eventually_async

from jobext.db.tables import Schedule
from jobext.runs.retention import apply_retention
from jobext.times import utcnow

UTC = dt.timezone.utc


def _t(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _schedule(api, **fields):
    reply = await api.post("schedules", fields)
    assert reply.code == 201, reply
    return reply.json()


async def _runs_of(api, schedule_id):
    return (await api.get("runs", params={"schedule": schedule_id, "per_page": 1000})).json()[
        "items"
    ]


async def _runs_at_least(api, schedule_id, n):
    return len(await _runs_of(api, schedule_id)) >= n


async def _fires_with_a_skip(api, schedule_id):
    """The schedule's fires once one of them was skipped (else None)."""
    fires = (await api.get(f"schedules/{schedule_id}/fires")).json()["items"]
    return fires if any(f["outcome"] == "skipped" for f in fires) else None


async def test_schedule_crud_and_preview(api):
    await api.job("hello", "jobs_lib:hello", default_args={"n": 1})
    created = await _schedule(api, job="hello", cron="0 6 * * mon-fri", timezone="Europe/Berlin")
    assert created["active"] is True
    assert (created["misfire"], created["overlap"]) == ("skip", "forbid")
    assert len(created["next_fire_times"]) == 5
    first = _t(created["next_fire_times"][0]).astimezone(dt.timezone(dt.timedelta(hours=1)))
    assert first.hour in (6, 7) and first.weekday() < 5
    got = (await api.get(f"schedules/{created['id']}")).json()
    assert got["next_fire_times"] == created["next_fire_times"]
    listed = (await api.get("schedules", params={"job": "hello"})).json()
    assert listed["total"] == 1
    job = (await api.get("jobs/hello")).json()
    assert job["next_run_at"] == created["next_fire_times"][0]
    assert (await api.get("stats")).json()["schedules"] == 1

    patched = await api.patch(f"schedules/{created['id']}", {"cron": "@hourly", "overlap": "allow"})
    assert patched.code == 200
    assert patched.json()["overlap"] == "allow"
    hourly = [_t(t) for t in patched.json()["next_fire_times"]]
    assert all(t.minute == 0 and t.second == 0 for t in hourly)

    paused = (await api.post(f"schedules/{created['id']}/pause")).json()
    assert paused["active"] is False and paused["next_fire_times"] == []
    assert (await api.get("jobs/hello")).json()["next_run_at"] is None
    resumed = (await api.post(f"schedules/{created['id']}/resume")).json()
    assert resumed["active"] is True and len(resumed["next_fire_times"]) == 5

    assert (await api.delete(f"schedules/{created['id']}")).code == 204
    assert (await api.get(f"schedules/{created['id']}")).code == 404


async def test_preview_shows_dst_nights_once(api):
    fall = await api.post(
        "schedules/preview",
        {"cron": "30 2 * * *", "timezone": "Europe/Berlin", "after": "2026-10-23", "count": 4},
    )
    assert fall.code == 200
    assert fall.json()["local_times"] == [
        "2026-10-23T02:30:00+02:00",
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
    ]
    spring = await api.post(
        "schedules/preview",
        {"cron": "30 2 * * *", "timezone": "America/New_York", "after": "20260307", "count": 3},
    )
    assert spring.json()["local_times"] == [
        "2026-03-07T02:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-09T02:30:00-04:00",
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job": "hello", "cron": "61 * * * *"}, "cron"),
        ({"job": "hello", "cron": "* * *"}, "cron"),
        ({"job": "hello", "cron": "@reboot"}, "cron"),
        ({"job": "hello", "cron": "0 0 30 2 *"}, "cron"),
        ({"job": "hello", "cron": "* * * * *", "timezone": "Mars/Base"}, "timezone"),
        ({"job": "nope", "cron": "* * * * *"}, "job"),
        ({"job": "hello", "cron": "* * * * *", "misfire": "sometimes"}, "misfire"),
        ({"job": "hello", "cron": "* * * * *", "overlap": "x"}, "overlap"),
        ({"job": "hello", "cron": "* * * * *", "args": [1]}, "args"),
        ({"job": "hello", "cron": "* * * * *", "colour": 1}, "colour"),
        ({"cron": "* * * * *"}, "job"),
    ],
)
async def test_bad_schedules_name_the_field(api, body, field):
    await api.job("hello", "jobs_lib:hello")
    reply = await api.post("schedules", body)
    assert reply.code == 400, reply
    assert reply.json()["field"] == field
    assert (await api.get("schedules")).json()["total"] == 0
    preview = await api.post("schedules/preview", {"cron": "61 * * * *"})
    assert preview.code == 400 and preview.json()["field"] == "cron"


async def test_schedule_fires_runs_on_time(api):
    await api.job("noop", "jobs_lib:noop", max_concurrent=10)
    schedule = await _schedule(api, job="noop", cron="* * * * * *")
    await eventually_async(
        lambda: _runs_at_least(api, schedule["id"], 3),
        timeout=15,
        interval=0.2,
        message="three runs of the schedule",
    )
    await api.post(f"schedules/{schedule['id']}/pause")
    runs = await _runs_of(api, schedule["id"])
    fire_times = sorted(_t(r["scheduled_for"]) for r in runs)
    assert len(set(fire_times)) == len(fire_times)
    assert all(b - a == dt.timedelta(seconds=1) for a, b in itertools.pairwise(fire_times))
    for run in runs:
        assert run["trigger"] == "schedule" and run["schedule_id"] == schedule["id"]
        lateness = (_t(run["created_at"]) - _t(run["scheduled_for"])).total_seconds()
        assert 0 <= lateness < 1.0, run
    fires = (await api.get(f"schedules/{schedule['id']}/fires")).json()
    assert fires["total"] == len(runs)
    assert {f["outcome"] for f in fires["items"]} == {"started"}


async def test_overlap_forbid_skips_and_logs(api):
    await api.job("loop", "jobs_lib:loop", max_concurrent=5)
    schedule = await _schedule(api, job="loop", cron="* * * * * *", args={"seconds": 30})
    fires = await eventually_async(
        lambda: _fires_with_a_skip(api, schedule["id"]),
        timeout=15,
        interval=0.2,
        message="a skipped fire",
    )
    await api.post(f"schedules/{schedule['id']}/pause")
    skipped = next(f for f in fires if f["outcome"] == "skipped")
    assert "overlap: forbid" in skipped["message"] and skipped["run_id"] is None
    runs = await _runs_of(api, schedule["id"])
    assert len(runs) == 1
    await api.post(f"runs/{runs[0]['id']}/stop", params={"force": "true"})


async def test_overlap_replace_stops_the_old_run(api):
    await api.job("loop", "jobs_lib:loop")
    schedule = await _schedule(
        api, job="loop", cron="*/2 * * * * *", args={"seconds": 30}, overlap="replace"
    )
    await eventually_async(
        lambda: _runs_at_least(api, schedule["id"], 2),
        timeout=20,
        interval=0.2,
        message="two runs of the schedule",
    )
    await api.post(f"schedules/{schedule['id']}/pause")
    runs = sorted(await _runs_of(api, schedule["id"]), key=lambda r: r["id"])
    first = await api.wait(runs[0]["id"], timeout=20)
    assert first["status"] == "stopped"
    logs = (await api.get(f"runs/{runs[0]['id']}/logs")).json()["items"]
    assert any("overlap: replace" in line["text"] for line in logs)
    for run in runs[1:]:
        await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


async def test_overlap_allow_respects_the_job_limit(api):
    await api.job("loop", "jobs_lib:loop", max_concurrent=2)
    schedule = await _schedule(
        api, job="loop", cron="* * * * * *", args={"seconds": 30}, overlap="allow"
    )
    fires = await eventually_async(
        lambda: _fires_with_a_skip(api, schedule["id"]),
        timeout=20,
        interval=0.2,
        message="a skipped fire",
    )
    await api.post(f"schedules/{schedule['id']}/pause")
    runs = await _runs_of(api, schedule["id"])
    assert len(runs) == 2
    skipped = next(f for f in fires if f["outcome"] == "skipped")
    assert "max_concurrent=2" in skipped["message"]
    for run in runs:
        await api.post(f"runs/{run['id']}/stop", params={"force": "true"})


async def _downtime(jobext_app, schedule_id, seconds):
    """Make a schedule look as if no server ran for ``seconds`` (the loop is stopped first)."""
    await jobext_app.scheduler.stop()

    def move_back(session):
        row = session.get(Schedule, schedule_id)
        start = row.next_fire_at - dt.timedelta(seconds=seconds)
        session.execute(
            update(Schedule).where(Schedule.id == schedule_id).values(next_fire_at=start)
        )
        return start

    return await jobext_app.db.run(move_back)


@pytest.mark.parametrize(
    ("misfire", "grace", "expected"),
    [("skip", None, 0), ("once", None, 1), ("all", 4.5, 5)],
)
async def test_misfire_policies(api, jobext_app, misfire, grace, expected):
    await api.job("noop", "jobs_lib:noop", max_concurrent=50)
    # overlap allow: with forbid, catch-up runs would skip each other while the first is queued.
    body = {"job": "noop", "cron": "* * * * * *", "misfire": misfire, "overlap": "allow"}
    if grace:
        body["misfire_grace_s"] = grace
    schedule = await _schedule(api, **body)
    start = await _downtime(jobext_app, schedule["id"], 60)
    now = start + dt.timedelta(seconds=60)
    await jobext_app.scheduler.tick(now=now)
    runs = await _runs_of(api, schedule["id"])
    assert len(runs) == expected
    if misfire == "once":
        assert _t(runs[0]["scheduled_for"]) == now.replace(microsecond=0)
    if misfire == "all":
        times = sorted(_t(r["scheduled_for"]) for r in runs)
        assert all(now - t <= dt.timedelta(seconds=grace) for t in times)
    fires = (await api.get(f"schedules/{schedule['id']}/fires")).json()["items"]
    missed = [f for f in fires if f["outcome"] == "missed"]
    assert len(missed) == 1
    assert "missed" in missed[0]["message"]
    row = await jobext_app.schedules.get(schedule["id"])
    assert row.next_fire_at > now
    # A second pass (another server, say) changes nothing.
    await jobext_app.scheduler.tick(now=now)
    assert len(await _runs_of(api, schedule["id"])) == expected


async def test_each_fire_time_is_claimed_once(api, jobext_app):
    await api.job("noop", "jobs_lib:noop", max_concurrent=50)
    schedule = await _schedule(api, job="noop", cron="0 0 1 1 *")
    await jobext_app.scheduler.stop()
    row = await jobext_app.schedules.get(schedule["id"])
    when = row.next_fire_at
    results = [await jobext_app.schedules.firing.fire(row, when, server=f"s{i}") for i in range(3)]
    assert [r.claimed for r in results] == [True, False, False]
    assert len(await _runs_of(api, schedule["id"])) == 1


async def test_retries_with_backoff(api):
    await api.job("fail", "jobs_lib:fail", retries=2, retry_backoff_s=0.2)
    first = await api.run("fail")
    runs: list[dict] = []

    async def three_failed() -> bool:
        nonlocal runs
        runs = (await api.get("runs", params={"job": "fail"})).json()["items"]
        return len(runs) == 3 and all(r["status"] == "failed" for r in runs)

    await eventually_async(
        three_failed, interval=0.1, message=lambda: f"three failed attempts: {runs}"
    )
    runs.sort(key=lambda r: r["id"])
    assert [r["attempt"] for r in runs] == [1, 2, 3]
    assert [r["trigger"] for r in runs] == ["manual", "retry", "retry"]
    assert runs[1]["restarted_from"] == first["id"] and runs[2]["restarted_from"] == runs[1]["id"]
    gap1 = (_t(runs[1]["started_at"]) - _t(runs[0]["ended_at"])).total_seconds()
    gap2 = (_t(runs[2]["started_at"]) - _t(runs[1]["ended_at"])).total_seconds()
    assert gap1 >= 0.2 and gap2 >= 0.4, (gap1, gap2)
    logs = (await api.get(f"runs/{first['id']}/logs")).json()["items"]
    assert any("retrying as run" in line["text"] for line in logs)


async def test_stopped_runs_are_not_retried(api):
    await api.job("loop", "jobs_lib:loop", retries=3, retry_backoff_s=0)
    run = await api.run("loop", {"seconds": 30})
    await api.wait(run["id"], "running")
    await api.post(f"runs/{run['id']}/stop")
    await api.wait(run["id"])
    await asyncio.sleep(0.5)
    assert (await api.get("runs", params={"job": "loop"})).json()["total"] == 1


async def test_retention_by_age_and_default_count(api, jobext_app):
    await api.job("noop", "jobs_lib:noop", keep_days=1)
    ids = [(await api.wait((await api.run("noop"))["id"]))["id"] for _ in range(3)]
    from jobext.db.tables import Run

    await jobext_app.db.run(
        lambda session: session.execute(
            update(Run).where(Run.id == ids[0]).values(ended_at=utcnow() - dt.timedelta(days=2))
        )
    )
    assert await apply_retention(jobext_app.runs, "noop") == 1
    remaining = [r["id"] for r in (await api.get("runs", params={"job": "noop"})).json()["items"]]
    assert sorted(remaining) == ids[1:]
    jobext_app.runs.default_keep_runs = 1
    assert await apply_retention(jobext_app.runs) == 1
    await api.patch("jobs/noop", {"keep_runs": 0, "keep_days": 0})
    await api.wait((await api.run("noop"))["id"])
    assert (await api.get("runs", params={"job": "noop"})).json()["total"] == 2


async def test_deleting_a_job_deletes_its_schedules(api):
    await api.job("hello", "jobs_lib:hello")
    schedule = await _schedule(api, job="hello", cron="@daily")
    assert (await api.delete("jobs/hello")).code == 204
    assert (await api.get(f"schedules/{schedule['id']}")).code == 404


async def test_schedule_log_is_trimmed(api, jobext_app):
    await api.job("noop", "jobs_lib:noop", max_concurrent=50)
    schedule = await _schedule(api, job="noop", cron="0 0 1 1 *", overlap="allow")
    await jobext_app.scheduler.stop()
    row = await jobext_app.schedules.get(schedule["id"])
    base = utcnow().replace(microsecond=0)
    for i in range(5):
        await jobext_app.schedules.firing.fire(row, base - dt.timedelta(days=i * 50), server="test")
    assert (
        await jobext_app.schedules.firing.prune_fires(keep=2, keep_days=120) == 3
    )  # 2 by age, 1 by count
    fires = (await api.get(f"schedules/{schedule['id']}/fires")).json()
    assert fires["total"] == 2


@pytest.mark.parametrize(
    ("cron", "zone", "after"),
    [
        ("30 2 * * *", "Europe/Berlin", "2026-10-23T00:00:00Z"),
        ("30 2 * * *", "Europe/Berlin", "2026-03-27T00:00:00Z"),
        ("30 1 * * *", "America/New_York", "2026-10-30T00:00:00Z"),
        ("0 * * * *", "America/New_York", "2026-11-01T03:00:00Z"),
        ("30 2 * * *", "America/New_York", "2026-03-06T00:00:00Z"),
    ],
)
async def test_what_fires_is_what_the_preview_said(api, jobext_app, cron, zone, after):
    """Through both DST nights, with a controlled clock: the scheduler fires exactly the
    preview's times, once each."""
    await api.job("noop", "jobs_lib:noop", max_concurrent=50)
    preview = (
        await api.post(
            "schedules/preview", {"cron": cron, "timezone": zone, "after": after, "count": 6}
        )
    ).json()["fire_times"]
    schedule = await _schedule(api, job="noop", cron=cron, timezone=zone, overlap="allow")
    await jobext_app.scheduler.stop()
    await jobext_app.db.run(
        lambda session: session.execute(
            update(Schedule)
            .where(Schedule.id == schedule["id"])
            .values(next_fire_at=_t(preview[0]))
        )
    )
    for fire_time in preview:
        # The clock reaches each fire time in turn (and a pass just before it fires nothing).
        await jobext_app.scheduler.tick(now=_t(fire_time) - dt.timedelta(seconds=1))
        await jobext_app.scheduler.tick(now=_t(fire_time))
    runs = await _runs_of(api, schedule["id"])
    fired = sorted(r["scheduled_for"] for r in runs)
    assert fired == preview


async def test_fire_times_due_together_are_fired_in_one_transaction(api, jobext_app):
    """A busy second (30 schedules due at once) costs one write transaction, not 30; each fire
    is still claimed, run and moved on as if alone."""
    from sqlalchemy import event

    await api.job("noop", "jobs_lib:noop", max_concurrent=50)
    ids = [(await _schedule(api, job="noop", cron="0 0 1 1 *"))["id"] for _ in range(30)]
    await jobext_app.scheduler.stop()
    due = utcnow().replace(microsecond=0) - dt.timedelta(seconds=1)

    def move_back(session):
        session.execute(update(Schedule).where(Schedule.id.in_(ids)).values(next_fire_at=due))

    await jobext_app.db.run(move_back)
    transactions = 0
    fired_in: list[int] = []

    def seen(conn, cursor, statement, *args):
        nonlocal transactions
        if statement.startswith("BEGIN IMMEDIATE"):
            transactions += 1
        elif statement.startswith("INSERT INTO jobext_schedule_fire"):
            fired_in.append(transactions)

    engine = jobext_app.db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        await jobext_app.scheduler.tick(now=due + dt.timedelta(seconds=0.5))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(fired_in) == 30 and len(set(fired_in)) == 1, fired_in
    for schedule_id in ids:
        runs = await _runs_of(api, schedule_id)
        assert [_t(r["scheduled_for"]) for r in runs] == [due]
        row = await jobext_app.schedules.get(schedule_id)
        assert row.next_fire_at > due and row.last_fire_at == due
