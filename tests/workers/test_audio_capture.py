"""The capture worker recording real speech played into the virtual microphone."""

from __future__ import annotations

import json
import subprocess
import sys
import wave

import numpy as np
import pytest

from earmark.core.audio import FRAME_BYTES, level_dbfs
from earmark.workers.audio_sources import list_input_devices
from tests.conftest import REPO, speech_file
from tests.support.virtual_mic import start_virtual_mic

SPEECH = "librispeech/test-clean/1221-135766-0002.wav"  # 4.8 s


@pytest.fixture(scope="module")
def virtual_mic():
    start_virtual_mic()


def test_devices_are_listed_with_a_default(virtual_mic):
    devices = list_input_devices()
    assert devices, "the virtual microphone should be an input device"
    assert sum(d.is_default for d in devices) == 1


def test_capture_records_what_is_spoken(virtual_mic, tmp_path):
    out = tmp_path / "capture.json"
    subprocess.run([sys.executable, "-m", "tests.support.capture_probe",
                    str(speech_file(SPEECH)), str(out)], cwd=REPO, check=True, timeout=120,
                   stderr=subprocess.DEVNULL)
    result = json.loads(out.read_text())
    captured = np.frombuffer(out.with_suffix(".pcm").read_bytes(), dtype="<i2").astype(float)

    assert result["failures"] == []
    assert result["started"]  # the device name, shown in the status bar
    assert result["frame_sizes"] == [FRAME_BYTES]  # 50 ms frames, always
    with wave.open(str(speech_file(SPEECH))) as w:
        spoken = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)
    assert result["finished_ms"] >= len(spoken) / 16 - 200  # ms captured covers the speech
    # The recording holds the speech itself: normalised cross-correlation finds it.
    padded = np.concatenate([np.zeros(len(spoken)), captured, np.zeros(len(spoken))])
    corr = np.correlate(padded, spoken, mode="valid")
    energy = np.sqrt(np.convolve(padded ** 2, np.ones(len(spoken)), mode="valid"))
    peak = float(np.max(corr / (np.linalg.norm(spoken) * np.maximum(energy, 1e-9))))
    assert peak > 0.8, f"captured audio does not match the speech (correlation {peak:.2f})"
    # The meter moved with the speech, and reports what the samples hold.
    assert max(result["levels"]) > -35
    assert max(result["levels"]) <= level_dbfs(np.abs(captured).max().astype("<i2").tobytes())
