"""``c.JobExtApp.max_log_bytes``: a run that prints far past it keeps the limit, says so once,
and goes on; through a real server."""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any

import pytest
from conftest import Api

LIMIT = 64_000

CHATTY = """
import logging, os, sys
import jobext

def talk(lines=200_000):
    line = "x" * 90
    for i in range(lines):
        print(i, line)
        if i % 1000 == 0:
            logging.getLogger("chatty").warning("record %d", i)
            os.write(2, b"raw stderr line\\n")
    sys.stdout.flush()
    # Still running past the limit: this reaches the run's fields, not its log.
    jobext.progress(1.0, f"printed {lines} lines")
    with jobext.result_path(".txt").open("w") as out:
        out.write("done\\n")
"""


@pytest.fixture
def jobext_config() -> dict[str, Any]:
    return {"max_log_bytes": LIMIT}


async def all_logs(api: Api, run_id: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    after = 0
    while True:
        page = (await api.get(f"runs/{run_id}/logs", params={"after": after, "limit": 1000})).json()
        lines += page["items"]
        if not page["more"]:
            return lines
        after = page["next_after"]


async def test_a_flood_past_max_log_bytes_is_cut_once_and_the_run_goes_on(
    api: Api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "chatty.py").write_text(CHATTY)
    await api.job("chatty", "chatty:talk")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # ~19 MB of output: 300 times the limit.
    run = await api.run("chatty", {"lines": 200_000})
    done = await api.wait(run["id"], "succeeded", "failed", timeout=300)
    assert done["status"] == "succeeded", done
    assert done["message"] == "printed 200000 lines"
    assert done["result"] is not None

    lines = await all_logs(api, run["id"])
    ours = [line for line in lines if line["stream"] == "jobext"]
    theirs = [line for line in lines if line["stream"] != "jobext"]
    kept = sum(len(line["text"]) + 1 for line in theirs)
    assert 0.9 * LIMIT < kept <= LIMIT
    # The output up to the cut is whole and in order.
    printed = [line["text"] for line in theirs if line["stream"] == "stdout"]
    assert printed == [f"{i} {'x' * 90}" for i in range(len(printed))]
    cut = [line for line in ours if "max_log_bytes" in line["text"]]
    assert len(cut) == 2, ours  # the cut, and the count of what was dropped at the end
    assert "the run goes on" in cut[0]["text"]
    assert cut[0]["level"] == "WARNING"
    assert "were dropped" in cut[1]["text"]

    # Event stream clients see one distinct event.
    body = (await api.get(f"runs/{run['id']}/events")).body.decode()
    blocks = [b for b in body.split("\n\n") if "event: truncated" in b]
    assert len(blocks) == 1, body[-2000:]
    data = json.loads(next(x for x in blocks[0].splitlines() if x.startswith("data: "))[6:])
    assert data["max_log_bytes"] == LIMIT

    # The server (this process) did not hold the flood: far less than its 19 MB.
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 15_000, grown_kb
