"""The main window against a server that sends well over a thousand malformed messages (from
the parser's fuzz generator: broken fields, broken JSON, huge, deep, binary, invalid UTF-8)
between the valid turns and answers of a session. Nothing is raised in any slot, every
malformed message is accounted for in the log, and the turns and answers are all shown with
their text to the end, and saved."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.server import ServerConnection

from earmark import credentials
from earmark.controllers.card_model import CardState
from earmark.core.catalog import CLOUD_ENGINE
from earmark.settings import Key
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from earmark.workers.file_source import REALTIME, FileSource
from tests.conftest import speech_file
from tests.core.test_protocol_fuzz import malformed_frames
from tests.support.replay_server import Received, ReplayServer

MODEL = "claude-sonnet-4-6"
GAPS_PER_TURN = 3
PER_GAP = 90  # 4 turns x 3 gaps x 90 = 1,080 malformed messages, and the odd ones below
BAD_UTF8 = [b'{"type": "Turn", "transcript": "\xff"}', b"\xc3\x28", b"\xed\xa0\x80", b"\x80"]
UNKNOWN = [{"type": "FutureEvent", "n": i} for i in range(15)]

# (formatted text, the answer's data, the answer the window shows): the answers' `data` is as
# odd as the protocol allows (the SDK takes any object): they are kept, not dropped.
TURNS: list[tuple[str, dict[str, Any], str]] = [
    ("We need to ship the release Friday.",
     {"choices": [{"message": {"role": "assistant", "content": "Ship on Friday."}}],
      "request": {"model": MODEL}, "usage": {"total_tokens": 42}},
     "Ship on Friday."),
    ("Who owns the release notes?",
     {"choices": [{"message": {"content": "Nobody yet."}}], "request": "not an object"},
     "Nobody yet."),
    ("Let's ask Dana.",
     {"choices": [{"message": {"content": [{"type": "text", "text": "Dana "}, {"text": 5},
                                           "raw", {"type": "text", "text": "owns them."}]}}],
      "request": None, "model": 42, "usage": [1, 2]},
     "Dana owns them."),
    ("Great, that settles it.",
     {"choices": [{"message": {"content": "  Settled.  "}}, "second"], "request": ["x"]},
     "Settled."),
]


def _words(text: str, start_ms: int) -> list[dict[str, Any]]:
    return [{"start": start_ms + 300 * i, "end": start_ms + 300 * i + 250, "text": w,
             "confidence": 0.9, "word_is_final": True} for i, w in enumerate(text.split())]


def _turn(order: int, text: str, *, final: bool, formatted: bool) -> dict[str, Any]:
    words = _words(text if formatted else text.lower().rstrip(".?"), 5000 * order + 320)
    if not final:
        words = words[:2]
    return {"type": "Turn", "turn_order": order, "turn_is_formatted": formatted,
            "end_of_turn": final, "transcript": " ".join(w["text"] for w in words),
            "end_of_turn_confidence": 0.8 if final else 0.02, "words": words}


def _answer(order: int, text: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "LLMGatewayResponse", "turn_order": order, "transcript": text, "data": data}


class MalformedServer(ReplayServer):
    """The replay server, with two more steps: {"binary": b"..."} sends a binary frame and
    {"text_bytes": b"..."} a text frame of those bytes, valid UTF-8 or not."""

    def _play(self, conn: ServerConnection, got: Received, step: dict) -> None:
        if "binary" in step:
            conn.send(step["binary"], text=False)
        elif "text_bytes" in step:
            conn.send(step["text_bytes"], text=True)
        else:
            super()._play(conn, got, step)


def _frame_step(frame: str | bytes, index: int) -> dict[str, Any]:
    if isinstance(frame, str):
        return {"raw": frame}
    # the generator's bytes: every other one as a text frame, the rest as binary frames
    return {"text_bytes": frame} if index % 2 else {"binary": frame}


def scenario() -> tuple[list[dict[str, Any]], int]:
    """The steps of the session, and how many malformed messages they hold."""
    frames: Iterator[str | bytes] = iter(malformed_frames(2024, len(TURNS) * GAPS_PER_TURN
                                                         * PER_GAP))
    odd = iter([*({"text_bytes": b} for b in BAD_UTF8), *({"send": u} for u in UNKNOWN)])

    def gap() -> list[dict[str, Any]]:
        steps = [_frame_step(next(frames), i) for i in range(PER_GAP)]
        return [*steps, *(step for step in (next(odd, None), next(odd, None)) if step)]

    steps: list[dict[str, Any]] = [{"send": {"type": "Begin", "id": "5e55104d-malformed",
                                             "expires_at": 1795000000}}]
    for order, (text, data, _shown) in enumerate(TURNS):
        steps += gap()
        steps.append({"send": _turn(order, text, final=False, formatted=False)})
        steps += gap()
        steps.append({"send": _turn(order, text, final=True, formatted=False)})
        steps.append({"send": _turn(order, text, final=True, formatted=True)})
        steps += gap()
        steps.append({"send": _answer(order, text, data)})
    steps += [{"await": "Terminate"},
              {"send": {"type": "Termination", "audio_duration_seconds": 11,
                        "session_duration_seconds": 12}},
              {"close": 1000}]
    assert next(odd, None) is None  # every odd one was sent
    malformed = sum(1 for s in steps if "raw" in s or "binary" in s or "text_bytes" in s)
    return steps, malformed


@pytest.fixture
def window(qtbot, settings, memory_keyring, store):
    servers: list[ReplayServer] = []

    def make(steps: list[dict[str, Any]]) -> MainWindow:
        server = MalformedServer(steps).__enter__()
        servers.append(server)
        credentials.save_api_key("test-key")
        settings.set(Key.ENGINE, CLOUD_ENGINE)
        settings.set(Key.CLOUD_CUSTOM_URL, server.url)
        w = MainWindow(settings, EngineHost("whisper-tiny.en"),
                       make_source=lambda: FileSource(speech_file("misc/jfk.wav"),
                                                      speed=REALTIME),
                       store=store)
        qtbot.addWidget(w, before_close_func=lambda win: win.controller.shutdown())
        w.show()
        return w

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def _logged(caplog, pattern: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if isinstance(r.msg, str) and re.fullmatch(pattern, r.msg)]


def _errors(caplog, *expected: str) -> list[str]:
    """The errors Earmark logged (a handler that failed among them) and the exceptions
    websocket-client caught in a callback; but for the server errors a scenario sends."""
    found = []
    for record in caplog.records:
        message = record.getMessage()
        ours = record.name.startswith("earmark") or message.startswith("error from callback")
        if record.levelno >= logging.ERROR and ours and not message.startswith(expected):
            found.append(message)
    return found


def _select_each_turn(w: MainWindow) -> list[int]:
    """Select every turn in the transcript (the answer pane follows through each card's
    order); the answer rows selected."""
    followed = []
    for row in range(w.controller.transcript.rowCount()):
        w.transcript_view.setCurrentIndex(w.controller.transcript.index(row))
        followed += [i.row() for i in w.answer_view.selectionModel().selectedIndexes()]
    return followed


def _accounted(caplog, one: str, more: str) -> int:
    """How many ignored messages the log accounts for: one line each, then counts."""
    return len(_logged(caplog, one)) + sum(r.args[0] for r in _logged(caplog, more))


def test_uncaught_exceptions_in_qt_slots_fail_these_tests(request):
    """pytest-qt's capture is on: an exception in a slot fails the test that caused it."""
    assert not request.config.getini("qt_no_exception_capture")
    assert request.node.get_closest_marker("qt_no_exception_capture") is None


