"""Local models run in a process of their own: a fault there (SIGSEGV, SIGILL, a kill) fails
the requests it had with a message naming the signal, and the next request gets a new process
and a real answer."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

import pytest

from earmark.engine.llm import LLMOptions, LLMRegistry, build_llm_service
from earmark.engine.llm.service import LLMError

REQUEST = {"model": "smollm2-135m", "max_tokens": 12, "temperature": 0,
           "messages": [{"role": "user", "content": "Say hello."}]}
LONG = {**REQUEST, "max_tokens": 400,
        "messages": [{"role": "user", "content": "Write a long story about a ship."}]}


def registry() -> LLMRegistry:
    return build_llm_service(LLMOptions(probe_openai_servers=False))


async def answer(service: LLMRegistry, request: dict) -> str:
    data = await service.complete(request)
    return data["choices"][0]["message"]["content"]


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_crash_mid_answer_fails_that_answer_and_the_next_one_works(sig, caplog):
    caplog.set_level(logging.INFO, "earmark.engine.llm.model_process")

    async def scenario() -> None:
        service = registry()
        try:
            assert (await answer(service, REQUEST)).strip()
            first_pid = service.model_process.status.pid
            stream = service.stream({**LONG, "stream": True})
            await anext(stream)  # generating now
            os.kill(first_pid, sig)
            with pytest.raises(LLMError) as failed:
                async for _ in stream:
                    pass
            assert failed.value.status == 503
            assert sig.name in failed.value.message
            assert (await answer(service, REQUEST)).strip()
            assert service.model_process.status.pid != first_pid
            assert service.model_process.status.starts == 2
        finally:
            await service.close()

    asyncio.run(scenario())
    died = [r.getMessage() for r in caplog.records if "died" in r.getMessage()]
    assert died and sig.name in died[0], died
    assert any("restarted" in r.getMessage() for r in caplog.records)


def test_an_abandoned_answer_stops_and_the_queue_moves_on():
    async def scenario() -> None:
        service = registry()
        try:
            slow = asyncio.ensure_future(service.complete(LONG))
            await asyncio.sleep(1.0)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            # the cancelled generation stopped at its next token, so this one is not stuck
            # behind 400 tokens of it
            assert (await asyncio.wait_for(answer(service, REQUEST), 60)).strip()
            assert service.model_process.status.starts == 1
        finally:
            await service.close()

    asyncio.run(scenario())


def test_closing_the_service_ends_the_model_process():
    async def scenario() -> int:
        service = registry()
        assert (await answer(service, REQUEST)).strip()
        pid = service.model_process.status.pid
        await service.close()
        return pid

    pid = asyncio.run(scenario())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
