"""Speaker labels for a live v3 session (`speaker_labels=true`): the glue between stream.py and
SessionSpeakers, in the protocol's terms (shared/protocol/assemblyai-v3.md §6.2, §6.5 and the
2026-12 update).

* Every final `Turn` (both messages with `format_turns`) carries `speaker_label` ("A", "B", …;
  "UNKNOWN" for a turn with too little speech to tell), and its words `speaker`. Partials carry
  none: the reference gives `speaker` on final words only, and a partial's audio is not
  embedded (that would cost a model run per partial).
* `SpeakerRevision` goes out before `Termination` when clustering all turns again changes the
  label of turns already sent, with only those turns, their words unchanged but for `speaker`.
  With `speaker_labels_revision_interval_ms` (non-zero values clamped to 120,000-300,000, as the
  service clamps them) also mid-session, each time that much audio has been finalised since
  the last. Each is a delta: the client applies them in order, the last one wins per turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import TypeVar

import numpy as np

from earmark.core.protocol import SpeakerRevision, StreamingParams, Turn, Word
from earmark.core.protocol.messages import TurnRevision

from .session import UNKNOWN, Encoder, SessionSpeakers, speech_spans

log = logging.getLogger(__name__)

REVISION_INTERVAL_MS = (120_000, 300_000)

T = TypeVar("T")
Slicer = Callable[[float, float], np.ndarray]  # stream-clock ms -> 16 kHz float audio


def revision_interval_ms(params: StreamingParams) -> int:
    """`speaker_labels_revision_interval_ms` as the service applies it: 0 (only at the end),
    else clamped to REVISION_INTERVAL_MS. The engine does not parse it (not in
    StreamingParams); check_connection has already range-checked the raw value."""
    raw = params.unknown.get("speaker_labels_revision_interval_ms", "0")
    try:
        value = int(float(raw))
    except ValueError:
        return 0
    low, high = REVISION_INTERVAL_MS
    return 0 if value <= 0 else min(high, max(low, value))


def labelled(turn: Turn, label: str) -> Turn:
    """`turn` with `speaker_label` and each word's `speaker`."""
    return replace(turn, speaker_label=label,
                   words=tuple(replace(w, speaker=label) for w in turn.words))


class LiveSpeakers:
    """One session's labels and revisions. The model work runs in `pool`."""

    def __init__(self, params: StreamingParams, encoder: Callable[[], Encoder],
                 pool: Executor) -> None:
        self._encoder = encoder
        self._pool = pool
        self._max_speakers = params.max_speakers
        self._speakers: SessionSpeakers | None = None
        self._words: dict[int, tuple[Word, ...]] = {}
        self._interval_ms = revision_interval_ms(params)
        self._revised_at_ms = 0.0
        self._finalised_ms = 0.0

    async def label(self, order: int, messages: Sequence[Turn], audio: Slicer) -> list[Turn]:
        """The final `messages` of turn `order`, labelled from the turn's speech. A failure
        (the model did not load) labels the turn UNKNOWN rather than lose it."""
        words = [(w.start, w.end) for w in messages[-1].words]
        spans = speech_spans(words, 0.0, float("inf"))
        speech = (np.concatenate([audio(a, b) for a, b in spans]) if spans
                  else np.zeros(0, np.float32))
        try:
            label = await self._run(lambda: self._session().label_turn(order, speech))
        except Exception:
            log.exception("speaker label of turn %d failed", order)
            label = UNKNOWN
        result = [labelled(m, label) for m in messages]
        self._words[order] = result[-1].words
        if words:
            self._finalised_ms = max(self._finalised_ms, float(words[-1][1]))
        return result

    def revision_due(self) -> bool:
        """Whether a mid-session SpeakerRevision is due (with an interval set)."""
        return (self._interval_ms > 0
                and self._finalised_ms - self._revised_at_ms >= self._interval_ms)

    async def revision(self) -> SpeakerRevision | None:
        """The turns whose label changed since it was sent, or None when none did."""
        self._revised_at_ms = self._finalised_ms
        if self._speakers is None:
            return None
        try:
            changes = await self._run(self._speakers.revisions)
        except Exception:
            log.exception("speaker re-clustering failed")
            return None
        if not changes:
            return None
        revised = []
        for order in sorted(changes):
            label = changes[order]
            words = tuple(replace(w, speaker=label) for w in self._words.get(order, ()))
            self._words[order] = words
            revised.append(TurnRevision(turn_order=order, speaker_label=label, words=words))
        return SpeakerRevision(revisions=tuple(revised))

    def _session(self) -> SessionSpeakers:
        if self._speakers is None:  # the encoder loads on first use, in the pool thread
            self._speakers = SessionSpeakers(self._encoder(), self._max_speakers)
        return self._speakers

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)
