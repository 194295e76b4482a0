"""Per-turn LLM answers (`llm_gateway`) with the echo service."""

from __future__ import annotations

import json

from earmark.engine.runner import EngineRunner
from tests.engine.engine_support import EchoLLM, Session, assert_well_formed, pcm16, silence

ARCTIC_1 = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"
ARCTIC_3 = "cmu_arctic/cmu_arctic_us_aew_a0003.wav"


def _gateway(content: str) -> str:
    return json.dumps({"model": "echo", "max_tokens": 50,
                       "messages": [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": content}]})


def test_every_final_turn_gets_an_answer_on_the_formatted_text(engine: EngineRunner,
                                                               echo_llm: EchoLLM):
    s = Session.open(engine.ws_url, engine.token, {
        "sample_rate": 16000, "format_turns": "True", "llm_gateway": _gateway("Say: {{turn}}")})
    s.send_audio(pcm16(ARCTIC_1) + silence(1500) + pcm16(ARCTIC_3) + silence(1500))
    assert s.terminate() == 1000
    assert_well_formed(s.messages)
    answers = s.of_type("LLMGatewayResponse")
    formatted = {t["turn_order"]: t["transcript"] for t in s.finals(True)}
    assert answers and set(formatted) == {0, 1}
    covered = " ".join(a["transcript"] for a in answers)
    for order, text in formatted.items():
        assert text in covered  # one answer per turn, or one merged answer for a backlog
        assert any(a["turn_order"] >= order for a in answers)
    for a in answers:
        assert a["data"]["choices"][0]["message"]["content"] == f"echo: Say: {a['transcript']}"
    # The answer follows its turn and Termination comes last.
    types = [m["type"] for m in s.messages]
    assert types.index("LLMGatewayResponse") > types.index("Turn")
    assert types[-1] == "Termination"
    request = echo_llm.requests[-1]
    assert request["model"] == "echo" and request["max_tokens"] == 50
    assert request["messages"][0] == {"role": "system", "content": "Be brief."}


def test_a_failed_call_sends_an_error_answer_and_the_session_goes_on(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token, {
        "sample_rate": 16000, "llm_gateway": _gateway("[fail] {{turn}}")})
    s.send_audio(pcm16(ARCTIC_1) + silence(1500))
    answer = s.wait_for(lambda m: m["type"] == "LLMGatewayResponse", 20)
    assert answer["data"]["error"]["code"] == 503
    assert "unavailable" in answer["data"]["error"]["message"]
    # One empty choice, so clients that index choices[0] (the tutorial) read '' and go on.
    assert answer["data"]["choices"] == [{"index": 0, "finish_reason": "error",
                                          "message": {"role": "assistant", "content": ""}}]
    s.send_audio(pcm16(ARCTIC_3) + silence(1500))
    assert s.terminate() == 1000
    assert len(s.finals()) == 2
    assert_well_formed(s.messages)
