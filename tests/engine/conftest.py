"""One engine for the whole test session (the speech model loads once), with an echo LLM."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from earmark.engine.runner import EngineOptions, EngineRunner
from tests.engine.engine_support import EchoLLM


@pytest.fixture(scope="session")
def echo_llm() -> EchoLLM:
    return EchoLLM()


@pytest.fixture(scope="session")
def engine(echo_llm: EchoLLM) -> Iterator[EngineRunner]:
    runner = EngineRunner(EngineOptions(port=0, llm_drain_timeout=3.0), llm_service=echo_llm)
    runner.start()
    assert runner.wait_listening(10), runner.start_error
    loaded = threading.Event()
    errors: list[str | None] = []
    runner.add_ready_callback(lambda error: (errors.append(error), loaded.set()))
    assert loaded.wait(120), "speech model did not load"
    assert errors == [None]
    yield runner
    runner.stop()
