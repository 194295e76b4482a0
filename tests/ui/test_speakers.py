"""Who said what on the cloud path: speaker labels asked for from the settings, shown on the
cards, revised by SpeakerRevision on screen and on disk, named by the user everywhere."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from earmark.core.session.export import render
from earmark.settings import Key
from earmark.transcription_settings import TranscriptionSettings


def test_speakers_are_labelled_revised_and_named(qtbot, window, store, settings):
    TranscriptionSettings(speaker_labels=True, max_speakers=3,
                          vocabulary=("Dana", "Kubernetes")).save(settings)
    settings.set(Key.CLOUD_SPEECH_MODEL, "assemblyai-stt-3-7-realtime")
    # naming a speaker mid-session opens a new connection (the answers get the names): it
    # hears the rest of the audio
    w, server = window("speakers", then=("speakers_after_rename",))
    w.start_session()
    qtbot.waitUntil(lambda: len(w.controller.transcript.cards()) == 2, timeout=10_000)
    query = parse_qs(urlsplit(server.received.path).query)
    assert query["speaker_labels"] == ["true"] and query["max_speakers"] == ["3"]
    assert json.loads(query["keyterms_prompt"][0]) == ["Dana", "Kubernetes"]
    assert "speaker labels" in w.status.engine_label.toolTip()  # what the server applied
    titles = [c.title for c in w.controller.transcript.cards()]
    assert titles == ["Turn 1 · Speaker A", "Turn 2 · Speaker B"]

    w.controller.rename_speaker("A", "Dana")
    assert w.controller.transcript.cards()[0].title == "Turn 1 · Dana"
    with qtbot.waitSignal(w.controller.session_ended, timeout=15_000):
        w.controller.stop_session()
    # the new connection's answers know the name (a server on this machine is told as the
    # embedded engine is: speaker_names; tests/core/test_grounding.py has the cloud's way)
    gateway = json.loads(parse_qs(urlsplit(server.connections[1].path).query)["llm_gateway"][0])
    assert gateway["speaker_names"] == {"A": "Dana"}
    # the revision moved turn 2 to A (Dana); turn 3 could not be attributed
    titles = [c.title for c in w.controller.transcript.cards()]
    assert titles == ["Turn 1 · Dana", "Turn 2 · Dana", "Turn 3 · Unknown speaker"]
    assert w.controller.assembler.full_text(w.controller.speaker_names).splitlines()[0] == \
        "Dana: I will send the slides by Friday."

    saved = store.load(w.controller.saved_folder)
    assert [t.speaker for t in saved.turns] == ["A", "A", "PENDING"]
    assert saved.meta.speakers == {"A": "Dana"}
    text = render("txt", saved.meta, saved.turns, saved.answers)
    assert "Dana: I will send the slides by Friday." in text
    assert "Dana: Great, I will book the room." in text
    assert "<v Dana>I will send the slides by Friday." in render("vtt", saved.meta, saved.turns)
    assert "Dana: I will send the slides" in render("srt", saved.meta, saved.turns)
    document = json.loads(render("json", saved.meta, saved.turns, saved.answers))
    first = document["turns"][0]
    assert (first["speaker"], first["speaker_name"]) == ("A", "Dana")
    assert first["start_ms"] == 300
    assert first["words"][0]["text"] == "I" and first["end_ms"] == first["words"][-1]["end_ms"]
