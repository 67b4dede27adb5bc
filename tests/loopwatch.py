"""How long the server's event loop is held: a probe task and a stack-sampling watchdog.

The probe task ticks every ``interval`` s on the loop and records how late each tick is (its
*lag*: how long something else held the loop). A watchdog thread notices a tick that is overdue
by more than ``sample_after`` s and samples the loop thread's Python stack every ``sample_every``
s until the tick comes, so every long stall carries the stacks that held the loop.

In-process tests run the server and the test's own client on one loop: the test's client work
counts too, so keep it light (parse large bodies in a thread).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

#: Frames from these directories name the culprit of a stall (the first from the top of the
#: stack, i.e. the innermost jobext frame).
JOBEXT = str(Path(__file__).resolve().parent.parent / "jobext")


@dataclasses.dataclass
class Stall:
    """One tick that came more than ``sample_after`` s late."""

    lag: float
    phase: str
    #: Stack samples taken while the loop was held, innermost frame last.
    samples: list[list[traceback.FrameSummary]]

    def culprits(self) -> list[str]:
        """The innermost jobext frame of each sample (or the innermost frame when none)."""
        return [culprit(stack) for stack in self.samples]


def culprit(stack: list[traceback.FrameSummary]) -> str:
    for frame in reversed(stack):
        if frame.filename.startswith(JOBEXT):
            return f"{Path(frame.filename).relative_to(JOBEXT).as_posix()}:{frame.name}"
    if stack:
        frame = stack[-1]
        return f"{Path(frame.filename).name}:{frame.name} (no jobext frame)"
    return "?"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round((len(ordered) - 1) * q / 100))]


class LoopWatch:
    """Start with :meth:`start` (loop not running yet is fine), count only between :meth:`arm`
    and :meth:`disarm`, end with :meth:`stop`; :meth:`check` raises ``AssertionError`` when a
    tick was later than ``limit`` s, with a report of where the loop was held."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        limit: float = 0.25,
        interval: float = 0.02,
        sample_after: float = 0.05,
        sample_every: float = 0.01,
    ):
        self.loop = loop
        self.limit = limit
        self.interval = interval
        self.sample_after = sample_after
        self.sample_every = sample_every
        self.lags: dict[str, list[float]] = collections.defaultdict(list)
        self.stalls: list[Stall] = []
        self.phase_name = "test"
        self._armed = False
        self._last_tick: float | None = None
        self._loop_thread: int | None = None
        self._samples: list[list[traceback.FrameSummary]] = []
        self._lock = threading.Lock()
        self._task: asyncio.Task[None] | None = None
        self._done = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="loopwatch", daemon=True)

    # ------------------------------------------------------------ control

    def start(self) -> None:
        self._task = self.loop.create_task(self._probe())
        self._watchdog.start()

    def arm(self) -> None:
        """Count from the next tick on (the interval spanning a stopped loop is not counted)."""
        with self._lock:
            self._last_tick = None
            self._samples = []
            self._armed = True

    def disarm(self) -> None:
        self._armed = False

    def stop(self) -> None:
        self._armed = False
        self._done.set()
        self._watchdog.join(5)
        if self._task is not None and not self.loop.is_closed():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                self.loop.run_until_complete(self._task)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Attribute the ticks of the block to ``name`` in the report."""
        previous, self.phase_name = self.phase_name, name
        try:
            yield
        finally:
            self.phase_name = previous

    # ------------------------------------------------------------ measuring

    async def _probe(self) -> None:
        self._loop_thread = threading.get_ident()
        while True:
            await asyncio.sleep(self.interval)
            now = time.perf_counter()
            with self._lock:
                last, self._last_tick = self._last_tick, now
                samples, self._samples = self._samples, []
            if not self._armed or last is None:
                continue
            lag = max(0.0, now - last - self.interval)
            self.lags[self.phase_name].append(lag)
            if lag > self.sample_after:
                self.stalls.append(Stall(lag, self.phase_name, samples))

    def _watch(self) -> None:
        while not self._done.wait(self.sample_every):
            last = self._last_tick
            if not self._armed or last is None or self._loop_thread is None:
                continue
            if time.perf_counter() - last - self.interval < self.sample_after:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)
            with self._lock:
                if self._last_tick == last:  # still the same stall
                    self._samples.append(stack)

    # ------------------------------------------------------------ results

    @property
    def worst(self) -> float:
        return max((max(v) for v in self.lags.values() if v), default=0.0)

    def summary(self) -> str:
        """Per phase: ticks, p50/p99/max lag in ms, and the ticks later than the limit."""
        parts = []
        for phase, lags in self.lags.items():
            over = sum(1 for lag in lags if lag > self.limit)
            parts.append(
                f"{phase}: {len(lags)} ticks, lag p50 {percentile(lags, 50) * 1000:.1f} ms, "
                f"p99 {percentile(lags, 99) * 1000:.1f} ms, max {max(lags) * 1000:.0f} ms, "
                f"{over} over {self.limit * 1000:.0f} ms"
            )
        return "; ".join(parts) or "no ticks"

    def offenders(self, top: int = 8) -> list[tuple[str, float]]:
        """Functions the loop was found in during stalls: (culprit, seconds of samples)."""
        held: collections.Counter[str] = collections.Counter()
        for stall in self.stalls:
            for name in stall.culprits():
                held[name] += self.sample_every
        return [(name, round(seconds, 3)) for name, seconds in held.most_common(top)]

    def report(self) -> str:
        lines = [f"event loop held: {self.summary()}"]
        long = sorted(self.stalls, key=lambda s: -s.lag)
        if long:
            lines.append(
                f"{len(long)} ticks later than {self.sample_after * 1000:.0f} ms; the longest: "
                + ", ".join(f"{s.lag * 1000:.0f} ms ({s.phase})" for s in long[:10])
            )
            lines.append(
                "where the loop was held (stack samples during those, innermost jobext "
                "frame, seconds):"
            )
            lines += [f"  {name}: {seconds:.2f} s" for name, seconds in self.offenders()]
            worst = long[0]
            if worst.samples:
                lines.append(f"a stack of the longest stall ({worst.lag * 1000:.0f} ms):")
                stack = worst.samples[len(worst.samples) // 2]
                # From the callback the loop ran on (the frames above are pytest's and asyncio's).
                starts = [i for i, f in enumerate(stack) if f.name == "_run_once"]
                lines += [
                    f"  {Path(f.filename).name}:{f.lineno} {f.name}"
                    for f in stack[starts[-1] + 1 if starts else 0 :][-30:]
                ]
        return "\n".join(lines)

    def check(self) -> None:
        """Fail when some tick was later than ``limit``."""
        if self.worst > self.limit:
            raise AssertionError(
                f"the event loop was held for {self.worst * 1000:.0f} ms "
                f"(limit {self.limit * 1000:.0f} ms)\n{self.report()}"
            )
