"""Turn detection on the stream clock: speech onset, pauses and end of turn. Pure logic.

Fed one VAD probability per 32 ms frame, `Endpointer` says when a turn starts, when a pause is
long enough to start a speculative final decode, and when the turn ends. The end-of-turn
confidence combines the pause length with a prior from the text decoded so far:

    confidence = prior(text) + (1 - prior(text)) * clamp((silence - min) / (max - min), 0, 1)

evaluated once the silence reaches `min_turn_silence`; the turn ends when it reaches
`end_of_turn_confidence_threshold`, and always at `max_turn_silence`. A threshold of 0 ends on
the first silence of `min_turn_silence`, 1 only at `max_turn_silence`, as the service documents.

The priors are low because Whisper's text is weak evidence: it ends almost every clip with a
full stop, complete sentence or not. Of the 74 pauses of 400+ ms inside one speaker's turn in
shared/speech, 66 came after a `.`, `?` or `!`; and every such pause after only one or two
words (8 of them) was inside a turn, none ended one. With the defaults (400 / 1280 ms,
threshold 0.4) a turn ending in a full stop needs 576 ms of silence, an unfinished one 620 ms,
one ending in a comma or "and" (or of one or two words) 693 ms. Replaying the engine's turn
decisions over all 145 files (2,652 words) three times, each with different sub-LSB noise added
(Whisper's words flip on last-bit changes of its input), against a full-stop prior of 0.8:
227 -> 205 turns, WER 0.137 -> 0.133 (lower in every run), silence before a final (p50) 448 ->
576 ms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from earmark.core.protocol import StreamingParams

from .vad import FRAME_MS

ONSET_FRAMES = 2  # consecutive speech frames that open a turn (64 ms)
# A pause starts a speculative final decode this long before the soonest moment the turn could
# end (a final of a few seconds decodes in ~0.2 s), and never before CANDIDATE_MIN_MS.
CANDIDATE_LEAD_MS = 240
CANDIDATE_MIN_MS = 160
LONG_TURN_MS = 20_000  # past this, any pause of LONG_TURN_PAUSE_MS ends the turn
LONG_TURN_PAUSE_MS = 96
MAX_TURN_MS = 28_000  # Whisper sees 30 s at most: a turn is cut here even mid-speech
SHORT_TURN_WORDS = 2  # a turn this short is held like an unfinished one
HYSTERESIS = 0.15  # speech continues until the probability drops this far below the threshold


@dataclass(frozen=True, slots=True)
class TurnSettings:
    """The session's turn-detection parameters (query string, then UpdateConfiguration)."""

    min_turn_silence: int = 400
    max_turn_silence: int = 1280
    end_of_turn_confidence_threshold: float = 0.4
    vad_threshold: float = 0.4

    @classmethod
    def from_params(cls, params: StreamingParams) -> TurnSettings:
        return cls().updated({
            "min_turn_silence": params.min_turn_silence,
            "max_turn_silence": params.max_turn_silence,
            "end_of_turn_confidence_threshold": params.end_of_turn_confidence_threshold,
            "vad_threshold": params.vad_threshold,
        })

    def updated(self, fields: dict[str, Any]) -> TurnSettings:
        """A copy with the turn-detection fields of `fields` applied (others are ignored).
        Raises ValueError for a value of the wrong type or out of range."""
        changes: dict[str, Any] = {}
        fields = dict(fields)
        if "min_end_of_turn_silence_when_confident" in fields:
            fields.setdefault("min_turn_silence",
                              fields["min_end_of_turn_silence_when_confident"])
        for name in ("min_turn_silence", "max_turn_silence"):
            value = fields.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a non-negative number of milliseconds")
            changes[name] = int(value)
        for name in ("end_of_turn_confidence_threshold", "vad_threshold"):
            value = fields.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1")
            changes[name] = float(value)
        new = replace(self, **changes)
        if new.max_turn_silence < new.min_turn_silence:
            # The service treats max as the hard stop; keep the pair consistent.
            new = replace(new, max_turn_silence=new.min_turn_silence)
        return new


_TERMINAL = re.compile(r"[.?!…]['\")\]]*$")
_CONTINUING = re.compile(r"([,;:\-–—]|\b(and|but|or|so|because|the|a|an|to|of|with|that|"
                         r"which|if|my|your|is|are|was|in|on|for|um|uh))$", re.IGNORECASE)


PRIOR_COMPLETE = 0.25  # ends in . ? or !
PRIOR_OPEN = 0.2  # no punctuation at the end
PRIOR_CONTINUING = 0.1  # ends in a comma, "and", "the"...; or only one or two words


def text_prior(text: str) -> float:
    """How likely the text decoded so far is a complete turn, from its ending alone."""
    text = text.strip()
    if not text:
        return 1.0  # nothing was said: no reason to hold the turn open
    if len(text.split()) <= SHORT_TURN_WORDS or _CONTINUING.search(text):
        return PRIOR_CONTINUING
    if _TERMINAL.search(text):
        return PRIOR_COMPLETE
    return PRIOR_OPEN


def eot_confidence(prior: float, silence_ms: float, s: TurnSettings) -> float:
    if silence_ms < s.min_turn_silence:
        return 0.0
    span = s.max_turn_silence - s.min_turn_silence
    frac = 1.0 if span <= 0 else min(1.0, (silence_ms - s.min_turn_silence) / span)
    return round(prior + (1.0 - prior) * frac, 6)


