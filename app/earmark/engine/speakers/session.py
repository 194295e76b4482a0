"""One session's speakers: embeds each final turn, labels it, and finds the labels that later
evidence changes (what a SpeakerRevision reports).

Threading: `label_turn` and `revisions` do the numpy/onnxruntime work and are called in a pool
thread, one call at a time (finals are emitted in a chain, and the end-of-session revision
runs after the last final), so the state needs no lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Protocol

import numpy as np

from .clustering import THRESHOLD, OnlineClusters, label_name, match_labels, recluster
from .encoder import REFERENCE_RATE, mean_embedding
from .frontend import SAMPLE_RATE, normalise_volume, partial_mels

UNKNOWN = "UNKNOWN"  # §3.1: short turns (< ~1 s); the cloud says PENDING since June 2026
MIN_SPEECH_S = 0.5  # less speech than this is not embedded at all
# A turn with less speech than this is weak evidence: it may join a speaker it is close to but
# never starts one, and the re-clustering leaves it out (it is then put with the nearest).
SURE_SPEECH_S = 1.0
# Long turns are embedded in windows of at most this much speech, each the mean of its 1.6 s
# partials (REFERENCE_RATE a second); the turn's embedding is their duration-weighted mean.
WINDOW_S = 4.0
# Speech spans: the turn's words, joined across gaps shorter than this, padded on both sides.
JOIN_GAP_MS = 300
PAD_MS = 60


class Encoder(Protocol):
    def embed_partials(self, mels: np.ndarray) -> np.ndarray: ...


@dataclass
class _TurnRecord:
    order: int
    embedding: np.ndarray | None  # None: too little speech
    speech_s: float
    speaker: int  # -1: UNKNOWN
    sent: str  # the label the client holds for this turn


@dataclass
class SessionSpeakers:
    """`max_speakers` caps the labels (1 labels every turn "A" without embedding anything)."""

    encoder: Encoder
    max_speakers: int | None = None
    threshold: float = THRESHOLD
    turns: dict[int, _TurnRecord] = field(default_factory=dict)
    issued: int = 0  # speaker numbers given out so far

    def __post_init__(self) -> None:
        self._online = OnlineClusters(self.threshold, self.max_speakers)

    def label_turn(self, order: int, speech: np.ndarray) -> str:
        """Label final turn `order` from its speech (16 kHz float, silences left out)."""
        speech_s = len(speech) / SAMPLE_RATE
        if self.max_speakers == 1:
            return self._record(order, None, speech_s, 0)
        if speech_s < MIN_SPEECH_S:
            return self._record(order, None, speech_s, -1)
        embedding = self.embed(speech)
        speaker = self._online.assign(embedding, speech_s, may_start=speech_s >= SURE_SPEECH_S)
        return self._record(order, embedding, speech_s, speaker)

    def embed(self, speech: np.ndarray) -> np.ndarray:
        """The unit embedding of a turn's speech: windows of at most WINDOW_S, each the mean of
        its partials, averaged by length."""
        speech = normalise_volume(speech)
        count = max(1, int(np.ceil(len(speech) / (WINDOW_S * SAMPLE_RATE))))
        windows = np.array_split(speech, count)
        batches = [partial_mels(w, REFERENCE_RATE) for w in windows]
        partials = self.encoder.embed_partials(np.concatenate(batches))
        bounds = np.cumsum([0] + [len(b) for b in batches])
        per_window = np.stack([mean_embedding(partials[a:b]) for a, b in pairwise(bounds)])
        return mean_embedding(per_window, np.array([len(w) for w in windows], np.float64))

    def _record(self, order: int, embedding: np.ndarray | None, speech_s: float,
                speaker: int) -> str:
        self.issued = max(self.issued, speaker + 1)
        label = self.label(speaker)
        self.turns[order] = _TurnRecord(order, embedding, speech_s, speaker, label)
        return label

    @staticmethod
    def label(speaker: int) -> str:
        return UNKNOWN if speaker < 0 else label_name(speaker)

    def revisions(self) -> dict[int, str]:
        """Cluster every turn again; the turns whose label changes (turn order -> new label).
        The online state follows the new grouping, and the changes count as sent."""
        records = [r for r in self.turns.values() if r.embedding is not None]
        if not records or self.max_speakers == 1:
            return {}
        speakers = self._regroup(records)
        changed: dict[int, str] = {}
        for record, speaker in zip(records, speakers, strict=True):
            record.speaker = speaker
            label = self.label(speaker)
            if label != record.sent:
                record.sent = changed[record.order] = label
        self.issued = max([self.issued, *(s + 1 for s in speakers)])
        return changed

    def _regroup(self, records: list[_TurnRecord]) -> list[int]:
        """New speaker numbers for `records`: the sure turns clustered again (numbers kept by
        overlap with the old ones), the short ones put with the nearest speaker if close."""
        sure = [r for r in records if r.speech_s >= SURE_SPEECH_S]
        if not sure:
            return [r.speaker for r in records]
        emb = np.stack([r.embedding for r in sure])
        weights = np.array([r.speech_s for r in sure])
        groups = recluster(emb, weights, self.threshold, self.max_speakers)
        numbers = match_labels([r.speaker for r in sure], groups, weights.tolist(), self.issued)
        self._online.rebuild(emb, weights, numbers)
        by_order = {r.order: n for r, n in zip(sure, numbers, strict=True)}
        result = []
        for r in records:
            if r.order in by_order:
                result.append(by_order[r.order])
            else:
                best, distance = self._online.nearest(r.embedding)
                result.append(best if distance <= self.threshold else -1)
        return result


def speech_spans(words: list[tuple[int, int]], start_ms: float,
                 end_ms: float) -> list[tuple[float, float]]:
    """Where a turn's words are spoken (ms on the stream clock): words closer than JOIN_GAP_MS
    joined, PAD_MS added each side, clipped to [start_ms, end_ms]."""
    spans: list[list[float]] = []
    for start, end in sorted(words):
        if spans and start - spans[-1][1] < JOIN_GAP_MS:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    clipped = [(max(start_ms, a - PAD_MS), min(end_ms, b + PAD_MS)) for a, b in spans]
    return [(a, b) for a, b in clipped if b > a]
