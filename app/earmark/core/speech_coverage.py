"""Speech the server heard but no turn holds: where its Heartbeats report a high speech
probability over a stretch of audio that no final turn's words overlap. A transcript with
such a stretch does not cover its audio, whatever the server confirmed at the end."""

from __future__ import annotations

from collections.abc import Iterable

SPEECH_PROBABILITY = 0.9  # a Heartbeat interval this sure of speech is speech
MARGIN_MS = 1000  # a turn's words cover this much audio around them too
MIN_UNCOVERED_MS = 2000  # less than this uncovered (a cough, a laugh) does not count


class SpeechCoverage:
    def __init__(self) -> None:
        self._spans: list[tuple[int, int]] = []  # (start, end) ms of speech, session clock

    def heard(self, start_ms: int, end_ms: int, max_speech_probability: float | None) -> None:
        """One Heartbeat's interval of processed audio and its highest speech probability."""
        if max_speech_probability is not None and end_ms > start_ms \
                and max_speech_probability >= SPEECH_PROBABILITY:
            self._spans.append((start_ms, end_ms))

    def uncovered(self, turns: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
        """The speech spans no turn (start, end ms) overlaps, when they add up to enough."""
        covered = [(s - MARGIN_MS, e + MARGIN_MS) for s, e in turns]
        missing = [(s, e) for s, e in self._spans
                   if not any(s < ce and cs < e for cs, ce in covered)]
        return missing if sum(e - s for s, e in missing) >= MIN_UNCOVERED_MS else []
