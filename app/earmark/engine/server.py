"""The engine's aiohttp application: the v3 websocket, its auth, health, and the LLM routes."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import hdrs, web

from earmark.core.protocol import CloseCode, ProtocolError, ServerError, StreamingParams, to_json

from .access import host_allowed, origin_allowed
from .limits import ServerLimits
from .stream import SessionContext, StreamSession, check_params

log = logging.getLogger(__name__)

CONTEXT_KEY = web.AppKey("earmark_session_context", SessionContext)
SESSIONS_KEY = web.AppKey("earmark_sessions", set)
LIMITS_KEY = web.AppKey("earmark_limits", ServerLimits)
TOO_MANY_SESSIONS = "Unauthorized Connection: Too many concurrent sessions"
WS_PATHS = ("/v3/ws", "/v3/ws/", "/", "//v3/ws")  # the Python SDK makes `//v3/ws` from a host/


def credential(request: web.Request, *, query: bool = True) -> str | None:
    """The credential as AssemblyAI takes it: `Authorization` (raw, `Bearer ` tolerated) or,
    when `query` (the websocket, where temporary tokens travel so), the `token` parameter."""
    header = request.headers.get("Authorization")
    if header:
        header = header.strip()
        if header[:7].lower() == "bearer ":
            header = header[7:].strip()
        return header
    return request.query.get("token") if query else None


def is_authorized(request: web.Request, token: str, *, query: bool = True) -> bool:
    given = credential(request, query=query)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a websocket is closed right after the upgrade: an Error frame, then this code."""

    code: int
    message: str


async def _reject(ws: web.WebSocketResponse, code: int, message: str) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):  # the client may be gone
        await ws.send_str(to_json(ServerError(error=message, error_code=code)))
        await ws.close(code=code, message=message.encode()[:123])


def admit(request: web.Request, token: str, active: int, max_sessions: int
          ) -> StreamingParams | Refusal:
    """The session's parameters, or why it cannot open: the credential, the parameters'
    kinds and ranges, then the session cap."""
    if not is_authorized(request, token):
        reason = ("Missing Authorization header" if credential(request) is None
                  else "Invalid API key or token")
        log.info("rejected a connection from %s: %s", request.remote, reason)
        return Refusal(CloseCode.POLICY, f"Unauthorized Connection: {reason}")
    try:
        params = StreamingParams.from_query(request.query)
    except ProtocolError as exc:
        return Refusal(CloseCode.INVALID_MESSAGE, str(exc))
    problem = check_params(params)
    if problem:
        return Refusal(CloseCode.INVALID_MESSAGE, problem)
    if active >= max_sessions:
        log.warning("refused a session: %d of %d already open", active, max_sessions)
        return Refusal(CloseCode.TOO_MANY_SESSIONS, TOO_MANY_SESSIONS)
    if params.unknown:
        log.debug("ignoring unknown parameters: %s", sorted(params.unknown))
    return params


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def access_middleware(limits: ServerLimits) -> Any:
    """403 for a `Host` that is not this engine (DNS rebinding) and for a web page's `Origin`
    (see access.py); before any route, so before a websocket upgrade."""

    @web.middleware
    async def check_access(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get(hdrs.HOST)
        if not host_allowed(host, _local_ip(request)):
            log.info("refused a request for host %r", (host or "")[:80])
            return web.Response(status=403, text="Forbidden: unknown Host\n")
        origin = request.headers.get(hdrs.ORIGIN)
        if not origin_allowed(origin, limits.allowed_origins, host):
            log.info("refused a request from origin %r", (origin or "")[:80])
            return web.Response(status=403, text="Forbidden: origin not allowed\n")
        return await handler(request)

    return check_access


def _local_ip(request: web.Request) -> str | None:
    transport = request.transport
    sockname = transport.get_extra_info("sockname") if transport is not None else None
    return sockname[0] if isinstance(sockname, tuple) and sockname else None


def build_app(ctx: SessionContext, token: str, llm_service: Any | None = None,
              limits: ServerLimits | None = None) -> web.Application:
    limits = limits or ServerLimits()
    app = web.Application(middlewares=[access_middleware(limits)])
    app[CONTEXT_KEY] = ctx
    app[SESSIONS_KEY] = set()
    app[LIMITS_KEY] = limits

    async def streaming(request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=8 * 1024 * 1024,
                                   heartbeat=limits.heartbeat_s or None)
        await ws.prepare(request)
        sessions = app[SESSIONS_KEY]
        active = sum(not s.finished for s in sessions)
        admitted = admit(request, token, active, limits.max_sessions)
        if isinstance(admitted, Refusal):
            await _reject(ws, admitted.code, admitted.message)
            return ws
        session = StreamSession(ws, admitted, ctx)
        sessions.add(session)
        try:
            await session.run()
        except Exception:
            log.exception("session %s failed", session.id)
            await session.fail(CloseCode.SERVER_ERROR, "Session Cancelled: An error occurred")
        finally:
            sessions.discard(session)
        return ws

    async def health(request: web.Request) -> web.Response:
        """Open to anyone on the machine, so only whether the engine can serve: no model
        path, no error text (they name local folders), no session count. With the token
        (the app): the models it runs and its sessions."""
        resources = ctx.resources
        status = "ready" if resources.is_ready() else ("error" if resources.error else "loading")
        body: dict[str, Any] = {"status": status}
        if is_authorized(request, token, query=False):
            body.update(speech_model=resources.speech_model,
                        final_speech_model=resources.final_speech_model,
                        sessions=len(app[SESSIONS_KEY]), error=resources.error,
                        **_llm_models(llm_service))
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


def _llm_models(service: Any | None) -> dict[str, Any]:
    """The LLM service's default model and the local models it serves: what it knows without
    probing servers or the Gateway (GET /v1/models lists those too). A service that is not
    the engine's registry (tests pass their own) may know neither."""
    if service is None:
        return {"llm_default_model": None, "llm_models": []}
    return {"llm_default_model": getattr(service, "default_model", None),
            "llm_models": list(getattr(service, "local_models", ()))}


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
    # Only the Authorization header on HTTP: a token in a URL ends up in logs and histories.
    add_llm_routes(app, service,
                   check_auth=lambda request: is_authorized(request, token, query=False))
