"""query export: a ``query`` job exporting 1,000,000 rows x 10 columns to CSV, from SQLite and
from PostgreSQL; then the CSV downloaded through ``GET /runs/{id}/result``.

The source data is made once: a SQLite file cached in ``bench/.cache/`` and a PostgreSQL
database ``jobext_bench_query`` (created if missing, its table rebuilt when its marker differs
from ``MARKER``). ``JOBEXT_BENCH_POSTGRES`` names another server than
``postgresql+psycopg://postgres@127.0.0.1:5432``.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import Result, mib, parse_time
from .server import JupyterServer, RssSampler

CACHE = Path(__file__).resolve().parent / ".cache"
ROWS = 1_000_000
QUICK_ROWS = 200_000
TABLE = "export_rows"
PG_DATABASE = "jobext_bench_query"
POSTGRES = os.environ.get("JOBEXT_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
#: Changing the data changes this: a cached SQLite file or PostgreSQL table with another marker
#: is made again.
MARKER = f"jobext-bench-query v1 rows={ROWS}"
TARGET_SQLITE_ROWS_PER_S = 400_000.0
#: PostgreSQL: the job's rows/s over what COPY itself does for the same query in the same run.
TARGET_COPY_RATIO = 0.6
TARGET_RSS_MB = 200.0
SQL = f"SELECT * FROM {TABLE} WHERE id <= :last"
_LOG_LINE = re.compile(r"exported ([\d,]+) rows \(([\d.]+) MB\).* in ([\d.]+) s; peak memory (\d+)")

# Ten columns: numbers, text (a tenth of it with a comma and quotes), a decimal, a time, a
# date, a flag. SQLite stores the decimal as REAL, the time and the date as ISO text.
_SQLITE_FILL = f"""
CREATE TABLE {TABLE} (id INTEGER PRIMARY KEY, name TEXT, amount NUMERIC, ratio REAL,
    created_at TEXT, day TEXT, flag INTEGER, note TEXT, qty INTEGER, code TEXT);
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {ROWS})
INSERT INTO {TABLE} SELECT i, 'name ' || i, (i % 100000) / 100.0, i / 7.0,
    strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', '+' || i || ' seconds'),
    date('2024-01-01', '+' || (i % 1000) || ' days'), i % 2,
    CASE WHEN i % 10 = 0 THEN 'with, comma "and quotes"' ELSE 'plain note' END,
    i % 1000, hex(randomblob(16)) FROM s;
CREATE TABLE marker (text TEXT);
"""
_PG_FILL = f"""
CREATE TABLE {TABLE} AS SELECT i::bigint AS id, 'name ' || i AS name,
    ((i % 100000) / 100.0)::numeric(12, 2) AS amount, i / 7.0::float8 AS ratio,
    timestamptz '2024-01-01 00:00:00+00' + i * interval '1.001 second' AS created_at,
    date '2024-01-01' + (i % 1000) AS day, i % 2 = 0 AS flag,
    CASE WHEN i % 10 = 0 THEN 'with, comma "and quotes"' ELSE 'plain note' END AS note,
    (i % 1000)::int AS qty, md5(i::text) AS code
FROM generate_series(1, {ROWS}) AS i;
ALTER TABLE {TABLE} ADD PRIMARY KEY (id);
"""


# ---------------------------------------------------------------------------- source data


def sqlite_source(log: Any = print) -> Path:
    """The cached SQLite file of ``ROWS`` rows, made first if missing or stale."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "query-export-v1.db"
    if path.exists():
        with sqlite3.connect(path) as db:
            try:
                if db.execute("SELECT text FROM marker").fetchone() == (MARKER,):
                    log(f"  using cached {path.name}")
                    return path
            except sqlite3.Error:
                pass
        path.unlink()
    began = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    db = sqlite3.connect(partial)
    db.executescript(_SQLITE_FILL)
    db.execute("INSERT INTO marker VALUES (?)", (MARKER,))
    db.commit()
    db.close()
    partial.rename(path)
    log(f"  made {path.name} ({time.perf_counter() - began:.1f} s)")
    return path


