"""Crashes: kill -9 mid-recording, cut-off lines, broken headers; recovery repairs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import soundfile

from earmark.core.session import SessionStatus
from earmark.core.session.recovery import repair_wav
from earmark.core.session.wav_writer import wav_header
from tests.core.session.session_helpers import (
    FRAME_SAMPLES,
    FRAMES_PER_SECOND,
    expected_samples,
    frame,
    make_meta,
    make_turn,
)

REPO = Path(__file__).resolve().parents[3]
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from earmark.core.session import SessionStore
    from tests.core.session.session_helpers import frame, make_meta, make_turn

    store = SessionStore(Path(sys.argv[1]), use_trash=False)
    recorder = store.create(make_meta(title="Crash test"))
    print("folder", recorder.folder, flush=True)
    index = 0
    while True:
        recorder.write_audio(frame(index))
        index += 1
        print("audio", index, flush=True)
        if index % 10 == 0:
            order = index // 10 - 1
            assert recorder.add_turn(make_turn(order))
            print("turn", order, flush=True)
        time.sleep(0.005)
""")


def test_kill_9_mid_recording_then_recover(store, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(store.root)],
                             stdout=subprocess.PIPE, text=True, env=env)
    frames_acked = turns_acked = 0
    folder = None
    try:
        assert child.stdout is not None
        for line in child.stdout:
            kind, value = line.split(maxsplit=1)
            if kind == "folder":
                folder = value.strip()
            elif kind == "audio":
                frames_acked = int(value)
            elif kind == "turn":
                turns_acked = int(value) + 1
            if frames_acked >= 3 * FRAMES_PER_SECOND + 7 and turns_acked >= 5:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL
    assert folder is not None

    # Before any repair the WAV already opens, holding all acknowledged audio.
    with wave.open(os.path.join(folder, "audio.wav")) as w:
        assert w.getnframes() >= frames_acked * FRAME_SAMPLES
    assert store.list_sessions()[0].status is SessionStatus.RECORDING

    reports = store.recover_interrupted()
    assert [str(r.folder) for r in reports] == [folder]
    assert reports[0].recovered and reports[0].meta.status is SessionStatus.RECOVERED

    saved = store.load(folder)
    assert saved.meta.status is SessionStatus.RECOVERED
    assert saved.meta.ended_at is not None
    data, rate = soundfile.read(saved.audio_path, dtype="int16")
    assert rate == 16000
    # All audio written before the kill (at least), never more than the child produced.
    # The spec allows losing the last second; writes reach the OS at once, so nothing is lost.
    assert len(data) >= frames_acked * FRAME_SAMPLES
    assert np.array_equal(data, expected_samples(len(data)))
    assert saved.meta.audio_duration_ms == len(data) * 1000 // 16000
    assert [t.turn_order for t in saved.turns][:turns_acked] == list(range(turns_acked))
    assert saved.meta.turn_count == len(saved.turns) >= turns_acked
    assert saved.problems == ()
    assert not (saved.folder / "recording.lock").exists()
    assert store.recover_interrupted() == []  # once is enough


def test_cut_off_last_lines_are_dropped_on_recovery(store):
    recorder = store.create(make_meta())
    for i in range(FRAMES_PER_SECOND):
        recorder.write_audio(frame(i))
    recorder.add_turn(make_turn(0))
    recorder.add_turn(make_turn(1))
    recorder.abandon()  # as if the process died here
    transcript = recorder.folder / "transcript.jsonl"
    with open(transcript, "ab") as f:
        f.write(b'{"turn_order": 2, "text": "half a li')
    with open(recorder.folder / "llm.jsonl", "ab") as f:
        f.write(b"\x00" * 100)  # what a power cut can leave

    before = store.load(recorder.folder)
    assert [t.turn_order for t in before.turns] == [0, 1]
    assert any("line 3 is cut off" in p for p in before.problems)
    assert any("interrupted" in p for p in before.problems)

    [report] = store.recover_interrupted()
    assert report.dropped_transcript_bytes == len(b'{"turn_order": 2, "text": "half a li')
    assert report.dropped_llm_bytes == 100
    assert any("transcript.jsonl" in note for note in report.notes)
    assert transcript.read_bytes().endswith(b"}\n")
    saved = store.load(recorder.folder)
    assert [t.turn_order for t in saved.turns] == [0, 1]
    assert saved.problems == ()
    assert saved.meta.turn_count == 2 and saved.meta.audio_duration_ms == 1000


def test_recovery_fixes_a_stale_header_and_a_half_sample(store):
    recorder = store.create(make_meta())
    for i in range(FRAMES_PER_SECOND):
        recorder.write_audio(frame(i))
    recorder.abandon()
    wav = recorder.folder / "audio.wav"
    with open(wav, "r+b") as f:  # a header written a while before the crash, a torn sample
        f.write(wav_header(100))
        f.seek(0, os.SEEK_END)
        f.write(b"\x07")
    [report] = store.recover_interrupted()
    assert report.dropped_audio_bytes == 1
    with wave.open(str(wav)) as w:
        assert w.getnframes() == FRAMES_PER_SECOND * FRAME_SAMPLES
    assert wav.stat().st_size == 44 + FRAMES_PER_SECOND * FRAME_SAMPLES * 2


def test_repair_rebuilds_a_garbage_header(tmp_path):
    wav = tmp_path / "audio.wav"
    wav.write_bytes(b"\xff" * 44 + expected_samples(1000).tobytes())
    result = repair_wav(wav)
    assert result.data_bytes == 2000 and result.notes
    data, rate = soundfile.read(wav, dtype="int16")
    assert rate == 16000 and np.array_equal(data, expected_samples(1000))


def test_repair_of_a_file_cut_inside_the_header(tmp_path):
    wav = tmp_path / "audio.wav"
    wav.write_bytes(wav_header(0)[:20])
    assert repair_wav(wav).data_bytes == 0
    with wave.open(str(wav)) as w:
        assert w.getnframes() == 0


def test_a_session_still_recording_is_not_touched(store):
    recorder = store.create(make_meta())
    recorder.write_audio(frame(0))
    assert store.recover_interrupted() == []
    assert json.loads((recorder.folder / "session.json").read_text())["status"] == "recording"
    assert recorder.finish().status is SessionStatus.COMPLETE


def test_missing_audio_is_reported_not_fatal(store):
    recorder = store.create(make_meta())
    recorder.add_turn(make_turn(0))
    recorder.abandon()
    (recorder.folder / "audio.wav").unlink()
    [report] = store.recover_interrupted()
    assert report.recovered and any("audio.wav is missing" in n for n in report.notes)
    assert store.load(recorder.folder).meta.turn_count == 1


def test_recovery_skips_damaged_sessions(store):
    recorder = store.create(make_meta())
    recorder.abandon()
    (recorder.folder / "session.json").write_text("{not json")
    assert store.recover_interrupted() == []
    [summary] = store.list_sessions()
    assert summary.status is SessionStatus.DAMAGED


def test_stale_temp_files_are_cleaned_up(store):
    recorder = store.create(make_meta())
    recorder.abandon()
    stale = recorder.folder / ".session.json.abc123.tmp"
    stale.write_text("{")
    store.recover_interrupted()
    assert not stale.exists()
