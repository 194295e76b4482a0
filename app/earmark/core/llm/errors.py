"""What went wrong with a chat-completions call, in a sentence a user can act on.

The Gateway answers errors in two envelopes (§11.6): business/validation/access/rate-limit
`{"message", "code", "request_id", "metadata": {"errors": [...]}}` and the auth middleware's
`{"error": "<text>", "status": "error", "request_id"}`; OpenAI-style servers send
`{"error": {"message": ...}}`. All three are read here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any


class LLMErrorKind(StrEnum):
    AUTH = "auth"  # 401/403: the key (or engine token) is missing or wrong
    ACCESS = "access"  # 400: the account may not use this model
    REJECTED = "rejected"  # 400/404/413/422: the request itself was refused
    RATE_LIMITED = "rate_limited"  # 429, after the bounded retries
    SERVER = "server"  # 5xx
    TIMEOUT = "timeout"
    DROPPED = "dropped"  # the stream ended before [DONE]
    NETWORK = "network"  # could not connect
    BAD_RESPONSE = "bad_response"  # not the documented shape


class LLMCallError(Exception):
    def __init__(self, kind: LLMErrorKind, message: str, *, status: int | None = None,
                 request_id: str = "", retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after


def envelope_details(body: Any) -> tuple[str, list[str], str]:
    """(message, detail errors, request_id) from any of the three error envelopes."""
    if not isinstance(body, dict):
        return "", [], ""
    request_id = str(body.get("request_id") or "")
    error = body.get("error")
    if isinstance(error, str):  # the Gateway's auth middleware
        return error, [], request_id
    if isinstance(error, dict):  # OpenAI style, or the OpenAPI spec's variant
        body = error
    message = str(body.get("message") or "")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    errors = metadata.get("errors") if isinstance(metadata.get("errors"), list) else []
    return message, [str(e) for e in errors], request_id or str(body.get("request_id") or "")


def error_from_response(status: int, headers: Mapping[str, str], body: bytes,
                        model: str = "") -> LLMCallError:
    try:
        parsed = json.loads(body.decode("utf-8", "replace")) if body else None
    except json.JSONDecodeError:
        parsed = None
    message, errors, request_id = envelope_details(parsed)
    if not message and not errors:
        message = body.decode("utf-8", "replace").strip()[:200] or f"HTTP {status}"
    detail = "; ".join([message, *errors]) if errors else message
    which = f"“{model}”" if model else "this model"
    lowered = detail.lower()
    if status in (401, 403) and "access" not in lowered:
        kind = LLMErrorKind.AUTH
        text = ("The LLM service refused the credentials: the AssemblyAI API key is missing or "
                f"invalid ({detail}). Check the key in File → Settings.")
    elif status == 429:
        kind = LLMErrorKind.RATE_LIMITED
        retry = retry_after_seconds(headers)
        limit = _header(headers, "x-ratelimit-limit")
        per = f" (limit {limit} requests a minute)" if limit else ""
        when = f" Try again in {round(retry)} s." if retry is not None else " Try again later."
        text = f"The LLM service is rate-limiting {which}{per}.{when}"
        return LLMCallError(kind, text, status=status, request_id=request_id,
                            retry_after=retry)
    elif status in (400, 403) and ("access" in lowered or "not allowed" in lowered):
        kind = LLMErrorKind.ACCESS
        text = (f"Your account cannot use {which}: {detail}. Choose another model, or add "
                "fallback models in File → Settings.")
    elif status >= 500:
        kind = LLMErrorKind.SERVER
        text = f"The LLM service had an error (HTTP {status}): {detail}"
    else:
        kind = LLMErrorKind.REJECTED
        text = f"The LLM service rejected the request (HTTP {status}): {detail}"
    return LLMCallError(kind, text, status=status, request_id=request_id)


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """How long a 429 asks to wait: `retry-after` (seconds or an HTTP date), else
    `x-ratelimit-reset` (seconds, or a Unix time). None when neither says."""
    now = time.time() if now is None else now
    value = _header(headers, "retry-after")
    if value:
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = parsedate_to_datetime(value).timestamp() - now
            except (TypeError, ValueError, IndexError):
                seconds = None
        if seconds is not None:
            return max(0.0, seconds)
    for name in ("x-ratelimit-reset", "x-ratelimit-reset-requests"):
        seconds = _number(_header(headers, name))
        if seconds is not None:
            return max(0.0, seconds - now) if seconds > 1e9 else max(0.0, seconds)
    return None


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value).strip()
    return ""


def _number(text: str) -> float | None:
    text = text.strip().lower()
    scale = 1.0
    if text.endswith("ms"):
        text, scale = text[:-2], 0.001
    elif text.endswith("s"):
        text = text[:-1]
    try:
        return float(text) * scale
    except ValueError:
        return None
