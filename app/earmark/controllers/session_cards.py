"""What a turn and an answer look like as cards, and how cards are left when a session ends."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from ..core.catalog import is_demo_model
from ..core.clock import format_clock
from ..core.session.speakers import speaker_name
from ..core.turns import TranscriptTurn, TurnAnswer
from .card_model import Card, CardListModel, CardState

NOT_FINALISED = "not finalised"
_TURN_NUMBER = re.compile(r"^Turn \d+")


def turn_card(turn: TranscriptTurn, names: Mapping[str, str] | None = None) -> Card:
    state = CardState.FINAL if turn.final else CardState.PROVISIONAL
    title = f"Turn {turn.order + 1}"
    name = speaker_name(turn.speaker, names or {})
    if name:
        title += f" · {name}"
    return Card(turn.order, title, turn.text or "…", state, format_clock(turn.start_ms))


def answer_card(answer: TurnAnswer, model: str, shown: str | None = None,
                note: str = "") -> Card:
    """`shown`: the answer as the card reads it (a structured answer rendered as a list);
    `note`: what in it may be invented (core/grounding.py)."""
    model = answer.model or model
    if is_demo_model(model):
        model = f"{model} · demo model: may be invented"
    if answer.error:
        return Card(answer.turn_order, f"Turn {answer.turn_order + 1}",
                    f"No answer: {answer.error}", CardState.ERROR, model)
    body = (shown if shown is not None else answer.text).strip() or "(empty answer)"
    if note:
        body += f"\n\n⚠ {note}"
    return Card(answer.turn_order, f"Turn {answer.turn_order + 1}", body, CardState.FINAL,
                model)


def pending_answer_card(order: int, model: str) -> Card:
    return Card(order, f"Turn {order + 1}", "Thinking…", CardState.PENDING, model)


def settle_cards(transcript: CardListModel, answers: CardListModel) -> int:
    """When a session ends: provisional text no server will finalise stays, marked as such,
    and answers still thinking say they will not come. Returns how many turns were marked."""
    marked = 0
    for card in transcript.cards():
        if card.state == CardState.PROVISIONAL:
            transcript.upsert(Card(card.order, f"{card.title} · {NOT_FINALISED}", card.body,
                                   CardState.FINAL, card.meta))
            marked += 1
    for card in answers.cards():
        if card.state == CardState.PENDING:
            answers.upsert(Card(card.order, card.title, "No answer: the session ended before "
                                "it came.", CardState.ERROR, card.meta))
    return marked


def numbered(card: Card, number: int) -> Card:
    """`card` titled "Turn `number`" (the rest of its title kept)."""
    title = _TURN_NUMBER.sub(f"Turn {number}", card.title, count=1)
    return card if title == card.title else dataclasses.replace(card, title=title)


def number_from(transcript: CardListModel, answers: CardListModel, row: int = 0) -> None:
    """Number the turns from `row` on by where they stand in the transcript, and their
    answers with them: a call hides the turns that were only echo, and their numbers must
    not leave gaps ("Turn 1, Turn 3")."""
    cards = transcript.cards()
    numbers = {card.order: i + 1 for i, card in enumerate(cards)}
    for card in cards[row:]:
        transcript.upsert(numbered(card, numbers[card.order]))
    for card in answers.cards():
        if card.order in numbers and numbers[card.order] > row:
            answers.upsert(numbered(card, numbers[card.order]))
