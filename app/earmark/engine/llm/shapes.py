"""Gateway wire shapes (assemblyai-v3.md §11): request validation, responses, chunks, models.

Providers answer in whatever shape their backend has; everything leaving the service goes
through here so a client cannot tell a local model from the AssemblyAI LLM Gateway.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .service import LLMError

ROLES = frozenset({"system", "user", "assistant", "tool", "developer"})
# Marks the engine's own `/v1/models`, so probing never discovers the engine itself.
ENGINE_HEADER = "X-Earmark-Engine"
DEFAULT_MAX_TOKENS = 1000


def new_request_id() -> str:
    return str(uuid.uuid4())


# --- requests -------------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _content_errors(i: int, message: dict[str, Any]) -> list[str]:
    content = message.get("content")
    if isinstance(content, str):
        return []
    if content is None:
        if message.get("role") == "assistant" and message.get("tool_calls"):
            return []
        return [f"messages[{i}].content is required"]
    if isinstance(content, list):
        bad = [
            j
            for j, part in enumerate(content)
            if not isinstance(part, dict)
            or part.get("type") != "text"
            or not isinstance(part.get("text"), str)
        ]
        return [f"messages[{i}].content[{j}] must be {{type: 'text', text: string}}" for j in bad]
    return [f"messages[{i}].content must be a string or an array of text parts"]


def _message_errors(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not messages:
        return ["messages must be a non-empty array"]
    errors: list[str] = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            errors.append(f"messages[{i}] must be an object")
            continue
        if message.get("role") not in ROLES:
            errors.append(f"messages[{i}].role must be one of {', '.join(sorted(ROLES))}")
        errors.extend(_content_errors(i, message))
    return errors


def _parameter_errors(body: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    if "max_tokens" in body and not (_is_int(body["max_tokens"]) and body["max_tokens"] >= 1):
        errors.append("max_tokens must be an integer >= 1")
    if "temperature" in body and not (
        _is_number(body["temperature"]) and 0 <= body["temperature"] <= 2
    ):
        errors.append("temperature must be a number between 0 and 2")
    if "top_p" in body and not (_is_number(body["top_p"]) and 0 <= body["top_p"] <= 1):
        errors.append("top_p must be a number between 0 and 1")
    if "top_k" in body and not (_is_int(body["top_k"]) and body["top_k"] >= 0):
        errors.append("top_k must be an integer >= 0")
    if "stream" in body and not isinstance(body["stream"], bool):
        errors.append("stream must be a boolean")
    stop = body.get("stop")
    if stop is not None and not (
        isinstance(stop, str) or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
    ):
        errors.append("stop must be a string or an array of strings")
    fallbacks = body.get("fallbacks")
    if fallbacks is not None and not (
        isinstance(fallbacks, list)
        and all(isinstance(f, dict) and isinstance(f.get("model"), str) for f in fallbacks)
    ):
        errors.append("fallbacks must be an array of objects with a model")
    return errors


def normalize_request(body: Any) -> dict[str, Any]:
    """Validate a chat-completions body; return a copy with `prompt` folded into `messages`.

    Raises LLMError(400) listing every problem, as the Gateway's business envelope does.
    """
    if not isinstance(body, dict):
        raise LLMError(400, "invalid request body", ["request body must be a JSON object"])
    errors: list[str] = []
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        errors.append("model is required")
    prompt = body.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        errors.append("prompt must be a string")
    if "messages" in body or prompt is None:
        errors.extend(_message_errors(body.get("messages")))
    errors.extend(_parameter_errors(body))
    if errors:
        raise LLMError(400, "invalid request body", errors)
    request = {k: v for k, v in body.items() if k != "prompt"}
    messages = list(body.get("messages") or [])
    if isinstance(prompt, str):
        messages.append({"role": "user", "content": prompt})
    request["messages"] = messages
    return request


def request_echo(request: dict[str, Any]) -> dict[str, Any]:
    """The response's `request` field: the request minus its prompt/messages."""
    return {k: v for k, v in request.items() if k not in ("messages", "prompt")}


