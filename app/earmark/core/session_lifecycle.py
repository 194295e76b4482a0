"""The states of a live session and every transition between them, in one table.

    idle ──start──► connecting ──opened──► live ──stop──► stopping ──ended──► finished
                        │                  │  ▲                               (or failed)
                        └──dropped──► reconnecting ─opened─┘

A dropped connection (a network error, a stalled or restarted server) does not end the
session: capture and recording go on while the client reconnects. `failed` is the end of a
session that could not be finished as asked (no connection at all, a refused key, retrying
gave up); whatever was recorded is kept either way. `finished` and `failed` rest until the next
start.
"""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"


class SessionEvent(StrEnum):
    START = "start"  # the user pressed Start or opened a file
    OPENED = "opened"  # the server's Begin on a (new) connection
    DROPPED = "dropped"  # the connection ended abnormally; worth another try
    STOP = "stop"  # the user pressed Stop, or the source ended
    ENDED = "ended"  # everything is in, saved and closed
    FAILED = "failed"  # cannot go on: refused, or retrying gave up


S, E = SessionState, SessionEvent
ACTIVE = frozenset({S.CONNECTING, S.LIVE, S.RECONNECTING, S.STOPPING})
RESTING = frozenset({S.IDLE, S.FINISHED, S.FAILED})

TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    **{(state, E.START): S.CONNECTING for state in RESTING},
    (S.CONNECTING, E.OPENED): S.LIVE,
    (S.RECONNECTING, E.OPENED): S.LIVE,
    (S.STOPPING, E.OPENED): S.STOPPING,  # a reconnection to deliver the last audio
    (S.CONNECTING, E.DROPPED): S.RECONNECTING,
    (S.LIVE, E.DROPPED): S.RECONNECTING,
    (S.RECONNECTING, E.DROPPED): S.RECONNECTING,  # another attempt failed
    (S.STOPPING, E.DROPPED): S.STOPPING,
    **{(state, E.STOP): S.STOPPING for state in (S.CONNECTING, S.LIVE, S.RECONNECTING)},
    (S.STOPPING, E.STOP): S.STOPPING,
    (S.STOPPING, E.ENDED): S.FINISHED,
    **{(state, E.FAILED): S.FAILED for state in ACTIVE},
}


class InvalidTransition(RuntimeError):
    pass


def next_state(state: SessionState, event: SessionEvent) -> SessionState:
    """The state after `event`. Raises InvalidTransition for an event that cannot happen in
    `state` (a bug in the caller, never a user's doing)."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"{event.value} in state {state.value}") from None
