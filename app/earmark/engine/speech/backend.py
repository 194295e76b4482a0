"""What the engine needs from a speech recogniser: the `SpeechBackend` interface and its
results. A stream session only ever talks to this interface (see registry.py for how a spec
picks an implementation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

MAX_CLIP_S = 30.0  # the longest clip `decode` takes (Whisper's window); longer ones are cut


@dataclass(frozen=True, slots=True)
class DecodeProfile:
    """How one kind of decode (partial or final) trades speed for accuracy."""

    pad_s: float  # silence appended before encoding
    tokens_per_s: float  # cap on generated tokens per second of audio (stops loops)
    no_repeat_ngram: int
    beam_size: int = 1


@dataclass(frozen=True, slots=True)
class DecodedWord:
    """A word with times in seconds from the start of the decoded clip."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    words: tuple[DecodedWord, ...]

    def shifted(self, seconds: float) -> Decoded:
        """The same words with times `seconds` later (never before 0)."""
        if not seconds:
            return self
        return Decoded(self.text, tuple(
            DecodedWord(w.text, max(0.0, w.start + seconds), max(0.0, w.end + seconds),
                        w.probability) for w in self.words))


EMPTY = Decoded("", ())


@runtime_checkable
class SpeechBackend(Protocol):
    """One loaded speech model, shared by all sessions.

    `decode` blocks and is called from worker threads, possibly several at once: it must be
    thread-safe (and should release the GIL while it computes)."""

    name: str  # what runs, as the engine reports it (e.g. "whisper-tiny.en" or a folder)

    def warm_up(self) -> None:
        """Run one small decode so the first real one is not slow."""
        ...

    def decode(self, audio: np.ndarray, *, final: bool, keyterms: tuple[str, ...] = (),
               prefix: str = "") -> Decoded:
        """Transcribe one clip (≤ MAX_CLIP_S, 16 kHz mono float32) with word timings.

        `final`: the turn's last decode (worth more accuracy than a partial's). `keyterms`:
        words to favour. `prefix`: what was already said at the start of the clip (the end of
        the previous turn); the model continues from it and it is left out of the result."""
        ...
