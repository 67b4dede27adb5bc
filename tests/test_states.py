"""The run state machine."""

from __future__ import annotations

import pytest

from jobext.errors import Conflict, Invalid
from jobext.states import (
    ACTIVE,
    FINAL,
    IN_PROGRESS,
    TRANSITIONS,
    RunStatus,
    can_transition,
    check_transition,
    parse_status_filter,
)


def test_final_states_have_no_way_out():
    for status in FINAL:
        assert TRANSITIONS[status] == frozenset()
        assert status.is_final


def test_every_non_final_state_can_be_force_stopped():
    for status in IN_PROGRESS:
        assert can_transition(status, RunStatus.STOPPED), status


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("queued", "running"),
        ("running", "pausing"),
        ("pausing", "paused"),
        ("paused", "running"),
        ("pausing", "running"),
        ("running", "stopping"),
        ("paused", "stopping"),
        ("stopping", "stopped"),
        ("running", "succeeded"),
        ("running", "failed"),
    ],
)
def test_legal_moves(current, new):
    check_transition(RunStatus(current), RunStatus(new), action="test")


@pytest.mark.parametrize(
    ("current", "new"),
    [
        ("queued", "paused"),
        ("queued", "pausing"),
        ("succeeded", "running"),
        ("failed", "stopped"),
        ("stopping", "running"),
        ("stopping", "paused"),
        ("paused", "pausing"),
    ],
)
def test_illegal_moves_name_the_state(current, new):
    with pytest.raises(Conflict, match=f"that is {current}"):
        check_transition(RunStatus(current), RunStatus(new), action="do")


def test_groups():
    assert {"queued", "running", "pausing", "paused", "stopping"} == IN_PROGRESS
    assert ACTIVE < IN_PROGRESS
    assert parse_status_filter("IN_PROGRESS") == IN_PROGRESS
    assert parse_status_filter("SUCCEEDED") == {RunStatus.SUCCEEDED}
    assert parse_status_filter("failed, stopped") == {RunStatus.FAILED, RunStatus.STOPPED}
    assert parse_status_filter("FAILED,queued") == {RunStatus.FAILED, RunStatus.QUEUED}


@pytest.mark.parametrize("value", ["bogus", ",", "running,nope"])
def test_unknown_status_names_the_field(value):
    with pytest.raises(Invalid) as info:
        parse_status_filter(value)
    assert info.value.field == "status"
