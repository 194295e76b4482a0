"""Flow control for file transcription: Heartbeats (`session_heartbeat=true`) say how much audio
the engine has processed, a client sending a file faster than real time paces itself by them,
and the engine keeps a bounded number of final decodes pending per session."""

from __future__ import annotations

import itertools
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from earmark.core.protocol import Heartbeat, parse_server_message
from earmark.engine.runner import EngineRunner
from earmark.engine.stream import MAX_PENDING_FINALS
from tests.engine.engine_support import (
    Session,
    assert_well_formed,
    normalise,
    pcm16,
    reference,
    silence,
    speech,
    wer,
)

FILES = ["misc/jfk.wav", "librispeech/test-clean/1221-135766-0002.wav",
         "cmu_arctic/cmu_arctic_us_aew_a0003.wav"]
ARCTIC_1 = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"
ARCTIC_3 = "cmu_arctic/cmu_arctic_us_aew_a0003.wav"
CHUNK_MS = 50
AHEAD_MS = 5000  # how far the paced client may run ahead of the engine
HEARTBEATS = {"sample_rate": 16000, "format_turns": "true", "session_heartbeat": "true"}


def _ms(pcm: bytes) -> float:
    return len(pcm) / 32


@dataclass
class Sent:
    """A streamed file and what came back."""

    session: Session
    audio_ms: float
    sent_log: list[tuple[float, float]] = field(default_factory=list)  # (time, ms sent by then)
    max_ahead_ms: float = 0.0

    def heartbeats(self) -> list[tuple[float, dict[str, Any]]]:
        s = self.session
        return [(t, m) for t, m in zip(s.received_at, s.messages, strict=False)
                if m.get("type") == "Heartbeat"]

    def sent_by(self, when: float) -> float:
        return max((ms for t, ms in self.sent_log if t <= when), default=0.0)


def _file() -> tuple[bytes, str]:
    """~22 s: three recordings with pauses, and their reference text."""
    pcm = b"".join(pcm16(name) + silence(800) for name in FILES) + silence(700)
    return pcm, " ".join(reference(name) for name in FILES)


def _latest_heartbeat_ms(session: Session) -> float:
    for message in reversed(session.messages):
        if message.get("type") == "Heartbeat":
            return message["total_audio_received_ms"]
    return 0.0


def _stream(session: Session, pcm: bytes, *, pace: float = 0.0,
            ahead_ms: float | None = None) -> Sent:
    """Send in 50 ms chunks: at `pace` (1.0 real time), or as fast as possible but never more
    than `ahead_ms` ahead of the last Heartbeat's `total_audio_received_ms`."""
    sent = Sent(session, _ms(pcm))
    step = 32 * CHUNK_MS
    t0 = time.monotonic()
    for i, start in enumerate(range(0, len(pcm), step)):
        chunk = pcm[start:start + step]
        done_ms = start / 32 + _ms(chunk)
        if ahead_ms is not None:
            _wait_until_behind(session, done_ms - ahead_ms)
            sent.max_ahead_ms = max(sent.max_ahead_ms, done_ms - _latest_heartbeat_ms(session))
        sent.sent_log.append((time.monotonic(), done_ms))  # before the send: never late
        session.ws.send_binary(chunk)
        if pace:
            delay = t0 + (i + 1) * CHUNK_MS / 1000 / pace - time.monotonic()
            if delay > 0:
                time.sleep(delay)
    return sent


