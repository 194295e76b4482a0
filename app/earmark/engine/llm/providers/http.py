"""HTTP plumbing for remote backends: one shared aiohttp session, JSON and SSE calls, and the
mapping of network failures and upstream errors onto LLMError statuses."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp

from ..service import LLMError


class HttpClient:
    """The session is created on first use because aiohttp binds it to the running loop."""

    def __init__(self, connect_timeout_s: float, request_timeout_s: float) -> None:
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def json_timeout(self, total_s: float | None = None) -> aiohttp.ClientTimeout:
        total = self.request_timeout_s if total_s is None else total_s
        return aiohttp.ClientTimeout(total=total, connect=min(self.connect_timeout_s, total))

    def stream_timeout(self) -> aiohttp.ClientTimeout:
        """No cap on the whole stream, only on the silence between chunks."""
        return aiohttp.ClientTimeout(
            total=None, connect=self.connect_timeout_s, sock_read=self.request_timeout_s
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@contextmanager
def translated(label: str, url: str, timeout_s: float) -> Iterator[None]:
    """Network failures as LLMError: unreachable → 503, timeout → 504, anything else → 502."""
    try:
        yield
    except TimeoutError as e:
        raise LLMError(504, f"{label} did not answer within {timeout_s:g} s ({url})") from e
    except aiohttp.ClientConnectorError as e:
        raise LLMError(503, f"{label} is unreachable at {url}: {e.os_error}") from e
    except (aiohttp.ClientError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise LLMError(502, f"{label} sent a bad response ({url}): {e}") from e


def upstream_error(label: str, status: int, text: str) -> LLMError:
    """An upstream's HTTP error (OpenAI, Ollama or Gateway envelope) as the status we answer."""
    message, errors = text.strip()[:500] or f"HTTP {status}", []
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):  # OpenAI / Ollama / llama.cpp server
            message = str(error.get("message") or message)
        elif isinstance(error, str):  # Gateway auth envelope, some servers
            message = error
        elif isinstance(data.get("message"), str):  # Gateway business envelope
            message = data["message"]
            errors = list((data.get("metadata") or {}).get("errors") or [])
    if status in (401, 403):
        return LLMError(502, f"{label} rejected the credentials: {message}", errors)
    if status == 404:
        return LLMError(400, "model not found", [f"{label}: {message}", *errors])
    if 400 <= status < 500:
        return LLMError(status, message, errors)
    return LLMError(502, f"{label} failed with HTTP {status}: {message}", errors)


async def get_json(
    client: HttpClient,
    url: str,
    *,
    label: str,
    timeout_s: float | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[Any, dict[str, str]]:
    """(parsed body, response headers)."""
    timeout = client.json_timeout(timeout_s)
    with translated(label, url, timeout.total or 0):
        async with client.session().get(url, headers=headers, timeout=timeout) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise upstream_error(label, resp.status, text)
            return json.loads(text), dict(resp.headers)


async def post_json(
    client: HttpClient, url: str, body: dict[str, Any], *, label: str, headers: dict[str, str]
) -> dict[str, Any]:
    timeout = client.json_timeout()
    with translated(label, url, timeout.total or 0):
        async with client.session().post(url, json=body, headers=headers, timeout=timeout) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise upstream_error(label, resp.status, text)
            data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise LLMError(502, f"{label} answered without choices ({url})")
    return data


async def post_sse(
    client: HttpClient, url: str, body: dict[str, Any], *, label: str, headers: dict[str, str]
) -> AsyncIterator[dict[str, Any]]:
    """The `data:` payloads of an SSE chat stream, up to `[DONE]`."""
    timeout = client.stream_timeout()
    session = client.session()
    with translated(label, url, client.request_timeout_s):
        async with session.post(url, json=body, headers=headers, timeout=timeout) as resp:
            if resp.status >= 400:
                raise upstream_error(label, resp.status, await resp.text())
            async for raw in resp.content:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    return
                data = json.loads(payload)
                if isinstance(data, dict) and data.get("error"):
                    raise upstream_error(label, 502, payload)
                yield data
