"""Retry backoff (:mod:`jobext.runs.retries`); retries end to end: test_schedules_api.py."""

from __future__ import annotations

from jobext.runs.retries import retry_delay_s


def test_the_backoff_doubles_with_each_attempt():
    assert [retry_delay_s(2.0, attempt, 3600.0) for attempt in (1, 2, 3, 4)] == [2, 4, 8, 16]


def test_the_backoff_stops_at_its_cap():
    assert retry_delay_s(2.0, 30, 3600.0) == 3600.0
    assert retry_delay_s(0.0, 5, 3600.0) == 0.0
