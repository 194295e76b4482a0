"""Turn assembly: partial Turn messages in, one transcript entry per turn out.

The server sends many `Turn` messages per turn (partials, an unformatted final and, with
`format_turns`, a formatted final). Keyed on `turn_order`, never on `turn_is_formatted`
(the reference warns against that): the latest message of a turn replaces its text in place,
and a turn that has ended only changes again to take its formatted text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from .protocol import LLMGatewayResponse, Turn, Word
from .session.speakers import transcript_lines


class TurnChange(Enum):
    ADDED = "added"  # first message of a new turn
    UPDATED = "updated"  # new partial text
    FINALISED = "finalised"  # end_of_turn seen for the first time
    FORMATTED = "formatted"  # the formatted text of a turn that had already ended
    IGNORED = "ignored"  # a stale or duplicate message


@dataclass(frozen=True, slots=True)
class TranscriptTurn:
    order: int
    text: str
    final: bool = False
    formatted: bool = False
    words: tuple[Word, ...] = ()
    speaker: str | None = None
    finalised_at: datetime | None = None

    @property
    def start_ms(self) -> int | None:
        return self.words[0].start if self.words else None

    @property
    def end_ms(self) -> int | None:
        return self.words[-1].end if self.words else None


@dataclass(frozen=True, slots=True)
class TurnAnswer:
    """The LLM's answer for one turn, or why there is none."""

    turn_order: int
    text: str
    error: str | None = None
    model: str | None = None
    usage: dict = field(default_factory=dict)

    @classmethod
    def from_message(cls, message: LLMGatewayResponse) -> TurnAnswer:
        """`data` is whatever object the server sent: the message's properties read it and
        fall back to '', None or {} wherever it is not shaped like a chat completion."""
        return cls(turn_order=message.turn_order, text=message.content, error=message.error,
                   model=message.model, usage=message.usage)


class TurnAssembler:
    """Keeps the turns of one session in order and says what each message changed."""

    def __init__(self) -> None:
        self._turns: dict[int, TranscriptTurn] = {}
        self._answers: dict[int, TurnAnswer] = {}

    def apply(self, message: Turn,
              now: datetime | None = None) -> tuple[TurnChange, TranscriptTurn]:
        current = self._turns.get(message.turn_order)
        updated = TranscriptTurn(
            order=message.turn_order,
            text=message.text.strip(),
            final=message.end_of_turn,
            formatted=message.turn_is_formatted and message.end_of_turn,
            words=message.words,
            speaker=message.speaker_label,
        )
        if current is None:
            change = TurnChange.FINALISED if updated.final else TurnChange.ADDED
        elif current.final:
            if not updated.final or current.formatted or not updated.formatted:
                return TurnChange.IGNORED, current  # a late partial or a repeated final
            change = TurnChange.FORMATTED
        else:
            change = TurnChange.FINALISED if updated.final else TurnChange.UPDATED
        if updated.final:
            stamp = current.finalised_at if current and current.finalised_at else None
            updated = replace(updated, finalised_at=stamp or now or datetime.now().astimezone())
        self._turns[message.turn_order] = updated
        return change, updated

    def revise_speaker(self, order: int, label: str, words: tuple[Word, ...] = ()
                       ) -> TranscriptTurn | None:
        """A SpeakerRevision: the turn now belongs to `label` (its words too, when given).
        None when the turn is unknown."""
        turn = self._turns.get(order)
        if turn is None:
            return None
        turn = replace(turn, speaker=label, words=words or turn.words)
        self._turns[order] = turn
        return turn

    def add_answer(self, answer: TurnAnswer) -> None:
        self._answers[answer.turn_order] = answer

    @property
    def turns(self) -> list[TranscriptTurn]:
        return [self._turns[k] for k in sorted(self._turns)]

    @property
    def final_turns(self) -> list[TranscriptTurn]:
        return [t for t in self.turns if t.final]

    @property
    def answers(self) -> list[TurnAnswer]:
        return [self._answers[k] for k in sorted(self._answers)]

    def full_text(self, names: Mapping[str, str] | None = None) -> str:
        """The final turns, one a line; `Dana: …` when the session has speaker labels."""
        return transcript_lines([(t.speaker, t.text) for t in self.final_turns], names or {})
