"""What crosses the pipe between the engine and its model process (all picklable).

Engine → process: `("generate", request_id, Job)`, `("stop", request_id)`, `("unload", path)`,
`("exit",)`.
Process → engine: `(request_id, item)` with item a llama-cpp stream chunk (dict), `Usage`,
`Failure` or `End`; every request ends with exactly one `End`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Job:
    path: str  # the GGUF file
    n_ctx: int
    n_threads: int
    args: dict[str, Any]  # keyword arguments of Llama.create_chat_completion
    label: str  # the model id, for messages


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class Failure:
    """An LLMError's fields (exceptions with custom constructors do not pickle)."""

    status: int
    message: str
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class End:
    pass


GENERATE = "generate"
STOP = "stop"
UNLOAD = "unload"
EXIT = "exit"
