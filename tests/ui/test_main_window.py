"""The main window driven like a user drives it, against a real websocket server replaying
recorded AssemblyAI sessions (the cloud path) and real speech from a file."""

from __future__ import annotations

import json
import wave
from urllib.parse import parse_qs

import pytest
from PySide6.QtCore import Qt

from earmark import credentials
from earmark.controllers.card_model import CardState
from earmark.controllers.live_session import SessionState
from earmark.core.session import SessionStatus
from earmark.settings import Key
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
    assert ended.args[0].startswith("Session ended: 2 s of audio, 2 turns, all transcribed.")
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
    assert "speech_model=universal-3-6-pro" in query
    assert "llm_gateway=%7B%22model%22%3A%22claude-sonnet-4-6%22" in query  # JSON object
    gateway = json.loads(parse_qs(query)["llm_gateway"][0])
    assert gateway["messages"][0]["role"] == "system"  # grounded in the transcript
    assert "Use only what the transcript says" in gateway["messages"][0]["content"]
    assert "{{turn}}" in gateway["messages"][-1]["content"] and gateway["max_tokens"] > 0


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
    ("invalid_message", "test-key", "rejected a message"),
    ("input_duration", "test-key", "50 to 1000 ms"),
])
def test_errors_are_shown_and_nothing_is_lost(qtbot, window, store, scenario, key, words):
    w, _ = window(scenario, key=key)
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=30_000).wait()
    assert words in w.banner.text
    assert w.start_button.text() == "Start" and w.start_button.isEnabled()
    if scenario == "session_expired":
        # the turn that arrived before the error is still on screen
        assert [c.body for c in cards(w.controller.transcript)] == [
            "We need to ship the release Friday."]
        assert [t.text for t in store.load(w.controller.saved_folder).turns] == [
            "We need to ship the release Friday."]


@pytest.mark.parametrize("scenario", ["server_error_after_a_turn", "network_drop_after_a_turn"])
def test_a_dropped_connection_reconnects_and_nothing_is_lost(qtbot, window, store, scenario):
    """The first connection ends after turn 1 (3005, or TCP cut without a close frame); the
    session goes on over a new one, which hears the audio after turn 1 again."""
    w, server = window(scenario, then=("continued",))
    notices: list[tuple[str, str]] = []
    w.controller.link_notice.connect(lambda kind, text: notices.append((kind, text)))
    states: list[str] = []
    w.controller.state_changed.connect(states.append)
    w.start_session()
    with qtbot.waitSignal(w.controller.session_ended, timeout=40_000) as ended:
        pass
    texts = ["We need to ship the release Friday.", "Who owns the release notes?"]
    assert [c.body for c in cards(w.controller.transcript)] == texts
    assert [c.title for c in cards(w.controller.transcript)] == ["Turn 1", "Turn 2"]
    assert [a.state for a in cards(w.controller.answers)] == [CardState.FINAL] * 2
    assert states == ["connecting", "live", "reconnecting", "live", "stopping", "finished"]
    assert any("Reconnecting" in text for _kind, text in notices)
    assert notices[-1][0] == "info" and "nothing was lost" in notices[-1][1]
    # the new connection heard everything from the end of turn 1 (1.9 s) on
    second = server.connections[1]
    assert second.audio_bytes >= (11_000 - 2_000) * 32
    assert ended.args[0].startswith("Session ended: 11 s of audio, 2 turns, all transcribed.")
    saved = store.load(w.controller.saved_folder)
    assert [t.text for t in saved.turns] == texts
    assert [t.turn_order for t in saved.turns] == [0, 1]
    assert saved.turns[1].words[0].start_ms > saved.turns[0].words[-1].end_ms  # one clock
    assert saved.meta.status == "complete"


def test_refused_reconnections_end_the_session_partly_transcribed(qtbot, window, store):
    w, _ = window("network_drop_after_a_turn", then=("too_many_sessions",))
    w.start_session()
    with qtbot.waitSignal(w.controller.session_ended, timeout=40_000) as ended:
        pass
    assert w.controller.state == "failed"
    assert "Partly transcribed" in ended.args[0]
    assert "Too many sessions" in w.banner.text
    saved = store.load(w.controller.saved_folder)
    assert saved.meta.status == "incomplete"
    assert saved.meta.transcribed_until_ms == 1900 + 100
    assert saved.meta.audio_duration_ms > 1000  # every captured frame is in the recording


def test_a_server_that_never_confirms_is_left_after_ten_silent_seconds(qtbot, window, store):
    w, _ = window("no_termination")
    w.start_session()
    qtbot.waitUntil(lambda: bool(cards(w.controller.transcript)), timeout=5000)
    w.controller.stop_session()
    assert w.start_button.text() == "Stopping…"
    with qtbot.waitSignal(w.controller.session_ended, timeout=15_000) as ended:
        pass
    assert "did not confirm" in ended.args[0] and "Partly transcribed" in ended.args[0]
    assert cards(w.controller.transcript)[0].body == "We need to ship the release Friday."
    assert store.load(w.controller.saved_folder).meta.status == "incomplete"


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


def test_a_start_that_never_connects_leaves_no_session_behind(qtbot, window, store, settings):
    import socket

    w, _ = window("normal")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.set(Key.CLOUD_CUSTOM_URL, f"ws://127.0.0.1:{closed}/v3/ws")
    w.start_session()
    with qtbot.waitSignal(w.controller.session_ended, timeout=10_000):
        pass
    assert w.controller.state == "failed" and not w.controller.active
    assert "not running" in w.banner.text  # a server on this machine: not "the network"
    assert store.list_sessions() == []
    assert w.start_button.text() == "Start" and w.start_button.isEnabled()


def test_quitting_mid_session_keeps_everything_and_marks_it_partly_transcribed(
        qtbot, window, store):
    w, _ = window("normal")
    w.start_session()
    qtbot.waitUntil(lambda: any(c.state == CardState.FINAL for c in cards(w.controller.transcript)),
                    timeout=10_000)
    w.controller.shutdown()  # the window closing, the app quitting
    assert w.controller.state == SessionState.FINISHED and not w.controller.active
    saved = store.load(w.controller.saved_folder)
    assert saved.meta.status == SessionStatus.INCOMPLETE
    assert [t.text for t in saved.turns] == ["We need to ship the release Friday."]
    assert saved.meta.audio_duration_ms > 0


def test_after_stop_a_turn_can_be_heard_and_a_new_start_stops_it(qtbot, window):
    w, _ = window("normal", realtime=False)
    assert w.playback_bar.isHidden()
    w.start_session()
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()
    assert not w.playback_bar.isHidden()  # the finished session's audio is loaded
    assert w.playback.state != "no_audio"
    w.start_session()  # a new session: playback closes (it could reach the microphone)
    assert w.playback_bar.isHidden() and w.playback.state == "no_audio"
    qtbot.waitSignal(w.controller.session_ended, timeout=10_000).wait()


def test_speech_the_server_heard_without_words_marks_the_session_incomplete(
        qtbot, window, store):
    """The server's Heartbeats say it heard speech from 2 to 6 s; turn 1 (to 1.9 s) holds
    the start of it, nothing holds what follows 4 s."""
    w, _ = window("speech_without_words", realtime=False)
    w.start_session()
    with qtbot.waitSignal(w.controller.session_ended, timeout=15_000) as ended:
        pass
    assert not w.controller.complete
    assert "heard speech at 00:04 but sent no words" in ended.args[0]
    saved = store.load(w.controller.saved_folder)
    assert saved.meta.status == SessionStatus.INCOMPLETE and saved.meta.transcribed_until_ms == 2000
