"""Client audio frames -> float32 mono 16 kHz samples, and the stream clock.

Positions on the stream clock (ms from the first audio byte) are model-rate sample indices / 16:
the streaming resampler emits its output late but not shifted in time.
"""

from __future__ import annotations

import numpy as np
import soxr

MODEL_RATE = 16000

_ENCODINGS = {"pcm_s16le": 2, "pcm_mulaw": 1}


def supported_encoding(encoding: str | None) -> bool:
    return (encoding or "pcm_s16le") in _ENCODINGS


def _mulaw_table() -> np.ndarray:
    """G.711 mu-law byte -> linear sample in [-1, 1)."""
    u = ~np.arange(256, dtype=np.uint8)
    sign = (u & 0x80) != 0
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + 0x84) << exponent.astype(np.int32)
    linear = np.where(sign, 0x84 - magnitude, magnitude - 0x84)
    return (linear / 32768.0).astype(np.float32)


_MULAW = _mulaw_table()


class AudioDecoder:
    """Turns the binary frames of one session into model-rate samples."""

    def __init__(self, sample_rate: int = MODEL_RATE, encoding: str | None = None) -> None:
        if sample_rate <= 0:
            raise ValueError("sample_rate must be positive")
        self.encoding = encoding or "pcm_s16le"
        if self.encoding not in _ENCODINGS:
            raise ValueError(f"unsupported encoding {self.encoding!r}")
        self.sample_rate = sample_rate
        self.bytes_per_sample = _ENCODINGS[self.encoding]
        self._carry = b""
        self.samples_in = 0  # input samples seen: the stream clock
        self._resampler = (
            None if sample_rate == MODEL_RATE
            else soxr.ResampleStream(sample_rate, MODEL_RATE, 1, dtype="float32", quality="HQ")
        )

    def duration_ms(self, nbytes: int) -> float:
        return nbytes / self.bytes_per_sample / self.sample_rate * 1000.0

    @property
    def position_ms(self) -> float:
        return self.samples_in / self.sample_rate * 1000.0

    def decode(self, data: bytes) -> np.ndarray:
        data = self._carry + data
        usable = len(data) - len(data) % self.bytes_per_sample
        self._carry = data[usable:]
        data = data[:usable]
        if self.encoding == "pcm_s16le":
            samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
        else:
            samples = _MULAW[np.frombuffer(data, dtype=np.uint8)]
        self.samples_in += len(samples)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        return samples

    def flush(self) -> np.ndarray:
        """The resampler's tail, at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.float32)
        return self._resampler.resample_chunk(np.zeros(0, np.float32), last=True)


class SampleBuffer:
    """The most recent model-rate audio of a session, addressed by stream-clock ms."""

    def __init__(self, keep_ms: float = 40_000) -> None:
        self._keep = int(keep_ms * MODEL_RATE / 1000)
        self._data = np.zeros(0, np.float32)
        self._base = 0  # stream sample index of _data[0]

    @property
    def start_ms(self) -> float:
        """The oldest audio still held."""
        return self._base * 1000.0 / MODEL_RATE

    @property
    def end_ms(self) -> float:
        return (self._base + len(self._data)) * 1000.0 / MODEL_RATE

    def append(self, samples: np.ndarray) -> None:
        self._data = np.concatenate([self._data, samples])
        excess = len(self._data) - self._keep
        if excess > MODEL_RATE:  # trim in steps of at least 1 s
            self._data = self._data[excess:].copy()
            self._base += excess

    def slice(self, start_ms: float, end_ms: float) -> np.ndarray:
        """A copy of [start_ms, end_ms), clipped to what is still held."""
        lo = max(0, int(start_ms * MODEL_RATE / 1000) - self._base)
        hi = max(lo, int(end_ms * MODEL_RATE / 1000) - self._base)
        return self._data[lo:hi].copy()
