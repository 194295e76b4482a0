"""A call on the real embedded engine: the microphone and the system audio as two streams of
one session. The other side's words appear once, as the other side's, even though the
microphone heard them too (an echo off the speakers); the user's words are "You"; both
recordings are saved."""

from __future__ import annotations

from earmark.controllers.library import transcript_cards
from earmark.core.session.paths import SYSTEM_AUDIO_FILE
from tests.support.call_audio import (
    assert_each_sentence_once,
    build_call,
    run_call,
    shares_a_run,
)

PACE = 3.0  # both sides at the same pace, as a live call is: turns are numbered as they begin


def test_a_call_shows_each_sentence_once_with_who_said_it(tmp_path, host):
    call = build_call(tmp_path / "audio", echo_gain=0.4)
    controller, session, summary = run_call(host, call, tmp_path, PACE)
    assert controller.complete, summary
    assert_each_sentence_once(session.turns, call)
    orders = [t.turn_order for t in session.turns]
    assert orders == sorted(set(orders))
    starts = [t.words[0].start_ms for t in session.turns]
    assert starts == sorted(starts), "the two sides interleave in the order they spoke"
    assert (session.folder / SYSTEM_AUDIO_FILE).stat().st_size > 16000 * 2 * 30
    cards = [controller.transcript.card(i).title for i in range(controller.transcript.rowCount())]
    assert any("You" in title for title in cards) and any("Speaker A" in t for t in cards)
    # the turns that were only echo leave no gap in the numbers, live or in the library
    assert [t.split(" · ")[0] for t in cards] == [f"Turn {n}" for n in range(1, len(cards) + 1)]
    assert [c.title for c in transcript_cards(session)] == cards


def test_without_the_echo_check_the_other_side_appears_twice(tmp_path, host):
    """The check is what keeps the echo out: the same call without it repeats the other
    side in "You" turns."""
    call = build_call(tmp_path / "audio", echo_gain=0.4)
    _controller, session, _summary = run_call(host, call, tmp_path, PACE, check_echo=False)
    yours = [t.text for t in session.turns if t.speaker == "You"]
    assert any(shares_a_run(text, sentence) for sentence in call.them for text in yours)
