"""The live session's lifecycle table, on its own."""

from __future__ import annotations

import pytest

from earmark.core.session_lifecycle import (
    ACTIVE,
    RESTING,
    TRANSITIONS,
    InvalidTransition,
    SessionEvent,
    SessionState,
    next_state,
)

S, E = SessionState, SessionEvent


def run(*events: SessionEvent, start: SessionState = S.IDLE) -> list[SessionState]:
    states = [start]
    for event in events:
        states.append(next_state(states[-1], event))
    return states


def test_a_session_that_goes_well():
    assert run(E.START, E.OPENED, E.STOP, E.ENDED) == [
        S.IDLE, S.CONNECTING, S.LIVE, S.STOPPING, S.FINISHED]


def test_a_dropped_connection_reconnects_and_goes_on():
    assert run(E.START, E.OPENED, E.DROPPED, E.DROPPED, E.OPENED, E.STOP, E.ENDED)[-5:] == [
        S.RECONNECTING, S.RECONNECTING, S.LIVE, S.STOPPING, S.FINISHED]


def test_stop_while_reconnecting_still_delivers_the_last_audio():
    assert run(E.START, E.OPENED, E.DROPPED, E.STOP, E.OPENED, E.ENDED)[-3:] == [
        S.STOPPING, S.STOPPING, S.FINISHED]


@pytest.mark.parametrize("state", sorted(ACTIVE))
def test_every_active_state_can_fail(state):
    assert next_state(state, E.FAILED) == S.FAILED


@pytest.mark.parametrize("state", sorted(RESTING))
def test_every_resting_state_starts_a_new_session(state):
    assert next_state(state, E.START) == S.CONNECTING


@pytest.mark.parametrize(("state", "event"), [
    (S.IDLE, E.OPENED), (S.LIVE, E.START), (S.FINISHED, E.STOP), (S.LIVE, E.ENDED),
    (S.IDLE, E.FAILED), (S.FAILED, E.DROPPED)])
def test_impossible_events_are_refused(state, event):
    with pytest.raises(InvalidTransition):
        next_state(state, event)


def test_the_table_reaches_every_state_and_ends_only_in_resting_ones():
    targets = set(TRANSITIONS.values())
    assert targets | {S.IDLE} == set(SessionState)
    for (state, _event), target in TRANSITIONS.items():
        if target in RESTING:
            assert state in ACTIVE  # only an active session finishes or fails
