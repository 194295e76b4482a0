"""The engine's aiohttp application: the v3 websocket, its auth, health, and the LLM routes."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from earmark.core.protocol import CloseCode, ProtocolError, ServerError, StreamingParams, to_json

from .stream import SessionContext, StreamSession, check_params

log = logging.getLogger(__name__)

CONTEXT_KEY = web.AppKey("earmark_session_context", SessionContext)
SESSIONS_KEY = web.AppKey("earmark_sessions", set)
WS_PATHS = ("/v3/ws", "/v3/ws/", "/", "//v3/ws")  # the Python SDK makes `//v3/ws` from a host/


def credential(request: web.Request) -> str | None:
    """The credential as AssemblyAI takes it: `Authorization` (raw, `Bearer ` tolerated) or
    the `token` query parameter."""
    header = request.headers.get("Authorization")
    if header:
        header = header.strip()
        if header[:7].lower() == "bearer ":
            header = header[7:].strip()
        return header
    return request.query.get("token")


def is_authorized(request: web.Request, token: str) -> bool:
    given = credential(request)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


async def _reject(ws: web.WebSocketResponse, code: int, message: str) -> None:
    await ws.send_str(to_json(ServerError(error=message, error_code=code)))
    await ws.close(code=code, message=message.encode()[:123])


def build_app(ctx: SessionContext, token: str, llm_service: Any | None = None) -> web.Application:
    app = web.Application()
    app[CONTEXT_KEY] = ctx
    app[SESSIONS_KEY] = set()

    async def streaming(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=8 * 1024 * 1024)
        await ws.prepare(request)
        if not is_authorized(request, token):
            reason = ("Missing Authorization header" if credential(request) is None
                      else "Invalid API key or token")
            log.info("rejected a connection from %s: %s", request.remote, reason)
            await _reject(ws, CloseCode.POLICY, f"Unauthorized Connection: {reason}")
            return ws
        try:
            params = StreamingParams.from_query(request.query)
        except ProtocolError as exc:
            await _reject(ws, CloseCode.INVALID_MESSAGE, str(exc))
            return ws
        problem = check_params(params)
        if problem:
            await _reject(ws, CloseCode.INVALID_MESSAGE, problem)
            return ws
        if params.unknown:
            log.debug("ignoring unknown parameters: %s", sorted(params.unknown))
        session = StreamSession(ws, params, ctx)
        app[SESSIONS_KEY].add(session)
        try:
            await session.run()
        finally:
            app[SESSIONS_KEY].discard(session)
        return ws

    async def health(request: web.Request) -> web.Response:
        resources = ctx.resources
        status = "ready" if resources.is_ready() else ("error" if resources.error else "loading")
        body = {"status": status, "speech_model": resources.speech_model,
                "sessions": len(app[SESSIONS_KEY])}
        if resources.error:
            body["error"] = resources.error
        return web.json_response(body)

    async def close_sessions(app: web.Application) -> None:
        for session in list(app[SESSIONS_KEY]):
            await session.shutdown()

    app.router.add_get("/v3/ws/health", health)
    app.router.add_get("/health", health)
    for path in WS_PATHS:
        app.router.add_get(path, streaming)
    app.on_shutdown.append(close_sessions)
    _add_llm_routes(app, llm_service, token)
    return app


def _add_llm_routes(app: web.Application, service: Any | None, token: str) -> None:
    if service is None:
        log.info("no LLM service: the /v1 LLM routes are not mounted")
        return
    try:
        from earmark.engine.llm.routes import add_llm_routes
    except ImportError as exc:
        log.warning("LLM routes unavailable (earmark.engine.llm.routes: %s); "
                    "per-turn LLM answers still work", exc)
        return
    add_llm_routes(app, service, check_auth=lambda request: is_authorized(request, token))
