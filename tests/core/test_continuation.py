"""A second connection's messages on the session's timeline: turn numbers continue, word times
move by the audio the earlier connection took, answers follow their turns."""

from __future__ import annotations

from earmark.core.protocol import LLMGatewayResponse, Timeline, Turn, Word


def test_turns_and_answers_of_a_later_connection_continue_the_session():
    turn = Turn(turn_order=0, turn_is_formatted=True, end_of_turn=True, transcript="Hi there.",
                end_of_turn_confidence=0.9,
                words=(Word(120, 400, "Hi", 0.9, True), Word(400, 800, "there.", 0.8, True)))
    moved = Timeline(first_order=3, start_ms=61_250).turn(turn)
    assert moved.turn_order == 3 and moved.transcript == "Hi there."
    assert [(w.start, w.end, w.text) for w in moved.words] == [(61_370, 61_650, "Hi"),
                                                               (61_650, 62_050, "there.")]
    answer = LLMGatewayResponse(turn_order=0, transcript="Hi there.", data={"choices": []})
    assert Timeline(3, 61_250).answer(answer).turn_order == 3


def test_the_first_connection_is_unchanged():
    turn = Turn(0, False, False, "hi", 0.1, (Word(10, 20, "hi", 0.5, False),))
    assert Timeline().turn(turn) is turn
