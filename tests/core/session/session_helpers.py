"""Helpers shared by the session store tests."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from earmark.core.session import SessionMeta, TurnRecord, WordRecord

FRAME_SAMPLES = 800  # 50 ms at 16 kHz
FRAME_BYTES = FRAME_SAMPLES * 2
FRAMES_PER_SECOND = 20


def frame(index: int) -> bytes:
    """A recognizable 50 ms frame: sample n of the stream holds n modulo 2**15."""
    start = index * FRAME_SAMPLES
    return (np.arange(start, start + FRAME_SAMPLES) % 32768).astype("<i2").tobytes()


def expected_samples(count: int) -> np.ndarray:
    return (np.arange(count) % 32768).astype(np.int16)


def make_meta(title: str = "Weekly sync", minute: int = 30, **kwargs) -> SessionMeta:
    started = datetime(2026, 11, 24, 14, minute).astimezone()  # local: folder names use it
    values = {"title": title, "engine": "embedded", "speech_model": "whisper-tiny.en",
              "llm_model": "smollm2-135m", "prompt": "Answer briefly.", "started_at": started}
    values.update(kwargs)
    return SessionMeta(**values)


def make_turn(order: int, text: str | None = None, *, start_ms: int | None = None,
              speaker: str | None = None) -> TurnRecord:
    text = text if text is not None else f"This is turn number {order}."
    base = order * 3000 if start_ms is None else start_ms
    words = tuple(WordRecord(w, base + i * 300, base + i * 300 + 250, 0.9)
                  for i, w in enumerate(text.split()))
    return TurnRecord(order, text, words=words, speaker=speaker)
