"""Any rate and channel count in, 16 kHz mono PCM16 in 50 ms frames out.

A device that cannot open at 16 kHz is opened at its own rate and its audio is streamed through
soxr here, so every consumer still gets exactly the session format. Pure: no audio system, no Qt.
"""

from __future__ import annotations

import numpy as np
import soxr

from .audio import FRAME_SAMPLES, SAMPLE_RATE

_SCALE = 32768.0


def pcm16_to_float(data: bytes, channels: int = 1) -> np.ndarray:
    """Interleaved little-endian PCM16 as float32 in [-1, 1), shaped (samples, channels)."""
    usable = len(data) - len(data) % (2 * channels)
    samples = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / _SCALE
    return samples.reshape(-1, channels)


def float_to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as PCM16, rounded like FFmpeg's converter and clipped."""
    scaled = np.rint(np.asarray(samples, dtype=np.float64) * _SCALE)
    return np.clip(scaled, -32768, 32767).astype("<i2").tobytes()


def downmix(samples: np.ndarray) -> np.ndarray:
    """(samples, channels) to mono by averaging the channels; 1-D input is already mono."""
    if samples.ndim == 1:
        return samples.astype(np.float32, copy=False)
    if samples.shape[1] == 1:
        return samples[:, 0].astype(np.float32, copy=False)
    return samples.mean(axis=1, dtype=np.float32)


class FrameResampler:
    """Streams audio at `in_rate` to 16 kHz mono PCM16 frames of exactly 50 ms.

    Push audio as it arrives (`push_pcm16` or `push_float`), take whole frames with `pop_frame`,
    and call `flush` at the end of the input to get the resampler's tail and a zero-padded
    last frame. At 16 kHz mono the samples pass through untouched.
    """

    def __init__(self, in_rate: int, channels: int = 1, *, out_rate: int = SAMPLE_RATE,
                 frame_samples: int = FRAME_SAMPLES, quality: str = "HQ") -> None:
        if in_rate <= 0 or channels <= 0:
            raise ValueError(f"bad input format: {in_rate} Hz, {channels} channels")
        self.in_rate = int(in_rate)
        self.channels = int(channels)
        self.out_rate = int(out_rate)
        self._frame_bytes = frame_samples * 2
        self._stream = (None if self.in_rate == self.out_rate else
                        soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32",
                                            quality=quality))
        self._out = bytearray()
        self._partial = b""  # a device may hand over a buffer that splits a sample
        self._flushed = False

    def push_pcm16(self, data: bytes) -> None:
        """Interleaved PCM16 at the input rate and channel count."""
        if self._partial:
            data = self._partial + data
        whole = len(data) - len(data) % (2 * self.channels)
        self._partial = bytes(data[whole:])
        if self._stream is None and self.channels == 1:
            if self._flushed:
                raise RuntimeError("push after flush")
            self._append_out(data[:whole])
            return
        self.push_float(pcm16_to_float(data[:whole], self.channels))

    def push_float(self, samples: np.ndarray) -> None:
        """Float samples at the input rate: 1-D (mono) or shaped (samples, channels)."""
        if self._flushed:
            raise RuntimeError("push after flush")
        mono = downmix(np.asarray(samples, dtype=np.float32))
        if mono.size == 0:
            return
        if self._stream is not None:
            mono = self._stream.resample_chunk(mono, last=False)
        self._append_out(float_to_pcm16(mono))

    def flush(self) -> None:
        """End of input: drain the resampler and pad what is left to a whole frame."""
        if self._flushed:
            return
        self._flushed = True
        if self._stream is not None:
            tail = self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            self._append_out(float_to_pcm16(tail))
        partial = len(self._out) % self._frame_bytes
        if partial:
            self._out.extend(bytes(self._frame_bytes - partial))

    def pop_frame(self) -> bytes | None:
        """The next whole 50 ms frame, or None until enough audio has been pushed."""
        if len(self._out) < self._frame_bytes:
            return None
        frame = bytes(self._out[: self._frame_bytes])
        del self._out[: self._frame_bytes]
        return frame

    def frames(self) -> list[bytes]:
        """Every whole frame ready now."""
        out = []
        while (frame := self.pop_frame()) is not None:
            out.append(frame)
        return out

    @property
    def buffered_samples(self) -> int:
        return len(self._out) // 2

    def _append_out(self, pcm: bytes) -> None:
        self._out.extend(pcm)
