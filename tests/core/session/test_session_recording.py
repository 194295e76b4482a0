"""Recording a session: files, round-trips, a WAV valid at every moment, thread-safety."""

from __future__ import annotations

import json
import shutil
import threading
import wave
from datetime import datetime

import numpy as np
import pytest
import soundfile

from earmark.core.session import (
    Analysis,
    AnswerRecord,
    SessionStatus,
    default_sessions_root,
    fsio,
)
from earmark.core.session.paths import folder_name, safe_title
from tests.core.session.session_helpers import (
    FRAME_SAMPLES,
    FRAMES_PER_SECOND,
    expected_samples,
    frame,
    make_meta,
    make_turn,
)


def test_default_root_is_under_the_user_data_dir():
    root = default_sessions_root()
    assert root.name == "sessions" and root.parent.name == "Earmark"


def test_folder_is_named_by_start_time_and_a_safe_title(store):
    recorder = store.create(make_meta(title='Weekly: sync / "Q4"?  '))
    recorder.finish()
    assert recorder.folder.name == "2026-11-24_1430-Weekly sync Q4"
    assert recorder.folder.parent == store.root


@pytest.mark.parametrize(("title", "expected"), [
    ("a/b\\c:d*e?f\"g<h>i|j", "a b c d e f g h i j"),
    ("dots at the end...", "dots at the end"),
    ("\x00\n\t", ""),
    ("x" * 200, "x" * 60),
])
def test_safe_title(title, expected):
    assert safe_title(title) == expected


def test_empty_title_and_same_minute_give_unique_folders(store):
    first = store.create(make_meta(title=""))
    second = store.create(make_meta(title=""))
    first.finish()
    second.finish()
    assert first.folder.name == folder_name(make_meta().started_at, "") == "2026-11-24_1430"
    assert second.folder.name == "2026-11-24_1430 (2)"


def test_files_exist_as_soon_as_recording_starts(store):
    recorder = store.create(make_meta())
    names = {p.name for p in recorder.folder.iterdir()}
    assert {"audio.wav", "transcript.jsonl", "llm.jsonl", "session.json"} <= names
    meta = json.loads((recorder.folder / "session.json").read_text())
    assert meta["status"] == "recording" and meta["schema_version"] == 1
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (
            1, 2, 16000, 0)
    recorder.finish()


def test_record_then_load_round_trips(store):
    recorder = store.create(make_meta())
    for i in range(3 * FRAMES_PER_SECOND):
        recorder.write_audio(frame(i))
    turns = [make_turn(0, speaker="A"), make_turn(1, "Ünïcödé, \"quotes\"\nand a newline")]
    answers = [AnswerRecord(0, "Answer briefly.\n\nHi", "smollm2-135m", "Hello!",
                            usage={"input_tokens": 12, "output_tokens": 3}, latency_ms=420),
               AnswerRecord(1, "p", "smollm2-135m", "", error="timeout after 30 s")]
    for turn in turns:
        assert recorder.add_turn(turn)
    for answer in answers:
        assert recorder.add_answer(answer)
    analysis = Analysis("Summary: they met.", "smollm2-135m", "Summarize.")
    assert recorder.set_analysis(analysis)
    final = recorder.finish()

    assert final.status is SessionStatus.COMPLETE and final.ended_at is not None
    assert final.audio_duration_ms == 3000 and final.turn_count == 2
    saved = store.load(recorder.folder)
    assert saved.turns == tuple(turns)
    assert saved.answers == tuple(answers)
    assert saved.analysis == analysis
    assert saved.meta == final
    assert saved.problems == ()
    data, rate = soundfile.read(saved.audio_path, dtype="int16")
    assert rate == 16000
    assert np.array_equal(data, expected_samples(3 * FRAMES_PER_SECOND * FRAME_SAMPLES))


def test_transcript_lines_hold_the_documented_fields(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(4, "hello world", speaker="B"))
    line = json.loads((recorder.folder / "transcript.jsonl").read_text())
    recorder.finish()
    assert set(line) == {"turn_order", "text", "words", "start_ms", "end_ms", "speaker",
                         "wall_time"}
    assert line["start_ms"] == 12000 and line["end_ms"] == 12550
    assert line["words"][1] == {"text": "world", "start_ms": 12300, "end_ms": 12550,
                                "confidence": 0.9}
    assert datetime.fromisoformat(line["wall_time"]).tzinfo is not None


def test_wav_is_valid_after_every_second_without_finish(store, tmp_path):
    recorder = store.create(make_meta())
    for second in range(1, 4):
        for i in range((second - 1) * FRAMES_PER_SECOND, second * FRAMES_PER_SECOND):
            recorder.write_audio(frame(i))
        copy = tmp_path / f"copy{second}"
        shutil.copytree(recorder.folder, copy)  # what a crash right now would leave
        samples = second * FRAMES_PER_SECOND * FRAME_SAMPLES
        with wave.open(str(copy / "audio.wav")) as w:
            assert w.getnframes() == samples
            assert w.getframerate() == 16000 and w.getnchannels() == 1
        data, _ = soundfile.read(copy / "audio.wav", dtype="int16")
        assert np.array_equal(data, expected_samples(samples))
    recorder.abandon()