def test_a_thousand_malformed_messages_between_the_turns(qtbot, window, store, caplog):
    caplog.set_level(logging.INFO)
    steps, malformed = scenario()
    assert malformed >= 1000
    w = window(steps)
    with qtbot.captureExceptions() as exceptions:
        w.start_session()
        expected = [shown for _text, _data, shown in TURNS]

        def all_answered() -> bool:
            answers = w.controller.answers.cards()
            return [a.body for a in answers] == expected and \
                all(a.state == CardState.FINAL for a in answers)

        qtbot.waitUntil(all_answered, timeout=60_000)
        w.controller.stop_session()
        with qtbot.waitSignal(w.controller.session_ended, timeout=10_000) as ended:
            pass
        assert _select_each_turn(w) == [0, 1, 2, 3]
    assert exceptions == []

    # everything the server sent that was valid is on screen, with its text, to the end
    transcript = w.controller.transcript.cards()
    assert [c.body for c in transcript] == [text for text, _data, _shown in TURNS]
    assert all(c.state == CardState.FINAL for c in transcript)
    assert [c.title for c in transcript] == ["Turn 1", "Turn 2", "Turn 3", "Turn 4"]
    answers = w.controller.answers.cards()
    assert [a.body for a in answers] == [shown for _text, _data, shown in TURNS]
    assert {a.meta for a in answers} == {MODEL}
    assert ended.args[0] == "Session ended: 11 s of audio, 4 turns, all transcribed."
    assert not w.banner.text  # nothing for the user to act on
    assert w.controller.session_id == "5e55104d-malformed"

    # and saved
    saved = store.load(w.controller.saved_folder)
    assert [t.text for t in saved.turns] == [text for text, _data, _shown in TURNS]
    assert [a.answer.strip() for a in saved.answers] == [shown for _t, _d, shown in TURNS]
    assert saved.answers[2].usage == {}

    # every malformed message is accounted for in the log, without one line each
    one = r"ignored a malformed server message \(%s\): %s"
    more = r"ignored %d more malformed server messages \(%d on this connection\)"
    assert _accounted(caplog, one, more) == malformed
    assert len(_logged(caplog, one)) == 10
    assert _logged(caplog, more)[-1].args[1] == malformed
    assert _accounted(caplog, r"ignored a message of unknown type %s",
                      r"ignored %d more messages of unknown types \(%d on this connection\)"
                      ) == len(UNKNOWN)
    # no handler failed, in the GUI or on the websocket thread
    assert _errors(caplog) == []
    assert not _logged(caplog, r"websocket error: %s: %s")