def postgres_source(log: Any = print) -> str:
    """The URL of ``jobext_bench_query`` holding ``ROWS`` rows, made first if needed."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(POSTGRES)
    admin = base.set(drivername="postgresql", database="postgres")
    with psycopg.connect(
        admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=10
    ) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    url = base.set(database=PG_DATABASE)
    with psycopg.connect(
        url.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as conn:
        marker = conn.execute("SELECT obj_description(to_regclass(%s), 'pg_class')", (TABLE,))
        if marker.fetchone() == (MARKER,):
            log(f"  using PostgreSQL table {PG_DATABASE}.{TABLE}")
        else:
            began = time.perf_counter()
            conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            conn.execute(_PG_FILL)
            conn.execute(f"COMMENT ON TABLE {TABLE} IS '{MARKER}'")
            conn.execute(f"VACUUM ANALYZE {TABLE}")
            log(f"  made {PG_DATABASE}.{TABLE} ({time.perf_counter() - began:.1f} s)")
    return url.render_as_string(hide_password=False)


# ---------------------------------------------------------------------------- measuring


def _export(server: JupyterServer, job: str, rows: int) -> dict[str, Any]:
    """One run of ``job``: its speed, the job's peak memory, then the download."""
    # A check on the peak the job reports itself.
    with RssSampler(server.pid, interval=0.05) as sampler:
        created = server.post(f"jobs/{job}/runs", {"args": {"last": rows}})
        while True:
            run = server.get(f"runs/{created['id']}")
            if run["status"] in ("succeeded", "failed", "stopped"):
                break
            time.sleep(0.05)
    if run["status"] != "succeeded":
        raise RuntimeError(f"run {run['id']} {run['status']}: {run.get('error')}")
    logs = server.get(f"runs/{run['id']}/logs")["items"]
    match = next((_LOG_LINE.search(i["text"]) for i in logs if "peak memory" in i["text"]), None)
    if match is None:
        raise RuntimeError(f"no export summary in the log of run {run['id']}")
    started, ended = parse_time(run["started_at"]), parse_time(run["ended_at"])
    assert started is not None and ended is not None
    began = time.perf_counter()
    size = 0
    lines = 0
    digest = hashlib.sha256()
    with server.session.get(server.url(f"runs/{run['id']}/result"), stream=True, timeout=600) as r:
        r.raise_for_status()
        for block in r.iter_content(1 << 20):
            size += len(block)
            lines += block.count(b"\n")
            digest.update(block)
    download_s = time.perf_counter() - began
    if lines != rows + 1 or size != run["result"]["size"] or run["records_written"] != rows:
        raise RuntimeError(
            f"run {run['id']}: {lines} lines, {size} bytes downloaded, "
            f"{run['records_written']} records, result {run['result']}"
        )
    export_s = float(match[3])
    return {
        "run_id": run["id"],
        "rows": rows,
        "run_s": round(ended - started, 3),
        "rows_per_s": round(rows / (ended - started)),
        "export_s": export_s,
        "export_rows_per_s": round(rows / export_s) if export_s else None,
        "job_peak_rss_mb": int(match[4]),
        "sampled_child_peak_rss_mb": round(sampler.peak_child / 1e6, 1),
        "csv_mb": round(size / 1e6, 1),
        "download_s": round(download_s, 3),
        "download_mb_per_s": round(size / 1e6 / download_s, 1),
        "sha256": digest.hexdigest(),
    }


