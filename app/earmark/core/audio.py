"""The audio format of a v3 session and level metering: 16 kHz mono PCM16 in 50 ms frames."""

from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 16000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes, PCM16
FRAME_MS = 50
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 800
FRAME_BYTES = FRAME_SAMPLES * SAMPLE_WIDTH  # 1600
SILENCE_DBFS = -96.0


def level_dbfs(pcm: bytes) -> float:
    """RMS level of a PCM16 buffer in dB relative to full scale (0 dBFS = loudest)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    if samples.size == 0:
        return SILENCE_DBFS
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2)))
    if rms < 1.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(rms / 32768.0))


def duration_ms(byte_count: int) -> int:
    return byte_count * 1000 // (SAMPLE_RATE * SAMPLE_WIDTH * CHANNELS)
