"""Registering jobs on a fresh PostgreSQL database, where several transactions write at once
(SQLite's one writer thread serializes them)."""

from __future__ import annotations

import asyncio

from pg import server_on_fresh_database

pg_database, jp_server_cleanup, db_url = server_on_fresh_database("jobext_jobs")


async def test_concurrent_registrations_of_one_name_answer_201_and_409(api):
    # Both requests pass the "name free?" check before either commits: the database's unique
    # key decides, and the loser must hear what a duplicate name answers, never a 500.
    names = [f"race-{i}" for i in range(12)]
    body = {"kind": "python", "target": "jobs_lib:noop"}
    replies = await asyncio.gather(
        *(api.post("jobs", {"name": name, **body}) for name in names for _ in range(2))
    )
    for name, pair in zip(names, zip(replies[::2], replies[1::2], strict=True), strict=True):
        assert sorted(r.code for r in pair) == [201, 409], (name, pair)
        loser = next(r for r in pair if r.code == 409).json()
        assert loser["field"] == "name"
        assert loser["message"] == f"a job named {name!r} exists already"
    listed = (await api.get("jobs", params={"per_page": 100})).json()
    assert sorted(j["name"] for j in listed["items"]) == sorted(names)
