"""schedules: 10,000 active cron schedules on one server.

Phase 1 (firing): the schedules fire ~33 times a second for a trivial job; fire lateness is
``run.created_at - run.scheduled_for`` over every fire time in a measured window, and every fire
time the crons name in that window must have its run. Phase 2 (idle): the same 10,000 schedules
fire next in months; the server's CPU use is sampled while nothing is due.

The schedules are written straight into the database before the server starts (creating 10,000
through ``POST /schedules`` takes minutes): rows as ``ScheduleService.create`` writes them, with
``next_fire_at`` from :class:`jobext.cron.CronSchedule`, the schema from jobext's own migrations
(``Database.open``). The job is registered through the API. A sample of schedules is then read back
through the API to check that the server agrees on their next fire times.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .common import CpuMeter, Result, mib, summary
from .jobs import BENCHJOBS
from .server import JupyterServer

N_SCHEDULES = 10_000
#: Distinct (second, minute mod 5) pairs: ``S M/5 * * * *`` with S in 0-59 and M in 0-4 fire
#: once every 5 minutes each, so 10,000 schedules spread over them fire 10,000 / 300 = 33.3
#: times a second on average, ~33 at once at every whole second (crons fire on whole seconds).
SLOTS = 300
#: Zones (offsets that are whole multiples of 5 minutes keep the spread even).
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
JOB = "scheduled"
TARGET_P99_MS = 500.0
TARGET_IDLE_PCT = 2.0
#: Rows are written this long before their first fire: the server is up by then.
LEAD_S = 15.0
#: Firing before the measured window (the first fires, imports, caches).
WARMUP_S = 5.0
#: After the window, longer than the server's ``misfire_threshold_s`` (5 s): by then every fire
#: time of the window has been run, or logged as missed.
SETTLE_S = 7.0
#: After start-up, before idle CPU is sampled (first heartbeats, first scheduler passes).
IDLE_SETTLE_S = 5.0


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive UTC datetimes."""
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _busy_cron(i: int) -> tuple[str, str]:
    slot = i % SLOTS
    second, minute = slot % 60, slot // 60
    return f"{second} {minute}/5 * * * *", ZONES[(i // SLOTS) % len(ZONES)]


def _idle_cron(i: int, now: dt.datetime) -> tuple[str, str]:
    """Yearly, on a date at least a month away."""
    slot = i % SLOTS
    month = (now.month + 1 + i % 10) % 12 + 1  # never this month or the next
    return (
        f"{slot % 60} {slot // 60} {i % 24} {1 + i % 28} {month} *",
        ZONES[(i // SLOTS) % len(ZONES)],
    )


def populate(db_file: Path, crons: list[tuple[str, str]], after: dt.datetime) -> dict[str, Any]:
    """Create the schema and one active schedule per ``(cron, timezone)`` of ``crons``, with
    ``next_fire_at`` = its first fire time after ``after``."""
    from sqlalchemy import insert

    from jobext.db.engine import Database
    from jobext.db.tables import Schedule
    from jobext.schedules.cron import CronSchedule

    began = time.perf_counter()
    store = Database.open(f"sqlite:///{db_file}")
    parsed: dict[tuple[str, str], CronSchedule] = {}
    now = _utcnow()
    rows = []
    firsts: list[dt.datetime] = []
    for expression, zone in crons:
        cron = parsed.get((expression, zone))
        if cron is None:
            cron = parsed[(expression, zone)] = CronSchedule.parse(expression, zone)
        first = cron.next_after(after)
        if first is None:
            raise ValueError(f"{expression!r} never fires after {after}")
        firsts.append(first)
        rows.append(
            {
                "job": JOB,
                "cron": cron.expression,
                "timezone": cron.timezone,
                "args": None,
                "active": True,
                "misfire": "skip",
                "misfire_grace_s": 3600.0,
                "overlap": "forbid",
                "description": "",
                "created_by": "bench",
                "updated_by": "bench",
                "created_at": now,
                "updated_at": now,
                "next_fire_at": first,
                "last_fire_at": None,
            }
        )
    with store.writing() as session:
        table = Schedule.metadata.tables["jobext_schedule"]
        session.connection().execute(insert(table), rows)
    store.dispose()
    return {
        "schedules": len(rows),
        "distinct_crons": len(parsed),
        "first_fire": min(firsts),
        "write_s": round(time.perf_counter() - began, 2),
        "crons": parsed,
    }


def _check_schedules(server: JupyterServer, after: dt.datetime, parsed: dict[Any, Any]) -> None:
    """The server sees every schedule, and its next fire times are the ones we computed."""
    stats = server.get("stats")
    if stats["schedules"] != N_SCHEDULES:
        raise AssertionError(f"the server sees {stats['schedules']} active schedules")
    for page in (0, 17, 99):
        for item in server.get("schedules", params={"per_page": 100, "page": page})["items"]:
            cron = parsed[(item["cron"], item["timezone"])]
            expected = cron.fire_times(after, 2)
            shown = [
                dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
                for t in item["next_fire_times"][:2]
            ]
            if item["last_fire_at"] is None and shown != expected:
                raise AssertionError(f"schedule {item['id']}: {shown} != {expected}")


def _read_window(db_file: Path, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Runs and fire-log rows of fire times ``start < t <= end``, and every schedule's cron."""
    from sqlmodel import col, select

    from jobext.db.engine import Database
    from jobext.db.tables import Run, Schedule, ScheduleFire

    store = Database.open(f"sqlite:///{db_file}")
    try:
        with store.reading() as session:
            runs = session.exec(
                select(Run.schedule_id, Run.scheduled_for, Run.created_at, Run.status).where(
                    Run.trigger == "schedule",
                    col(Run.scheduled_for) > start,
                    col(Run.scheduled_for) <= end,
                )
            ).all()
            fires = session.exec(
                select(
                    ScheduleFire.schedule_id,
                    ScheduleFire.scheduled_for,
                    ScheduleFire.claimed_at,
                    ScheduleFire.outcome,
                ).where(ScheduleFire.scheduled_for > start, ScheduleFire.scheduled_for <= end)
            ).all()
            missed = session.exec(
                select(ScheduleFire.message).where(ScheduleFire.outcome == "missed")
            ).all()
            schedules = session.exec(select(Schedule.id, Schedule.cron, Schedule.timezone)).all()
    finally:
        store.dispose()
    return {"runs": runs, "fires": fires, "missed": missed, "schedules": schedules}


def _expected(
    schedules: list[Any], parsed: dict[Any, Any], start: dt.datetime, end: dt.datetime
) -> set[tuple[int, dt.datetime]]:
    """Every (schedule, fire time) the crons name in ``start < t <= end``."""
    times: dict[tuple[str, str], list[dt.datetime]] = {}
    wanted: set[tuple[int, dt.datetime]] = set()
    for sid, expression, zone in schedules:
        key = (expression, zone)
        if key not in times:
            times[key] = parsed[key].fires_between(start, end, 10_000)
        wanted.update((sid, t) for t in times[key])
    return wanted


def _fire_phase(quick: bool, result: Result) -> None:
    window_s = 20.0 if quick else 60.0
    server = JupyterServer(name="schedules", jobs_module=BENCHJOBS)
    crons = [_busy_cron(i) for i in range(N_SCHEDULES)]
    first_after = _utcnow() + dt.timedelta(seconds=LEAD_S)
    made = populate(server.db_file, crons, first_after)
    parsed = made.pop("crons")
    server.start()
    ok = False
    try:
        server.register(
            JOB, "benchjobs:noop", max_concurrent=10_000, queue_when_busy=True, keep_runs=0
        )
        _check_schedules(server, first_after, parsed)
        ready = _utcnow()
        start = max(first_after, ready) + dt.timedelta(seconds=WARMUP_S)
        start = start.replace(microsecond=0) + dt.timedelta(seconds=1)
        end = start + dt.timedelta(seconds=window_s)
        time.sleep(max(0.0, (start - _utcnow()).total_seconds()))
        with server.profiling("schedules-fire"):
            cpu = CpuMeter(server.pid)
            time.sleep(max(0.0, (end - _utcnow()).total_seconds()))
            cpu.stop()
        time.sleep(SETTLE_S)
        stats = server.get("stats")
        server.stop()
        data = _read_window(server.db_file, start, end)
        ok = True
    finally:
        server.stop()
        if ok:
            server.cleanup()
        else:
            print(f"  (server files kept in {server.tmp} for inspection)")
    expected = _expected(data["schedules"], parsed, start, end)

    runs = data["runs"]
    lateness = [
        (_aware(created) - _aware(scheduled)).total_seconds() for _, scheduled, created, _ in runs
    ]
    run_keys = Counter((sid, _aware(t)) for sid, t, _, _ in runs)
    doubled = sum(1 for n in run_keys.values() if n > 1)
    outcomes = Counter(outcome for *_, outcome in data["fires"])
    claim_lateness = [
        (_aware(claimed) - _aware(scheduled)).total_seconds()
        for _, scheduled, claimed, _ in data["fires"]
    ]
    without_run = len(expected - set(run_keys))
    per_second: dict[dt.datetime, int] = defaultdict(int)
    for _, t in expected:
        per_second[t] += 1
    lat = summary(lateness, scale=1000, digits=1)

    result.add("fire lateness p99", lat.get("p99"), "ms", at_most=TARGET_P99_MS)
    result.add("fire lateness p50", lat.get("p50"), "ms")
    result.add("fire lateness p95", lat.get("p95"), "ms")
    result.add("fire lateness max", lat.get("max"), "ms")
    result.add("fire times without their run", without_run + doubled, "", at_most=0, target="0")
    result.add("fires measured", len(runs), "")
    result.info.update(
        {
            "schedules": N_SCHEDULES,
            "spread": f"'S M/5 * * * *', S 0-59 x M 0-4 = {SLOTS} slots, zones {list(ZONES)}",
            "distinct_cron_zone_pairs": made["distinct_crons"],
            "created_by": "rows written into jobext_schedule before start, next_fire_at from "
            "jobext.schedules.cron.CronSchedule",
            "populate_s": made["write_s"],
            "window": [start.isoformat(), end.isoformat()],
            "window_s": window_s,
            "expected_fires": len(expected),
            "expected_fires_per_s": round(len(expected) / window_s, 1),
            "max_fires_at_one_second": max(per_second.values(), default=0),
            "runs_in_window": len(runs),
            "fire_times_run_twice": doubled,
            "fire_times_without_run": without_run,
            "fire_log_outcomes": dict(outcomes),
            "missed_rows_ever": len(data["missed"]),
            "missed_example": data["missed"][0] if data["missed"] else None,
            "run_lateness_ms": lat,
            "claim_lateness_ms": summary(claim_lateness, scale=1000, digits=1),
            "run_statuses_after": stats["runs"],
            "server_startup_s": round(server.startup_s or 0, 2),
            "fire_phase": cpu.as_json(),
            "fire_phase_server_cpu_pct_of_core": round(100 * (cpu.server_s or 0) / window_s, 1),
            "server_peak_rss_mib": mib(server.peak_rss_bytes),
        }
    )


def _idle_phase(quick: bool, result: Result) -> None:
    import psutil

    seconds = 10.0 if quick else 20.0
    now = _utcnow()
    server = JupyterServer(name="schedules-idle", jobs_module=BENCHJOBS)
    made = populate(server.db_file, [_idle_cron(i, now) for i in range(N_SCHEDULES)], now)
    with server:
        server.register(JOB, "benchjobs:noop", max_concurrent=10_000, queue_when_busy=True)
        if server.get("stats")["schedules"] != N_SCHEDULES:
            raise AssertionError("the server does not see every schedule")
        time.sleep(IDLE_SETTLE_S)
        proc = psutil.Process(server.pid)
        samples = []
        with server.profiling("schedules-idle"):
            began, t0 = time.monotonic(), proc.cpu_times()
            last_t, last = began, t0
            while time.monotonic() - began < seconds:
                time.sleep(1.0)
                t, cur = time.monotonic(), proc.cpu_times()
                used = cur.user + cur.system - last.user - last.system
                samples.append(max(0.0, 100 * used / (t - last_t)))
                last_t, last = t, cur
            wall = last_t - began
        used = last.user + last.system - t0.user - t0.system
    pct = 100 * used / wall
    result.add("idle server CPU", round(pct, 2), "% of a core", at_most=TARGET_IDLE_PCT)
    result.info.update(
        {
            "idle_first_fire": made["first_fire"].isoformat(),
            "idle_sampled_s": round(wall, 1),
            "idle_cpu_s": round(used, 3),
            "idle_cpu_pct_per_second": [round(s, 1) for s in samples],
            "idle_server_peak_rss_mib": mib(server.peak_rss_bytes),
        }
    )


def run(quick: bool = False) -> Result:
    result = Result(
        "schedules",
        f"{N_SCHEDULES:,} active schedules: fire lateness at ~33 fires/s, then idle CPU",
    )
    _fire_phase(quick, result)
    _idle_phase(quick, result)
    return result
