"""The LLMService the engine uses: routes each request by its `model` id to a provider.

Routing, in order: a local GGUF id (`smollm2-135m`, `gguf:<stem>`); `<prefix>/<model>` for an
OpenAI-compatible server (`ollama/llama3.2`); with an AssemblyAI key, any other id goes to the
LLM Gateway; otherwise (a cloud id such as `claude-sonnet-4-6` offline) the default model
answers if `substitute_unknown_models` (the default), else 400. Responses name the model that
really answered in `model`; the request echo keeps the id that was asked for.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from . import shapes
from .model_process import ModelProcessHost
from .options import LLMOptions
from .providers.base import Provider
from .providers.gateway import GatewayProvider
from .providers.http import HttpClient
from .providers.llama_cpp import GGUFModel, LlamaCppProvider, gguf_model
from .providers.openai_compatible import OpenAICompatibleProvider
from .service import LLMError

log = logging.getLogger(__name__)
MAX_FALLBACK_DEPTH = 2


class LLMRegistry:
    def __init__(self, options: LLMOptions) -> None:
        self._options = options
        self._http = HttpClient(options.connect_timeout_s, options.request_timeout_s)
        self.model_process = ModelProcessHost()
        self._local: dict[str, LlamaCppProvider] = {}
        self._servers: dict[str, OpenAICompatibleProvider] = {}
        self._substituted: set[str] = set()  # requested ids already logged as substituted
        if options.probe_openai_servers:
            for server in options.openai_servers:
                self._servers[server.prefix] = OpenAICompatibleProvider(
                    server, self._http, options.probe_timeout_s, options.probe_cache_s
                )
        self._gateway: GatewayProvider | None = None
        if options.assemblyai_api_key:
            self._gateway = GatewayProvider(
                options.gateway_base_url,
                options.assemblyai_api_key,
                self._http,
                options.probe_cache_s,
            )

    @property
    def default_model(self) -> str:
        return self._options.default_model

    @property
    def local_models(self) -> list[str]:
        """The ids of the GGUF models this engine serves itself, the default first."""
        return sorted(self._local, key=lambda model_id: model_id != self.default_model)

    def add_local(self, model: GGUFModel) -> str:
        """Serve a GGUF model; it is loaded when first asked for. Returns its model id."""
        existing = self._local.get(model.model_id)
        if existing is not None and existing.model.path != model.path:
            raise ValueError(
                f"model id {model.model_id} is already {existing.model.path}; rename {model.path}"
            )
        if existing is None:
            self._local[model.model_id] = LlamaCppProvider(
                model, self.model_process, self._options.n_threads, self._options.n_ctx
            )
        return model.model_id

    def add_gguf(self, path: Path | str) -> str:
        """Serve a user-picked GGUF file as `gguf:<file stem>`. Raises ValueError if unusable."""
        return self.add_local(gguf_model(path))

    def resolve(self, model_id: str) -> tuple[Provider, str]:
        """(provider, the provider's own name for the model) for a model id as
        `answering_model` gives it. Raises LLMError(400) if nobody serves it."""
        if model_id in self._local:
            return self._local[model_id], model_id
        server = self._server_for(model_id)
        if server is not None:
            return server
        if self._gateway is not None:
            return self._gateway, model_id
        raise shapes.model_not_found(model_id)

    def _server_for(self, model_id: str) -> tuple[Provider, str] | None:
        prefix, slash, name = model_id.partition("/")
        if slash and name and prefix in self._servers:
            return self._servers[prefix], name
        return None

    def _serves_offline(self, model_id: str) -> bool:
        return model_id in self._local or self._server_for(model_id) is not None

    def answering_model(self, model_id: str) -> str:
        """The id of the model that answers a request for `model_id`: itself, or the default
        model for an id this engine cannot reach (no Gateway key) when
        `substitute_unknown_models`; the substitution is logged once per requested id."""
        default = self._options.default_model
        if (
            not self._options.substitute_unknown_models
            or self._gateway is not None
            or self._serves_offline(model_id)
            or not self._serves_offline(default)
        ):
            return model_id
        if model_id not in self._substituted:
            self._substituted.add(model_id)
            log.info("%s is not available offline; answered by %s", model_id, default)
        return default

    def _attempts(self, request: dict[str, Any]) -> list[tuple[dict[str, Any], Provider, str]]:
        """The request, then its `fallbacks` (Gateway semantics: tried in order when the one
        before failed at run time, i.e. with a 5xx), each with its provider and model name.
        Every model is resolved up front, so an unknown fallback is a 400 straight away.
        The Gateway runs its own fallbacks, so a request routed there is sent whole."""
        provider, model = self.resolve(self.answering_model(request["model"]))
        if provider is self._gateway:
            return [(request, provider, model)]
        base = {k: v for k, v in request.items() if k not in ("fallbacks", "fallback_config")}
        depth = (request.get("fallback_config") or {}).get("depth", MAX_FALLBACK_DEPTH)
        depth = min(depth, MAX_FALLBACK_DEPTH) if isinstance(depth, int) else MAX_FALLBACK_DEPTH
        attempts = [base, *({**base, **fb} for fb in (request.get("fallbacks") or [])[:depth])]
        attempts = [{**a, "model": self.answering_model(a["model"])} for a in attempts]
        return [(attempt, *self.resolve(attempt["model"])) for attempt in attempts]

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        started_ns = time.perf_counter_ns()
        normalized = shapes.normalize_request(request)
        attempts = self._attempts(normalized)
        for i, (attempt, provider, model) in enumerate(attempts):
            try:
                completion = await provider.complete(attempt, model)
            except LLMError as e:
                if e.status < 500 or i == len(attempts) - 1:
                    raise
                log.info("%s failed (%s); trying a fallback", attempt["model"], e.message)
                continue
            return shapes.completion_response(normalized, completion, started_ns,
                                              attempt["model"])
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        normalized = shapes.normalize_request(request)
        attempts = self._attempts(normalized)
        chunk_id = f"chatcmpl-{shapes.new_request_id()}"
        created = int(time.time())
        for i, (attempt, provider, model) in enumerate(attempts):
            started = False
            try:
                async for raw in provider.stream(attempt, model):
                    started = True
                    yield shapes.normalize_chunk(raw, chunk_id, created, attempt["model"])
                return
            except LLMError as e:
                # Once text has gone out a fallback would splice two answers together.
                if started or e.status < 500 or i == len(attempts) - 1:
                    raise
                log.info("%s failed (%s); trying a fallback", attempt["model"], e.message)

    async def list_models(self) -> list[dict[str, Any]]:
        """Local models (default first), then running local servers', then the Gateway's."""
        local = sorted(self._local.values(), key=lambda p: p.model_id != self.default_model)
        remote: list[Provider] = list(self._servers.values())
        if self._gateway is not None:
            remote.append(self._gateway)
        listings = await asyncio.gather(*(p.list_models() for p in [*local, *remote]))
        seen: set[str] = set()
        models = []
        for entry in (e for listing in listings for e in listing):
            if entry["id"] not in seen:
                seen.add(entry["id"])
                models.append(entry)
        return models

    async def close(self) -> None:
        for provider in self._local.values():
            await provider.close()
        self.model_process.close()
        await self._http.close()