def _wait_until_behind(session: Session, needed_ms: float, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while _latest_heartbeat_ms(session) < needed_ms:
        assert time.monotonic() < deadline, "the engine's Heartbeats stopped advancing"
        assert not session.closed, f"closed {session.close_code}"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def real_time(engine: EngineRunner) -> Iterator[Sent]:
    """The file streamed at real-time pace, with Heartbeats: the reference run."""
    pcm, _ = _file()
    s = Session.open(engine.ws_url, engine.token, HEARTBEATS)
    sent = _stream(s, pcm, pace=1.0)
    assert s.terminate(60) == 1000
    yield sent


def test_heartbeats_arrive_about_once_a_second(real_time: Sent):
    s = real_time.session
    beats = real_time.heartbeats()
    assert s.messages[-1]["type"] == "Termination"
    wall = s.received_at[-1] - s.opened_at
    # One a second; more only while the engine is behind (after its batches).
    assert wall - 2 <= len(beats) <= wall * 2, (len(beats), wall)
    times = [s.opened_at] + [t for t, _ in beats]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.5 <= statistics.median(gaps) <= 1.2, gaps
    assert max(gaps) < 1.7, gaps
    for when, beat in beats:
        assert abs(beat["total_duration_ms"] / 1000 - (when - s.opened_at)) < 0.5, beat
        assert beat["realtime_factor"] == pytest.approx(
            beat["total_audio_received_ms"] / beat["total_duration_ms"], abs=2e-3)
        assert 0 <= beat["max_speech_probability"] <= 1


def test_heartbeat_counts_processed_audio_never_more_than_sent(real_time: Sent):
    beats = real_time.heartbeats()
    received = [beat["total_audio_received_ms"] for _, beat in beats]
    assert received == sorted(received)
    for when, beat in beats:
        assert beat["total_audio_received_ms"] <= real_time.sent_by(when), beat
    assert received[-1] >= real_time.audio_ms - 2500  # it kept up with real time
    assert max(beat["max_speech_probability"] for _, beat in beats) > 0.8  # speech was heard
    assert min(beat["max_speech_probability"] for _, beat in beats) < 0.5  # silence too


def test_heartbeats_parse_as_the_typed_message(real_time: Sent):
    for _, raw in real_time.heartbeats():
        parsed = parse_server_message(json.dumps(raw))
        assert isinstance(parsed, Heartbeat)
        assert parsed.to_dict() == raw
        assert isinstance(parsed.total_audio_received_ms, int)
        assert isinstance(parsed.total_duration_ms, int)
        assert isinstance(parsed.realtime_factor, float)
    assert_well_formed(real_time.session.messages)


def test_a_client_paced_by_heartbeats_gets_every_word(engine: EngineRunner, real_time: Sent):
    """As fast as it can, never more than 5 s ahead of the engine, then Terminate at once."""
    pcm, ref = _file()
    s = Session.open(engine.ws_url, engine.token, HEARTBEATS)
    sent = _stream(s, pcm, ahead_ms=AHEAD_MS)
    assert s.terminate(60) == 1000
    assert sent.max_ahead_ms <= AHEAD_MS
    assert s.messages[-1]["type"] == "Termination"
    assert s.messages[-1]["audio_duration_seconds"] == round(sent.audio_ms / 1000)
    assert max(beat["realtime_factor"] for _, beat in sent.heartbeats()) > 1  # faster than live
    fast, live = s.final_text(True), real_time.session.final_text(True)
    one_word = 1 / len(normalise(ref).split())
    assert wer(ref, fast) <= wer(ref, live) * 1.05 + one_word, (fast, live)
    assert wer(ref, fast) < 0.15, fast
    assert_well_formed(s.messages)


def test_a_paced_client_does_not_wait_for_the_clock(engine: EngineRunner):
    """A client sending at 10x that may run only 2 s ahead: a Heartbeat a second of wall time
    would hold it to 2x; one after every second of audio processed lets it go at its pace."""
    pcm, ref = _file()
    s = Session.open(engine.ws_url, engine.token, HEARTBEATS)
    started = time.monotonic()
    sent = _stream(s, pcm, pace=10.0, ahead_ms=2000)
    took = time.monotonic() - started
    assert s.terminate(60) == 1000
    assert sent.max_ahead_ms <= 2000
    assert took < sent.audio_ms / 1000 / 4, took
    assert wer(ref, s.final_text(True)) < 0.15


def test_pending_final_decodes_are_bounded(engine: EngineRunner, monkeypatch):
    """Slow final decodes and a client that sends everything at once: the processor waits for
    them instead of racing ahead, so the audio a Heartbeat reports is nearly transcribed."""
    model = engine.resources.model
    assert model is not None
    decode = model.decode

    def slow(audio, *, final, **kw):
        if final:
            time.sleep(0.5)
        return decode(audio, final=final, **kw)

    monkeypatch.setattr(model, "decode", slow)
    turn_pair = pcm16(ARCTIC_1) + silence(1000) + pcm16(ARCTIC_3) + silence(1000)
    s = Session.open(engine.ws_url, engine.token, {
        **HEARTBEATS, "format_turns": "false", "max_turn_silence": 600,
        "end_of_turn_confidence_threshold": 1.0})  # no text hints: nothing else waits
    _stream(s, turn_pair * 4)
    assert s.terminate(90) == 1000
    finals = s.finals()
    assert len(finals) == 8 and s.final_text().count("shook hands") == 4
    ends = [t["words"][-1]["end"] + 600 + 2 * 32 for t in finals]  # ended by then, surely
    done = 0
    for message in s.messages:
        if message.get("type") == "Turn" and message["end_of_turn"]:
            done += 1
        elif message.get("type") == "Heartbeat":
            ended = sum(end <= message["total_audio_received_ms"] for end in ends)
            assert ended - done <= MAX_PENDING_FINALS + 2, (message, done)


def test_without_heartbeats_a_fast_client_still_gets_every_word(engine: EngineRunner):
    """No session_heartbeat: no Heartbeat, and a minute of speech sent at once is all
    transcribed (the processor takes it a second at a time: a batch over the 40 s the session
    keeps would lose the start of its turns)."""
    name = "multispeaker/ms01_2spk_alternating_ls-test-other.wav"
    segments = json.loads(speech(name).with_suffix(".segments.json").read_text())
    kept = [seg for seg in segments if seg["end"] <= 60.0]
    pcm = pcm16(name)[: int(kept[-1]["end"] * 32000) // 2 * 2] + silence(1500)
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "format_turns": "true"})
    s.send_audio(pcm, chunk_ms=100)
    assert s.terminate(120) == 1000
    assert not s.of_type("Heartbeat")
    ref = " ".join(seg["text"] for seg in kept)
    assert wer(ref, s.final_text(True)) < 0.2, s.final_text(True)
    assert s.messages[-1]["audio_duration_seconds"] == round(_ms(pcm) / 1000)

