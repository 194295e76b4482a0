"""One session over several connections. When the prompt changes mid-session the client opens a
new connection between turns (the service and the engine take a configuration only when a
connection opens). Each connection numbers its turns from 0 and times its words from its own
first audio byte; a `Timeline` maps them onto the session's single numbering and clock."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .messages import LLMGatewayResponse, SpeakerRevision, Turn


@dataclass(frozen=True, slots=True)
class Timeline:
    first_order: int = 0  # the session's turn number for this connection's turn 0
    start_ms: int = 0  # where this connection's first audio byte sits in the session's audio

    def turn(self, message: Turn) -> Turn:
        if not self.first_order and not self.start_ms:
            return message
        words = tuple(replace(w, start=w.start + self.start_ms, end=w.end + self.start_ms)
                      for w in message.words)
        return replace(message, turn_order=message.turn_order + self.first_order, words=words)

    def revision(self, message: SpeakerRevision) -> SpeakerRevision:
        if not self.first_order and not self.start_ms:
            return message
        revisions = tuple(replace(r, turn_order=r.turn_order + self.first_order,
                                  words=tuple(replace(w, start=w.start + self.start_ms,
                                                      end=w.end + self.start_ms)
                                              for w in r.words))
                          for r in message.revisions)
        return replace(message, revisions=revisions)

    def answer(self, message: LLMGatewayResponse) -> LLMGatewayResponse:
        if not self.first_order:
            return message
        return replace(message, turn_order=message.turn_order + self.first_order)
