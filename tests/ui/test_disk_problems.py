"""A live session in the main window while the disk fails: the user is told, the transcript goes
on, and nothing is lost once the disk works again. Cloud path against the replay server, with
real speech from a file."""

from __future__ import annotations

import errno
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from earmark import credentials
from earmark.controllers.card_model import CardState
from earmark.controllers.live_session import SessionState
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.session import SessionStatus, SessionStore, fsio
from earmark.settings import Key
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from earmark.workers.file_source import REALTIME, FileSource
from tests.conftest import speech_file
from tests.support.replay_server import ReplayServer

SPEECH = "misc/jfk.wav"  # 11 s
TURNS = [
    "And so, my fellow Americans,",
    "ask not what your country can do for you,",
    "ask what you can do for your country.",
    "Thank you.",
]
TURN_EVERY_MS = 2000  # audio between two turns: time to break or mend the disk in between


def _turn(order: int, text: str, formatted: bool) -> dict[str, Any]:
    start = 300 + order * TURN_EVERY_MS
    words = [{"start": start + i * 200, "end": start + i * 200 + 180, "confidence": 0.9,
              "text": word if formatted else word.lower().strip(",."), "word_is_final": True}
             for i, word in enumerate(text.split())]
    transcript = " ".join(w["text"] for w in words)
    return {"type": "Turn", "turn_order": order, "turn_is_formatted": formatted,
            "end_of_turn": True, "transcript": transcript, "end_of_turn_confidence": 0.8,
            "words": words, "utterance": transcript}


def _scenario() -> list[dict[str, Any]]:
    """Begin, then one final turn (unformatted, then formatted) every TURN_EVERY_MS of audio."""
    steps: list[dict[str, Any]] = [{"send": {
        "type": "Begin", "id": "5d1e0c44-disk-full", "expires_at": 1795000000}}]
    for order, text in enumerate(TURNS):
        steps += [{"after_audio_ms": 500 + order * TURN_EVERY_MS},
                  {"send": _turn(order, text, formatted=False)},
                  {"send": _turn(order, text, formatted=True)}]
    steps += [{"await": "Terminate"},
              {"send": {"type": "Termination", "audio_duration_seconds": 7,
                        "session_duration_seconds": 8}},
              {"close": 1000}]
    return steps


@pytest.fixture
def live_window(qtbot, settings, memory_keyring) -> Iterator[Any]:
    """make(store) -> (window, server): a window on the cloud path against the replay server."""
    servers: list[ReplayServer] = []

    def make(store: SessionStore) -> tuple[MainWindow, ReplayServer]:
        server = ReplayServer(_scenario()).__enter__()
        servers.append(server)
        credentials.save_api_key("test-key")
        settings.set(Key.ENGINE, CLOUD_ENGINE)
        settings.set(Key.CLOUD_CUSTOM_URL, server.url)
        w = MainWindow(settings, EngineHost("whisper-tiny.en"),
                       make_source=lambda: FileSource(speech_file(SPEECH), speed=REALTIME),
                       store=store)
        # pytest-qt closes and deletes the window before fixtures are torn down: a session a
        # failed test left running must end first, or its threads are destroyed while running.
        qtbot.addWidget(w, before_close_func=end_session)
        w.show()
        return w, server

    def end_session(w: MainWindow) -> None:
        if w.controller.active:
            with qtbot.waitSignal(w.controller.session_ended, timeout=10_000):
                w.controller.stop_session()

    yield make
    for server in servers:
        server.__exit__(None, None, None)


def _shown(w: MainWindow) -> list[str]:
    """The final turns in the transcript pane."""
    return [c.body for c in w.controller.transcript.cards() if c.state == CardState.FINAL]


def _on_disk(folder: Path) -> list[str]:
    lines = (folder / "transcript.jsonl").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line]


def _disk_full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_reported_and_nothing_is_lost(qtbot, live_window, tmp_path, monkeypatch):
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    w, server = live_window(store)
    w.start_session()
    recorder = w.controller.recording.recorder
    assert recorder is not None
    folder = recorder.folder
    qtbot.waitUntil(lambda: _shown(w) == TURNS[:1], timeout=5000)
    qtbot.waitUntil(lambda: len(_on_disk(folder)) == 2, timeout=2000)  # turn 1, then formatted
    assert w.banner.text == ""

    with monkeypatch.context() as disk:
        disk.setattr(fsio, "write_all", _disk_full)
        qtbot.waitUntil(lambda: "disk is full" in w.banner.text, timeout=3000)
        assert w.banner.property("kind") == "error"
        # the session goes on: the next two turns appear while nothing can be written
        qtbot.waitUntil(lambda: _shown(w) == TURNS[:3], timeout=2 * TURN_EVERY_MS + 3000)
        assert w.controller.state == SessionState.LIVE
        assert len(_on_disk(folder)) == 2  # the disk really was "full"
        stuck_ms = recorder.audio_duration_ms - _wav_ms(folder)
        assert stuck_ms > TURN_EVERY_MS  # audio waited in memory too

    # the disk works again: the backlog is written, the user is told, the session goes on
    qtbot.waitUntil(lambda: len(_on_disk(folder)) >= 6, timeout=3000)
    qtbot.waitUntil(lambda: "Saving works again" in w.status.currentMessage(), timeout=3000)
    assert w.banner.text == ""  # the disk-full message is gone with the problem
    qtbot.waitUntil(lambda: _shown(w) == TURNS, timeout=TURN_EVERY_MS + 3000)
    with qtbot.waitSignal(w.controller.session_ended, timeout=8000):
        w.controller.stop_session()

    saved = store.load(folder)
    assert saved.meta.status == SessionStatus.COMPLETE and saved.problems == ()
    assert [t.text for t in saved.turns] == TURNS  # the formatted text of every turn
    assert [t.turn_order for t in saved.turns] == [0, 1, 2, 3]
    # every captured sample is in audio.wav, in order, without a gap where the disk was full
    with wave.open(str(saved.audio_path)) as got, wave.open(str(speech_file(SPEECH))) as spoken:
        audio = np.frombuffer(got.readframes(got.getnframes()), dtype="<i2")
        source = np.frombuffer(spoken.readframes(spoken.getnframes()), dtype="<i2")
    assert len(audio) * 2 >= server.received.audio_bytes
    assert len(audio) / 16 >= 3 * TURN_EVERY_MS + 500
    assert np.array_equal(audio, source[:len(audio)])
    assert saved.meta.audio_duration_ms == len(audio) * 1000 // 16000


def _wav_ms(folder: Path) -> int:
    """How much audio audio.wav holds on disk right now."""
    with wave.open(str(folder / "audio.wav")) as wav:
        return wav.getnframes() * 1000 // wav.getframerate()


def test_an_unwritable_sessions_folder_still_lets_the_session_run(
        qtbot, live_window, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the sessions folder's parent should be")
    store = SessionStore(blocker / "sessions", use_trash=False)
    w, server = live_window(store)
    w.start_session()

    assert "This session is not being saved" in w.banner.text
    assert "a part of the path is a file" in w.banner.text
    qtbot.waitUntil(lambda: _shown(w) == TURNS[:2], timeout=2 * TURN_EVERY_MS + 3000)
    assert w.controller.state == SessionState.LIVE
    assert "not being saved" in w.banner.text  # still there while the session runs
    with qtbot.waitSignal(w.controller.session_ended, timeout=8000):
        w.controller.stop_session()
    assert w.controller.saved_folder is None
    assert "Saved in" not in w.status.currentMessage()
    assert not w.export_action.isEnabled()
    assert server.received.audio_bytes > 0
    assert blocker.is_file()
