"""Saved answers in the library are checked against the turns they answered, as the live
cards were, and the demo model's are marked."""

import dataclasses
from pathlib import Path

from earmark.controllers.library import answer_cards
from earmark.core.session import AnswerRecord, SavedSession
from tests.core.session.session_helpers import make_meta, make_turn


def test_saved_answers_are_checked_against_what_they_answered():
    turns = (dataclasses.replace(make_turn(0, "Dana sends the slides."), speaker="A"),
             make_turn(1, "The budget is 40,000 euros."),
             make_turn(2, "Review on Tuesday."))
    answers = (AnswerRecord(0, "p", "smollm2-135m", "Dana sends slides."),
               # answered turns 1 and 2 together (a server that fell behind)
               AnswerRecord(2, "p", "qwen2.5-1.5b", "Budget 40,000 euros, review Tuesday, "
                                                    "and Priya approves 90,000."))
    meta = dataclasses.replace(make_meta(), speakers={"A": "Dana"})
    cards = answer_cards(SavedSession(Path("."), meta, turns, answers, ()))
    first, second = cards
    assert first.body == "Dana sends slides."
    assert first.meta == "smollm2-135m · demo model: may be invented"
    assert second.meta == "qwen2.5-1.5b"
    assert second.body.endswith("⚠ May be invented: “Priya”, “90,000”.")
