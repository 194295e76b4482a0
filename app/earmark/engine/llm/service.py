"""The contract between the engine's streaming sessions / HTTP routes and its LLM providers.

A request and a response are dicts shaped exactly like the LLM Gateway's chat-completions API
(shared/protocol/assemblyai-v3.md §11): the same body works against AssemblyAI or the engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol


class LLMError(Exception):
    """A failed chat completion: `status` is the HTTP status the Gateway would answer with."""

    def __init__(self, status: int, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


class LLMService(Protocol):
    """What the engine needs from its LLM side. All methods are coroutines on the engine's loop;
    implementations run blocking inference in their own worker thread."""

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """One chat completion (Gateway response shape). Raises LLMError."""
        ...

    def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """`chat.completion.chunk` dicts, as the SSE stream carries them. Raises LLMError."""
        ...

    async def list_models(self) -> list[dict[str, Any]]:
        """Model entries in the Gateway's `GET /v1/models` shape (`id`, `name`, ...)."""
        ...

    async def close(self) -> None: ...
