"""Watches live input for the two faults a person can fix: a muted input and a clipping one.

Fed 50 ms PCM16 frames, `SignalWatch.feed` reports when a fault starts (3 s of digital silence,
or clipping in a quarter of the frames of the last 2 s) and when it is over. Each fault is
reported once per episode. Pure: no audio system, no Qt.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from .audio import FRAME_MS

FULL_SCALE = 32767


class Fault(StrEnum):
    SILENCE = "silence"
    CLIPPING = "clipping"


@dataclass(frozen=True, slots=True)
class WatchEvent:
    fault: Fault
    started: bool  # False: the fault is over
    message: str  # a sentence for the window; empty when the fault is over


def silence_message(device: str) -> str:
    return f"No sound from {device}: check the input or its mute switch."


def clipping_message(device: str) -> str:
    return (f"The sound from {device} is too loud and clipping: turn its input volume down "
            "or move away from the microphone.")


class SignalWatch:
    """Counts silent and clipped frames and reports fault episodes."""

    def __init__(self, device: str, *, frame_ms: int = FRAME_MS, silence_s: float = 3.0,
                 silence_peak: int = 2, clip_window_s: float = 2.0,
                 clip_fraction: float = 0.25, clip_samples: int = 3) -> None:
        self.device = device
        self._silence_frames = max(1, round(silence_s * 1000 / frame_ms))
        self._silence_peak = silence_peak  # at most ±2 LSB: zeros or a converter's dither
        self._clip_samples = clip_samples  # full-scale samples that make a frame "clipped"
        window = max(1, round(clip_window_s * 1000 / frame_ms))
        self._clip_window: deque[bool] = deque(maxlen=window)
        self._clip_needed = max(1, round(window * clip_fraction))
        self._silent_run = 0
        self.active: set[Fault] = set()

    def feed(self, frame: bytes) -> list[WatchEvent]:
        """Account for one frame; the fault episodes that started or ended with it."""
        samples = np.frombuffer(frame[: len(frame) - len(frame) % 2], dtype="<i2")
        if samples.size == 0:
            return []
        magnitude = np.abs(samples.astype(np.int32))
        events: list[WatchEvent] = []

        silent = int(magnitude.max()) <= self._silence_peak
        self._silent_run = self._silent_run + 1 if silent else 0
        if self._silent_run >= self._silence_frames:
            self._start(Fault.SILENCE, silence_message(self.device), events)
        elif not silent:
            self._end(Fault.SILENCE, events)

        clipped = int(np.count_nonzero(magnitude >= FULL_SCALE)) >= self._clip_samples
        self._clip_window.append(clipped)
        count = sum(self._clip_window)
        if count >= self._clip_needed:
            self._start(Fault.CLIPPING, clipping_message(self.device), events)
        elif count == 0:
            self._end(Fault.CLIPPING, events)
        return events

    def _start(self, fault: Fault, message: str, events: list[WatchEvent]) -> None:
        if fault not in self.active:
            self.active.add(fault)
            events.append(WatchEvent(fault, True, message))

    def _end(self, fault: Fault, events: list[WatchEvent]) -> None:
        if fault in self.active:
            self.active.discard(fault)
            events.append(WatchEvent(fault, False, ""))
