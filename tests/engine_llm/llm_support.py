"""Fakes and helpers for the LLM tests: a fake OpenAI-compatible server, a fake LLM Gateway,
and a way to serve an aiohttp app on a free loopback port."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from earmark.engine.llm import LLMRegistry

ENGINE_TOKEN = "engine-test-token"
GATEWAY_KEY = "gw-secret-key-123"

Run = Callable[..., Any]


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- fake OpenAI-compatible server ----------------------------------------------------------


@dataclass
class FakeOpenAI:
    url: str = ""
    model: str = "fake-llama"
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)
    model_listings: int = 0
    delay_s: float = 0.0

    def reply_to(self, body: dict[str, Any]) -> str:
        return "echo: " + str(body["messages"][-1]["content"])

    def app(self) -> web.Application:
        async def models(request: web.Request) -> web.Response:
            self.model_listings += 1
            data = [{"id": self.model, "object": "model", "owned_by": "tests"}]
            return web.json_response({"object": "list", "data": data})

        async def chat(request: web.Request) -> web.StreamResponse:
            body = await request.json()
            self.chat_bodies.append(body)
            await asyncio.sleep(self.delay_s)
            if body["model"] != self.model:
                error = {"message": f"model '{body['model']}' not found", "type": "not_found"}
                return web.json_response({"error": error}, status=404)
            text = self.reply_to(body)
            if not body.get("stream"):
                return web.json_response(
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "model": self.model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": text},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
                    }
                )
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            deltas = [{"role": "assistant"}] + [{"content": w} for w in text.split(" ")]
            for i, delta in enumerate(deltas):
                if i > 1:
                    delta["content"] = " " + delta["content"]
                chunk = {
                    "id": "fake-chunk",
                    "object": "chat.completion.chunk",
                    "model": self.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
                }
                await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            last = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            await response.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())
            return response

        app = web.Application()
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)
        return app


# --- fake LLM Gateway -----------------------------------------------------------------------


@dataclass
class FakeGateway:
    url: str = ""
    models: tuple[str, ...] = ("claude-test",)
    seen_authorization: list[str | None] = field(default_factory=list)
    chat_bodies: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        async def models(request: web.Request) -> web.Response:
            data = [{"id": m, "name": m, "description": "gateway model"} for m in self.models]
            return web.json_response({"data": data})

        async def chat(request: web.Request) -> web.Response:
            self.seen_authorization.append(request.headers.get("Authorization"))
            if request.headers.get("Authorization") != GATEWAY_KEY:
                return web.json_response(
                    {
                        "error": "Authentication error, API token missing/invalid",
                        "status": "error",
                        "request_id": "gw-auth",
                    },
                    status=401,
                )
            body = await request.json()
            self.chat_bodies.append(body)
            if body["model"] not in self.models:
                return web.json_response(
                    {
                        "message": "invalid request body",
                        "code": 400,
                        "request_id": "gw-400",
                        "metadata": {"errors": [f"unknown model {body['model']}"]},
                    },
                    status=400,
                )
            words = len(str(body["messages"][-1]["content"]).split())
            return web.json_response(
                {
                    "request_id": "gw-request-1",
                    "request": {"model": body["model"]},
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": f"{words} words"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"input_tokens": words, "output_tokens": 2, "total_tokens": words + 2},
                    "http_status_code": 200,
                    "response_time": 1,
                    "llm_status_code": 200,
                }
            )

        app = web.Application()
        app.router.add_get("/v1/models", models)
        app.router.add_post("/v1/chat/completions", chat)
        return app


# --- the engine under test ------------------------------------------------------------------


@dataclass
class Engine:
    url: str
    service: LLMRegistry
    fake: FakeOpenAI
    dead_url: str


def check_auth(request: web.Request) -> bool:
    return request.headers.get("Authorization") in (ENGINE_TOKEN, f"Bearer {ENGINE_TOKEN}")
