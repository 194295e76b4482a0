"""The main window driven like a user drives it, against a real websocket server replaying
recorded AssemblyAI sessions (the cloud path) and real speech from a file."""

from __future__ import annotations

import wave

import pytest
from PySide6.QtCore import Qt

from earmark import credentials
from earmark.controllers.card_model import CardState
from earmark.controllers.live_session import SessionState
from earmark.core.session import SessionStatus
from earmark.workers.audio_sources import MicrophoneSource


def cards(model) -> list:
    return model.cards()


def test_a_whole_session_from_start_to_stop(qtbot, window, store):
    w, server = window("normal")
    assert w.start_button.text() == "Start"
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    qtbot.keyClick(w, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R starts
    qtbot.waitUntil(lambda: w.start_button.text() == "Stop", timeout=5000)
    assert not w.engine_combo.isEnabled()  # choices are fixed while live

    # provisional text first, replaced in place by the formatted final
    qtbot.waitUntil(lambda: bool(cards(w.controller.transcript)), timeout=5000)
    assert cards(w.controller.transcript)[0].state == CardState.PROVISIONAL
    qtbot.waitUntil(lambda: bool(cards(w.controller.answers))
                    and cards(w.controller.answers)[0].state == CardState.FINAL, timeout=10_000)
    first = cards(w.controller.transcript)[0]
    assert (first.state, first.body) == (CardState.FINAL, "We need to ship the release Friday.")
    assert first.title == "Turn 1" and first.meta == "00:00"
    assert cards(w.controller.answers)[0].body == "The team plans to ship the release on Friday."
    assert w.status.session_label.text() == "Session 0f3c9a52"

    qtbot.waitUntil(lambda: len(cards(w.controller.transcript)) == 2, timeout=10_000)
    qtbot.mouseClick(w.start_button, Qt.MouseButton.LeftButton)  # Stop
    with qtbot.waitSignal(w.controller.session_ended, timeout=7000) as ended:
        pass
    assert ended.args[0].startswith("Session ended: 2 s of audio processed, 2 turns.")
    assert w.start_button.text() == "Start" and w.engine_combo.isEnabled()
    assert [c.body for c in cards(w.controller.transcript)] == [
        "We need to ship the release Friday.", "Who owns the release notes?"]
    assert len(cards(w.controller.answers)) == 2
    assert server.received.text[-1] == {"type": "Terminate"}
    assert {"type": "ForceEndpoint"} in server.received.text
    assert w.status.currentMessage().startswith("Session ended")

    # and it is all on disk: audio, final turns (formatted), answers, status
    saved = store.load(w.controller.saved_folder)
    assert saved.meta.status == SessionStatus.COMPLETE
    assert [t.text for t in saved.turns] == [
        "We need to ship the release Friday.", "Who owns the release notes?"]
    assert saved.turns[0].words[0].start_ms == 320
    assert [a.answer for a in saved.answers] == [
        "The team plans to ship the release on Friday.",
        "Someone asks who is responsible for the release notes."]
    assert saved.answers[0].model == "claude-sonnet-4-6"
    with wave.open(str(saved.audio_path)) as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() >= 1.8 * 16000
    assert str(saved.folder) in w.status.currentMessage()


def test_connection_follows_the_tutorial(qtbot, window, settings):
    w, server = window("normal")
    w.start_session()
    qtbot.waitUntil(lambda: w.controller.state == SessionState.LIVE, timeout=5000)
    w.controller.stop_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=7000).wait()
    query = server.received.path.split("?", 1)[1]
    assert server.received.headers["authorization"] == "test-key"
    assert "sample_rate=16000" in query and "format_turns=true" in query
    assert "speech_model=u3-rt-pro" in query
    assert "llm_gateway=%7B%22model%22%3A%22claude-sonnet-4-6%22" in query  # JSON object
    assert "Transcript%3A+%7B%7Bturn%7D%7D" in query and "max_tokens" in query


