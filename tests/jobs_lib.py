"""Jobs the tests run. Copied into each test server's root dir, so ``jobs_lib:name`` imports."""

from __future__ import annotations

import logging
import os
import sys
import time

import jobext

log = logging.getLogger("jobs_lib")


def hello(name: str = "world", n: int = 3) -> dict[str, object]:
    for i in range(n):
        print(f"hello {name} {i}")
        jobext.progress((i + 1) / n, f"greeted {i + 1}")
    log.warning("done greeting")
    return {"greeted": n}


def noop() -> None:
    pass


def fail(message: str = "boom") -> None:
    print("about to fail")
    raise ValueError(message)


def exit_code(code: int = 3) -> None:
    sys.exit(code)


def crash() -> None:
    # Dies without a word: as an out-of-memory kill would.
    os.kill(os.getpid(), 9)


def write_result(rows: int = 3, suffix: str = ".csv") -> None:
    path = jobext.result_path(suffix)
    with path.open("w") as handle:
        handle.write("id,name\n")
        for i in range(rows):
            handle.write(f"{i},row {i}\n")
    jobext.records_written(rows)


def loop(seconds: float = 30.0, tick: float = 0.05) -> int:
    """Runs ``seconds`` with a checkpoint every ``tick``; prints each iteration."""
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        count += 1
        print(f"tick {count}", flush=True)
        jobext.progress(min(1.0, count * tick / seconds))
        jobext.checkpoint()
        time.sleep(tick)
    return count


def sleep_no_checkpoint(seconds: float = 30.0) -> None:
    print("sleeping", flush=True)
    time.sleep(seconds)


def ignore_sigterm(seconds: float = 60.0) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print("ignoring SIGTERM", flush=True)
    time.sleep(seconds)


def die_on_sigterm(seconds: float = 60.0) -> None:
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    print("SIGTERM ends me", flush=True)
    time.sleep(seconds)


def steps() -> None:
    with jobext.step("extract"):
        print("extracting")
    with jobext.step("load"):
        print("loading")


def many_lines(count: int = 1000) -> None:
    write = sys.stdout.write
    for i in range(count):
        write(f"line {i}\n")


def spawn_child(seconds: float = 60.0) -> None:
    """Starts a grandchild process that would outlive the job if nobody cleaned up."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])
    print(f"child {child.pid}", flush=True)
    time.sleep(seconds)


async def async_job(value: int = 1) -> int:
    import asyncio

    await asyncio.sleep(0.01)
    print(f"async {value}")
    return value * 2


class ClassJob:
    def run(self, x: int = 1) -> None:
        print(f"class job {x}")
