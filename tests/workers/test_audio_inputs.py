"""Inputs on a real (virtual) audio system: the device list, monitors as "System audio",
capture at a device's own rate, a device that goes away, and the silence watch.

Besides the shared virtual microphone, tests that unplug or keep silent use an output of their
own (a PulseAudio null sink loaded and unloaded here), so other tests sharing the server
are not disturbed.
"""

from __future__ import annotations

import os
import subprocess
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QThread

from earmark.controllers.audio_devices import AudioDevices
from earmark.core.audio import FRAME_BYTES, FRAME_MS, level_dbfs
from earmark.workers.audio_capture import LEVEL_EVERY_N_FRAMES, AudioCaptureWorker
from earmark.workers.audio_inputs import AudioInput, InputKind, list_audio_inputs
from earmark.workers.audio_sources import AudioSource, AudioSourceError, MicrophoneSource
from tests.conftest import speech_file
from tests.support.virtual_mic import start_virtual_mic

SPEECH = "librispeech/test-clean/1221-135766-0002.wav"  # 4.8 s


@pytest.fixture(scope="module")
def virtual_mic():
    start_virtual_mic()


@contextmanager
def private_output(tag: str, rate: int = 48000, channels: int = 2) -> Iterator[str]:
    """A PulseAudio output of this test's own; yields its sink name (its monitor is an input)."""
    name = f"earmark_t{os.getpid()}_{tag}"
    module = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}", f"rate={rate}",
         f"channels={channels}", f"sink_properties=device.description=Earmark-{tag}"],
        capture_output=True, text=True, check=True).stdout.strip()
    try:
        yield name
    finally:
        unload(module_of(name) or module)


def module_of(sink: str) -> str | None:
    for line in subprocess.run(["pactl", "list", "short", "modules"], capture_output=True,
                               text=True, check=True).stdout.splitlines():
        if f"sink_name={sink} " in line + " ":
            return line.split("\t")[0]
    return None


def unload(module: str) -> None:
    subprocess.run(["pactl", "unload-module", module], capture_output=True, check=False)


def play_into(sink: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(["paplay", f"--device={sink}", str(path)])


def system_audio(label_part: str) -> AudioInput:
    matches = [d for d in list_audio_inputs() if label_part in d.label]
    assert len(matches) == 1, [d.label for d in list_audio_inputs()]
    return matches[0]


class Capture:
    """An AudioCaptureWorker on its thread, with everything it emits recorded."""

    def __init__(self, qtbot, make_source) -> None:
        self.qtbot = qtbot
        self.frames: list[bytes] = []
        self.levels: list[float] = []
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.recovered = 0
        self.sources: list[AudioSource] = []
        self.worker = AudioCaptureWorker(lambda: self._made(make_source()))
        self.thread = QThread()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        w = self.worker
        w.frame_captured.connect(self.frames.append, Qt.ConnectionType.DirectConnection)
        w.level_changed.connect(self.levels.append)
        w.capture_failed.connect(self.failures.append)
        w.input_warning.connect(self.warnings.append)
        w.input_recovered.connect(self._on_recovered)
        self.finished_ms: int | None = None
        w.capture_finished.connect(self._on_finished)

    def _made(self, source: AudioSource) -> AudioSource:
        self.sources.append(source)
        return source

    def _on_recovered(self) -> None:
        self.recovered += 1

    def _on_finished(self, ms: int) -> None:
        self.finished_ms = ms

    def start(self) -> str:
        with self.qtbot.waitSignal(self.worker.capture_started, timeout=5000) as started:
            self.thread.start()
        return started.args[0]

    def stop(self) -> None:
        if self.finished_ms is None:
            with self.qtbot.waitSignal(self.worker.capture_finished, timeout=5000):
                self.worker.stop()
        self.thread.quit()
        self.thread.wait(2000)

    def samples(self) -> np.ndarray:
        return np.frombuffer(b"".join(self.frames), dtype="<i2").astype(float)


def speech_samples() -> np.ndarray:
    with wave.open(str(speech_file(SPEECH))) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(float)


def best_match(captured: np.ndarray, spoken: np.ndarray) -> float:
    """The highest normalised cross-correlation of `spoken` anywhere in `captured` (by FFT)."""
    padded = np.concatenate([np.zeros(len(spoken)), captured, np.zeros(len(spoken))])
    size = 1 << int(np.ceil(np.log2(len(padded) + len(spoken))))
    corr = np.fft.irfft(np.fft.rfft(padded, size) * np.conj(np.fft.rfft(spoken, size)), size)
    corr = corr[: len(padded) - len(spoken) + 1]
    window = np.concatenate([[0.0], np.cumsum(padded ** 2)])
    energy = np.sqrt(np.maximum(window[len(spoken):] - window[: -len(spoken)], 0))
    return float(np.max(corr / (np.linalg.norm(spoken) * np.maximum(energy, 1e-3))))


def live(qtbot, capture: Capture) -> None:
    """Wait for the first frame: an idle null sink may hold its first block for up to 2 s."""
    qtbot.waitUntil(lambda: bool(capture.frames), timeout=5000)


def wait_played(qtbot, player: subprocess.Popen) -> None:
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=30_000)
    qtbot.wait(400)


