"""Changing the prompt mid-session: it answers from the next turn, through a new connection
opened between turns (the service takes a configuration only when a connection opens), with no
audio lost or sent twice and one numbering and clock for the whole session."""

from __future__ import annotations

import json
import wave
from urllib.parse import parse_qs, urlsplit

from earmark.controllers.card_model import CardState
from earmark.controllers.live_session import SessionState
from tests.conftest import speech_file

SPEECH = "misc/jfk.wav"


def llm_prompt(path: str) -> str:
    gateway = json.loads(parse_qs(urlsplit(path).query)["llm_gateway"][0])
    return gateway["messages"][-1]["content"]


def test_a_new_prompt_answers_from_the_next_turn_over_a_new_connection(qtbot, window, store):
    w, server = window("one_turn_each")
    first_prompt = w.prompt_combo.currentText()
    w.start_session()
    qtbot.waitUntil(lambda: bool(w.controller.answers.cards())
                    and w.controller.answers.cards()[0].state == CardState.FINAL, timeout=10_000)
    assert w.prompt_combo.isEnabled() and not w.engine_combo.isEnabled()

    index = w.prompt_combo.findData("action_items")
    assert index >= 0
    w.prompt_combo.setCurrentIndex(index)
    w.prompt_combo.activated.emit(index)
    qtbot.waitUntil(lambda: len(server.connections) == 2, timeout=5000)
    assert "Prompt changed to" in w.status.currentMessage()
    # the first connection, its answer delivered, is ended properly; the session goes on
    qtbot.waitUntil(lambda: {"type": "Terminate"} in server.connections[0].text, timeout=5000)
    assert w.controller.state == SessionState.LIVE

    qtbot.waitUntil(lambda: len(w.controller.answers.cards()) == 2, timeout=10_000)
    with qtbot.waitSignal(w.controller.session_ended, timeout=20_000) as ended:
        pass  # the recording ends by itself
    # the summary counts the audio of both connections, not the last one's Termination (1 s)
    assert ended.args[0].startswith("Session ended: 11 s of audio, 2 turns, all transcribed.")

    first, second = server.connections
    assert "summary" in llm_prompt(first.path).lower()
    assert "action items" in llm_prompt(second.path).lower()
    cards = w.controller.transcript.cards()
    assert [c.title for c in cards] == ["Turn 1", "Turn 2"]  # one numbering
    saved = store.load(w.controller.saved_folder)
    assert [t.turn_order for t in saved.turns] == [0, 1]
    # one clock: the second connection's words sit after the audio the first one got
    offset_ms = first.audio_bytes // 32
    assert saved.turns[1].words[0].start_ms == 200 + offset_ms
    assert offset_ms >= 1000
    # every captured frame (all in the session's WAV) went to exactly one connection
    with wave.open(str(saved.audio_path)) as wav:
        captured = wav.getnframes() * 2
    with wave.open(str(speech_file(SPEECH))) as original:
        assert captured >= original.getnframes() * 2
    assert first.audio_bytes + second.audio_bytes == captured
    assert [a.prompt for a in saved.answers] == [first_prompt, w.prompt_combo.currentText()]
    assert all(c.state == CardState.FINAL for c in w.controller.answers.cards())


def test_a_speaker_named_mid_session_is_named_in_the_next_answers(qtbot, window):
    """The engine fills {{turn}} with "Dana: …" once it knows the name: a rename opens a new
    connection between turns whose llm_gateway carries the names."""
    w, server = window("one_turn_each")
    w.start_session()
    qtbot.waitUntil(lambda: bool(w.controller.answers.cards()), timeout=10_000)
    w.controller.rename_speaker("A", "Dana")
    qtbot.waitUntil(lambda: len(server.connections) == 2, timeout=5000)
    assert "speakers' names from turn 2" in w.status.currentMessage()
    with qtbot.waitSignal(w.controller.session_ended, timeout=20_000):
        pass
    first, second = (json.loads(parse_qs(urlsplit(c.path).query)["llm_gateway"][0])
                     for c in server.connections)
    assert "speaker_names" not in first
    assert second["speaker_names"] == {"A": "Dana"}