def candidate_silence(s: TurnSettings) -> float:
    """The pause at which the speculative final starts: in time to be decoded when the turn
    can first end (a complete sentence), not at every breath. Pauses of 160-336 ms that
    speech resumes after are common (89 in shared/speech against 48 of 336-576 ms)."""
    soonest = required_silence(PRIOR_COMPLETE, s)
    assert soonest is not None
    return max(min(CANDIDATE_MIN_MS, s.min_turn_silence), soonest - CANDIDATE_LEAD_MS)


def required_silence(prior: float | None, s: TurnSettings) -> float | None:
    """The pause that ends the turn, or None when it depends on a text hint not yet known."""
    threshold = s.end_of_turn_confidence_threshold
    if threshold <= 0:
        return s.min_turn_silence
    if threshold >= 1:
        return s.max_turn_silence
    if prior is None:
        return None
    if threshold <= prior:
        return s.min_turn_silence
    frac = (threshold - prior) / (1.0 - prior)
    return s.min_turn_silence + frac * (s.max_turn_silence - s.min_turn_silence)


# --- events --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TurnStarted:
    start_ms: float


@dataclass(frozen=True, slots=True)
class CandidateNeeded:
    """Speech paused: decode the turn up to `until_ms` now, it is probably the final."""

    speech_end_ms: float
    until_ms: float


@dataclass(frozen=True, slots=True)
class SpeechResumed:
    """The pause was not the end: forget the candidate."""


@dataclass(frozen=True, slots=True)
class TurnEnded:
    start_ms: float
    speech_end_ms: float
    end_ms: float
    confidence: float
    reason: str  # "silence", "max_silence", "long_turn", "max_duration", "forced", "stream_end"


Event = TurnStarted | CandidateNeeded | SpeechResumed | TurnEnded


class Endpointer:
    """The turn state machine of one session, on the stream clock (ms)."""

    def __init__(self, settings: TurnSettings | None = None) -> None:
        self.settings = settings or TurnSettings()
        self._onset = 0  # consecutive speech frames while idle
        self.turn_start: float | None = None
        self.pause_start: float | None = None  # set while the turn is in a pause
        self._candidate = False
        self._prior: float | None = None
        self.now = 0.0

    @property
    def in_turn(self) -> bool:
        return self.turn_start is not None

    @property
    def in_speech(self) -> bool:
        return self.turn_start is not None and self.pause_start is None

    @property
    def silence_ms(self) -> float:
        return 0.0 if self.pause_start is None else self.now - self.pause_start

    @property
    def awaiting_hint(self) -> bool:
        """The pause is long enough to decide, but the decision needs the candidate's text."""
        return (self.pause_start is not None and self._candidate
                and self.silence_ms >= self.settings.min_turn_silence
                and required_silence(self._prior, self.settings) is None)

    def set_hint(self, text: str) -> None:
        """The text of the candidate decode of the current pause."""
        if self.pause_start is not None:
            self._prior = text_prior(text)

    def feed(self, prob: float, frame_end_ms: float) -> list[Event]:
        self.now = frame_end_ms
        s = self.settings
        events: list[Event] = []
        speech = prob >= s.vad_threshold
        if self.turn_start is None:
            self._onset = self._onset + 1 if speech else 0
            if self._onset >= ONSET_FRAMES:
                self.turn_start = frame_end_ms - self._onset * FRAME_MS
                self._onset = 0
                events.append(TurnStarted(self.turn_start))
            return events
        turn_ms = frame_end_ms - self.turn_start
        if self.pause_start is None:
            if prob < max(0.05, s.vad_threshold - HYSTERESIS):
                self.pause_start = frame_end_ms - FRAME_MS
            elif turn_ms >= MAX_TURN_MS:
                return [self._end(frame_end_ms, 1.0, "max_duration")]
            else:
                return events
        elif speech:
            self.pause_start = None
            self._prior = None
            if self._candidate:
                self._candidate = False
                events.append(SpeechResumed())
            return events
        silence = self.silence_ms
        if not self._candidate and silence >= candidate_silence(s):
            self._candidate = True
            events.append(CandidateNeeded(self.pause_start, frame_end_ms))
        if silence >= s.max_turn_silence:
            events.append(self._end(self.pause_start, 1.0, "max_silence"))
        elif turn_ms >= LONG_TURN_MS and silence >= LONG_TURN_PAUSE_MS:
            events.append(self._end(self.pause_start, 1.0, "long_turn"))
        else:
            needed = required_silence(self._prior, s)
            if needed is not None and silence >= needed:
                prior = 1.0 if self._prior is None else self._prior
                conf = max(eot_confidence(prior, silence, s), s.end_of_turn_confidence_threshold)
                events.append(self._end(self.pause_start, conf, "silence"))
        return events

    def force_end(self, reason: str = "forced") -> TurnEnded | None:
        """ForceEndpoint / end of stream: end the current turn now, if there is one."""
        if self.turn_start is None:
            self._onset = 0
            return None
        speech_end = self.pause_start if self.pause_start is not None else self.now
        return self._end(speech_end, 1.0, reason)

    def _end(self, speech_end_ms: float, confidence: float, reason: str) -> TurnEnded:
        assert self.turn_start is not None
        ended = TurnEnded(self.turn_start, speech_end_ms, self.now, min(1.0, confidence), reason)
        self.turn_start = None
        self.pause_start = None
        self._candidate = False
        self._prior = None
        self._onset = 0
        return ended
