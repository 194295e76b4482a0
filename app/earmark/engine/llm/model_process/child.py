"""The model process: loads GGUF models with llama-cpp-python and generates, one request at a
time, streaming every chunk back to the engine. Nothing else runs here, so a fault in native
code (an illegal instruction, a segfault) ends this process and no other.

Between two tokens it reads the pipe, so a request the engine gave up on stops at the next
token and queued requests wait their turn.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from .messages import EXIT, GENERATE, STOP, UNLOAD, End, Failure, Job, Usage

# llama.cpp's OpenMP threads spin-wait by default; on a busy 2-core machine that starved
# everything (SmolLM2 fell under 2 tokens/s). Set before llama_cpp is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Counter:
    """A llama.cpp logits processor, called once per sampling step, that counts tokens: streams
    get no usage from llama-cpp. (Raising in here cannot abort a generation: it runs as a ctypes
    callback, which swallows exceptions.)"""

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


class Stopped(Exception):
    pass


class ModelServer:
    """The loop of the model process."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._models: dict[tuple[str, int, int], Any] = {}
        self._queue: deque[tuple[Any, ...]] = deque()
        self._stopped: set[int] = set()

    def run(self) -> None:
        while True:
            if not self._queue:
                try:
                    self._queue.append(self._conn.recv())
                except (EOFError, OSError):  # the engine is gone
                    return
            message = self._queue.popleft()
            if message[0] == EXIT:
                return
            self._handle(message)

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == STOP:
            self._stopped.add(message[1])
        elif kind == UNLOAD:
            for key in [k for k in self._models if k[0] == message[1]]:
                self._models.pop(key).close()
        elif kind == GENERATE:
            self._answer(message[1], message[2])

    def _poll(self) -> None:
        """Take what arrived while generating: stops now, everything else in order later."""
        while self._conn.poll():
            message = self._conn.recv()
            if message[0] == STOP:
                self._stopped.add(message[1])
            else:
                self._queue.append(message)

    def _send(self, request_id: int, item: Any) -> None:
        self._conn.send((request_id, item))

    def _answer(self, request_id: int, job: Job) -> None:
        try:
            for item in self._generate(request_id, job):
                self._send(request_id, item)
        except Stopped:
            self._send(request_id, Failure(503, f"{job.label}: generation stopped"))
        except Exception as e:
            self._send(request_id, failure_of(e, job.label))
        finally:
            self._stopped.discard(request_id)
            self._send(request_id, End())

    def _generate(self, request_id: int, job: Job) -> Iterator[dict[str, Any] | Usage]:
        if request_id in self._stopped:  # given up while still queued
            raise Stopped
        llm = self._load(job)
        counter = Counter()
        text: list[str] = []
        finish_reason = None
        chunks = llm.create_chat_completion(**job.args, stream=True, logits_processor=[counter])
        try:
            for item in chunks:
                self._poll()
                if request_id in self._stopped:
                    raise Stopped
                for choice in item.get("choices", []):
                    text.append((choice.get("delta") or {}).get("content") or "")
                    finish_reason = choice.get("finish_reason") or finish_reason
                yield item
        finally:
            chunks.close()
        yield Usage(counter.prompt_tokens, counter.completion_tokens(
            finish_reason, bool(job.args.get("stop")),
            lambda: len(llm.tokenize("".join(text).encode(), add_bos=False))))

    def _load(self, job: Job) -> Any:
        key = (job.path, job.n_ctx, job.n_threads)
        if key not in self._models:
            from llama_cpp import Llama

            try:
                self._models[key] = Llama(model_path=job.path, n_ctx=job.n_ctx,
                                          n_threads=job.n_threads, n_threads_batch=job.n_threads,
                                          verbose=False)
            except Exception as e:  # llama-cpp raises ValueError/RuntimeError on a bad file
                raise LoadFailed(f"could not load {os.path.basename(job.path)}: {e}") from e
        return self._models[key]


class LoadFailed(Exception):
    pass


def failure_of(error: BaseException, label: str) -> Failure:
    if isinstance(error, LoadFailed):
        return Failure(503, str(error))
    if isinstance(error, ImportError):
        return Failure(503, "local models need llama-cpp-python, which is missing")
    if isinstance(error, ValueError):  # e.g. "Requested tokens (…) exceed context window"
        return Failure(400, "invalid request body", [str(error)])
    return Failure(500, f"{label} failed: {error}")


def serve(conn: Connection) -> None:
    """Entry point of the process (multiprocessing target)."""
    faulthandler.enable(file=sys.stderr)  # a native fault leaves a Python traceback in the log
    ModelServer(conn).run()
