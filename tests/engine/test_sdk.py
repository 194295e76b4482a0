"""The official Python SDK (assemblyai==1.8.2) against the engine, as the tutorial uses it."""

from __future__ import annotations

import time
from collections.abc import Iterator

from assemblyai.streaming.v3 import (
    BeginEvent,
    LLMGatewayResponseEvent,
    StreamingClient,
    StreamingClientOptions,
    StreamingError,
    StreamingEvents,
    StreamingParameters,
    TerminationEvent,
    TurnEvent,
)
from assemblyai.streaming.v3.models import LLMGatewayConfig, LLMGatewayMessage

from earmark.engine.runner import EngineRunner
from tests.engine.engine_support import pcm16, reference, silence, wer

FILE = "misc/jfk.wav"
PROMPT = "Provide a brief summary of the transcript.\n\nTranscript: {{turn}}"


def _chunks(pcm: bytes, chunk_ms: int = 100, pace: float = 0.0) -> Iterator[bytes]:
    step = 32 * chunk_ms
    t0 = time.monotonic()
    for i, start in enumerate(range(0, len(pcm), step)):
        yield pcm[start:start + step]
        if not pace:
            continue
        delay = t0 + (i + 1) * chunk_ms / 1000 / pace - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def test_streaming_client_gets_begin_turns_llm_answers_and_termination(engine: EngineRunner):
    events: dict[str, list] = {"begin": [], "turn": [], "llm": [], "end": [], "error": []}
    client = StreamingClient(StreamingClientOptions(
        api_key=engine.token, api_host=engine.ws_url.removesuffix("/v3/ws")))
    client.on(StreamingEvents.Begin, lambda c, e: events["begin"].append(e))
    client.on(StreamingEvents.Turn, lambda c, e: events["turn"].append(e))
    client.on(StreamingEvents.LLMGatewayResponse, lambda c, e: events["llm"].append(e))
    client.on(StreamingEvents.Termination, lambda c, e: events["end"].append(e))
    client.on(StreamingEvents.Error, lambda c, e: events["error"].append(e))
    client.connect(StreamingParameters(
        sample_rate=16000, speech_model="u3-rt-pro", format_turns=True,
        llm_gateway=LLMGatewayConfig(model="claude-sonnet-4-6", max_tokens=4000,
                                     messages=[LLMGatewayMessage(role="user", content=PROMPT)])))
    try:
        client.stream(_chunks(pcm16(FILE) + silence(1500), pace=3.0))
    finally:
        client.disconnect(terminate=True)

    assert events["error"] == []
    assert len(events["begin"]) == 1 and isinstance(events["begin"][0], BeginEvent)
    turns: list[TurnEvent] = events["turn"]
    assert any(not t.end_of_turn for t in turns), "no partials"
    finals = [t for t in turns if t.end_of_turn and t.turn_is_formatted]
    assert finals and [t.turn_order for t in finals] == sorted({t.turn_order for t in finals})
    text = " ".join(t.transcript for t in finals)
    assert wer(reference(FILE), text) < 0.25, text
    answers: list[LLMGatewayResponseEvent] = events["llm"]
    assert answers
    assert all(a.data["choices"][0]["message"]["content"].startswith("echo: Provide a brief")
               for a in answers)
    assert "country" in " ".join(a.transcript for a in answers)
    assert len(events["end"]) == 1 and isinstance(events["end"][0], TerminationEvent)
    assert abs(events["end"][0].audio_duration_seconds - 12.5) <= 1  # 11 s + 1.5 s of silence


def test_sdk_control_messages_round_trip(engine: EngineRunner):
    """set_params / force_endpoint / keep_alive from the SDK are accepted without an error."""
    from assemblyai.streaming.v3 import StreamingSessionParameters

    errors: list[StreamingError] = []
    finals: list[TurnEvent] = []
    ended: list[TerminationEvent] = []
    client = StreamingClient(StreamingClientOptions(
        api_key=engine.token, api_host=engine.ws_url.removesuffix("/v3/ws")))
    client.on(StreamingEvents.Turn, lambda c, e: e.end_of_turn and finals.append(e))
    client.on(StreamingEvents.Termination, lambda c, e: ended.append(e))
    client.on(StreamingEvents.Error, lambda c, e: errors.append(e))
    client.connect(StreamingParameters(sample_rate=16000, min_turn_silence=200))
    client.set_params(StreamingSessionParameters(max_turn_silence=3000, keyterms_prompt=["Phil"]))
    client.keep_alive()
    client.stream(_chunks(pcm16("cmu_arctic/cmu_arctic_us_aew_a0001.wav")))
    client.force_endpoint()
    client.disconnect(terminate=True)
    assert errors == []
    assert len(finals) == 1 and "danger" in finals[0].transcript
    assert len(ended) == 1
