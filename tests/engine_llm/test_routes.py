"""The Gateway REST surface, over real HTTP, against the bundled SmolLM2."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from tests.engine_llm.llm_support import ENGINE_TOKEN, Engine, Run

AUTH = {"Authorization": ENGINE_TOKEN}
GATEWAY_MODEL_KEYS = {
    "id",
    "name",
    "description",
    "creator",
    "context_length",
    "default_parameters",
    "supported_parameters",
    "top_provider",
    "pricing",
    "retirement_date",
    "available_regions",
    "providers",
    "default_provider",
}


async def call(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, raw: str = ""
) -> tuple[int, dict[str, str], str]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            url,
            data=raw or (json.dumps(body) if body is not None else None),
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.text()


def post_chat(run: Run, engine: Engine, body: Any, headers: dict[str, str] | None = AUTH):
    status, resp_headers, text = run(
        call("POST", f"{engine.url}/v1/chat/completions", body, headers)
    )
    return status, resp_headers, text


def sse_payloads(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def test_models_lists_smollm2_first_as_tiny_experimental(run: Run, engine: Engine) -> None:
    assert run(call("GET", f"{engine.url}/v1/models"))[0] == 401  # the token, as on /v1/*
    status, _, text = run(call("GET", f"{engine.url}/v1/models", headers=AUTH))
    assert status == 200
    models = json.loads(text)["data"]
    ids = [m["id"] for m in models]
    assert ids[0] == "smollm2-135m"
    smol = models[0]
    assert smol.keys() >= GATEWAY_MODEL_KEYS
    blurb = (smol["name"] + " " + smol["description"]).lower()
    assert "tiny" in blurb and "experimental" in blurb
    assert "gguf:tiny-copy" in ids
    assert "fake/fake-llama" in ids  # discovered by probing the fake server
    assert not any(i.startswith("dead/") for i in ids)


def test_smollm2_completion_has_gateway_shape(run: Run, engine: Engine) -> None:
    body = {
        "model": "smollm2-135m",
        "messages": [
            {"role": "system", "content": "You are concise."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "What is the capital of France?"}],
            },
        ],
        "max_tokens": 16,
    }
    status, _, text = post_chat(run, engine, body)
    assert status == 200, text
    data = json.loads(text)
    assert isinstance(data["request_id"], str) and data["request_id"]
    assert data["request"] == {"model": "smollm2-135m", "max_tokens": 16}
    assert data["model"] == "smollm2-135m"
    (choice,) = data["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].strip()
    assert choice["finish_reason"] in ("stop", "length")
    usage = data["usage"]
    assert usage["input_tokens"] == usage["prompt_tokens"] > 10
    assert 0 < usage["output_tokens"] == usage["completion_tokens"] <= 16
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert data["http_status_code"] == 200 and data["llm_status_code"] == 200
    assert isinstance(data["response_time"], int) and data["response_time"] > 1_000_000  # ns


def test_prompt_shortcut_becomes_a_user_message(run: Run, engine: Engine) -> None:
    status, _, text = post_chat(
        run, engine, {"model": "smollm2-135m", "prompt": "Say hello.", "max_tokens": 8}
    )
    assert status == 200, text
    data = json.loads(text)
    assert "prompt" not in data["request"] and "messages" not in data["request"]
    assert data["choices"][0]["message"]["content"].strip()
    assert data["usage"]["prompt_tokens"] > 3


def test_stream_yields_chunks_then_done(run: Run, engine: Engine) -> None:
    messages = [{"role": "user", "content": "Name three colours."}]
    body = {
        "model": "smollm2-135m",
        "messages": messages,
        "max_tokens": 16,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    status, headers, text = post_chat(run, engine, body)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/event-stream")
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert len(chunks) >= 3
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    assert {c["model"] for c in chunks} == {"smollm2-135m"}
    content = "".join(ch["delta"].get("content", "") for c in chunks for ch in c["choices"])
    assert content.strip()
    assert any(ch["finish_reason"] in ("stop", "length") for c in chunks for ch in c["choices"])
    usage = chunks[-1]["usage"]
    # The stream counts its prompt itself; it must agree with llama-cpp's own count.
    reference = run(
        engine.service.complete({"model": "smollm2-135m", "messages": messages, "max_tokens": 1})
    )
    assert usage["prompt_tokens"] == reference["usage"]["prompt_tokens"]
    assert 0 < usage["completion_tokens"] <= 16


@pytest.mark.parametrize(
    ("body", "expected_error"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model is required"),
        ({"model": "smollm2-135m"}, "messages must be a non-empty array"),
        (
            {"model": "smollm2-135m", "prompt": "hi", "max_tokens": 0},
            "max_tokens must be an integer >= 1",
        ),
        (
            {"model": "smollm2-135m", "messages": [{"role": "robot", "content": "hi"}]},
            "messages[0].role must be one of",
        ),
        ([1, 2], "request body must be a JSON object"),
    ],
)
def test_validation_errors_use_the_business_envelope(
    run: Run, engine: Engine, body: Any, expected_error: str
) -> None:
    status, _, text = post_chat(run, engine, body)
    assert status == 400
    data = json.loads(text)
    assert set(data) == {"message", "code", "request_id", "metadata"}
    assert data["code"] == 400 and data["message"] == "invalid request body"
    assert data["request_id"]
    assert any(e.startswith(expected_error) for e in data["metadata"]["errors"]), data


def test_invalid_json_is_a_400(run: Run, engine: Engine) -> None:
    status, _, text = run(
        call("POST", f"{engine.url}/v1/chat/completions", headers=AUTH, raw="{not json")
    )
    assert status == 400
    assert json.loads(text)["metadata"]["errors"] == ["request body is not valid JSON"]


def test_unknown_model_is_a_400_model_not_found_when_strict(run: Run, strict_url: str) -> None:
    body = {"model": "no-such-model", "prompt": "hi"}
    status, _, text = run(call("POST", f"{strict_url}/v1/chat/completions", body, AUTH))
    assert status == 400
    data = json.loads(text)
    assert data["message"] == "model not found"
    assert "no-such-model" in data["metadata"]["errors"][0]


@pytest.mark.parametrize("headers", [None, {"Authorization": "wrong"}])
def test_bad_auth_is_a_401_auth_envelope(run: Run, engine: Engine, headers: Any) -> None:
    body = {"model": "smollm2-135m", "prompt": "hi"}
    status, _, text = post_chat(run, engine, body, headers=headers)
    assert status == 401
    data = json.loads(text)
    assert data["error"] == "Authentication error, API token missing/invalid"
    assert data["status"] == "error" and data["request_id"]


def test_bearer_auth_is_accepted(run: Run, engine: Engine) -> None:
    headers = {"Authorization": f"Bearer {ENGINE_TOKEN}"}
    body = {"model": "smollm2-135m", "prompt": "hi", "max_tokens": 2}
    status, _, text = post_chat(run, engine, body, headers=headers)
    assert status == 200, text


def test_forwarding_to_a_discovered_openai_server(run: Run, engine: Engine) -> None:
    body = {
        "model": "fake/fake-llama",
        "prompt": "ping the fake",
        "max_tokens": 5,
        "transcript_id": "gateway-only-field",
    }
    status, _, text = post_chat(run, engine, body)
    assert status == 200, text
    data = json.loads(text)
    assert data["choices"][0]["message"]["content"] == "echo: ping the fake"
    assert data["usage"]["input_tokens"] == 5 and data["usage"]["output_tokens"] == 3
    sent = engine.fake.chat_bodies[-1]
    assert sent["model"] == "fake-llama" and sent["max_tokens"] == 5
    assert sent["messages"] == [{"role": "user", "content": "ping the fake"}]
    assert "transcript_id" not in sent


def test_stream_forwarding_relabels_chunks(run: Run, engine: Engine) -> None:
    body = {"model": "fake/fake-llama", "prompt": "stream me please", "stream": True}
    status, _, text = post_chat(run, engine, body)
    assert status == 200, text
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]"
    chunks = [json.loads(p) for p in payloads[:-1]]
    assert {c["model"] for c in chunks} == {"fake/fake-llama"}
    content = "".join(ch["delta"].get("content", "") for c in chunks for ch in c["choices"])
    assert content == "echo: stream me please"
    assert engine.fake.chat_bodies[-1]["stream"] is True


def test_unreachable_server_is_a_503_envelope(run: Run, engine: Engine) -> None:
    for stream in (False, True):
        body = {"model": "dead/anything", "prompt": "hi", "stream": stream}
        status, _, text = post_chat(run, engine, body)
        assert status == 503
        data = json.loads(text)
        assert "unreachable" in data["message"] and engine.dead_url in data["message"]
