"""What every benchmark returns, and small statistics helpers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any


@dataclasses.dataclass
class Metric:
    """One measured figure; ``target`` and ``ok`` are set for the figures the issue sets a goal for."""

    name: str
    value: float | int | None
    unit: str
    target: str | None = None
    ok: bool | None = None

    def shown(self) -> str:
        if self.value is None:
            return "n/a"
        if isinstance(self.value, float):
            if abs(self.value) >= 100:
                text = f"{self.value:,.0f}"
            elif abs(self.value) >= 10:
                text = f"{self.value:.1f}"
            else:
                text = f"{self.value:.2f}"
        else:
            text = f"{self.value:,}"
        return f"{text} {self.unit}".strip()


@dataclasses.dataclass
class Result:
    name: str
    title: str
    metrics: list[Metric] = dataclasses.field(default_factory=list)
    info: dict[str, Any] = dataclasses.field(default_factory=dict)
    error: str | None = None
    seconds: float | None = None

    def add(
        self,
        name: str,
        value: float | int | None,
        unit: str,
        *,
        at_most: float | None = None,
        at_least: float | None = None,
        target: str | None = None,
        ok: bool | None = None,
    ) -> Metric:
        if at_most is not None:
            target = target or f"≤ {at_most:g} {unit}".strip()
            ok = value is not None and value <= at_most
        elif at_least is not None:
            target = target or f"≥ {at_least:g} {unit}".strip()
            ok = value is not None and value >= at_least
        metric = Metric(name, value, unit, target, ok)
        self.metrics.append(metric)
        return metric

    @property
    def passed(self) -> bool | None:
        verdicts = [m.ok for m in self.metrics if m.ok is not None]
        if self.error:
            return False
        return all(verdicts) if verdicts else None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "passed": self.passed,
            "error": self.error,
            "seconds": self.seconds,
            "metrics": [dataclasses.asdict(m) for m in self.metrics],
            "info": self.info,
        }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))


def summary(values: Sequence[float], *, scale: float = 1.0, digits: int = 2) -> dict[str, Any]:
    """``{n, min, p50, p95, p99, max, mean}`` of ``values`` times ``scale``."""
    if not values:
        return {"n": 0}
    scaled = [v * scale for v in values]

    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "n": len(scaled),
        "min": r(min(scaled)),
        "p50": r(percentile(scaled, 50)),
        "p95": r(percentile(scaled, 95)),
        "p99": r(percentile(scaled, 99)),
        "max": r(max(scaled)),
        "mean": r(sum(scaled) / len(scaled)),
    }


def parse_time(text: str | None) -> float | None:
    """An API time (``2026-11-21T04:01:10.102Z``) as a POSIX timestamp."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def mib(n: int | None) -> float | None:
    return None if n is None else round(n / (1 << 20), 1)


class CpuMeter:
    """CPU seconds a process spent (itself, and its reaped children) between start and stop."""

    def __init__(self, pid: int):
        import psutil

        self.proc = psutil.Process(pid)
        self._start = self.proc.cpu_times()
        self.server_s: float | None = None
        self.children_s: float | None = None

    def stop(self) -> CpuMeter:
        end = self.proc.cpu_times()
        self.server_s = round(end.user + end.system - self._start.user - self._start.system, 3)
        self.children_s = round(
            end.children_user
            + end.children_system
            - self._start.children_user
            - self._start.children_system,
            3,
        )
        return self

    def as_json(self) -> dict[str, Any]:
        return {"server_cpu_s": self.server_s, "job_processes_cpu_s": self.children_s}