def test_selecting_a_turn_highlights_its_answer(qtbot, window):
    w, _ = window("normal", realtime=False)
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    w.transcript_view.select_order(1)
    selected = w.answer_view.selectionModel().selectedIndexes()
    assert [i.row() for i in selected] == [1]
    w.answer_view.select_order(0)
    assert [i.row() for i in w.transcript_view.selectionModel().selectedIndexes()] == [0]


@pytest.mark.parametrize(("scenario", "key", "words"), [
    ("normal", "wrong-key", "API key is missing or wrong"),
    ("session_expired", "test-key", "maximum length"),
    ("too_many_sessions", "test-key", "Too many sessions"),
    ("server_error", "test-key", "had an error"),
    ("invalid_message", "test-key", "rejected a message"),
    ("input_duration", "test-key", "50 to 1000 ms"),
    ("network_drop", "test-key", "connection dropped"),
])
def test_errors_are_shown_and_nothing_is_lost(qtbot, window, store, scenario, key, words):
    w, _ = window(scenario, key=key)
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=30_000).wait()
    assert words in w.banner.text
    assert w.start_button.text() == "Start" and w.start_button.isEnabled()
    if scenario in ("session_expired", "server_error", "network_drop"):
        # the turn that arrived before the error is still on screen
        assert [c.body for c in cards(w.controller.transcript)] == [
            "We need to ship the release Friday."]
        assert [t.text for t in store.load(w.controller.saved_folder).turns] == [
            "We need to ship the release Friday."]


def test_a_server_that_never_confirms_is_left_after_five_seconds(qtbot, window):
    w, _ = window("no_termination")
    w.start_session()
    qtbot.waitUntil(lambda: bool(cards(w.controller.transcript)), timeout=5000)
    w.controller.stop_session()
    assert w.start_button.text() == "Stopping…"
    with qtbot.waitSignal(w.controller.session_ended, timeout=8000) as ended:
        pass
    assert "did not confirm" in ended.args[0]
    assert cards(w.controller.transcript)[0].body == "We need to ship the release Friday."


def test_no_microphone(qtbot, window):
    w, _ = window("normal", source=lambda: MicrophoneSource(device_index=999))
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    assert "No microphone found" in w.banner.text


def test_cloud_without_a_key_says_where_to_enter_it(qtbot, window, memory_keyring):
    w, _ = window("normal")
    credentials.delete_api_key()
    w.start_session()
    assert "API key in File → Settings" in w.banner.text
    assert w.start_button.text() == "Start"


def test_the_key_never_reaches_settings_or_logs(qtbot, window, settings, caplog, tmp_path):
    secret = "sk-live-0123456789abcdef"
    w, _ = window("normal", key=secret)
    w.server_key = secret
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    w.close()
    settings.sync()
    assert secret not in (tmp_path / "earmark.ini").read_text()
    assert secret not in caplog.text


def test_after_stop_the_session_is_in_the_library_and_exportable(
        qtbot, window, store, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    w, _ = window("normal", realtime=False)
    assert not w.export_action.isEnabled()
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    assert w.export_action.isEnabled()
    target = tmp_path / "weekly.srt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "SubRip subtitles (*.srt)")))
    w.export_action.trigger()
    srt = target.read_text()
    assert srt.startswith("1\n00:00:00,320 --> ") and "Who owns the release notes?" in srt
    w.library_action.trigger()
    library = w.library_window
    assert library.isVisible()
    assert library.controller.sessions.rowCount() == 1


def test_one_answer_for_several_turns_resolves_every_pending_card(qtbot, window):
    w, _ = window("merged_answers", realtime=False)
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    answers = cards(w.controller.answers)
    assert [a.state for a in answers] == [CardState.FINAL, CardState.FINAL]
    assert answers[0].body == "Answered together with turn 2."
    assert answers[1].body == "Ship Friday; find an owner for the release notes."
