"""The engine with its default LLM service (the other half of the engine, bundled SmolLM2):
a per-turn answer comes from a real model."""

from __future__ import annotations

import json
import logging
import os
import signal
from collections.abc import Iterator

import pytest

from earmark.engine.llm import SMOLLM2_ID
from earmark.engine.runner import EngineRunner
from tests.engine.engine_support import Session, assert_well_formed, pcm16, silence
from tests.support.engines import running_engine

GATEWAY = {"model": SMOLLM2_ID, "max_tokens": 16,
           "messages": [{"role": "user", "content": "Repeat: {{turn}}"}]}
FIRST = "cmu_arctic/cmu_arctic_us_aew_a0001.wav"  # "Author of the danger trail, ..."
SECOND = "cmu_arctic/cmu_arctic_us_aew_a0003.wav"  # "For the twentieth time that evening ..."


@pytest.fixture(scope="module")
def runner() -> Iterator[EngineRunner]:
    """The engine as the app runs it: its own LLM service, SmolLM2 in the model process."""
    with running_engine(llm_model=SMOLLM2_ID) as engine:
        assert engine.llm_service is not None
        yield engine


def open_session(runner: EngineRunner) -> Session:
    return Session.open(runner.ws_url, runner.token,
                        {"sample_rate": 16000, "llm_gateway": json.dumps(GATEWAY)})


def content(answer: dict) -> str:
    return answer["data"]["choices"][0]["message"]["content"]


def test_per_turn_answer_from_the_default_llm_service(runner):
    s = open_session(runner)
    s.send_audio(pcm16(FIRST) + silence(1200))
    answer = s.wait_for(lambda m: m["type"] == "LLMGatewayResponse", 60)
    assert "danger" in answer["transcript"]
    assert "error" not in answer["data"], answer["data"]
    assert content(answer).strip()
    assert s.terminate() == 1000
    assert_well_formed(s.messages)


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_crash_of_the_llm_process_does_not_stop_the_transcript(runner, caplog, sig):
    caplog.set_level(logging.INFO)
    model_process = runner.llm_service.model_process
    s = open_session(runner)
    s.send_audio(pcm16(FIRST) + silence(1200))
    s.wait_for(lambda m: m["type"] == "LLMGatewayResponse", 60)
    os.kill(model_process.status.pid, sig)
    s.send_audio(pcm16(SECOND) + silence(1200))  # spoken after the crash
    answer = s.wait_for(lambda m: m["type"] == "LLMGatewayResponse" and "evening"
                        in m["transcript"].lower(), 60)
    assert "error" not in answer["data"], answer["data"]
    assert content(answer).strip()
    assert s.terminate() == 1000
    assert "danger" in s.final_text().lower()
    assert "evening" in s.final_text().lower()
    assert f"died: signal {sig.name}" in caplog.text
    assert "model process restarted" in caplog.text
