"""The LLM Gateway's REST surface on the engine's aiohttp app (assemblyai-v3.md §11)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from . import shapes
from .service import LLMError, LLMService

log = logging.getLogger(__name__)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers={shapes.ENGINE_HEADER: "1"})


def _sse(data: Any) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def add_llm_routes(
    app: web.Application,
    service: LLMService,
    check_auth: Callable[[web.Request], bool] | None = None,
) -> None:
    """Mount `POST /v1/chat/completions` and `GET /v1/models`, both behind `check_auth` when
    given. The Gateway's model list is open, but the engine's names the user's local model
    files and servers, so it takes the credential like every other /v1 route."""

    async def chat_completions(request: web.Request) -> web.StreamResponse:
        request_id = shapes.new_request_id()
        if check_auth is not None and not check_auth(request):
            return _json(shapes.auth_error(request_id), status=401)
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            error = LLMError(400, "invalid request body", ["request body is not valid JSON"])
            return _json(shapes.business_error(error, request_id), status=400)
        try:
            if isinstance(body, dict) and body.get("stream") is True:
                return await _stream(request, service.stream(body), request_id)
            return _json(await service.complete(body))
        except LLMError as e:
            if e.status >= 500:
                log.warning("chat completion failed (%d): %s", e.status, e.message)
            return _json(shapes.business_error(e, request_id), status=e.status)

    async def models(request: web.Request) -> web.Response:
        if check_auth is not None and not check_auth(request):
            return _json(shapes.auth_error(shapes.new_request_id()), status=401)
        return _json({"data": await service.list_models()})

    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", models)


async def _stream(
    request: web.Request, chunks: AsyncIterator[dict[str, Any]], request_id: str
) -> web.StreamResponse:
    """SSE. The first chunk is awaited before the 200 goes out, so validation, routing and
    connection errors still get their proper status; a later failure becomes an error event."""
    try:
        try:
            first: dict[str, Any] | None = await anext(chunks)
        except StopAsyncIteration:
            first = None
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                shapes.ENGINE_HEADER: "1",
            }
        )
        await response.prepare(request)
        try:
            if first is not None:
                await response.write(_sse(first))
                async for chunk in chunks:
                    await response.write(_sse(chunk))
            await response.write(b"data: [DONE]\n\n")
        except LLMError as e:
            log.warning("chat stream failed (%d): %s", e.status, e.message)
            await response.write(_sse({"error": shapes.business_error(e, request_id)}))
        except ConnectionResetError:
            log.info("client left a chat stream; generation stopped")
            return response
        await response.write_eof()
        return response
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()  # stops a local generation nobody is reading any more