def text_of(content: Any) -> str:
    """Message content as plain text (text parts joined), for backends that take strings."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


# --- responses ------------------------------------------------------------------------------


@dataclass
class Completion:
    """What a provider produced, before it is dressed in the Gateway response shape."""

    choices: list[dict[str, Any]]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_id: str | None = None
    llm_status_code: int = 200
    usage_details: dict[str, Any] = field(default_factory=dict)


def normalize_choice(choice: dict[str, Any], index: int = 0) -> dict[str, Any]:
    message = choice.get("message") or {}
    out_message: dict[str, Any] = {
        "role": message.get("role") or "assistant",
        "content": message.get("content") if message.get("content") is not None else "",
    }
    for key in ("tool_calls", "thinking"):
        if message.get(key):
            out_message[key] = message[key]
    return {
        "index": choice.get("index", index),
        "message": out_message,
        "finish_reason": choice.get("finish_reason"),
    }


def usage(prompt_tokens: int, completion_tokens: int, **details: Any) -> dict[str, Any]:
    """Usage under both the Gateway's and OpenAI's names."""
    return {
        "input_tokens": prompt_tokens,
        "prompt_tokens": prompt_tokens,
        "output_tokens": completion_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        **details,
    }


def usage_from(raw: Any) -> tuple[int, int, dict[str, Any]]:
    """(prompt, completion, details) from an OpenAI- or Gateway-style usage object."""
    if not isinstance(raw, dict):
        return 0, 0, {}
    prompt = raw.get("prompt_tokens", raw.get("input_tokens")) or 0
    completion = raw.get("completion_tokens", raw.get("output_tokens")) or 0
    details = {k: v for k, v in raw.items() if k.endswith("_details") and isinstance(v, dict)}
    return int(prompt), int(completion), details


def completion_response(
    request: dict[str, Any], completion: Completion, started_ns: int, model: str | None = None
) -> dict[str, Any]:
    """The Gateway response (§11.4); `started_ns` is a `time.perf_counter_ns()` reading.
    `model` (as in OpenAI's responses) is the id of the model that answered, which is not the
    requested one (kept in `request`) when the engine substituted its default model."""
    return {
        "request_id": completion.request_id or new_request_id(),
        "model": model or request.get("model", ""),
        "request": request_echo(request),
        "choices": [normalize_choice(c, i) for i, c in enumerate(completion.choices)],
        "usage": usage(
            completion.prompt_tokens, completion.completion_tokens, **completion.usage_details
        ),
        "http_status_code": 200,
        "response_time": time.perf_counter_ns() - started_ns,
        "llm_status_code": completion.llm_status_code,
    }


def chunk(
    chunk_id: str,
    created: int,
    model: str,
    choices: list[dict[str, Any]],
    usage_obj: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": chunk_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage_obj is not None:
        out["usage"] = usage_obj
    return out


def normalize_chunk(raw: dict[str, Any], chunk_id: str, created: int, model: str) -> dict[str, Any]:
    """A backend's stream chunk re-labelled with the stream's id and the requested model id."""
    choices = [
        {
            "index": c.get("index", i),
            "delta": {k: v for k, v in (c.get("delta") or {}).items() if v is not None},
            "finish_reason": c.get("finish_reason"),
        }
        for i, c in enumerate(raw.get("choices") or [])
    ]
    usage_obj = None
    if isinstance(raw.get("usage"), dict):
        prompt, completion, details = usage_from(raw["usage"])
        usage_obj = usage(prompt, completion, **details)
    return chunk(chunk_id, created, model, choices, usage_obj)


# --- errors ---------------------------------------------------------------------------------


def business_error(error: LLMError, request_id: str) -> dict[str, Any]:
    return {
        "message": error.message,
        "code": error.status,
        "request_id": request_id,
        "metadata": {"errors": list(error.errors)},
    }


def auth_error(request_id: str) -> dict[str, Any]:
    return {
        "error": "Authentication error, API token missing/invalid",
        "status": "error",
        "request_id": request_id,
    }


def model_not_found(model: str) -> LLMError:
    return LLMError(
        400, "model not found", [f"model {model!r} is not available; see GET /v1/models"]
    )


# --- models ---------------------------------------------------------------------------------


def model_entry(
    model_id: str,
    *,
    name: str,
    description: str,
    creator: str,
    provider_id: str,
    provider_name: str,
    context_length: int = 0,
    max_completion_tokens: int = 0,
    supported_parameters: list[str] | None = None,
    default_parameters: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `GET /v1/models` entry (§11.5) for a model the engine serves itself (free, local)."""
    provider = {"id": provider_id, "name": provider_name}
    return {
        "id": model_id,
        "name": name,
        "description": description,
        "creator": creator,
        "context_length": context_length,
        "default_parameters": default_parameters
        or {"temperature": None, "top_p": None, "frequency_penalty": None},
        "supported_parameters": supported_parameters or [],
        "top_provider": {
            "is_moderated": False,
            "context_length": context_length,
            "max_completion_tokens": max_completion_tokens,
        },
        "pricing": {"global": {"prompt": "0", "completions": "0"}},
        "retirement_date": 0,
        "available_regions": ["local"],
        "providers": [provider],
        "default_provider": provider,
    }
