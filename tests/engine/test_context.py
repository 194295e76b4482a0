"""Left context for finals: which words of the previous turn a final is decoded after."""

from __future__ import annotations

from earmark.engine.context import CONTEXT_MS, MARGIN_MS, MAX_GAP_MS, left_context
from earmark.engine.speech import Decoded
from tests.engine.engine_support import decoded

# a previous turn whose clip started at 10 s: words at 10.2-14.5 s on the stream clock
PREVIOUS = decoded(("Why", 0.2, 0.5), ("did", 0.5, 0.7), ("you", 0.7, 0.9),
                     ("not", 1.6, 1.9), ("send", 2.0, 2.6), ("me", 2.6, 3.0),
                     ("that", 3.2, 3.6), ("news?", 3.8, 4.5))


def test_the_last_seconds_of_the_previous_turn_are_the_context():
    start, text = left_context(PREVIOUS, 10_000, offset_ms=15_000, until_ms=18_000,
                               held_from_ms=0)
    assert text == "send me that news?"  # the words starting within CONTEXT_MS of the turn
    assert start == 12_000 - MARGIN_MS
    assert start + MARGIN_MS >= 15_000 - CONTEXT_MS


def test_no_context_after_a_long_silence_or_without_words():
    late = 14_500 + MAX_GAP_MS + 1
    assert left_context(PREVIOUS, 10_000, late, late + 3000, 0) == (late, "")
    assert left_context(Decoded("", ()), 10_000, 15_000, 18_000, 0) == (15_000, "")


def test_no_context_from_audio_no_longer_held_or_past_the_clip_limit():
    assert left_context(PREVIOUS, 10_000, 15_000, 18_000, held_from_ms=13_000) == (15_000, "")
    assert left_context(PREVIOUS, 10_000, 15_000, 41_000, held_from_ms=0) == (15_000, "")
