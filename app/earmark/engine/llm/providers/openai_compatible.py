"""Any OpenAI-compatible server on this machine (Ollama, llama.cpp server, LM Studio).

Servers are probed with a short timeout and the answer is cached, so listing models costs at
most one quick round of requests a minute even when nothing is running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from .. import shapes
from ..options import OpenAIServer
from ..service import LLMError
from .http import HttpClient, get_json, post_json, post_sse

log = logging.getLogger(__name__)

# What an OpenAI-style server understands; Gateway-only fields (fallbacks, transcript_id,
# post_processing_steps, ...) are not forwarded.
FORWARDED_FIELDS = (
    "messages",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "tools",
    "tool_choice",
    "response_format",
    "stream",
    "stream_options",
)


class OpenAICompatibleProvider:
    def __init__(
        self, server: OpenAIServer, http: HttpClient, probe_timeout_s: float, cache_s: float
    ) -> None:
        self.server = server
        self._http = http
        self._probe_timeout_s = probe_timeout_s
        self._cache_s = cache_s
        self._models: list[str] = []
        self._probed_at: float | None = None
        self._probe_lock = asyncio.Lock()

    @property
    def prefix(self) -> str:
        return self.server.prefix

    def _url(self, path: str) -> str:
        return self.server.base_url.rstrip("/") + path

    async def probe(self) -> list[str]:
        """The server's model names, or [] when it is not running; cached for `cache_s`."""
        async with self._probe_lock:  # concurrent listings share one probe
            fresh = self._probed_at is not None and (
                time.monotonic() - self._probed_at < self._cache_s
            )
            if not fresh:
                self._models = await self._fetch_models()
                self._probed_at = time.monotonic()
            return list(self._models)

    async def _fetch_models(self) -> list[str]:
        try:
            data, headers = await get_json(
                self._http,
                self._url("/models"),
                label=self.server.label,
                timeout_s=self._probe_timeout_s,
            )
        except LLMError as e:
            log.debug("%s not available: %s", self.server.label, e.message)
            return []
        if shapes.ENGINE_HEADER.lower() in {k.lower() for k in headers}:
            return []  # that is this engine (or another Earmark engine) answering
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        return [e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]

    async def list_models(self) -> list[dict[str, Any]]:
        return [
            shapes.model_entry(
                f"{self.prefix}/{name}",
                name=f"{name} ({self.server.label})",
                description=f"{name}, served by {self.server.label} at {self.server.base_url}.",
                creator=self.server.label,
                provider_id=self.prefix,
                provider_name=self.server.label,
                supported_parameters=[f for f in FORWARDED_FIELDS if f != "messages"],
            )
            for name in await self.probe()
        ]

    def _body(self, request: dict[str, Any], model: str, stream: bool) -> dict[str, Any]:
        body = {k: request[k] for k in FORWARDED_FIELDS if k in request}
        body["model"] = model
        body["stream"] = stream
        return body

    async def complete(self, request: dict[str, Any], model: str) -> shapes.Completion:
        data = await post_json(
            self._http,
            self._url("/chat/completions"),
            self._body(request, model, stream=False),
            label=self.server.label,
            headers={},
        )
        prompt, completion, details = shapes.usage_from(data.get("usage"))
        return shapes.Completion(
            choices=data["choices"],
            prompt_tokens=prompt,
            completion_tokens=completion,
            usage_details=details,
        )

    async def stream(self, request: dict[str, Any], model: str) -> AsyncIterator[dict[str, Any]]:
        async for data in post_sse(
            self._http,
            self._url("/chat/completions"),
            self._body(request, model, stream=True),
            label=self.server.label,
            headers={},
        ):
            yield data

    async def close(self) -> None:
        """The shared HttpClient is closed by the registry."""
