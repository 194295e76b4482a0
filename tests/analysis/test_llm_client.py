"""The async chat client against a server replaying the LLM Gateway's documented responses:
SSE streaming, JSON answers, both error envelopes, 429 with its headers, timeouts, drops."""

from __future__ import annotations

import time

import pytest

from earmark.core.llm import LLMCallError, LLMErrorKind, chat_body
from earmark.workers.llm_client import ChatClient
from tests.analysis.gateway_replay import KEY


def ask(model: str, stream: bool = True, fallbacks: tuple[str, ...] = ()) -> dict:
    return chat_body(model, [{"role": "user", "content": "Summarise: we ship Friday."}],
                     max_tokens=60, stream=stream, fallbacks=fallbacks)


def call(run, client: ChatClient, body: dict, timeout: float = 10.0):
    deltas: list[str] = []
    waits: list[float] = []

    async def go():
        try:
            return await client.chat(body, on_delta=deltas.append, on_wait=waits.append)
        finally:
            await client.close()

    return run(go(), timeout), deltas, waits


def failure(run, client: ChatClient, body: dict, timeout: float = 10.0):
    with pytest.raises(LLMCallError) as caught:
        call(run, client, body, timeout)
    return caught.value


def test_a_streamed_answer_arrives_piece_by_piece(run, gateway):
    completion, deltas, _ = call(run, ChatClient(gateway.url, KEY), ask("claude-sonnet-4-6"))
    assert completion.text == "Decisions: ship on Friday. Owner: Dana."
    assert len(deltas) == 6 and "".join(deltas) == completion.text
    assert (completion.model, completion.finish_reason) == ("claude-sonnet-4-6", "stop")
    body, auth = gateway.requests[-1]
    assert auth == KEY  # the raw key, as the Gateway documents
    assert body["stream"] is True and body["max_tokens"] == 60


def test_a_json_answer_is_accepted_too(run, gateway):
    completion, deltas, _ = call(run, ChatClient(gateway.url, KEY), ask("no-stream"))
    assert completion.text == "Decisions: ship on Friday. Owner: Dana."
    assert deltas == [completion.text]


def test_fallbacks_are_sent_and_the_answering_model_is_reported(run, gateway):
    completion, _, _ = call(run, ChatClient(gateway.url, KEY),
                            ask("fails-at-runtime", fallbacks=("gpt-5-mini", "claude-sonnet-4-6")))
    assert completion.model == "gpt-5-mini"
    body = gateway.bodies[-1]
    assert body["fallbacks"] == [{"model": "gpt-5-mini"}, {"model": "claude-sonnet-4-6"}]
    assert body["fallback_config"] == {"depth": 2}


def test_a_bad_key_is_the_auth_envelope(run, gateway):
    error = failure(run, ChatClient(gateway.url, "wrong"), ask("claude-sonnet-4-6"))
    assert error.kind == LLMErrorKind.AUTH and error.status == 401
    assert "API token missing/invalid" in error.message and "Settings" in error.message
    assert error.request_id == "req-401"


def test_no_access_to_a_model_is_the_business_envelope(run, gateway):
    error = failure(run, ChatClient(gateway.url, KEY), ask("no-access"))
    assert error.kind == LLMErrorKind.ACCESS and error.status == 400
    assert "“no-access”" in error.message
    assert "not available on your plan" in error.message  # metadata.errors is shown
    unknown = failure(run, ChatClient(gateway.url, KEY), ask("nonexistent-model"))
    assert unknown.kind == LLMErrorKind.REJECTED and "unknown model" in unknown.message


def test_rate_limits_are_retried_after_the_wait_the_server_asks(run, gateway):
    started = time.monotonic()
    completion, _, waits = call(run, ChatClient(gateway.url, KEY), ask("rate-limited"))
    assert completion.text.startswith("Decisions")
    assert waits == [0.2, 0.2]  # retry-after honoured, twice
    assert time.monotonic() - started >= 0.4
    assert sum(1 for b in gateway.bodies if b["model"] == "rate-limited") == 3


def test_rate_limit_retries_are_bounded(run, gateway):
    gateway.rate_limit_hits = 10
    error = failure(run, ChatClient(gateway.url, KEY), ask("rate-limited"))
    assert error.kind == LLMErrorKind.RATE_LIMITED
    assert "limit 2 requests a minute" in error.message
    assert sum(1 for b in gateway.bodies if b["model"] == "rate-limited") == 3  # 1 + 2 retries


def test_a_long_rate_limit_wait_is_reported_not_waited(run, gateway):
    started = time.monotonic()
    error = failure(run, ChatClient(gateway.url, KEY), ask("rate-limited-long"))
    assert time.monotonic() - started < 2
    assert error.kind == LLMErrorKind.RATE_LIMITED
    assert 100 <= error.retry_after <= 121 and "Try again in 1" in error.message


@pytest.mark.parametrize("model", ["drops", "drops-clean"])
def test_a_stream_dropped_midway_is_an_error_with_the_text_so_far(run, gateway, model):
    deltas: list[str] = []
    client = ChatClient(gateway.url, KEY)

    async def go():
        try:
            return await client.chat(ask(model), on_delta=deltas.append)
        finally:
            await client.close()

    with pytest.raises(LLMCallError) as caught:
        run(go())
    assert caught.value.kind == LLMErrorKind.DROPPED
    assert "dropped before the answer was complete" in caught.value.message
    assert "".join(deltas) == "Decisions: ship on"


def test_an_error_event_mid_stream_is_reported(run, gateway):
    error = failure(run, ChatClient(gateway.url, KEY), ask("error-mid-stream"))
    assert error.kind == LLMErrorKind.SERVER
    assert "the model crashed; out of memory" in error.message


def test_a_silent_server_times_out(run, gateway):
    client = ChatClient(gateway.url, KEY, read_timeout=0.5)
    error = failure(run, client, ask("slow"))
    assert error.kind == LLMErrorKind.TIMEOUT and "within 0.5 s" in error.message


def test_a_non_json_error_page_is_still_a_sentence(run, gateway):
    error = failure(run, ChatClient(gateway.url, KEY), ask("broken"))
    assert error.kind == LLMErrorKind.SERVER and "HTTP 502" in error.message


def test_nobody_listening_is_a_network_error(run):
    from tests.engine_llm.llm_support import closed_port

    error = failure(run, ChatClient(f"http://127.0.0.1:{closed_port()}", KEY),
                    ask("claude-sonnet-4-6"))
    assert error.kind == LLMErrorKind.NETWORK and "Could not reach" in error.message


def test_context_length_comes_from_the_model_catalogue(run, gateway):
    client = ChatClient(gateway.url, KEY)

    async def go():
        try:
            return (await client.context_length("tiny-context"),
                    await client.context_length("not-listed"))
        finally:
            await client.close()

    assert run(go()) == (700, None)
