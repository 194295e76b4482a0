"""An async chat-completions client (aiohttp) for the LLM Gateway or the embedded engine.

It runs on the asyncio loop that qasync drives from the Qt event loop, so waiting for a reply
never blocks the window. Streaming (SSE) is the normal path; a 429 is retried a bounded number
of times after the wait the server asks for; every failure becomes an `LLMCallError`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ..core.llm import (
    LLMCallError,
    LLMErrorKind,
    SseDecoder,
    error_from_response,
    parse_chunk,
)
from ..core.llm.errors import envelope_details

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 90.0  # between two pieces of a stream (a long prompt's first token included)
MAX_RETRIES = 2  # for 429
MAX_RETRY_WAIT_S = 30.0  # a longer wait is reported instead of waited for
DEFAULT_BACKOFF_S = 2.0

DeltaCallback = Callable[[str], None]
WaitCallback = Callable[[float], None]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str  # the model that answered (a fallback, perhaps)
    finish_reason: str | None = None


@dataclass(slots=True)
class ChatClient:
    """One service: `base_url` (no `/v1`) and the credential sent as `Authorization`."""

    base_url: str
    credential: str = ""
    read_timeout: float = READ_TIMEOUT_S
    connect_timeout: float = CONNECT_TIMEOUT_S
    max_retries: int = MAX_RETRIES
    max_retry_wait: float = MAX_RETRY_WAIT_S
    sleep: Sleep = asyncio.sleep
    _session: aiohttp.ClientSession | None = field(default=None, init=False, repr=False)

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": self.credential} if self.credential else {}

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=None, connect=self.connect_timeout,
                                            sock_connect=self.connect_timeout,
                                            sock_read=self.read_timeout)
            self._session = aiohttp.ClientSession(timeout=timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}{path}"

    # --- models ----------------------------------------------------------------------------

    async def context_length(self, model: str) -> int | None:
        """The model's context window from `GET /v1/models`, or None when not listed."""
        try:
            async with self._http().get(self._url("/v1/models"),
                                        headers=self._auth_headers()) as response:
                if response.status != 200:
                    return None
                data = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.info("model catalogue unavailable: %s", exc)
            return None
        for entry in (data.get("data") if isinstance(data, dict) else None) or []:
            if isinstance(entry, dict) and entry.get("id") == model:
                top = entry.get("top_provider") if isinstance(entry.get("top_provider"),
                                                              dict) else {}
                for value in (entry.get("context_length"), top.get("context_length")):
                    if isinstance(value, int) and value > 0:
                        return value
        return None

    # --- chat --------------------------------------------------------------------------------

    async def chat(self, body: dict[str, Any], on_delta: DeltaCallback | None = None,
                   on_wait: WaitCallback | None = None) -> Completion:
        """Send `body` (streamed when `body["stream"]`); `on_delta` gets text as it arrives,
        `on_wait` the seconds of each rate-limit wait."""
        model = str(body.get("model", ""))
        attempt = 0
        while True:
            try:
                return await self._chat_once(body, on_delta)
            except LLMCallError as exc:
                if exc.kind != LLMErrorKind.RATE_LIMITED or attempt >= self.max_retries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None \
                    else DEFAULT_BACKOFF_S * 2 ** attempt
                if wait > self.max_retry_wait:
                    raise
                attempt += 1
                log.info("rate limited on %s; retry %d in %.1f s", model, attempt, wait)
                if on_wait is not None:
                    on_wait(wait)
                await self.sleep(wait)

    async def _chat_once(self, body: dict[str, Any],
                         on_delta: DeltaCallback | None) -> Completion:
        model = str(body.get("model", ""))
        headers = self._auth_headers()
        try:
            async with self._http().post(self._url("/v1/chat/completions"), json=body,
                                         headers=headers) as response:
                if response.status != 200:
                    raise error_from_response(response.status, response.headers,
                                              await response.read(), model)
                if "text/event-stream" in response.headers.get("Content-Type", ""):
                    return await _read_stream(response, model, on_delta)
                return _read_json(await response.read(), model, on_delta)
        except LLMCallError:
            raise
        except (TimeoutError, aiohttp.ServerTimeoutError):
            raise LLMCallError(
                LLMErrorKind.TIMEOUT,
                f"The LLM service did not answer within {self.read_timeout:g} s.") from None
        except (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError) as exc:
            raise _dropped(str(exc)) from None
        except aiohttp.ClientConnectorError as exc:
            raise LLMCallError(
                LLMErrorKind.NETWORK,
                f"Could not reach the LLM service at {self.base_url}: "
                f"{exc.os_error.strerror or exc}") from None
        except aiohttp.ClientError as exc:
            raise LLMCallError(LLMErrorKind.NETWORK,
                               f"The connection to the LLM service failed: {exc}") from None


def _dropped(detail: str = "") -> LLMCallError:
    suffix = f" ({detail})" if detail else ""
    return LLMCallError(LLMErrorKind.DROPPED,
                        f"The connection dropped before the answer was complete{suffix}.")


async def _read_stream(response: aiohttp.ClientResponse, model: str,
                       on_delta: DeltaCallback | None) -> Completion:
    decoder = SseDecoder()
    text: list[str] = []
    answered_by, finish = model, None

    def handle(data: str) -> bool:
        nonlocal answered_by, finish
        try:
            chunk = parse_chunk(data)
        except ValueError as exc:
            raise LLMCallError(LLMErrorKind.BAD_RESPONSE,
                               f"The LLM service sent an unreadable stream event: {exc}") from None
        if chunk.done:
            return True
        if chunk.error is not None:
            error = chunk.error if isinstance(chunk.error, dict) else {"error": chunk.error}
            message, errors, _ = envelope_details(error)
            detail = "; ".join([message, *errors]) or "unknown error"
            raise LLMCallError(LLMErrorKind.SERVER,
                               f"The LLM failed while answering: {detail}")
        answered_by = chunk.model or answered_by
        finish = chunk.finish_reason or finish
        if chunk.text:
            text.append(chunk.text)
            if on_delta is not None:
                on_delta(chunk.text)
        return False

    async for line in response.content:
        data = decoder.feed_line(line)
        if data is not None and handle(data):
            return Completion("".join(text), answered_by, finish)
    data = decoder.flush()
    if data is not None and handle(data):
        return Completion("".join(text), answered_by, finish)
    raise _dropped()


def _read_json(raw: bytes, model: str, on_delta: DeltaCallback | None) -> Completion:
    """A non-streamed answer (§11.4), e.g. from a server that ignores `stream`."""
    try:
        data = json.loads(raw)
        choice = data["choices"][0]
        content = choice["message"].get("content") or ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise LLMCallError(LLMErrorKind.BAD_RESPONSE,
                           "The LLM service's answer is not a chat completion.") from None
    if on_delta is not None and content:
        on_delta(content)
    answered = data.get("model") or (data.get("request") or {}).get("model") or model
    return Completion(str(content), str(answered), choice.get("finish_reason"))