def test_inputs_have_stable_keys_one_default_and_system_audio(virtual_mic):
    inputs = list_audio_inputs()
    assert sum(d.is_default for d in inputs) == 1
    assert len({d.key for d in inputs}) == len(inputs)
    monitor = next(d for d in inputs if d.pulse_source == "earmark_mic.monitor")
    assert monitor.label == "System audio (EarmarkVirtualMic)"
    assert monitor.kind is InputKind.SYSTEM_AUDIO
    assert monitor.key == "pulse:earmark_mic.monitor"  # a name, not an index
    default = next(d for d in inputs if d.is_default)
    assert default.kind is InputKind.DEVICE and default.display_name.endswith(" (default)")
    assert list_audio_inputs() == inputs  # the same keys every time


def test_virtual_mic_speech_is_captured_with_its_level(qtbot, virtual_mic):
    """A virtual microphone like the shared one (a 16 kHz mono null sink) but of this test's
    own: other tests playing into the shared one at the same time would garble the speech."""
    with private_output("mic", rate=16000, channels=1) as sink:
        capture = Capture(qtbot, lambda: MicrophoneSource(
            device=system_audio("System audio (Earmark-mic)")))
        assert capture.start() == "System audio (Earmark-mic)"
        live(qtbot, capture)
        wait_played(qtbot, play_into(sink, speech_file(SPEECH)))
        capture.stop()
    (source,) = capture.sources
    assert (source.rate, source.channels) == (16000, 1)  # no resampling needed
    assert capture.failures == []
    assert {len(f) for f in capture.frames} == {FRAME_BYTES}
    spoken = speech_samples()
    assert capture.finished_ms >= len(spoken) / 16 - 200
    assert best_match(capture.samples(), spoken) > 0.8
    # The meter reports the level of what was captured (every other frame), and it moved.
    expected = [level_dbfs(f) for f in capture.frames[LEVEL_EVERY_N_FRAMES - 1::
                                                     LEVEL_EVERY_N_FRAMES]]
    assert capture.levels == pytest.approx(expected)
    assert max(capture.levels) > -35
    assert min(capture.levels) < max(capture.levels) - 20  # pauses are quieter than words


@pytest.mark.parametrize("rate", [44100, 48000])
def test_a_device_opened_at_its_own_rate_is_resampled(qtbot, virtual_mic, rate):
    with private_output(f"rate{rate}", rate=rate) as sink:
        device = system_audio(f"Earmark-rate{rate}")
        capture = Capture(qtbot, lambda: MicrophoneSource(device=device, capture_rate=rate))
        capture.start()
        live(qtbot, capture)
        wait_played(qtbot, play_into(sink, speech_file(SPEECH)))
        capture.stop()
    (source,) = capture.sources
    assert (source.rate, source.channels) == (rate, 1)  # it really recorded at that rate
    assert capture.failures == []
    assert {len(f) for f in capture.frames} == {FRAME_BYTES}  # still 16 kHz, 50 ms frames
    assert best_match(capture.samples(), speech_samples()) > 0.8


