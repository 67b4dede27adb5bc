"""Jobs of the worker tests (copied into the servers' root dir)."""

from __future__ import annotations

import time

import jobext


def burn(seconds: float = 30.0) -> int:
    """Keep one core busy for ``seconds`` (a checkpoint now and then, so a stop is quick)."""
    count = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(100_000):
            count += 1
        jobext.checkpoint()
    return count
