"""Echo on a call: the microphone hears what the speakers play, so the other side's words
come back in the microphone's stream a little later. Those words are dropped from "You"
turns; the recording keeps them (they are in the audio).

A microphone word is an echo when it and its neighbour occur together in the system stream
within a short window of it, in a run of such words ("and the" alone is not an echo; "we ship
on Friday" is). Both streams start together, so their clocks agree to within the capture start
difference, the speaker-to-microphone delay and the recogniser's timing jitter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# how much later (or earlier) than the system word its echo may be timed in the microphone
EARLIEST_MS = -700
LATEST_MS = 1500
MIN_RUN = 3  # matching words in a row that make an echo
MAX_GAP = 1  # a misheard word inside a run does not break it
KEEP_AT_LEAST = 2  # a turn left with fewer of its own words is dropped whole

_NOT_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True, slots=True)
class TimedWord:
    text: str
    start: int  # ms on the session clock
    end: int


def normalise(text: str) -> str:
    return _NOT_WORD.sub("", text.lower())


def echo_indices(mic: Sequence[TimedWord], system: Sequence[TimedWord]) -> set[int]:
    """The positions in `mic` that repeat `system` (see the module's docstring)."""
    if len(mic) == 1:
        heard = _starts_by_key(system, 1)
        return {0} if _matches(mic, 0, 1, heard) else set()
    heard = _starts_by_key(system, 2)
    covered = [False] * len(mic)
    for i in range(len(mic) - 1):
        if _matches(mic, i, 2, heard):
            covered[i] = covered[i + 1] = True
    if len(mic) < MIN_RUN:
        return set(range(len(mic))) if all(covered) else set()
    return _runs(covered)


def own_words(mic: Sequence[TimedWord], system: Sequence[TimedWord]) -> list[int] | None:
    """The positions of the microphone words the user said (in order), or None when the
    turn is an echo as a whole."""
    echo = echo_indices(mic, system)
    kept = [i for i in range(len(mic)) if i not in echo]
    if echo and len([i for i in kept if normalise(mic[i].text)]) < KEEP_AT_LEAST:
        return None
    return kept


def _starts_by_key(system: Sequence[TimedWord], n: int) -> dict[tuple[str, ...], list[int]]:
    """Where each run of `n` words starts in the system stream."""
    texts = [normalise(w.text) for w in system]
    heard: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(system) - n + 1):
        key = tuple(texts[i:i + n])
        if all(key):
            heard.setdefault(key, []).append(system[i].start)
    return heard


def _matches(mic: Sequence[TimedWord], i: int, n: int,
             heard: dict[tuple[str, ...], list[int]]) -> bool:
    key = tuple(normalise(w.text) for w in mic[i:i + n])
    return any(EARLIEST_MS <= mic[i].start - start <= LATEST_MS for start in heard.get(key, ()))


def _runs(matched: list[bool]) -> set[int]:
    """Positions in runs of at least MIN_RUN matches, where gaps of up to MAX_GAP unmatched
    words (misheard echo) count as part of the run."""
    echo: set[int] = set()
    hits: list[int] = []
    for i, hit in enumerate(matched):
        if not hit:
            continue
        if hits and i - hits[-1] - 1 > MAX_GAP:
            echo |= _span_if_long(hits)
            hits = []
        hits.append(i)
    return echo | _span_if_long(hits)


def _span_if_long(hits: list[int]) -> set[int]:
    return set(range(hits[0], hits[-1] + 1)) if len(hits) >= MIN_RUN else set()
