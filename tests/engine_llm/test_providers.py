"""Providers and routing through the service API: Gateway passthrough, failures, fallbacks,
probing, user GGUF files and cancellation of local generations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from earmark.engine.llm import LLMError, LLMOptions, OpenAIServer, build_llm_service
from earmark.engine.llm.routes import add_llm_routes
from tests.engine_llm.llm_support import (
    GATEWAY_KEY,
    Engine,
    FakeGateway,
    FakeOpenAI,
    Run,
    closed_port,
    serve,
)

NO_LOCAL = {"builtin_smollm2": False, "probe_openai_servers": False}


def llm_error(run: Run, coro: Any) -> LLMError:
    with pytest.raises(LLMError) as caught:
        run(coro)
    return caught.value


def test_unreachable_provider_raises_a_clear_error(run: Run, engine: Engine) -> None:
    error = llm_error(run, engine.service.complete({"model": "dead/x", "prompt": "hi"}))
    assert error.status == 503
    assert "Dead server is unreachable" in error.message and engine.dead_url in error.message


def test_model_unknown_to_the_server_is_a_400(run: Run, engine: Engine) -> None:
    error = llm_error(run, engine.service.complete({"model": "fake/other", "prompt": "hi"}))
    assert error.status == 400 and error.message == "model not found"
    assert "model 'other' not found" in error.errors[0]


def test_fallback_to_the_local_model_after_a_runtime_failure(run: Run, engine: Engine) -> None:
    request = {
        "model": "dead/x",
        "prompt": "Say hi.",
        "max_tokens": 8,
        "fallbacks": [{"model": "smollm2-135m", "max_tokens": 4}],
    }
    data = run(engine.service.complete(request))
    assert data["choices"][0]["message"]["content"].strip()
    assert data["usage"]["completion_tokens"] <= 4  # the fallback's own max_tokens applied
    chunks = run(collect(engine.service.stream(request)))
    assert {c["model"] for c in chunks} == {"smollm2-135m"}


def test_unknown_fallback_model_is_rejected_up_front(run: Run) -> None:
    service = build_llm_service(
        LLMOptions(probe_openai_servers=False, substitute_unknown_models=False)
    )
    request = {"model": "smollm2-135m", "prompt": "hi", "fallbacks": [{"model": "nope"}]}
    error = llm_error(run, service.complete(request))
    run(service.close())
    assert error.status == 400 and error.message == "model not found"
    assert "'nope'" in error.errors[0]


async def collect(chunks: Any) -> list[dict[str, Any]]:
    return [c async for c in chunks]


def test_user_gguf_file_serves_completions(run: Run, engine: Engine) -> None:
    data = run(
        engine.service.complete({"model": "gguf:tiny-copy", "prompt": "Hi", "max_tokens": 4})
    )
    assert data["choices"][0]["message"]["content"].strip()


def test_add_gguf_rejects_files_that_are_not_gguf(tmp_path: Path) -> None:
    service = build_llm_service(LLMOptions(**NO_LOCAL))
    not_gguf = tmp_path / "notes.gguf"
    not_gguf.write_bytes(b"hello world")
    with pytest.raises(ValueError, match="not a GGUF file"):
        service.add_gguf(not_gguf)
    with pytest.raises(ValueError, match="not found"):
        service.add_gguf(tmp_path / "missing.gguf")


# The grammar forces at least 400 numbers, so uncancelled this runs for many seconds.
LONG_REQUEST = {
    "model": "smollm2-135m",
    "prompt": "List numbers.",
    "max_tokens": 400,
    "response_format": {
        "type": "json_schema",
        "json_schema": {
            "name": "numbers",
            "schema": {"type": "array", "items": {"type": "integer"}, "minItems": 400},
        },
    },
}


async def time_a_short_completion(engine: Engine) -> float:
    started = time.monotonic()
    await engine.service.complete({"model": "smollm2-135m", "prompt": "Hi", "max_tokens": 1})
    return time.monotonic() - started


def test_leaving_a_local_stream_frees_the_worker(run: Run, engine: Engine) -> None:
    async def read_a_little_then_leave() -> tuple[str, float]:
        chunks = engine.service.stream(LONG_REQUEST)
        text = ""
        async for chunk in chunks:
            text += "".join(c["delta"].get("content", "") for c in chunk["choices"])
            if len(text) >= 6:
                break
        await chunks.aclose()
        return text, await time_a_short_completion(engine)

    text, waited = run(read_a_little_then_leave())
    assert text.startswith("[")  # the JSON schema reached llama.cpp as a grammar
    assert waited < 2.5, f"the abandoned generation held the worker for {waited:.1f} s"


def test_cancelling_a_local_completion_frees_the_worker(run: Run, engine: Engine) -> None:
    async def start_then_cancel() -> float:
        task = asyncio.ensure_future(engine.service.complete(LONG_REQUEST))
        await asyncio.sleep(0.5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return await time_a_short_completion(engine)

    waited = run(start_then_cancel())
    assert waited < 2.5, f"the cancelled generation held the worker for {waited:.1f} s"


def test_local_usage_counts_tokens_like_llama_cpp(run: Run, engine: Engine) -> None:
    request = {
        "model": "smollm2-135m",
        "prompt": "Write a long story about a cat.",
        "max_tokens": 5,
    }
    data = run(engine.service.complete(request))
    assert data["choices"][0]["finish_reason"] == "length"
    assert data["usage"]["completion_tokens"] == 5


def test_probing_is_cached_and_skips_the_engine_itself(run: Run, engine: Engine) -> None:
    async def scenario() -> tuple[list[str], int]:
        fake = FakeOpenAI(model="cached-model")
        runner, fake.url = await serve(fake.app())
        service = build_llm_service(
            LLMOptions(
                builtin_smollm2=False,
                openai_servers=[
                    OpenAIServer("fake", f"{fake.url}/v1", "Fake"),
                    OpenAIServer("self", f"{engine.url}/v1", "Earmark engine"),
                ],
            )
        )
        try:
            first = await service.list_models()
            await service.list_models()
            return [m["id"] for m in first], fake.model_listings
        finally:
            await service.close()
            await runner.cleanup()

    ids, listings = run(scenario())
    assert ids == ["fake/cached-model"]
    assert listings == 1


def test_probing_a_dead_server_is_quick(run: Run) -> None:
    dead = [OpenAIServer(f"dead{i}", f"http://127.0.0.1:{closed_port()}/v1", "x") for i in range(3)]
    service = build_llm_service(LLMOptions(builtin_smollm2=False, openai_servers=dead))
    started = time.monotonic()
    assert run(service.list_models()) == []
    assert time.monotonic() - started < 1.0
    run(service.close())


def test_slow_server_times_out_as_504(run: Run) -> None:
    async def scenario() -> LLMError:
        fake = FakeOpenAI(delay_s=2.0)
        runner, fake.url = await serve(fake.app())
        service = build_llm_service(
            LLMOptions(
                builtin_smollm2=False,
                openai_servers=[OpenAIServer("slow", f"{fake.url}/v1", "Slow server")],
                request_timeout_s=0.3,
            )
        )
        try:
            await service.complete({"model": "slow/fake-llama", "prompt": "hi"})
        except LLMError as e:
            return e
        finally:
            await service.close()
            await runner.cleanup()
        raise AssertionError("no timeout")

    error = run(scenario())
    assert error.status == 504 and "did not answer within 0.3 s" in error.message


def test_gateway_passthrough(
    run: Run, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    options = LLMOptions(**NO_LOCAL, assemblyai_api_key=GATEWAY_KEY, gateway_base_url=gateway.url)
    assert GATEWAY_KEY not in repr(options)
    service = build_llm_service(options)

    async def scenario() -> tuple[list[dict[str, Any]], dict[str, Any], LLMError]:
        try:
            models = await service.list_models()
            data = await service.complete({"model": "claude-test", "prompt": "one two three"})
            try:
                await service.complete({"model": "gpt-nope", "prompt": "hi"})
            except LLMError as e:
                return models, data, e
            raise AssertionError("the gateway's 400 was not raised")
        finally:
            await service.close()

    models, data, rejected = run(scenario())
    assert [m["id"] for m in models] == ["claude-test", "claude-sonnet-4-6"]
    assert gateway.seen_authorization == [GATEWAY_KEY, GATEWAY_KEY]
    assert data["request_id"] == "gw-request-1"  # the Gateway's own id is kept
    assert data["choices"][0]["message"]["content"] == "3 words"
    assert data["usage"]["prompt_tokens"] == data["usage"]["input_tokens"] == 3
    assert rejected.status == 400 and rejected.errors == ["unknown model gpt-nope"]
    assert GATEWAY_KEY not in caplog.text


def test_gateway_rejecting_the_key_is_a_502_without_the_key(run: Run, gateway: FakeGateway) -> None:
    service = build_llm_service(
        LLMOptions(**NO_LOCAL, assemblyai_api_key="wrong-key", gateway_base_url=gateway.url)
    )
    error = llm_error(run, service.complete({"model": "claude-test", "prompt": "hi"}))
    run(service.close())
    assert error.status == 502 and "rejected the credentials" in error.message
    assert "wrong-key" not in error.message


def test_substitute_unknown_models_uses_the_default(run: Run) -> None:
    service = build_llm_service(
        LLMOptions(probe_openai_servers=False, substitute_unknown_models=True)
    )
    request = {"model": "claude-sonnet-4-6", "prompt": "Hi", "max_tokens": 2}
    data = run(service.complete(request))
    run(service.close())
    assert data["request"]["model"] == "claude-sonnet-4-6"
    assert data["model"] == "smollm2-135m"
    assert data["choices"][0]["message"]["content"]


def test_routes_report_a_failed_stream_after_it_started(run: Run) -> None:
    """A provider that dies mid-stream: the 200 is out, so the error is an SSE event."""

    class Dying:
        async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
            raise AssertionError("not used")

        async def stream(self, request: dict[str, Any]) -> Any:
            yield {"object": "chat.completion.chunk", "choices": [{"delta": {"content": "a"}}]}
            raise LLMError(502, "upstream vanished")

        async def list_models(self) -> list[dict[str, Any]]:
            return []

        async def close(self) -> None:
            pass

    async def scenario() -> str:
        app = web.Application()
        add_llm_routes(app, Dying(), None)
        runner, url = await serve(app)
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{url}/v1/chat/completions", json={"model": "m", "stream": True}
                ) as resp,
            ):
                assert resp.status == 200
                return await resp.text()
        finally:
            await runner.cleanup()

    text = run(scenario())
    assert '"content":"a"' in text
    assert '"message":"upstream vanished"' in text and '"code":502' in text
    assert "[DONE]" not in text


def test_concurrent_local_requests_all_succeed(run: Run, engine: Engine) -> None:
    async def scenario() -> list[dict[str, Any]]:
        request = {"model": "smollm2-135m", "prompt": "Hi", "max_tokens": 4}
        return await asyncio.gather(*(engine.service.complete(request) for _ in range(3)))

    results = run(scenario())
    assert all(r["choices"][0]["message"]["content"] for r in results)


def test_closing_the_service_ends_running_and_queued_requests(run: Run) -> None:
    service = build_llm_service(LLMOptions(probe_openai_servers=False))

    async def scenario() -> tuple[list[Any], float]:
        short = {"model": "smollm2-135m", "prompt": "Hi", "max_tokens": 4}
        running = asyncio.ensure_future(service.complete(LONG_REQUEST))
        await asyncio.sleep(0.5)
        queued = asyncio.ensure_future(service.complete(short))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await service.close()
        results = await asyncio.wait_for(
            asyncio.gather(running, queued, return_exceptions=True), timeout=5
        )
        return results, time.monotonic() - started

    results, took = run(scenario())
    assert all(isinstance(r, LLMError) and r.status == 503 for r in results), results
    assert took < 2.5
    with pytest.raises(LLMError, match="shut down"):
        run(service.complete({"model": "smollm2-135m", "prompt": "Hi"}))
