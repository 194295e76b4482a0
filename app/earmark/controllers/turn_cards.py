"""One stream's turns and answers as the user sees them and as the session keeps them: a card
per turn and per answer, each final turn and answer saved first (a crash loses neither), the
speakers' names, and on a call the turns the echo check took words out of or hid.

`LiveSessionController` owns the connections and decides when a turn is final; this decides
what that turn looks like on screen and on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ..core.grounded_prompts import checked_answer, is_local_model
from ..core.prompts import Prompt
from ..core.protocol import LLMGatewayResponse
from ..core.turns import TranscriptTurn, TurnAnswer
from .card_model import Card, CardListModel, CardState
from .session_cards import answer_card, number_from, numbered, pending_answer_card, turn_card
from .session_recording import SessionRecording

log = logging.getLogger(__name__)

TurnFilter = Callable[[TranscriptTurn], TranscriptTurn | None]


class TurnCards:
    def __init__(self, transcript: CardListModel, answers: CardListModel) -> None:
        self.transcript = transcript
        self.answers = answers
        self.recording: SessionRecording | None = None
        self.names: dict[str, str] = {}  # speaker label -> the name the user gave
        self.filter: TurnFilter | None = None  # a call's echo check
        self._hidden: set[int] = set()  # turns shown as nothing (all of them an echo)
        self._filtered: dict[int, TranscriptTurn | None] = {}  # what the check left
        self._own: set[int] = set()  # this stream's turns (a call's cards hold two streams')
        self.by_position = False  # a call: turns numbered as they stand, not by turn_order

    def reset(self, clear: bool) -> None:
        self.names = {}
        self.filter = None
        self.by_position = False
        self._hidden, self._filtered, self._own = set(), {}, set()
        if clear:
            self.transcript.clear()
            self.answers.clear()

    def is_hidden(self, order: int) -> bool:
        return order in self._hidden

    def show(self, turn: TranscriptTurn, saved: bool) -> TranscriptTurn | None:
        """Put `turn` on screen and, when `saved` (final), on disk first, as the echo check
        leaves it (None: all of it was an echo)."""
        self._own.add(turn.order)
        shown = turn
        if self.filter is not None:
            shown = self._filtered[turn.order] = self.filter(turn)
        if shown is None:
            self._hide(turn.order, turn.final)
            return None
        if turn.order in self._hidden:
            self._hidden.discard(turn.order)
            saved = saved or turn.final
        if self.recording is not None and saved:
            self.recording.add_turn(shown)
        self._upsert(self.transcript, turn_card(shown, self.names))
        return shown

    def _upsert(self, model: CardListModel, card: Card) -> None:
        """Put `card` in `model`, numbered by its turn's place in the transcript on a call."""
        if not self.by_position:
            model.upsert(card)
            return
        known = self.transcript.row_of(card.order) is not None
        row = model.upsert(card)
        if model is self.transcript and not known and row < self.transcript.rowCount() - 1:
            number_from(self.transcript, self.answers, row)  # a turn between others
            return
        place = self.transcript.row_of(card.order)
        if place is not None:
            model.upsert(numbered(card, place + 1))

    def recheck(self, turns: Iterable[TranscriptTurn], since_ms: int) -> None:
        """Show again, newest first, the turns that end after `since_ms` whose echo check
        now comes out otherwise (the other side has new words)."""
        if self.filter is None:
            return
        for turn in turns:
            if turn.end_ms is not None and turn.end_ms < since_ms:
                break
            if self.filter(turn) != self._filtered.get(turn.order, turn):
                self.show(turn, saved=turn.final)

    def rename(self, turns: Iterable[TranscriptTurn], label: str, name: str) -> None:
        if name:
            self.names[label] = name
        else:
            self.names.pop(label, None)
        for turn in turns:
            if turn.speaker == label and turn.order not in self._hidden:
                self.show(turn, saved=False)

    def number_of(self, order: int) -> int:
        """Turn `order`'s number as the transcript shows it."""
        place = self.transcript.row_of(order) if self.by_position else None
        return place + 1 if place is not None else order + 1

    def expect_answer(self, order: int, model: str | None) -> None:
        if model and self.answers.row_of(order) is None and order not in self._hidden:
            self._upsert(self.answers, pending_answer_card(order, model))

    def owed(self) -> set[int]:
        """The turns whose answers are still on their way."""
        return {c.order for c in self.answers.cards() if c.state == CardState.PENDING}

    def answer(self, answer: TurnAnswer, message: LLMGatewayResponse, model: str,
               prompt: Prompt | None) -> bool:
        """Show and save `answer`; False when it is about a hidden turn (an echo)."""
        if answer.turn_order in self._hidden:
            return False
        self._upsert(self.answers, answer_card(answer, model,
                                               *self._checked(answer, message, prompt, model)))
        # A server that falls behind answers several turns at once, tagged with the last one.
        for card in self.answers.cards():
            if card.state == CardState.PENDING and card.order < answer.turn_order \
                    and card.order in self._own:
                self.answers.upsert(Card(card.order, card.title,
                                         "Answered together with turn "
                                         f"{self.number_of(answer.turn_order)}.",
                                         CardState.FINAL, card.meta))
        if self.recording is not None:
            self.recording.add_answer(answer, model)
        return True

    def _hide(self, order: int, saved: bool) -> None:
        if order in self._hidden:
            return
        self._hidden.add(order)
        row = self.transcript.row_of(order)
        self.transcript.remove(order)
        self.answers.remove(order)
        if self.by_position and row is not None:
            number_from(self.transcript, self.answers, row)
        if saved:
            log.info("turn %d is the other side's echo: not shown", order)
            if self.recording is not None:
                self.recording.withdraw_turn(order)

    def _checked(self, answer: TurnAnswer, message: LLMGatewayResponse,
                 prompt: Prompt | None, model: str) -> tuple[str | None, str]:
        """What the card shows for a good answer, and a note where it may be invented."""
        if answer.error or prompt is None:
            return None, ""
        shown, grounding = checked_answer(answer.text, message.transcript, prompt, self.names,
                                          tidy=is_local_model(answer.model or model))
        return shown, grounding.note()
