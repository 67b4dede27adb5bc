"""Jobs for the durability tests. Copied into the root dir of each test server next to
``jobs_lib.py``, so ``durability_jobs:name`` imports inside a job's process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jobext


def numbered(seconds: float = 60.0, tick: float = 0.005, marker: str | None = None) -> int:
    """Prints ``n 1``, ``n 2``, ... with a checkpoint after each line.

    After each print the number is written to ``marker`` (when given), so a test knows a lower
    bound of how many lines the job has printed, whatever happens to the server.
    """
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        count += 1
        print(f"n {count}", flush=True)
        if marker:
            # Atomically, so that a reader never sees a half-written number.
            Path(marker + ".tmp").write_text(str(count))
            os.replace(marker + ".tmp", marker)
        jobext.checkpoint()
        time.sleep(tick)
    return count


def loop_with_detached_child(seconds: float = 60.0, tick: float = 0.05) -> int:
    """Starts a grandchild in a session of its own (out of the job's process group, as a
    daemonising tool would) and then loops with checkpoints, printing each tick."""
    child = subprocess.Popen(
        [sys.executable, "-c", f"import time; time.sleep({seconds})"],
        start_new_session=True,
    )
    print(f"detached {child.pid}", flush=True)
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        count += 1
        print(f"tick {count}", flush=True)
        jobext.checkpoint()
        time.sleep(tick)
    return count


def leave_grandchild(seconds: float = 60.0) -> None:
    """Starts a grandchild (in the job's process group) and returns at once, leaving it
    behind: it must not outlive the run."""
    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    print(f"grandchild {child.pid}", flush=True)
