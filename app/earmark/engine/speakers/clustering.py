"""Grouping turn embeddings into speakers. Pure numpy, no I/O.

A speaker is the duration-weighted mean M of its turns' unit embeddings (its running centroid,
not normalised), and the distance of a turn e to it is 1 - e·M: the turn's mean cosine distance
to the speaker's turns (average linkage). Between two groups, 1 - M_a·M_b is likewise their mean
pairwise distance. Normalising M first (centroid linkage) failed: GE2E embeddings all lie in
one cone (ReLU outputs), so the normalised mean of a mixture of voices is close to every voice,
and on four LibriSpeech speakers (bench/diarization.py, ls-4spk) one label swallowed three of
them online and all four when clustering again; the unnormalised mean of a mixture is short,
which keeps it far.

Online (`OnlineClusters`): each turn joins the nearest speaker when within THRESHOLD, else it
starts a new one; with `max_speakers` reached it joins the nearest whatever the distance (the
cloud merges extra voices into the nearest label).

Again (`recluster`): agglomerative clustering of all turns seen with the same distance,
threshold and cap: the two nearest groups merge while within THRESHOLD (and while there are
more than `max_speakers`). It can undo what the online pass got wrong early (a speaker's first
turns split across two labels, a turn taken by the wrong speaker before that speaker had
spoken much), and the turns it moves are what a SpeakerRevision reports.

THRESHOLD: on the engine's final turns of bench/diarization.py's recordings, the speaker error
(live / after the revision) of thresholds 0.25 … 0.38 (`--sweep`) was:

    threshold   ms01 (2 spk)    ls-4spk        so-4spk        ami (1 spk)
    0.25        0.013 / 0.013   0.064 / 0.008  0.000 / 0.072  0 / 0
    0.28        0.000 / 0.013   0.008 / 0.000  0.000 / 0.000  0 / 0
    0.30        0 / 0           0 / 0          0 / 0          0 / 0
    0.32-0.38   0 / 0           0 / 0          0.230 / 0.230  0 / 0

Between turns of one speaker the distance averages 0.08-0.19 (at most 0.26); between two
speakers 0.31-0.56 on average, but two young women of speechocean762 (so-4spk) come as close as
0.24 on one pair of turns and 0.31 on average, which 0.35 merged. Lower thresholds split a
speaker instead, the cheaper mistake (in the app two labels can be given one name).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.30  # cosine distance (mean, to a speaker's turns)


def label_name(index: int) -> str:
    """"A", "B", … "Z", "AA", "AB", … as the cloud names speakers."""
    letters = string.ascii_uppercase
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = letters[rest] + name
    return name


@dataclass
class Cluster:
    total: np.ndarray  # duration-weighted sum of member embeddings
    weight: float

    @property
    def mean(self) -> np.ndarray:
        return self.total / self.weight if self.weight > 0 else self.total

    def add(self, embedding: np.ndarray, weight: float) -> None:
        self.total = self.total + weight * embedding
        self.weight += weight


class OnlineClusters:
    """Running speaker centroids; speaker i is `label_name(i)`."""

    def __init__(self, threshold: float = THRESHOLD, max_speakers: int | None = None) -> None:
        self.threshold = threshold
        self.max_speakers = max_speakers
        self.clusters: list[Cluster] = []

    def nearest(self, embedding: np.ndarray) -> tuple[int, float]:
        """The nearest speaker and its cosine distance; (-1, inf) with none yet."""
        if not self.clusters:
            return -1, float("inf")
        means = np.stack([c.mean for c in self.clusters])
        distances = 1.0 - means @ embedding
        best = int(np.argmin(distances))
        return best, float(distances[best])

    def assign(self, embedding: np.ndarray, weight: float, *, may_start: bool = True) -> int:
        """The speaker of a turn, which joins it. With `may_start` false (a short turn, weak
        evidence) a turn too far from every speaker joins none: -1."""
        best, distance = self.nearest(embedding)
        if best >= 0 and distance <= self.threshold:
            self.clusters[best].add(embedding, weight)
            return best
        if not may_start:
            return -1
        if self.max_speakers is not None and len(self.clusters) >= self.max_speakers:
            self.clusters[best].add(embedding, weight)
            return best
        self.clusters.append(Cluster(weight * embedding, weight))
        return len(self.clusters) - 1

    def rebuild(self, embeddings: np.ndarray, weights: np.ndarray, speakers: list[int]) -> None:
        """Centroids from a new assignment (speaker indices; -1 for none)."""
        count = max(speakers, default=-1) + 1
        dim = embeddings.shape[1] if embeddings.ndim == 2 else 0
        self.clusters = [Cluster(np.zeros(dim, np.float32), 0.0) for _ in range(count)]
        for emb, w, s in zip(embeddings, weights, speakers, strict=True):
            if s >= 0:
                self.clusters[s].add(emb, float(w))


def recluster(embeddings: np.ndarray, weights: np.ndarray, threshold: float = THRESHOLD,
              max_speakers: int | None = None) -> list[int]:
    """Average-linkage agglomerative clustering of unit embeddings weighted by `weights`: a
    group index for each row (groups numbered by first appearance). O(n²) memory, O(n²) time
    per merge: a few seconds for the ~1,000 turns of a three-hour meeting (numbers below)."""
    n = len(embeddings)
    if n == 0:
        return []
    weights = np.asarray(weights, np.float64).copy()
    means = np.asarray(embeddings, np.float64).copy()
    distance = 1.0 - means @ means.T
    np.fill_diagonal(distance, np.inf)
    group = np.arange(n)
    dead = np.zeros(n, bool)
    alive = n
    while alive > 1:
        i, j = np.unravel_index(int(np.argmin(distance)), distance.shape)
        within_cap = max_speakers is None or alive <= max_speakers
        if distance[i, j] > threshold and within_cap:
            break
        i, j = min(i, j), max(i, j)
        total = weights[i] + weights[j]
        means[i] = (weights[i] * means[i] + weights[j] * means[j]) / total
        weights[i] = total
        group[group == j] = i
        dead[j] = True
        row = np.where(dead, np.inf, 1.0 - means @ means[i])
        row[i] = np.inf
        distance[i, :] = distance[:, i] = row
        distance[j, :] = distance[:, j] = np.inf
        alive -= 1
    order = {g: k for k, g in enumerate(dict.fromkeys(group.tolist()))}
    return [order[g] for g in group.tolist()]


def match_labels(old: list[int], new: list[int], weights: list[float],
                 issued: int) -> list[int]:
    """Renumber `new` groups so that each keeps the old speaker it shares the most speech
    with (greedy on the overlap, largest first); groups left over take numbers from `issued`
    (the count of speaker numbers ever given out) on, so no number means two voices. -1 in
    `old` (no speaker yet) matches nothing."""
    overlap: dict[tuple[int, int], float] = {}
    for o, g, w in zip(old, new, weights, strict=True):
        if o >= 0:
            overlap[(g, o)] = overlap.get((g, o), 0.0) + w
    mapping: dict[int, int] = {}
    used: set[int] = set()
    for (g, o), _ in sorted(overlap.items(), key=lambda kv: -kv[1]):
        if g not in mapping and o not in used:
            mapping[g] = o
            used.add(o)
    fresh = max(issued, max(old, default=-1) + 1)
    for g in dict.fromkeys(new):
        if g not in mapping:
            mapping[g] = fresh
            fresh += 1
    return [mapping[g] for g in new]
