"""Parsing of the run history filters."""

from __future__ import annotations

import datetime as dt

import pytest

from jobext.errors import Invalid
from jobext.runs.filters import RunFilter, parse_instant

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20220221", dt.datetime(2022, 2, 21, tzinfo=UTC)),
        ("20220221T061500", dt.datetime(2022, 2, 21, 6, 15, tzinfo=UTC)),
        ("20220221T0615", dt.datetime(2022, 2, 21, 6, 15, tzinfo=UTC)),
        ("2022-02-21", dt.datetime(2022, 2, 21, tzinfo=UTC)),
        ("2022-02-21T06:15:00Z", dt.datetime(2022, 2, 21, 6, 15, tzinfo=UTC)),
        ("2022-02-21T07:15:00+01:00", dt.datetime(2022, 2, 21, 6, 15, tzinfo=UTC)),
        ("2022-02-21T06:15:00.250", dt.datetime(2022, 2, 21, 6, 15, 0, 250000, tzinfo=UTC)),
    ],
)
def test_instants(raw, expected):
    assert parse_instant("from", raw) == expected


def test_a_bare_date_as_upper_bound_covers_the_day():
    end = parse_instant("to", "20220221", end_of_day=True)
    assert end == dt.datetime(2022, 2, 21, 23, 59, 59, 999999, tzinfo=UTC)
    assert parse_instant("to", "20220221T061500", end_of_day=True).hour == 6


@pytest.mark.parametrize("raw", ["yesterday", "2022-13-01", "20221301", "2022022", "", "T0615"])
def test_bad_instants_name_the_field(raw):
    with pytest.raises(Invalid) as info:
        parse_instant("from", raw)
    assert info.value.field == "from"


def test_filter_parse():
    f = RunFilter.parse(
        {
            "job": "j",
            "status": "IN_PROGRESS",
            "from": "20220101",
            "to": "20220131",
            "batch": "4",
            "uuid": "8C1D6D3C-94B8-4A4B-9D2B-1C1B2C3D4E5F",
        }
    )
    assert f.job == "j" and f.batch == 4
    assert f.uuid == "8c1d6d3c-94b8-4a4b-9d2b-1c1b2c3d4e5f"
    assert len(f.conditions()) == 6


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "20220201", "to": "20220101"}, "to"),
        ({"uuid": "nope"}, "uuid"),
        ({"batch": "x"}, "batch"),
        ({"schedule": "1.5"}, "schedule"),
        ({"status": "done"}, "status"),
    ],
)
def test_filter_errors(params, field):
    with pytest.raises(Invalid) as info:
        RunFilter.parse(params)
    assert info.value.field == field
