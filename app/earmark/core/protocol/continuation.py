"""One session over several connections. When the prompt changes mid-session the client opens a
new connection between turns (the service and the engine take a configuration only when a
connection opens). Each connection numbers its turns from 0 and times its words from its own
first audio byte; a `Timeline` maps them onto the session's single numbering and clock.

A call is two streams at once (the microphone and what the speakers play), each over its own
connections; their turns share one numbering (`TurnNumbers`) so the transcript interleaves them
in the order they began."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .messages import LLMGatewayResponse, SpeakerRevision, Turn


class TurnNumbers:
    """The session's turn numbers for several streams: a connection's turn gets the next
    number the first time any message of it arrives. Thread-safe (links run on their own
    threads)."""

    def __init__(self) -> None:
        self._next = 0
        self._lock = threading.Lock()

    def for_connection(self) -> Callable[[int], int]:
        """A mapping from one new connection's turn_order to the session's number."""
        numbers: dict[int, int] = {}

        def number(turn_order: int) -> int:
            with self._lock:
                if turn_order not in numbers:
                    numbers[turn_order] = self._next
                    self._next += 1
                return numbers[turn_order]
        return number


@dataclass(frozen=True, slots=True)
class Timeline:
    first_order: int = 0  # the session's turn number for this connection's turn 0
    start_ms: int = 0  # where this connection's first audio byte sits in the session's audio
    # a call's shared numbering (TurnNumbers.for_connection), instead of first_order
    numbers: Callable[[int], int] | None = field(default=None, compare=False)
    speaker: str | None = None  # every turn's speaker label (a call's microphone: "You")

    @property
    def is_identity(self) -> bool:
        return not self.first_order and not self.start_ms and self.numbers is None \
            and self.speaker is None

    def order(self, turn_order: int) -> int:
        return self.numbers(turn_order) if self.numbers is not None \
            else turn_order + self.first_order

    def turn(self, message: Turn) -> Turn:
        if self.is_identity:
            return message
        words = tuple(replace(w, start=w.start + self.start_ms, end=w.end + self.start_ms)
                      for w in message.words)
        speaker = self.speaker or message.speaker_label
        if self.speaker:
            words = tuple(replace(w, speaker=self.speaker) for w in words)
        return replace(message, turn_order=self.order(message.turn_order), words=words,
                       speaker_label=speaker)

    def revision(self, message: SpeakerRevision) -> SpeakerRevision:
        if self.is_identity:
            return message
        revisions = tuple(replace(r, turn_order=self.order(r.turn_order),
                                  words=tuple(replace(w, start=w.start + self.start_ms,
                                                      end=w.end + self.start_ms)
                                              for w in r.words))
                          for r in message.revisions)
        return replace(message, revisions=revisions)

    def answer(self, message: LLMGatewayResponse) -> LLMGatewayResponse:
        if self.is_identity:
            return message
        return replace(message, turn_order=self.order(message.turn_order))
