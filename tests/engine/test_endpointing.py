"""The turn state machine, frame by frame (pure)."""

from __future__ import annotations

import pytest

from earmark.core.protocol import StreamingParams
from earmark.engine.endpointing import (
    CandidateNeeded,
    Endpointer,
    SpeechResumed,
    TurnEnded,
    TurnSettings,
    TurnStarted,
    candidate_silence,
    eot_confidence,
    required_silence,
    text_prior,
)

F = 32.0


def run(ep: Endpointer, probs: list[float], start_frame: int = 0, hint: str | None = None):
    events = []
    for i, p in enumerate(probs, start=start_frame + 1):
        if ep.awaiting_hint:
            assert hint is not None, "a decision needed a hint"
            ep.set_hint(hint)
        events += ep.feed(p, i * F)
    return events


def speech(n: int) -> list[float]:
    return [0.95] * n


def quiet(n: int) -> list[float]:
    return [0.02] * n


def test_turn_starts_after_two_speech_frames_at_the_first_one():
    ep = Endpointer()
    assert run(ep, [0.9, 0.1, 0.9]) == []  # one-frame blips open nothing
    events = run(ep, [0.9], start_frame=3)
    assert events == [TurnStarted(start_ms=2 * F)]


def test_pure_silence_threshold_ends_at_max_turn_silence():
    s = TurnSettings(min_turn_silence=400, max_turn_silence=1000,
                     end_of_turn_confidence_threshold=1.0)
    ep = Endpointer(s)
    events = run(ep, speech(20) + quiet(40))
    ended = [e for e in events if isinstance(e, TurnEnded)]
    assert len(ended) == 1 and ended[0].reason == "max_silence"
    assert ended[0].speech_end_ms == 20 * F
    assert ended[0].end_ms - ended[0].speech_end_ms == pytest.approx(1024, abs=F)
    candidates = [e for e in events if isinstance(e, CandidateNeeded)]
    # the speculative final starts in time to be decoded by the end
    assert len(candidates) == 1 and candidates[0].until_ms - 20 * F == pytest.approx(760, abs=F)


def test_default_candidate_starts_after_short_pauses_but_before_the_soonest_end():
    s = TurnSettings()
    assert candidate_silence(s) == pytest.approx(576 - 240)
    assert candidate_silence(TurnSettings(end_of_turn_confidence_threshold=0.0)) == 160
    assert candidate_silence(TurnSettings(min_turn_silence=100,
                                          end_of_turn_confidence_threshold=0.0)) == 100
    ep = Endpointer(s)
    events = run(ep, speech(10) + quiet(9) + speech(10))  # a breath of ~290 ms
    assert not any(isinstance(e, CandidateNeeded) for e in events)


def test_zero_threshold_ends_at_min_turn_silence_without_a_hint():
    ep = Endpointer(TurnSettings(min_turn_silence=300, end_of_turn_confidence_threshold=0.0))
    ended = [e for e in run(ep, speech(10) + quiet(20)) if isinstance(e, TurnEnded)]
    assert ended[0].reason == "silence"
    assert ended[0].end_ms - ended[0].speech_end_ms == pytest.approx(320, abs=F)


@pytest.mark.parametrize(("hint", "silence_ms"),
                         [("A full sentence.", 576), ("and then, and", 704),
                          ("so then we went", 640), ("Well.", 704)])
def test_text_hint_decides_between_min_and_max(hint: str, silence_ms: float):
    s = TurnSettings(min_turn_silence=400, max_turn_silence=1280,
                     end_of_turn_confidence_threshold=0.4)
    ep = Endpointer(s)
    ended = [e for e in run(ep, speech(10) + quiet(60), hint=hint) if isinstance(e, TurnEnded)]
    assert ended[0].end_ms - ended[0].speech_end_ms == pytest.approx(silence_ms, abs=F)
    assert ended[0].confidence >= 0.4


def test_speech_resuming_in_a_pause_keeps_the_turn_and_drops_the_candidate():
    ep = Endpointer()
    events = run(ep, speech(10) + quiet(12) + speech(10) + quiet(12))
    kinds = [type(e) for e in events]
    assert kinds == [TurnStarted, CandidateNeeded, SpeechResumed, CandidateNeeded]
    assert ep.in_turn


def test_force_end_in_speech_and_when_idle():
    ep = Endpointer()
    assert ep.force_end() is None
    run(ep, speech(10))
    ended = ep.force_end()
    assert ended is not None and ended.reason == "forced" and ended.speech_end_ms == 10 * F
    assert not ep.in_turn


def test_very_long_turn_is_cut():
    ep = Endpointer(TurnSettings(max_turn_silence=5000, end_of_turn_confidence_threshold=1.0))
    frames = int(28_000 / F) + 5
    ended = [e for e in run(ep, speech(frames)) if isinstance(e, TurnEnded)]
    assert ended and ended[0].reason == "max_duration"


def test_settings_from_params_and_updates():
    s = TurnSettings.from_params(StreamingParams.from_query(
        {"min_end_of_turn_silence_when_confident": "160", "max_turn_silence": "400",
         "vad_threshold": "0.5"}))
    assert (s.min_turn_silence, s.max_turn_silence, s.vad_threshold) == (160, 400, 0.5)
    assert s.updated({"max_turn_silence": 3000}).max_turn_silence == 3000
    assert s.updated({"max_turn_silence": 100}).max_turn_silence == 160  # never below min
    with pytest.raises(ValueError):
        s.updated({"vad_threshold": 2})
    with pytest.raises(ValueError):
        s.updated({"min_turn_silence": True})


def test_confidence_functions():
    s = TurnSettings(min_turn_silence=400, max_turn_silence=1400)
    assert text_prior("It is done.") > text_prior("it is done") > text_prior("so, and")
    assert text_prior("Done.") == text_prior("so, and")  # one or two words: held open
    assert text_prior("") == 1.0
    assert eot_confidence(0.3, 399, s) == 0.0
    assert eot_confidence(0.3, 900, s) == pytest.approx(0.65)
    assert eot_confidence(0.3, 5000, s) == 1.0
    assert required_silence(None, s) is None
    assert required_silence(0.8, s) == 400
    assert required_silence(0.1, s) == pytest.approx(400 + (0.3 / 0.9) * 1000)