def _one_turn_session(qtbot, window, middle: list[dict[str, Any]], end: list[dict[str, Any]]
                      ) -> tuple[MainWindow, str]:
    """A session with one good turn and its answer around `middle`; the summary it ends with."""
    text, data, shown = TURNS[0]
    steps = [{"send": {"type": "Begin", "id": "c", "expires_at": 1}},
             {"send": _turn(0, text, final=True, formatted=True)},
             *middle, {"send": _answer(0, text, data)}, *end]
    w = window(steps)
    with qtbot.captureExceptions() as exceptions:
        w.start_session()
        qtbot.waitUntil(lambda: [a.body for a in w.controller.answers.cards()] == [shown],
                        timeout=20_000)
        w.controller.stop_session()
        with qtbot.waitSignal(w.controller.session_ended, timeout=10_000) as ended:
            pass
        _select_each_turn(w)
    assert exceptions == []
    assert [c.body for c in w.controller.transcript.cards()] == [text]
    return w, ended.args[0]


CRASHERS = {
    "request not an object": _answer(0, "x", {"request": "claude", "choices": []}),
    "content parts not text": _answer(0, "x", {"choices": [{"message": {"content": [
        {"text": 5}]}}]}),
    "turn_order 2**63": {**_turn(0, TURNS[0][0], final=True, formatted=True),
                         "turn_order": 2**63},
    "turn_order -1": {**_turn(0, TURNS[0][0], final=True, formatted=True), "turn_order": -1},
    "turn_order 1.0": {**_turn(0, TURNS[0][0], final=True, formatted=True), "turn_order": 1.0},
    "turn_order '1'": {**_turn(0, TURNS[0][0], final=True, formatted=True), "turn_order": "1"},
}


@pytest.mark.parametrize("message", CRASHERS.values(), ids=CRASHERS.keys())
def test_a_message_that_used_to_raise_in_the_window(qtbot, window, caplog, message):
    _w, summary = _one_turn_session(qtbot, window, [{"raw": json.dumps(message)}],
                                    [{"await": "Terminate"}, {"send": {"type": "Termination"}},
                                     {"close": 1000}])
    assert summary.endswith("1 turn, all transcribed.")
    assert _errors(caplog) == []


def test_an_error_code_beyond_close_codes_before_a_dropped_connection(qtbot, window, caplog):
    """The code of an Error stands for the close's when the connection drops without one; a
    code no close can carry (here beyond a C int) is not taken for it."""
    error = {"type": "Error", "error_code": 2**40, "error": "huge code"}
    _w, summary = _one_turn_session(qtbot, window, [{"send": error}],
                                    [{"await": "Terminate"}, {"drop": True}])
    assert "Session ended" in summary
    assert _errors(caplog, "server error", "session error") == []
