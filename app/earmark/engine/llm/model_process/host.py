"""The engine's side of the model process: starts it, hands it requests, streams the answers
back onto the event loop, and notices when it dies.

A dead process (a native fault in llama.cpp, the OOM killer, a kill) fails the requests it
had with an LLMError that names the cause, is logged with its signal, and is started again
for the next request; the engine and its transcription go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from earmark.core.process_exit import describe_exit

from ..service import LLMError
from .child import serve
from .messages import EXIT, GENERATE, STOP, UNLOAD, End, Failure, Job, Usage

log = logging.getLogger(__name__)

Sink = Callable[[Any], None]


@dataclass
class ProcessStatus:
    pid: int | None = None
    starts: int = 0
    last_exit: str = ""  # why the previous process ended, "" if none died


class _Running:
    """One model process and its pipe; a new one replaces it after a death."""

    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.sinks: dict[int, Sink] = {}
        self.send_lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self.send_lock:
            self.conn.send(message)


class ModelProcessHost:
    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")  # no fork of a threaded engine
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._running: _Running | None = None
        self._closed = False
        self.status = ProcessStatus()

    # --- requests --------------------------------------------------------------------------

    async def generate(self, job: Job) -> AsyncIterator[dict[str, Any] | Usage]:
        """The stream chunks of one request, then its Usage. Raises LLMError. Leaving early
        (break, aclose, cancellation) stops the generation at the next token."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def sink(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone
                loop.call_soon_threadsafe(queue.put_nowait, item)

        request_id = next(self._ids)
        running = self._submit(request_id, job, sink)
        ended = False
        try:
            while not isinstance(item := await queue.get(), End):
                if isinstance(item, Failure):
                    raise LLMError(item.status, item.message, list(item.errors))
                yield item
            ended = True
        finally:
            running.sinks.pop(request_id, None)
            if not ended:
                with contextlib.suppress(OSError, ValueError):
                    running.send((STOP, request_id))

    def _submit(self, request_id: int, job: Job, sink: Sink) -> _Running:
        with self._lock:
            if self._closed:
                raise LLMError(503, "the engine's local models were shut down")
            running = self._running or self._start()
            running.sinks[request_id] = sink
        try:
            running.send((GENERATE, request_id, job))
        except (OSError, ValueError) as e:  # it died a moment ago; its reader fails the sink
            log.info("model process pipe closed while sending: %s", e)
        return running

    def unload(self, path: str) -> None:
        with self._lock:
            running = self._running
        if running is not None:
            with contextlib.suppress(OSError, ValueError):
                running.send((UNLOAD, path))

    # --- the process -----------------------------------------------------------------------

    def _start(self) -> _Running:
        """Under self._lock."""
        parent, child = self._context.Pipe()
        process = self._context.Process(target=serve, args=(child,), name="earmark-llm",
                                        daemon=True)
        process.start()
        child.close()
        running = _Running(process, parent)
        self._running = running
        self.status.pid = process.pid
        self.status.starts += 1
        if self.status.starts > 1:
            log.warning("model process restarted (pid %s) after %s", process.pid,
                        self.status.last_exit)
        else:
            log.info("model process started (pid %s)", process.pid)
        threading.Thread(target=self._read, args=(running,), name="earmark-llm-reader",
                         daemon=True).start()
        return running

    def _read(self, running: _Running) -> None:
        while True:
            try:
                request_id, item = running.conn.recv()
            except (EOFError, OSError):
                break
            sink = running.sinks.get(request_id)
            if sink is not None:
                sink(item)
        running.process.join(5)
        self._ended(running)

    def _ended(self, running: _Running) -> None:
        with self._lock:
            if self._running is running:
                self._running = None
            closed = self._closed
        why = describe_exit(running.process.exitcode)
        with contextlib.suppress(OSError):
            running.conn.close()
        if closed:
            return
        self.status.last_exit = why
        self.status.pid = None
        log.error("the model process (pid %s) died: %s; it starts again with the next request",
                  running.process.pid, why)
        failure = Failure(503, f"the local model's process crashed ({why}) and was restarted; "
                               "the next answer uses a new one")
        for sink in list(running.sinks.values()):
            sink(failure)
            sink(End())
        running.sinks.clear()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            running, self._running = self._running, None
        if running is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for request_id, sink in list(running.sinks.items()):
                sink(Failure(503, "the engine's local models were shut down"))
                sink(End())
                running.send((STOP, request_id))
            running.send((EXIT,))  # after what is queued; its reader closes the pipe
        running.process.join(2)
        if running.process.is_alive():
            running.process.kill()
            running.process.join(2)
