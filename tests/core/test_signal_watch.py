"""The silence and clipping watch on synthetic 50 ms frames."""

from __future__ import annotations

import numpy as np

from earmark.core.signal_watch import Fault, SignalWatch

RNG = np.random.default_rng(7)


def frame(kind: str) -> bytes:
    if kind == "zero":
        x = np.zeros(800)
    elif kind == "dither":
        x = RNG.integers(-1, 2, 800)
    elif kind == "quiet":  # a quiet room: far below speech, but not digital silence
        x = RNG.normal(0, 15, 800)
    elif kind == "speech":
        x = 8000 * np.sin(np.arange(800) / 5) * RNG.uniform(0.2, 1.0)
    elif kind == "clipped":  # a loud tone flattened at full scale
        x = np.clip(60000 * np.sin(np.arange(800) / 5), -32768, 32767)
    elif kind == "one_peak":  # a single full-scale sample: a click, not clipping
        x = np.zeros(800)
        x[400] = 32767
    else:
        raise ValueError(kind)
    return np.asarray(x).astype("<i2").tobytes()


def feed(watch: SignalWatch, kind: str, count: int) -> list:
    events = []
    for _ in range(count):
        events += watch.feed(frame(kind))
    return events


def test_three_seconds_of_digital_silence_warn_once_naming_the_device():
    watch = SignalWatch("USB Mic")
    assert feed(watch, "zero", 59) == []  # 2.95 s
    (event,) = feed(watch, "zero", 1)
    assert event.fault is Fault.SILENCE and event.started
    assert event.message == "No sound from USB Mic: check the input or its mute switch."
    assert feed(watch, "zero", 200) == []  # once per episode
    (ended,) = feed(watch, "speech", 1)
    assert ended.fault is Fault.SILENCE and not ended.started
    assert watch.active == set()


def test_dither_counts_as_silence_but_a_quiet_room_does_not():
    assert [e.fault for e in feed(SignalWatch("mic"), "dither", 60)] == [Fault.SILENCE]
    assert feed(SignalWatch("mic"), "quiet", 200) == []


def test_silence_must_be_unbroken():
    watch = SignalWatch("mic")
    for _ in range(10):
        assert feed(watch, "zero", 40) + feed(watch, "speech", 1) == []


def test_sustained_clipping_warns_and_clears():
    watch = SignalWatch("Line In")
    events = []
    for _ in range(9):  # clipped every other frame: speech too loud for the input
        events += feed(watch, "clipped", 1) + feed(watch, "speech", 1)
    assert events == []
    (event,) = feed(watch, "clipped", 1)  # the tenth clipped frame within 2 s
    assert event.fault is Fault.CLIPPING and event.started
    assert "Line In" in event.message and "turn its input volume down" in event.message
    assert feed(watch, "clipped", 100) == []
    assert feed(watch, "speech", 39) == []  # still within the 2 s window
    (ended,) = feed(watch, "speech", 1)
    assert ended.fault is Fault.CLIPPING and not ended.started


def test_occasional_peaks_are_not_clipping():
    watch = SignalWatch("mic")
    events = []
    for _ in range(20):
        events += feed(watch, "one_peak", 1) + feed(watch, "speech", 3)
    for _ in range(10):  # one clipped frame a second: a loud laugh now and then
        events += feed(watch, "clipped", 1) + feed(watch, "speech", 19)
    assert events == []
