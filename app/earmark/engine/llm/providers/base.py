"""What the registry needs from a backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from ..shapes import Completion


class Provider(Protocol):
    """A backend. `request` is already validated (shapes.normalize_request); `model` is the
    backend's own name for the model (the registry strips any routing prefix)."""

    async def list_models(self) -> list[dict[str, Any]]: ...

    async def complete(self, request: dict[str, Any], model: str) -> Completion: ...

    def stream(self, request: dict[str, Any], model: str) -> AsyncIterator[dict[str, Any]]:
        """OpenAI-style `chat.completion.chunk` dicts; the registry relabels them."""
        ...

    async def close(self) -> None: ...
