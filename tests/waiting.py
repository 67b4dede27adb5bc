"""The one way tests wait: poll a condition until it holds, fail naming what was awaited.

``eventually`` sleeps between polls (for tests that drive servers in other processes);
``eventually_async`` awaits between them, so that the server under test, on the same event loop,
keeps running. Both return the condition's first truthy value, so ``runs = eventually(list_runs)``
waits for the runs and hands them over.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

#: Long enough for a loaded 2-core machine; a test passes as soon as its condition holds.
TIMEOUT = 30.0


def _failure(message: str | Callable[[], str], timeout: float, last: Any) -> AssertionError:
    what = message() if callable(message) else message
    return AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")


def eventually(
    condition: Callable[[], T],
    *,
    timeout: float = TIMEOUT,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition",
) -> T:
    """Call ``condition`` every ``interval`` s until it returns something truthy, and return
    that; after ``timeout`` s raise ``AssertionError`` naming ``message`` (a string, or a
    function called then, for details known only at the end) and the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise _failure(message, timeout, value)
        time.sleep(interval)


async def eventually_async(
    condition: Callable[[], T | Awaitable[T]],
    *,
    timeout: float = TIMEOUT,
    interval: float = 0.05,
    message: str | Callable[[], str] = "the condition",
) -> T:
    """:func:`eventually` for coroutines: ``condition`` may be a plain function or return an
    awaitable, and the wait between polls yields to the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise _failure(message, timeout, value)
        await asyncio.sleep(interval)
