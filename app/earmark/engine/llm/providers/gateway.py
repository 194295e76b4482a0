"""Passthrough to the AssemblyAI LLM Gateway, used when the user has set an API key.

The request body is forwarded whole (the Gateway itself handles fallbacks, post-processing,
transcript substitution); model ids are the Gateway's own, unprefixed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from .. import shapes
from ..service import LLMError
from .http import HttpClient, get_json, post_json, post_sse

log = logging.getLogger(__name__)
LABEL = "AssemblyAI LLM Gateway"


class GatewayProvider:
    def __init__(self, base_url: str, api_key: str, http: HttpClient, cache_s: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key  # never logged, never put in an error message
        self._http = http
        self._cache_s = cache_s
        self._models: list[dict[str, Any]] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": self._api_key}

    async def list_models(self) -> list[dict[str, Any]]:
        """The Gateway's catalogue (cached); [] when it cannot be reached."""
        async with self._lock:
            if self._fetched_at is None or time.monotonic() - self._fetched_at >= self._cache_s:
                self._models = await self._fetch_models()
                self._fetched_at = time.monotonic()
            return list(self._models)

    async def _fetch_models(self) -> list[dict[str, Any]]:
        try:
            data, _ = await get_json(
                self._http,
                f"{self._base_url}/v1/models",
                label=LABEL,
                timeout_s=self._http.connect_timeout_s,
            )
        except LLMError as e:
            log.warning("could not list %s models: %s", LABEL, e.message)
            return []
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return []
        return [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]

    async def complete(self, request: dict[str, Any], model: str) -> shapes.Completion:
        data = await post_json(
            self._http,
            f"{self._base_url}/v1/chat/completions",
            {**request, "model": model, "stream": False},
            label=LABEL,
            headers=self._headers(),
        )
        prompt, completion, details = shapes.usage_from(data.get("usage"))
        llm_status = data.get("llm_status_code")
        return shapes.Completion(
            choices=data["choices"],
            prompt_tokens=prompt,
            completion_tokens=completion,
            request_id=data.get("request_id") if isinstance(data.get("request_id"), str) else None,
            llm_status_code=llm_status if isinstance(llm_status, int) else 200,
            usage_details=details,
        )

    async def stream(self, request: dict[str, Any], model: str) -> AsyncIterator[dict[str, Any]]:
        async for data in post_sse(
            self._http,
            f"{self._base_url}/v1/chat/completions",
            {**request, "model": model, "stream": True},
            label=LABEL,
            headers=self._headers(),
        ):
            yield data

    async def close(self) -> None:
        """The shared HttpClient is closed by the registry."""