def test_odd_sized_writes_keep_whole_samples_in_the_header(store):
    recorder = store.create(make_meta())
    recorder.write_audio(b"\x01\x00\x02")  # a sample and a half
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.getnframes() == 1
    recorder.write_audio(b"\x00")
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.readframes(10) == b"\x01\x00\x02\x00"
    recorder.finish()


def test_audio_is_fsynced_about_every_sync_interval(store, monkeypatch):
    synced = threading.Event()
    real_fsync = fsio.fsync

    def counting_fsync(fd):
        synced.set()
        real_fsync(fd)

    recorder = store.create(make_meta())
    monkeypatch.setattr(fsio, "fsync", counting_fsync)
    recorder.write_audio(frame(0))
    assert synced.wait(5), "the sync thread never fsynced the audio"
    recorder.finish()


def test_write_audio_is_thread_safe(store):
    recorder = store.create(make_meta())
    per_thread = 200

    def feed():
        for _ in range(per_thread):
            recorder.write_audio(b"\x01\x02" * FRAME_SAMPLES)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    meta = recorder.finish()
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.getnframes() == 4 * per_thread * FRAME_SAMPLES
        assert w.readframes(w.getnframes()) == b"\x01\x02" * (4 * per_thread * FRAME_SAMPLES)
    assert meta.audio_duration_ms == 4 * per_thread * 50


def test_write_audio_never_raises(store):
    recorder = store.create(make_meta())
    recorder.write_audio("not bytes")  # type: ignore[arg-type]
    assert recorder.last_error is not None
    recorder.finish()
    recorder.write_audio(frame(0))  # after Stop: ignored
    with wave.open(str(recorder.folder / "audio.wav")) as w:
        assert w.getnframes() == 0


def test_a_re_added_turn_replaces_the_earlier_version(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0, "first guess"))
    recorder.add_turn(make_turn(1))
    recorder.add_turn(make_turn(0, "revised text", speaker="A"))
    meta = recorder.finish()
    saved = store.load(recorder.folder)
    assert [t.text for t in saved.turns] == ["revised text", "This is turn number 1."]
    assert meta.turn_count == 2 == saved.meta.turn_count


def test_late_answer_and_analysis_after_finish_are_saved(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0))
    recorder.finish()
    assert recorder.add_answer(AnswerRecord(0, "p", "m", "late answer"))
    assert recorder.set_analysis(Analysis("the summary", "m", "Summarize."))
    saved = store.load(recorder.folder)
    assert saved.answers[0].answer == "late answer"
    assert saved.analysis is not None and saved.analysis.text == "the summary"
    assert saved.meta.status is SessionStatus.COMPLETE
    assert recorder.finish() == saved.meta  # again: harmless


def test_title_can_change_while_recording(store):
    recorder = store.create(make_meta(title="Before"))
    recorder.set_title("After")
    assert store.list_sessions()[0].title == "After"
    assert recorder.finish().title == "After"
    assert store.load(recorder.folder).meta.title == "After"


def test_snapshot_is_exportable_plain_data(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0))
    recorder.add_answer(AnswerRecord(0, "p", "m", "an answer"))
    recorder.finish()
    snapshot = recorder.snapshot()
    assert snapshot.turns == store.load(recorder.folder).turns
    assert snapshot.meta.turn_count == 1 and snapshot.answers[0].answer == "an answer"


def test_lock_file_is_gone_after_finish(store):
    recorder = store.create(make_meta())
    assert (recorder.folder / "recording.lock").exists()
    recorder.finish()
    assert not (recorder.folder / "recording.lock").exists()


def test_a_call_whose_system_audio_file_cannot_be_made_says_so_and_goes_on(store):
    """The other side's WAV is made at its first frame, on the capture thread: a failure
    there is reported like any disk problem, never raised into that thread, and the
    microphone's audio and the turns are still saved."""
    errors: list[str] = []
    recorder = store.create(make_meta(), on_error=errors.append)
    (recorder.folder / "system.wav").mkdir()  # cannot be opened as a file
    recorder.write_system_audio(frame(0))
    recorder.write_system_audio(frame(1))
    recorder.write_audio(frame(0))
    recorder.add_turn(make_turn(0, "still saved"))
    assert len(errors) == 1 and "system.wav" in errors[0]
    recorder.finish()
    session = store.load(recorder.folder)
    assert [t.text for t in session.turns] == ["still saved"]
    assert session.meta.audio_duration_ms > 0
