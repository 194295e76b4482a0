"""Exports: TXT, Markdown, SRT, WebVTT and JSON, from a saved or a live session."""

from __future__ import annotations

import json
import re

import pytest

from earmark.core.session import (
    Analysis,
    AnswerRecord,
    ExportFormat,
    ExportFormatError,
    SessionData,
    TurnRecord,
    WordRecord,
    export,
    export_text,
    from_json,
    render,
)
from earmark.core.session.export.subtitles import to_srt, to_webvtt
from tests.core.session.session_helpers import make_meta, make_turn

SRT_TIME = r"\d{2}:\d{2}:\d{2},\d{3}"
VTT_TIME = r"\d{2}:\d{2}:\d{2}\.\d{3}"


@pytest.fixture
def session() -> SessionData:
    turns = (
        TurnRecord(0, "Hello everyone.", words=(WordRecord("Hello", 1_250, 1_600, 0.9),
                                                WordRecord("everyone.", 1_650, 2_400, 0.8)),
                   start_ms=1_000, end_ms=2_600, speaker="A"),
        TurnRecord(1, "No words,\n\nonly times <b>&</b>", start_ms=3_723_004, end_ms=3_725_500),
        make_turn(2, "Last one here."),
    )
    answers = (AnswerRecord(0, "Answer briefly.", "m1", "Say hello back.\nThen start."),
               AnswerRecord(1, "Answer briefly.", "m1", "", error="The model timed out."))
    analysis = Analysis("Action items: none.", "m2", "Summarize.")
    meta = make_meta(title="Weekly sync", audio_duration_ms=3_723_000, analysis=analysis)
    return SessionData(meta, turns, answers)


def test_srt_rules(session):
    text = to_srt(session.turns)
    blocks = text.strip("\n").split("\n\n")
    assert len(blocks) == 3
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        assert re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert len(lines) == 3 and lines[2]
    # Times from the words, not from the turn's start/end...
    assert blocks[0].split("\n")[1] == "00:00:01,250 --> 00:00:02,400"
    assert blocks[0].split("\n")[2] == "A: Hello everyone."
    # ...falling back to the turn when there are no words; hours; text kept on one line.
    assert blocks[1].split("\n")[1] == "01:02:03,004 --> 01:02:05,500"
    assert blocks[1].split("\n")[2] == "No words, only times <b>&</b>"
    assert text.endswith("\n") and "\n\n\n" not in text


def test_webvtt_rules(session):
    text = to_webvtt(session.turns)
    assert text.startswith("WEBVTT\n\n")
    cues = text.split("\n\n")[1:]
    assert len(cues) == 3
    for cue in cues:
        timing, payload = cue.strip("\n").split("\n")
        assert re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", timing)
        assert "-->" not in payload
    assert cues[0].startswith("00:00:01.250 --> 00:00:02.400\n<v A>Hello everyone.")
    assert "only times &lt;b&gt;&amp;&lt;/b&gt;" in cues[1]
    assert "," not in text.replace("No words,", "")


def test_cues_without_any_timing_follow_the_previous_one():
    turns = (TurnRecord(0, "timed", start_ms=1000, end_ms=1100),
             TurnRecord(1, "untimed"), TurnRecord(2, "   "))
    lines = to_srt(turns).split("\n")
    assert lines[1] == "00:00:01,000 --> 00:00:01,500"  # a cue lasts at least 0.5 s
    assert lines[5] == "00:00:01,500 --> 00:00:03,500"
    assert lines.count("") == 2 and lines[4] == "2"  # two cues: the empty turn made none


def test_json_is_valid_and_round_trips(session):
    text = render(ExportFormat.JSON, session.meta, session.turns, session.answers)
    document = json.loads(text)
    assert document["format"] == "earmark-session"
    assert document["session"]["analysis"]["text"] == "Action items: none."
    assert len(document["turns"]) == 3 and len(document["answers"]) == 2
    assert from_json(text) == session


def test_json_rejects_other_documents():
    with pytest.raises(ValueError, match="not an earmark-session"):
        from_json('{"hello": 1}')


def test_markdown_has_everything(session):
    text = render("md", session.meta, session.turns, session.answers)
    assert text.startswith("# Weekly sync\n")
    assert "**Duration:** 1 h 02 min" in text
    for turn in session.turns:
        assert turn.text.splitlines()[0] in text
    assert "**[00:00:01]** **Speaker A:** Hello everyone." in text
    assert "> Say hello back.\n> Then start." in text
    assert "The model timed out." in text
    assert "## Analysis" in text and "Action items: none." in text
    # each answer sits under its own turn
    assert text.index("Hello everyone.") < text.index("Say hello back.") < text.index(
        "No words")


def test_text_export(session):
    text = render("txt", session.meta, session.turns, session.answers)
    assert text.startswith("Weekly sync\n")
    assert "[00:00:01] Speaker A: Hello everyone." in text
    assert "    Say hello back.\n    Then start." in text
    assert "LLM error (m1): The model timed out." in text
    assert "ANALYSIS (m2)" in text and "3 turns" in text


def test_analysis_argument_overrides_the_meta(session):
    other = Analysis("A different reading.", "m3", "p")
    assert "A different reading." in render("txt", session.meta, session.turns,
                                            session.answers, other)


def test_answers_of_an_unsaved_turn_are_still_exported(session):
    answers = (*session.answers, AnswerRecord(9, "p", "m1", "orphan answer"))
    for fmt in ("txt", "md"):
        assert "orphan answer" in render(fmt, session.meta, session.turns, answers)


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_export_writes_a_file_from_a_saved_session(store, tmp_path, fmt):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0, "Saved turn text."))
    recorder.add_answer(AnswerRecord(0, "p", "m", "Saved answer text."))
    recorder.finish()
    saved = store.load(recorder.folder)
    path = export(saved, fmt, tmp_path / f"out{fmt.suffix}")
    content = path.read_text(encoding="utf-8")
    assert content == export_text(saved, fmt)
    assert content == export_text(recorder.snapshot(), fmt)  # live, straight after Stop
    assert "Saved turn text." in content
    if fmt in (ExportFormat.TXT, ExportFormat.MARKDOWN, ExportFormat.JSON):
        assert "Saved answer text." in content


def test_unknown_format(session):
    with pytest.raises(ExportFormatError, match="Unknown export format 'docx'"):
        export_text(session, "docx")
    assert export_text(session, ".SRT") == export_text(session, ExportFormat.SRT)
