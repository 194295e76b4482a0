"""Turns from real speech through the websocket: partials, finals, control messages."""

from __future__ import annotations

import itertools

import numpy as np
import soxr

from earmark.engine.runner import EngineRunner
from tests.engine.engine_support import (
    Session,
    assert_well_formed,
    normalise,
    pcm16,
    pcm_to_float,
    reference,
    silence,
    wer,
)

ARCTIC_1 = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"
ARCTIC_3 = "cmu_arctic/cmu_arctic_us_aew_a0003.wav"


def test_real_speech_gives_partials_then_final_with_low_wer(engine: EngineRunner):
    name = "librispeech/test-clean/1089-134686-0002.wav"
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "format_turns": "true"})
    s.send_audio(pcm16(name) + silence(1500), chunk_ms=100, pace=4.0)
    assert s.terminate() == 1000
    assert_well_formed(s.messages)
    turns = s.of_type("Turn")
    partials = [t for t in turns if not t["end_of_turn"]]
    assert partials, "no partial while speech was streaming"
    assert all(not w["word_is_final"] for t in partials for w in t["words"])
    unformatted, formatted = s.finals(False), s.finals(True)
    assert len(unformatted) == len(formatted) >= 1
    assert [t["turn_order"] for t in unformatted] == [t["turn_order"] for t in formatted]
    # The unformatted final comes first, lower case without punctuation.
    first_final = turns.index(unformatted[0])
    assert turns.index(formatted[0]) == first_final + 1
    assert unformatted[0]["transcript"] == unformatted[0]["transcript"].lower()
    assert not any(c in s.final_text(False) for c in ",.?!")
    assert any(c.isupper() for c in s.final_text(True))
    assert wer(reference(name), s.final_text(True)) < 0.15
    words = [w for t in unformatted for w in t["words"]]
    assert all(w["word_is_final"] for w in words)
    assert 0 <= words[0]["start"] < 1500 and words[-1]["end"] <= 6625 + 300
    assert s.messages[-1]["type"] == "Termination"


def test_pauses_split_turns_in_order(engine: EngineRunner):
    audio = pcm16(ARCTIC_1) + silence(1500) + pcm16(ARCTIC_3) + silence(1500)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000})
    s.send_audio(audio, chunk_ms=50)  # as fast as possible: turns must not depend on pacing
    assert s.terminate() == 1000
    finals = s.finals()
    assert [t["turn_order"] for t in finals] == [0, 1]
    assert "danger trail" in finals[0]["transcript"]
    assert "shook hands" in finals[1]["transcript"]
    orders = [t["turn_order"] for t in s.of_type("Turn")]
    assert orders == sorted(orders)
    assert finals[0]["words"][-1]["end"] < finals[1]["words"][0]["start"]


def test_a_sentence_split_by_pauses_reads_whole_and_in_order(engine: EngineRunner):
    """JFK's pauses split his sentence into turns; the later turns are decoded after the
    previous turn's last words (context.py), which must not show up twice."""
    name = "misc/jfk.wav"
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "format_turns": "true"})
    s.send_audio(pcm16(name) + silence(1500), chunk_ms=50)
    assert s.terminate() == 1000
    finals = s.finals(True)
    assert len(finals) >= 3  # pauses of 1 s and more end turns
    heard = s.final_text(True)
    assert wer(reference(name), heard) < 0.1, heard
    words = normalise(heard).split()  # the previous turn's words are not repeated:
    assert (words.count("americans"), words.count("ask"), words.count("country")) == (1, 2, 2)
    for before, after in itertools.pairwise(finals):
        assert before["words"][-1]["end"] <= after["words"][0]["start"]
    assert finals[-1]["words"][-1]["end"] <= 11_000 + 100


def test_a_failed_final_decode_loses_that_turn_only(engine: EngineRunner, monkeypatch):
    """The turn after a failed final is decoded without its context, not failed with it."""
    model = engine.resources.model
    assert model is not None
    decode = model.decode

    def failing(audio, *, final, **kw):
        if final and "americans" in kw.get("prefix", "").lower():  # "Ask not", after turn 1
            raise RuntimeError("decoder broke")
        return decode(audio, final=final, **kw)

    monkeypatch.setattr(model, "decode", failing)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "format_turns": "true"})
    s.send_audio(pcm16("misc/jfk.wav") + silence(1500), chunk_ms=50)
    assert s.terminate() == 1000
    heard = normalise(s.final_text(True))
    assert "fellow americans" in heard and "ask not" not in heard
    assert "your country can do for you" in heard and heard.endswith("for your country")


