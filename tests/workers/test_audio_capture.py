"""The capture worker recording real speech played into the virtual microphone."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from PySide6.QtCore import Qt, QThread

from earmark.core.audio import FRAME_BYTES, level_dbfs
from earmark.workers.audio_capture import AudioCaptureWorker
from earmark.workers.audio_inputs import list_audio_inputs
from earmark.workers.audio_sources import MicrophoneSource
from tests.conftest import speech_file
from tests.support.virtual_mic import play, start_virtual_mic

SPEECH = "librispeech/test-clean/1221-135766-0002.wav"  # 4.8 s


@pytest.fixture(scope="module")
def virtual_mic():
    start_virtual_mic()


def test_devices_are_listed_with_a_default(virtual_mic):
    devices = list_audio_inputs()
    assert devices, "the virtual microphone should be an input device"
    assert sum(d.is_default for d in devices) == 1


def test_capture_records_what_is_spoken(qtbot, virtual_mic):
    frames: list[bytes] = []
    levels: list[float] = []
    failures: list[str] = []
    worker = AudioCaptureWorker(lambda: MicrophoneSource())
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.frame_captured.connect(frames.append, Qt.ConnectionType.DirectConnection)
    worker.level_changed.connect(levels.append)
    worker.capture_failed.connect(failures.append)
    with qtbot.waitSignal(worker.capture_started, timeout=5000) as started:
        thread.start()
    player = play(speech_file(SPEECH))
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=30_000)
    qtbot.wait(500)
    with qtbot.waitSignal(worker.capture_finished, timeout=5000) as finished:
        worker.stop()
    thread.quit()
    thread.wait(2000)

    assert failures == []
    assert started.args[0]  # the device name, shown in the status bar
    assert {len(f) for f in frames} == {FRAME_BYTES}  # 50 ms frames, always
    with wave.open(str(speech_file(SPEECH))) as w:
        spoken = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    captured = np.frombuffer(b"".join(frames), dtype="<i2").astype(float)
    assert finished.args[0] >= len(spoken) / 16 - 200  # ms captured covers the speech
    # The recording holds the speech itself: normalised cross-correlation finds it.
    padded = np.concatenate([np.zeros(len(spoken)), captured, np.zeros(len(spoken))])
    corr = np.correlate(padded, spoken, mode="valid")
    energy = np.sqrt(np.convolve(padded ** 2, np.ones(len(spoken)), mode="valid"))
    peak = float(np.max(corr / (np.linalg.norm(spoken) * np.maximum(energy, 1e-9))))
    assert peak > 0.8, f"captured audio does not match the speech (correlation {peak:.2f})"
    # The meter moved with the speech, and reports what the samples hold.
    assert max(levels) > -35
    assert max(levels) <= level_dbfs(np.abs(captured).max().astype("<i2").tobytes())
