"""A SQLite database holding many finished runs, built fast and cached in ``bench/.cache/``.

The schema comes from jobext itself (``Database.open`` runs its migrations); the rows are written
with sqlite3 ``executemany`` in large transactions with the run table's secondary indexes
dropped during the load and rebuilt afterwards (the same ``CREATE INDEX`` statements, read back
from ``sqlite_master``). Times are written the way SQLAlchemy stores ``DateTime(timezone=True)``
on SQLite: naive UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff``. No ``ANALYZE`` is run: a real jobext
database has no planner statistics either.

Distribution: 100 jobs, each run's job drawn uniformly; statuses 85 % succeeded, 10 % failed,
5 % stopped; ``created_at`` spread uniformly over the year before the fill, ids in time order;
triggers 60 % schedule, 35 % manual, 5 % batch; durations log-normal around 30 s.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import shutil
import sqlite3
import sys
import time
import uuid as uuid_mod
from pathlib import Path
from typing import Any

CACHE = Path(__file__).resolve().parent / ".cache"
FILL_VERSION = 1
N_JOBS = 100
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
WORKERS = ["nb-1:4242:1a2b3c4d", "nb-2:5151:5e6f7a8b", "nb-3:6060:9c0d1e2f"]
BATCH = 50_000


def job_names() -> list[str]:
    return [f"job-{k:03d}" for k in range(N_JOBS)]


def _ts(value: dt.datetime) -> str:
    return value.isoformat(sep=" ", timespec="microseconds")


def cached_db(rows: int, *, log: Any = print) -> Path:
    """The path of a database with ``rows`` runs, filling it first if it is not cached."""
    from jobext.db.engine import SCHEMA_HEAD

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"runs-{rows}-schema{SCHEMA_HEAD}-v{FILL_VERSION}.db"
    if path.exists():
        log(f"  using cached database {path.relative_to(CACHE.parent.parent)}")
        return path
    for stale in CACHE.glob(f"runs-{rows}-*.db"):
        stale.unlink()
    partial = path.with_suffix(".partial")
    for p in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        p.unlink(missing_ok=True)
    began = time.perf_counter()
    fill(partial, rows, log=log)
    partial.rename(path)
    log(f"  filled {rows:,} runs in {time.perf_counter() - began:.1f} s -> {path}")
    return path


def copy_db(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def fill(path: Path, rows: int, *, seed: int = 42, log: Any = print) -> None:
    from jobext.db.engine import Database

    store = Database.open(f"sqlite:///{path}")  # the schema, by jobext's own migrations
    store.dispose()

    rng = random.Random(seed)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-262144")  # 256 MiB
    columns = [r[1] for r in con.execute("PRAGMA table_info(jobext_run)")]
    notnull = {r[1] for r in con.execute("PRAGMA table_info(jobext_run)") if r[3] and not r[5]}
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='jobext_run' "
        "AND sql IS NOT NULL"
    ).fetchall()

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    year_ago = now - dt.timedelta(days=365)
    names = job_names()

    # The jobs, so that the API is consistent (GET /jobs, /jobs/{name}/stats).
    con.execute("BEGIN")
    job_cols = [r[1] for r in con.execute("PRAGMA table_info(jobext_job)")]
    job_rows = []
    for name in names:
        values = {
            "name": name,
            "kind": "python",
            "target": f"benchjobs:{name.replace('-', '_')}",
            "description": f"benchmark job {name}",
            "default_args": "null",
            "max_concurrent": 1,
            "queue_when_busy": 0,
            "retries": 0,
            "retry_backoff_s": 60.0,
            "restartable": 1,
            "created_by": "bench",
            "created_at": _ts(year_ago - dt.timedelta(days=1)),
            "updated_at": _ts(year_ago - dt.timedelta(days=1)),
        }
        job_rows.append(tuple(values.get(c) for c in job_cols))
    con.executemany(
        f"INSERT INTO jobext_job ({', '.join(job_cols)}) VALUES ({', '.join('?' * len(job_cols))})",
        job_rows,
    )
    con.execute("COMMIT")

    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')

    span = (now - year_ago).total_seconds()
    offsets = sorted(rng.random() * span for _ in range(rows))
    quoted = ", ".join(f'"{c}"' for c in columns)
    insert = f"INSERT INTO jobext_run ({quoted}) VALUES ({', '.join('?' * len(columns))})"
    pos = {c: i for i, c in enumerate(columns)}
    template: list[Any] = [None] * len(columns)
    if "args" in pos:
        template[pos["args"]] = "{}"  # what a python run without args stores
    if "steps" in pos:
        template[pos["steps"]] = "null"
    template[pos["attempt"]] = 1
    template[pos["kind"]] = "python"
    getbits = rng.getrandbits
    rand = rng.random
    lognorm = rng.lognormvariate
    mu = math.log(30.0)
    generated = {"id", "uuid", "job", "status", "trigger", "created_at", "updated_at"}
    missing = sorted(c for c in notnull if c not in generated and template[pos[c]] is None)
    if missing:
        raise RuntimeError(f"jobext_run has NOT NULL columns the fill does not set: {missing}")
    done = 0
    began = time.perf_counter()
    for start in range(0, rows, BATCH):
        batch = []
        for k in range(start, min(rows, start + BATCH)):
            row = template.copy()
            created = year_ago + dt.timedelta(seconds=offsets[k])
            started = created + dt.timedelta(seconds=0.01 + rand() * 2)
            duration = round(lognorm(mu, 1.0), 3)
            ended = started + dt.timedelta(seconds=duration)
            x = rand()
            if x < 0.85:
                status, exit_code, error, progress = "succeeded", 0, None, 1.0
            elif x < 0.95:
                status, exit_code, error, progress = "failed", 1, "ValueError: boom", None
            else:
                status, exit_code, error, progress = "stopped", None, "stopped by alice", None
            t = rand()
            if t < 0.6:
                trigger, schedule_id, batch_id, user = "schedule", 1 + int(rand() * 40), None, None
            elif t < 0.95:
                trigger, schedule_id, batch_id, user = "manual", None, None, USERS[int(rand() * 10)]
            else:
                trigger, schedule_id, batch_id, user = "batch", None, 1 + int(rand() * 200), "bench"
            row[pos["id"]] = k + 1
            row[pos["uuid"]] = str(uuid_mod.UUID(int=getbits(128), version=4))
            row[pos["job"]] = names[int(rand() * N_JOBS)]
            row[pos["status"]] = status
            row[pos["trigger"]] = trigger
            row[pos["user"]] = user
            row[pos["created_at"]] = _ts(created)
            row[pos["started_at"]] = _ts(started)
            row[pos["updated_at"]] = _ts(ended)
            row[pos["ended_at"]] = _ts(ended)
            row[pos["duration_s"]] = duration
            row[pos["progress"]] = progress
            row[pos["exit_code"]] = exit_code
            row[pos["error"]] = error
            row[pos["schedule_id"]] = schedule_id
            row[pos["batch_id"]] = batch_id
            row[pos["worker"]] = WORKERS[int(rand() * 3)]
            batch.append(row)
        con.execute("BEGIN")
        con.executemany(insert, batch)
        con.execute("COMMIT")
        done += len(batch)
        if done % 200_000 == 0 or done == rows:
            rate = done / (time.perf_counter() - began)
            log(f"  ... {done:,} runs written ({rate:,.0f}/s)")
    t = time.perf_counter()
    for _name, sql in indexes:
        con.execute(sql)
    log(f"  ... {len(indexes)} indexes rebuilt in {time.perf_counter() - t:.1f} s")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()


if __name__ == "__main__":
    cached_db(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