def test_force_endpoint_ends_the_turn_now(engine: EngineRunner):
    speech = pcm16(ARCTIC_1)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000,
                                                   "max_turn_silence": 5000,
                                                   "end_of_turn_confidence_threshold": 1})
    s.send_audio(speech[: len(speech) * 2 // 3], chunk_ms=100)
    s.send_json({"type": "ForceEndpoint"})
    final = s.wait_for(lambda m: m["type"] == "Turn" and m["end_of_turn"], 10)
    assert final["turn_order"] == 0 and "danger" in final["transcript"]
    s.send_audio(silence(300) + pcm16(ARCTIC_3), chunk_ms=100)
    assert s.terminate() == 1000
    assert [t["turn_order"] for t in s.finals()] == [0, 1]


def _count_turns(engine: EngineRunner, update: dict | None) -> int:
    audio = pcm16(ARCTIC_1) + silence(1000) + pcm16(ARCTIC_3) + silence(500)
    s = Session.open(engine.ws_url, engine.token, {
        "sample_rate": 16000, "max_turn_silence": 3000, "min_turn_silence": 400,
        "end_of_turn_confidence_threshold": 1.0})  # pure silence: max_turn_silence decides
    s.wait_for(lambda m: m["type"] == "Begin", 5)
    if update:
        s.send_json({"type": "UpdateConfiguration", **update})
    s.send_audio(audio, chunk_ms=100)
    assert s.terminate() == 1000
    assert_well_formed(s.messages)
    return len(s.finals())


def test_update_configuration_changes_max_turn_silence(engine: EngineRunner):
    assert _count_turns(engine, None) == 1
    assert _count_turns(engine, {"max_turn_silence": 600}) == 2


def test_terminate_flushes_the_last_turn_then_termination(engine: EngineRunner):
    speech = pcm16(ARCTIC_1)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000})
    s.send_audio(speech[: len(speech) * 3 // 4], chunk_ms=100)  # cut mid-speech
    assert s.terminate() == 1000
    types = [m["type"] for m in s.messages]
    assert types[0] == "Begin" and types[-1] == "Termination"
    assert types[-2] == "Turn" and s.messages[-2]["end_of_turn"]
    term = s.messages[-1]
    assert term["audio_duration_seconds"] == round(len(speech) * 3 // 4 / 32000)
    assert_well_formed(s.messages)


def test_other_sample_rates_and_mulaw(engine: EngineRunner):
    speech = pcm_to_float(pcm16(ARCTIC_1) + silence(800))
    audio_8k = soxr.resample(speech, 16000, 8000)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 8000,
                                                   "encoding": "pcm_mulaw"})
    s.send_audio(_mulaw(audio_8k), chunk_ms=100, rate=8000, bytes_per_sample=1)
    assert s.terminate() == 1000
    assert "danger trail" in s.final_text()
    audio_48k = (soxr.resample(speech, 16000, 48000) * 32767).astype("<i2").tobytes()
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 48000})
    s.send_audio(audio_48k, chunk_ms=100, rate=48000)
    assert s.terminate() == 1000
    assert "danger trail" in s.final_text()


def _mulaw(x: np.ndarray) -> bytes:
    """G.711 mu-law encoder (the inverse of the engine's table)."""
    pcm = np.clip(x * 32768, -32635, 32635).astype(np.int32)
    sign = np.where(pcm < 0, 0x80, 0)
    mag = np.abs(pcm) + 0x84
    exponent = np.floor(np.log2(mag)).astype(np.int32) - 7
    mantissa = (mag >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


def test_noise_alone_makes_no_turn(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000})
    rng = np.random.default_rng(0)
    hiss = (rng.normal(0, 0.003, 16000 * 3) * 32767).astype("<i2").tobytes()
    s.send_audio(hiss, chunk_ms=100)
    assert s.terminate() == 1000
    assert not s.of_type("Turn")