def copy_reference(url: str, rows: int) -> dict[str, Any]:
    """PostgreSQL's own ``COPY (query) TO STDOUT WITH (FORMAT csv, HEADER)`` of the same query,
    with the session settings jobext's export uses, into a file: its rows/s (connecting
    included, as the job's figure includes its start) and the file's SHA-256."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('DateStyle', 'ISO', true),"
                " set_config('IntervalStyle', 'iso_8601', true),"
                " set_config('bytea_output', 'hex', true)"
            )
            query = f"SELECT * FROM {TABLE} WHERE id <= {int(rows)}"
            with cursor.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)") as copy:
                for block in copy:
                    out.write(block)
        seconds = time.perf_counter() - began
        out.seek(0)
        while block := out.read(1 << 20):
            size += len(block)
            digest.update(block)
    return {
        "rows_per_s": round(rows / seconds),
        "seconds": round(seconds, 3),
        "bytes": size,
        "sha256": digest.hexdigest(),
    }


def run(quick: bool = False) -> Result:
    rows = QUICK_ROWS if quick else ROWS
    reps = 1 if quick else 3
    result = Result(
        "query",
        f"query job exporting {rows:,} rows x 10 columns to CSV, then GET /runs/{{id}}/result "
        f"(median of {reps})",
    )
    sources: dict[str, str] = {"sqlite": f"sqlite:///{sqlite_source()}"}
    errors: dict[str, str] = {}
    try:
        sources["postgresql"] = postgres_source()
    except Exception as exc:
        errors["postgresql"] = f"{type(exc).__name__}: {exc}"
    args: list[str] = []
    for name, url in sources.items():
        args += ["--JobExtApp.connections", f"{name}={url}"]
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    with JupyterServer(name="query", extra_args=args) as server:
        for name in sources:
            job = f"export-{name}"
            server.post(
                "jobs",
                {"name": job, "kind": "query", "target": SQL, "connection": name, "keep_runs": 2},
            )
            _export(server, job, 1000)  # warm-up: imports, page cache
            for k in range(reps):
                with server.profiling(f"query-{name}-{k + 1}"):
                    rounds[name].append(_export(server, job, rows))
                if name == "postgresql":
                    reference = copy_reference(sources[name], rows)
                    rounds[name][-1]["copy"] = reference
                    rounds[name][-1]["copy_ratio"] = round(
                        rounds[name][-1]["rows_per_s"] / reference["rows_per_s"], 3
                    )
                    rounds[name][-1]["same_as_copy"] = (
                        reference["sha256"] == rounds[name][-1]["sha256"]
                    )
        startup_s = server.startup_s

    def med(name: str, key: str) -> Any:
        values = [r[key] for r in rounds.get(name, []) if r.get(key) is not None]
        return statistics.median(values) if values else None

    for name in ("sqlite", "postgresql"):
        label = "SQLite" if name == "sqlite" else "PostgreSQL"
        rate = med(name, "rows_per_s")
        result.add(
            f"{label}: rows/s (run start → end)",
            rate and round(rate),
            "rows/s",
            at_least=TARGET_SQLITE_ROWS_PER_S if name == "sqlite" else None,
        )
        if name == "postgresql":
            copies = [r["copy"]["rows_per_s"] for r in rounds.get(name, []) if "copy" in r]
            result.add(
                "PostgreSQL: rows/s of COPY itself (psycopg into a file)",
                round(statistics.median(copies)) if copies else None,
                "rows/s",
            )
            result.add(
                "PostgreSQL: the job's rows/s / COPY's",
                med(name, "copy_ratio"),
                "",
                at_least=TARGET_COPY_RATIO,
            )
            same = [bool(r.get("same_as_copy")) for r in rounds.get(name, [])]
            result.add(
                "PostgreSQL: CSVs byte for byte as COPY's",
                sum(same),
                f"of {len(same)}",
                ok=bool(same) and all(same),
                target="all",
            )
        result.add(
            f"{label}: job's peak RSS", med(name, "job_peak_rss_mb"), "MB", at_most=TARGET_RSS_MB
        )
        result.add(f"{label}: CSV download", med(name, "download_mb_per_s"), "MB/s")
    result.info = {
        "rows": rows,
        "columns": 10,
        "sql": SQL,
        "repetitions": reps,
        "rounds": rounds,
        "errors": errors,
        "server_startup_s": round(startup_s or 0, 2),
        "server_peak_rss_mib": mib(server.peak_rss_bytes),
    }
    return result
