"""Audio files of every common format, decoded as FFmpeg's own command line decodes them."""

from __future__ import annotations

import shutil
import subprocess
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QThread

from earmark.core.audio import FRAME_BYTES, FRAME_MS
from earmark.workers.audio_capture import AudioCaptureWorker
from earmark.workers.audio_sources import AudioSourceError
from earmark.workers.file_source import FAST, REALTIME, FileSource, check_audio_file
from tests.conftest import speech_file

SPEECH = "librispeech/test-clean/1221-135766-0002.wav"  # 4.8 s, 16 kHz mono

if shutil.which("ffmpeg") is None:  # scripts/setup.sh --test installs it
    raise RuntimeError("ffmpeg, the reference decoder these tests compare with, is missing")

# name -> ffmpeg encoder options, and whether the codec is lossless
FORMATS = {
    "speech.flac": (["-c:a", "flac"], True),
    "speech.wav": (["-c:a", "pcm_s16le"], True),
    "speech.mp3": (["-c:a", "libmp3lame", "-b:a", "64k"], False),
    "speech.m4a": (["-c:a", "aac", "-b:a", "64k"], False),
    "speech.ogg": (["-c:a", "libvorbis", "-q:a", "3"], False),
    "speech.opus": (["-c:a", "libopus", "-b:a", "32k"], False),  # decodes at 48 kHz
    "speech-44k-stereo.wav": (["-ar", "44100", "-ac", "2"], False),  # resampled: not exact
    "speech-48k-stereo.flac": (["-ar", "48000", "-ac", "2", "-c:a", "flac"], False),
}


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("formats")
    for name, (options, _lossless) in FORMATS.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(speech_file(SPEECH)),
                        *options, str(folder / name)], check=True)
    return folder


def reference(path: Path) -> np.ndarray:
    """FFmpeg's decode to 16 kHz mono s16le."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ar", "16000", "-ac", "1",
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<i2")


def decode(source: FileSource) -> np.ndarray:
    source.open()
    frames = []
    try:
        while (frame := source.read()) is not None:
            frames.append(frame)
    finally:
        source.close()
    assert {len(f) for f in frames} == {FRAME_BYTES}
    return np.frombuffer(b"".join(frames), dtype="<i2")


@pytest.mark.parametrize("name", list(FORMATS))
def test_each_format_decodes_to_the_reference_samples(made, name):
    path = made / name
    ours, ref = decode(FileSource(path, speed=None)), reference(path)
    assert len(ref) <= len(ours) < len(ref) + FRAME_BYTES // 2  # only the last frame's padding
    assert not ours[len(ref):].any()
    ours = ours[: len(ref)].astype(np.float64)
    ref = ref.astype(np.float64)
    if FORMATS[name][1]:
        assert np.array_equal(ours, ref)
    else:
        corr = np.dot(ours, ref) / (np.linalg.norm(ours) * np.linalg.norm(ref))
        assert corr > 0.995, f"{name}: correlation {corr:.4f} with FFmpeg's decode"


@pytest.mark.parametrize("name", ["speech.flac", "speech.mp3", "speech.m4a", "speech.opus"])
def test_duration_is_known_up_front_and_position_follows(made, name):
    with wave.open(str(speech_file(SPEECH))) as w:
        true_ms = w.getnframes() * 1000 // w.getframerate()
    source = FileSource(made / name, speed=None)
    source.open()
    try:
        assert abs(source.duration_ms - true_ms) < 100
        assert source.position_ms == 0
        for _ in range(10):
            source.read()
        assert source.position_ms == 10 * FRAME_MS
    finally:
        source.close()
    assert check_audio_file(made / name) == source.duration_ms


def test_real_time_pace_and_fast_pace(made):
    source = FileSource(made / "speech.mp3", speed=REALTIME)
    source.open()
    started = time.monotonic()
    for _ in range(20):
        source.read()
    elapsed = time.monotonic() - started
    source.close()
    assert 0.95 <= elapsed < 1.3  # 20 frames of 50 ms: one second, as spoken

    source = FileSource(made / "speech.mp3", speed=FAST)
    started = time.monotonic()
    decode(source)  # 4.8 s of audio at 20x: about a quarter of a second, not all at once
    elapsed = time.monotonic() - started
    assert 4.8 / FAST * 0.9 <= elapsed < 4.8 / FAST + 0.5


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("notes.mp3", b"Buy milk. Call the dentist.\n" * 20,
     "notes.mp3 is not an audio file Earmark can read: invalid data found"),
    ("empty.m4a", b"", "empty.m4a is empty: there is no audio in it."),
    ("missing.wav", None, "missing.wav could not be found; it may have been moved or deleted."),
])
def test_unreadable_files_say_why(tmp_path, name, content, expected):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioSourceError, match="^" + expected.replace(".", r"\.")):
        FileSource(path).open()
    with pytest.raises(AudioSourceError):
        check_audio_file(path)


def test_a_file_without_sound_says_so(tmp_path):
    picture = tmp_path / "cover.png"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=red:s=32x32",
                    "-frames:v", "1", str(picture)], check=True)
    with pytest.raises(AudioSourceError, match=r"cover\.png is not an audio file Earmark can read"):
        FileSource(picture).open()


def test_the_capture_worker_reports_progress_and_no_input_warnings(qtbot, made, tmp_path):
    # 4 s of digital silence then speech: a file's silence is not a muted microphone
    quiet = tmp_path / "quiet-start.ogg"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-t", "4", "-i",
                    "anullsrc=r=16000:cl=mono", "-i", str(speech_file(SPEECH)),
                    "-filter_complex", "[0:a][1:a]concat=n=2:v=0:a=1", "-c:a", "libvorbis",
                    str(quiet)], check=True)
    frames: list[bytes] = []
    positions: list[tuple[int, int]] = []
    warnings: list[str] = []
    worker = AudioCaptureWorker(lambda: FileSource(quiet, speed=FAST))
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.frame_captured.connect(frames.append, Qt.ConnectionType.DirectConnection)
    worker.position_changed.connect(lambda pos, dur: positions.append((pos, dur)))
    worker.input_warning.connect(warnings.append)
    with qtbot.waitSignal(worker.capture_finished, timeout=10_000) as finished:
        thread.start()
    thread.quit()
    thread.wait(2000)
    qtbot.wait(50)  # deliver the queued position updates

    assert warnings == []
    assert finished.args[0] == len(frames) * FRAME_MS
    duration = positions[-1][1]
    assert abs(duration - 8825) < 100
    assert positions[-1][0] == finished.args[0] >= duration
    assert 3 <= len(positions) < 20  # ten a second at most, at 20x
    assert [p for p, _ in positions] == sorted(p for p, _ in positions)


def test_the_rest_of_a_recording_starts_where_asked(made):
    """"Transcribe the rest" of a partly transcribed session reads its audio from a point."""
    path = made / "speech.wav"
    whole = decode(FileSource(path, speed=None))
    rest = decode(FileSource(path, speed=None, start_ms=2000))
    skipped = 2000 * 16
    assert np.array_equal(rest, whole[skipped:])
