"""Cloud model ids offline: AssemblyAI's samples ask for `claude-sonnet-4-6`; without a Gateway
key the engine's default model answers, and the response's `model` says so. With a key the id
goes to the Gateway. Per-turn answers (the relay) and `POST /v1/chat/completions` alike."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from earmark.core.protocol import LLMGatewayConfig, LLMGatewayResponse
from earmark.engine.llm import SMOLLM2_ID, LLMOptions, build_llm_service
from earmark.engine.llm_relay import LLMRelay
from earmark.engine.runner import default_llm_service
from tests.engine_llm.llm_support import (
    ENGINE_TOKEN,
    GATEWAY_KEY,
    Engine,
    FakeGateway,
    Run,
)
from tests.engine_llm.test_routes import call, post_chat, sse_payloads

CLOUD_ID = "claude-sonnet-4-6"


def substituted(model: str) -> str:
    return f"{model} is not available offline; answered by {SMOLLM2_ID}"


def tutorial_content(data: dict[str, Any]) -> str:
    """The tutorial's handler, verbatim."""
    return data.get("choices", [{}])[0].get("message", {}).get("content", "")


def gateway_config(model: str = CLOUD_ID, max_tokens: int = 8) -> LLMGatewayConfig:
    return LLMGatewayConfig.from_dict({
        "model": model, "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": "Summarise in a few words: {{turn}}"}]})


async def relay_answers(service: Any, config: LLMGatewayConfig, *turns: str
                        ) -> list[LLMGatewayResponse]:
    """What one session's relay sends for `turns`, each answered before the next is final."""
    sent: list[LLMGatewayResponse] = []

    async def send(message: LLMGatewayResponse) -> None:
        sent.append(message)

    relay = LLMRelay(service, config, send)
    for order, text in enumerate(turns):
        relay.submit(order, text)
        await relay.drain(60)
    return sent


def test_the_engine_substitutes_as_the_app_and_earmark_engine_run_it(run: Run) -> None:
    assert LLMOptions().substitute_unknown_models
    for llm_model in (None, SMOLLM2_ID):  # EngineOptions.llm_model unset, or --llm-model
        service = default_llm_service(llm_model)
        try:
            assert service is not None
            assert service.answering_model(CLOUD_ID) == SMOLLM2_ID
            assert service.answering_model(SMOLLM2_ID) == SMOLLM2_ID
        finally:
            run(service.close())


def test_a_cloud_id_over_http_is_answered_by_the_default_model(
    run: Run, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="earmark.engine.llm.registry")
    model = "claude-opus-4-6"  # asked for by no other test: the registry logs once per id
    body = {"model": model, "messages": [{"role": "user", "content": "Say hi."}],
            "max_tokens": 8}
    for _ in range(2):
        status, _, text = post_chat(run, engine, body)
        assert status == 200, text
        data = json.loads(text)
        assert data["model"] == SMOLLM2_ID  # who really answered
        assert data["request"]["model"] == model  # what was asked for
        assert tutorial_content(data).strip()
    assert caplog.text.count(substituted(model)) == 1


def test_a_streamed_cloud_id_is_labelled_with_the_default_model(run: Run, engine: Engine) -> None:
    body = {"model": CLOUD_ID, "prompt": "Name a colour.", "max_tokens": 6, "stream": True}
    status, _, text = post_chat(run, engine, body)
    assert status == 200, text
    chunks = [json.loads(p) for p in sse_payloads(text)[:-1]]
    assert chunks and {c["model"] for c in chunks} == {SMOLLM2_ID}


def test_strict_routes_still_answer_a_cloud_id_with_a_400(run: Run, strict_url: str) -> None:
    body = {"model": CLOUD_ID, "prompt": "hi"}
    status, _, text = run(call("POST", f"{strict_url}/v1/chat/completions", body,
                               {"Authorization": ENGINE_TOKEN}))
    assert status == 400
    assert json.loads(text)["message"] == "model not found"


def test_per_turn_answers_for_a_cloud_id_come_from_the_default_model(
    run: Run, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="earmark.engine.llm_relay")
    config = gateway_config()
    answers = run(relay_answers(engine.service, config, "We ship on Friday.",
                                "Dana writes the notes."))
    assert [a.turn_order for a in answers] == [0, 1]
    for answer in answers:
        assert "error" not in answer.data, answer.data
        assert answer.data["model"] == SMOLLM2_ID
        assert tutorial_content(answer.data).strip()
        assert answer.content == tutorial_content(answer.data)  # as the app reads it
    # Once per session: a second session logs it again.
    run(relay_answers(engine.service, config, "A third turn."))
    relay_lines = [r.getMessage() for r in caplog.records if r.name == "earmark.engine.llm_relay"]
    assert relay_lines == [f"per-turn answers of this session: {substituted(CLOUD_ID)}"] * 2


def test_with_a_gateway_key_a_cloud_id_goes_to_the_gateway(
    run: Run, gateway: FakeGateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    service = build_llm_service(LLMOptions(probe_openai_servers=False,
                                           assemblyai_api_key=GATEWAY_KEY,
                                           gateway_base_url=gateway.url))
    try:
        assert service.answering_model(CLOUD_ID) == CLOUD_ID
        data = run(service.complete({"model": CLOUD_ID, "prompt": "one two three"}))
        (answer,) = run(relay_answers(service, gateway_config(), "four five"))
    finally:
        run(service.close())
    assert data["model"] == CLOUD_ID and tutorial_content(data) == "3 words"
    assert answer.data["model"] == CLOUD_ID
    words = len(gateway_config().render("four five")[-1]["content"].split())
    assert tutorial_content(answer.data) == f"{words} words"  # the fake counts the prompt
    assert [b["model"] for b in gateway.chat_bodies] == [CLOUD_ID, CLOUD_ID]
    assert gateway.seen_authorization == [GATEWAY_KEY, GATEWAY_KEY]
    assert "not available offline" not in caplog.text
