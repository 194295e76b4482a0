"""A call's two recordings heard as one: the microphone (`audio.wav`) and what the speakers
played (`system.wav`), mixed as they are read, both starting at the session's start."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from .paths import SYSTEM_AUDIO_FILE


class MixedWav:
    """What playback needs of `wave.Wave_read` (16-bit mono files of one rate)."""

    def __init__(self, first: wave.Wave_read, second: wave.Wave_read) -> None:
        self._files = (first, second)
        self._position = 0

    def getnframes(self) -> int:
        return max(f.getnframes() for f in self._files)

    def setpos(self, frame: int) -> None:
        self._position = min(max(0, frame), self.getnframes())
        for f in self._files:
            f.setpos(min(self._position, f.getnframes()))

    def readframes(self, count: int) -> bytes:
        count = min(count, self.getnframes() - self._position)
        mix = np.zeros(max(0, count), dtype=np.int32)
        for f in self._files:
            samples = np.frombuffer(f.readframes(count), dtype="<i2")
            mix[:len(samples)] += samples
        self._position += len(mix)
        return np.clip(mix, -32768, 32767).astype("<i2").tobytes()

    def close(self) -> None:
        for f in self._files:
            f.close()


def open_session_audio(path: Path) -> wave.Wave_read | MixedWav:
    """`path` (a session's audio.wav), mixed with the call's other side when there is one of
    the same format."""
    first = wave.open(str(path), "rb")  # noqa: SIM115 - the caller closes it
    other = path.with_name(SYSTEM_AUDIO_FILE)
    if not other.exists():
        return first
    try:
        second = wave.open(str(other), "rb")  # noqa: SIM115
    except (wave.Error, EOFError, OSError):
        return first  # the other side's recording is damaged: the microphone still plays
    if (second.getframerate(), second.getsampwidth(), second.getnchannels()) != \
            (first.getframerate(), 2, 1) or first.getsampwidth() != 2 \
            or first.getnchannels() != 1:
        second.close()
        return first
    return MixedWav(first, second)