def test_an_input_that_goes_away_ends_capture_and_keeps_the_audio(qtbot, virtual_mic):
    with private_output("unplug") as sink:
        device = system_audio("Earmark-unplug")
        capture = Capture(qtbot, lambda: MicrophoneSource(device=device))
        capture.start()
        player = play_into(sink, speech_file(SPEECH))
        qtbot.waitUntil(lambda: len(capture.frames) >= 20, timeout=5000)
        player.terminate()  # or the server moves it to another output, maybe the shared mic
        player.wait(5)
        unload(module_of(sink))
        qtbot.waitUntil(lambda: capture.finished_ms is not None, timeout=5000)
    capture.stop()
    assert capture.failures == [
        "The input 'System audio (Earmark-unplug)' is no longer available: it was unplugged or "
        "switched off. Everything recorded so far is kept."]
    assert capture.finished_ms == len(capture.frames) * FRAME_MS >= 1000
    assert np.abs(capture.samples()).max() > 1000  # the speech before the unplugging


def test_an_input_that_is_not_connected_says_so(virtual_mic):
    gone = AudioInput("pulse:nothing_here.monitor", "System audio (Gone)",
                      InputKind.SYSTEM_AUDIO, pulse_source="nothing_here.monitor")
    absent = AudioInput("pa:ALSA:USB Headset", "USB Headset", InputKind.DEVICE,
                        device_name="USB Headset", host_api="ALSA")
    with pytest.raises(AudioSourceError, match="The input 'USB Headset' is not connected"):
        MicrophoneSource(device=absent).open()
    with pytest.raises(AudioSourceError, match=r"^The input 'System audio \(Gone\)' is not "
                                               r"connected\. Connect it"):
        MicrophoneSource(device=gone).open()


def test_a_silent_input_warns_and_sound_clears_the_warning(qtbot, virtual_mic):
    with private_output("muted") as sink:
        capture = Capture(qtbot, lambda: MicrophoneSource(device=system_audio("Earmark-muted")))
        capture.start()
        qtbot.waitUntil(lambda: bool(capture.warnings), timeout=6000)
        assert capture.warnings == [
            "No sound from System audio (Earmark-muted): check the input or its mute switch."]
        assert 2.9 <= len(capture.frames) * FRAME_MS / 1000 < 4.5
        assert capture.recovered == 0
        player = play_into(sink, speech_file(SPEECH))
        qtbot.waitUntil(lambda: capture.recovered == 1, timeout=5000)
        player.terminate()
        player.wait(5)
        capture.stop()
    assert len(capture.warnings) == 1


def test_the_device_list_follows_outputs_coming_and_going(qtbot, virtual_mic):
    devices = AudioDevices(interval_ms=200)
    lists: list[list[AudioInput]] = []
    devices.devices_changed.connect(lists.append)
    devices.start()
    try:
        qtbot.waitUntil(lambda: bool(lists), timeout=5000)
        assert devices.find("pulse:earmark_mic.monitor") is not None

        def labels() -> set[str]:
            return {d.label for d in devices.devices}

        with private_output("hotplug"):
            qtbot.waitUntil(lambda: "System audio (Earmark-hotplug)" in labels(), timeout=5000)
            key = next(d.key for d in devices.devices if "hotplug" in d.label)
            assert devices.choose(key).key == key  # the remembered input, while connected
        qtbot.waitUntil(lambda: "System audio (Earmark-hotplug)" not in labels(), timeout=5000)
        assert devices.find(key) is None
        assert devices.choose(key) == devices.default()  # gone: fall back to the default
        assert lists[-1] == devices.devices
    finally:
        devices.stop()


def test_the_device_list_only_announces_changes(qtbot):
    a = AudioInput("pa:ALSA:a", "a", InputKind.DEVICE, True, "a", "ALSA")
    b = AudioInput("pa:ALSA:b", "b", InputKind.DEVICE, False, "b", "ALSA")
    current = [[a]]
    prints = iter(["1", "1", "2", "2"])
    devices = AudioDevices(lister=lambda: list(current[0]), fingerprint=lambda: next(prints))
    lists: list[list[AudioInput]] = []
    devices.devices_changed.connect(lists.append)
    assert devices.refresh() == [a]
    devices.poll()  # same fingerprint: not even listed again
    current[0] = [a, b]
    qtbot.wait(100)
    assert lists == [[a]]
    devices.poll()  # fingerprint changed: listed, announced
    qtbot.waitUntil(lambda: len(lists) == 2, timeout=2000)
    assert lists[-1] == [a, b]
    assert devices.choose("pa:ALSA:b") == b
    assert devices.choose("pa:ALSA:gone") == a
