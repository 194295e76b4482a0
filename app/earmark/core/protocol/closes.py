"""Websocket close codes of a v3 session, and the sentence a person reads for each."""

from __future__ import annotations

from enum import IntEnum


class CloseCode(IntEnum):
    NORMAL = 1000
    GOING_AWAY = 1001
    ABNORMAL = 1006  # no close frame: the connection dropped
    POLICY = 1008  # bad or missing key, account problem, too many sessions
    INTERNAL = 1011
    SERVER_ERROR = 3005
    INVALID_MESSAGE = 3006
    INPUT_DURATION = 3007
    SESSION_EXPIRED = 3008
    TOO_MANY_SESSIONS = 3009


_SENTENCES: dict[int, str] = {
    CloseCode.GOING_AWAY: "The server went away. Start again to continue.",
    CloseCode.ABNORMAL: "The connection dropped.",
    CloseCode.POLICY: "The server refused the connection: the API key is missing or wrong, or the "
                      "account cannot open a session. Check the key in Settings.",
    CloseCode.INTERNAL: "The server hit an internal error. Start again to continue.",
    CloseCode.SERVER_ERROR: "The transcription service had an error and cancelled the session. "
                            "Start again to continue.",
    CloseCode.INVALID_MESSAGE: "The server rejected a message from Earmark as invalid. "
                               "This is a bug; the log has the details.",
    CloseCode.INPUT_DURATION: "The server rejected the audio: chunks must hold 50 to 1000 ms and "
                              "arrive no faster than real time.",
    CloseCode.SESSION_EXPIRED: "The session reached its maximum length and was closed. "
                               "Start a new session to continue.",
    CloseCode.TOO_MANY_SESSIONS: "Too many sessions are open on this account. Close another "
                                 "session or wait a minute, then start again.",
    # legacy v2 codes the SDKs still carry
    4001: "Not authorised: the API key is wrong.",
    4002: "The account has insufficient funds.",
    4008: "The session expired.",
    4029: "Audio was sent faster than real time.",
    4031: "The session was idle for too long.",
}


# Closes that another connection would only repeat: the key, the account, the session's
# length, the concurrency limit, or a message Earmark got wrong.
NOT_RETRIED = frozenset({CloseCode.POLICY, CloseCode.SESSION_EXPIRED,
                         CloseCode.TOO_MANY_SESSIONS, CloseCode.INVALID_MESSAGE,
                         CloseCode.INPUT_DURATION, 4001, 4002, 4008})


def worth_retrying(code: int | None) -> bool:
    """Whether a connection that closed with `code` (0/None: no close frame, a network error)
    should be replaced by a new one: drops, server errors (1006, 1011, 3005) and the like."""
    return code != CloseCode.NORMAL and code not in NOT_RETRIED


def is_error(code: int | None) -> bool:
    """Whether a close with this code ended the session abnormally."""
    return code is not None and code != CloseCode.NORMAL


def describe_close(code: int | None, reason: str = "") -> str:
    """One sentence for the status bar and the log; the server's reason is appended when it
    adds something (it is often the only detail for a 1008)."""
    if code is None:
        return "The connection closed without a reason. Check the network and start again."
    if code == CloseCode.NORMAL:
        return "The session ended normally."
    if code == CloseCode.POLICY and "concurrent" in reason.lower():
        sentence = _SENTENCES[CloseCode.TOO_MANY_SESSIONS]
    else:
        sentence = _SENTENCES.get(code, f"The connection closed unexpectedly (code {code}).")
    reason = reason.strip()
    return f"{sentence} (server: {reason})" if reason else sentence
