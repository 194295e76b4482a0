"""A local HTTP server that answers like the AssemblyAI LLM Gateway (assemblyai-v3.md §11):
`GET /v1/models` with `context_length`, `POST /v1/chat/completions` as SSE (§11.3) or JSON
(§11.4), and its two error envelopes (§11.6). It runs on its own thread and asyncio loop, so
it is independent of the Qt/qasync loop the code under test runs on.

What a request gets is decided by its model id (see `behaviour`), so one server serves every
scenario; `requests` records each request's body and Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

KEY = "gw-test-key-0001"

MODELS = {
    "claude-sonnet-4-6": 200_000,
    "gpt-5-mini": 128_000,
    "tiny-context": 700,  # forces the map-reduce of any real transcript
    "no-access": 128_000,
    "fails-at-runtime": 128_000,
    "rate-limited": 128_000,
    "rate-limited-long": 128_000,
    "drops": 128_000,
    "drops-clean": 128_000,
    "error-mid-stream": 128_000,
    "slow": 128_000,
    "no-stream": 128_000,
    "broken": 128_000,
}


def access_error(model: str) -> dict[str, Any]:
    return {"message": "Your account does not have access to this LLM Gateway model",
            "code": 400, "request_id": "req-400",
            "metadata": {"errors": [f"model {model} is not available on your plan"]}}


AUTH_ERROR = {"error": "Authentication error, API token missing/invalid", "status": "error",
              "request_id": "req-401"}


def completion(model: str, text: str) -> dict[str, Any]:
    return {"request_id": "req-ok", "request": {"model": model, "max_tokens": 60},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"input_tokens": 24, "prompt_tokens": 24, "output_tokens": 8,
                      "completion_tokens": 8, "total_tokens": 32},
            "http_status_code": 200, "response_time": 53194779, "llm_status_code": 200}


def chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    data = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(data)}\n\n".encode()


@dataclass
class GatewayReplay:
    url: str = ""
    key: str = KEY
    requests: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)
    rate_limit_hits: int = 2  # how many 429s "rate-limited" returns before answering
    answer_words: tuple[str, ...] = ("Decisions:", "ship", "on", "Friday.", "Owner:", "Dana.")
    slow_s: float = 3.0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _runner: web.AppRunner | None = None
    _hits: dict[str, int] = field(default_factory=dict)

    # --- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> GatewayReplay:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="gateway-replay",
                                        daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [body for body, _ in self.requests]

    # --- routes --------------------------------------------------------------------------

    async def _models(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") not in (None, self.key, f"Bearer {self.key}"):
            return web.json_response(AUTH_ERROR, status=401)
        data = [{"id": m, "name": m, "context_length": ctx, "creator": "tests",
                 "supported_parameters": ["max_tokens", "stream"],
                 "top_provider": {"is_moderated": False, "context_length": ctx,
                                  "max_completion_tokens": 4000},
                 "providers": _providers(m), "retirement_date": 0}
                for m, ctx in MODELS.items()]
        return web.json_response({"data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        auth = request.headers.get("Authorization")
        self.requests.append((body, auth))
        if auth not in (self.key, f"Bearer {self.key}"):
            return web.json_response(AUTH_ERROR, status=401)
        model = body["model"]
        hits = self._hits[model] = self._hits.get(model, 0) + 1
        if model not in MODELS:
            return web.json_response(
                {"message": "invalid request body", "code": 400, "request_id": "req-400b",
                 "metadata": {"errors": [f"unknown model {model}"]}}, status=400)
        if model == "no-access":  # fallbacks do not rescue access errors (§11.2)
            return web.json_response(access_error(model), status=400)
        if model == "fails-at-runtime":  # the Gateway then tries the fallbacks in order
            fallbacks = [f["model"] for f in body.get("fallbacks") or []]
            if not fallbacks:
                return web.json_response(
                    {"message": "upstream provider error", "code": 500,
                     "request_id": "req-500", "metadata": {"errors": ["provider timeout"]}},
                    status=500)
            model = fallbacks[0]
        if model == "rate-limited" and hits <= self.rate_limit_hits:
            return web.json_response(
                {"message": "rate limit exceeded", "code": 429, "request_id": "req-429",
                 "metadata": {"errors": ["too many requests for rate-limited"]}},
                status=429, headers={"retry-after": "0.2", "x-ratelimit-limit": "2",
                                     "x-ratelimit-model": model,
                                     "x-ratelimit-service": "llmgw"})
        if model == "rate-limited-long":
            return web.json_response(
                {"message": "rate limit exceeded", "code": 429, "request_id": "req-429b",
                 "metadata": {"errors": []}},
                status=429, headers={"x-ratelimit-reset": str(time.time() + 120),
                                     "x-ratelimit-limit": "2"})
        if model == "broken":
            return web.Response(status=502, text="<html>Bad gateway</html>",
                                content_type="text/html")
        if model == "slow":
            await asyncio.sleep(self.slow_s)
        text = self.reply(body)
        if model == "no-stream" or not body.get("stream"):
            return web.json_response(completion(model, text))
        try:
            return await self._stream(request, model, text)
        except ConnectionResetError:  # the client gave up (a timeout test)
            return web.Response(status=499)

    def reply(self, body: dict[str, Any]) -> str:
        prompt = str(body["messages"][-1]["content"])
        if "This is part" in prompt:  # a map step of the map-reduce
            index = prompt.split("This is part ", 1)[1].split(" ", 1)[0]
            return f"Part {index} summary."
        return " ".join(self.answer_words)

    async def _stream(self, request: web.Request, model: str, text: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        await response.write(b": keep-alive\n\n")
        await response.write(chunk(model, {"role": "assistant", "content": ""}))
        words = text.split(" ")
        for i, word in enumerate(words):
            if model in ("drops", "drops-clean", "error-mid-stream") and i == 3:
                if model == "drops":  # the connection goes away mid-chunked-body
                    request.transport.close()
                    return response
                if model == "error-mid-stream":  # the engine's failure-after-200 event
                    await response.write(b'data: {"error": {"message": "the model crashed", '
                                         b'"code": 500, "request_id": "req-500", '
                                         b'"metadata": {"errors": ["out of memory"]}}}\n\n')
                await response.write_eof()  # ends cleanly, but without [DONE]
                return response
            await response.write(chunk(model, {"content": word if i == 0 else " " + word}))
            await asyncio.sleep(0.01)
        await response.write(chunk(model, {}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def _providers(model: str) -> list[dict[str, str]] | None:
    """As the Gateway lists them; None (the Go service's empty array) for the test models."""
    for prefix, name in (("claude", "Anthropic"), ("gpt", "OpenAI")):
        if model.startswith(prefix):
            return [{"id": name.lower(), "name": name}]
    return None
