"""The whole-session analysis: the full transcript and a prompt go to a chat-completions API,
the answer streams back into the window, and the result is saved with the session.

A transcript longer than the model's context is summarised in parts first (map), and the
prompt is then asked of the parts' summaries (reduce). The work is one asyncio task on the
qasync loop; `cancel()` stops it between two bytes of the stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..core.llm import (
    DEFAULT_CONTEXT_TOKENS,
    LLMCallError,
    analysis_messages,
    chat_body,
    combined_summaries,
    input_budget_chars,
    part_summary_messages,
    split_text,
)
from ..core.llm.requests import PART_INSTRUCTION
from ..core.prompts import Prompt
from ..core.session import Analysis
from ..workers.llm_client import ChatClient

log = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 1500
MAX_REDUCE_ROUNDS = 3
MIN_PART_TOKENS = 96


@dataclass(frozen=True, slots=True)
class LLMService:
    """Where chat completions go: the Gateway (with the API key) or the embedded engine (with
    its per-run token). Fallback models are a Gateway feature."""

    base_url: str
    credential: str
    label: str
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    transcript: str
    prompt: Prompt
    model: str
    service: LLMService
    title: str = ""  # the session, for the panel's header
    max_tokens: int = DEFAULT_MAX_TOKENS
    save: Callable[[Analysis], None] | None = None  # raises when it cannot save


ClientFactory = Callable[[LLMService], ChatClient]


class AnalysisController(QObject):
    started = Signal(object)  # AnalysisJob
    progress = Signal(str)  # what is happening, in words
    delta = Signal(str)  # a piece of the answer as it is written
    finished = Signal(object)  # Analysis (saved, or not: see save_failed)
    failed = Signal(str)  # the reason; the text so far stays on screen
    cancelled = Signal()
    save_failed = Signal(str)

    def __init__(self, parent: QObject | None = None,
                 client_factory: ClientFactory | None = None) -> None:
        super().__init__(parent)
        self._client_factory = client_factory or (
            lambda service: ChatClient(service.base_url, service.credential))
        self._task: asyncio.Task | None = None
        self.job: AnalysisJob | None = None
        self.text = ""

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self, job: AnalysisJob) -> bool:
        """Begin `job` (cancelling one that runs). False, with `failed`, when there is no
        running asyncio loop to run it on."""
        self.cancel()
        try:  # qasync marks its loop as running while Qt runs the app's event loop
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.failed.emit("The analysis cannot run: the app's event loop is not running.")
            return False
        self.job, self.text = job, ""
        self._task = loop.create_task(self._run(job))
        return True

    def cancel(self) -> None:
        if self.running:
            self._task.cancel()

    async def wait(self) -> None:
        """Until the current job ends (for tests and shutdown)."""
        if self._task is not None:
            await asyncio.wait([self._task])

    # --- the work ----------------------------------------------------------------------------

    async def _run(self, job: AnalysisJob) -> None:
        client = self._client_factory(job.service)
        self.started.emit(job)
        try:
            analysis = await self._analyse(client, job)
        except asyncio.CancelledError:
            self.cancelled.emit()
            raise
        except LLMCallError as exc:
            log.warning("analysis failed (%s): %s", exc.kind, exc.message)
            self.failed.emit(exc.message)
            return
        except Exception as exc:  # a bug must not leave the panel spinning
            log.exception("analysis failed")
            self.failed.emit(f"The analysis failed unexpectedly: {exc}")
            return
        finally:
            await client.close()
        if job.save is not None:
            try:
                job.save(analysis)
            except Exception as exc:
                log.error("analysis not saved: %s", exc)
                self.save_failed.emit(f"The analysis could not be saved with the session: {exc}")
        self.finished.emit(analysis)

    async def _analyse(self, client: ChatClient, job: AnalysisJob) -> Analysis:
        self.progress.emit(f"Asking {job.model}…")
        context = await client.context_length(job.model) or DEFAULT_CONTEXT_TOKENS
        source = await self._fit(client, job, context)
        self.progress.emit(f"{job.model} is writing…")
        completion = await client.chat(
            chat_body(job.model, analysis_messages(job.prompt, source),
                      max_tokens=min(job.max_tokens, max(64, context // 2)),
                      fallbacks=job.service.fallbacks),
            on_delta=self._on_delta, on_wait=self._on_wait)
        note = "\n\n(The answer was cut short at the length limit.)" \
            if completion.finish_reason == "length" else ""
        if note:
            self._on_delta(note)
        return Analysis(text=completion.text + note, model=completion.model or job.model,
                        prompt=job.prompt.name)

    async def _fit(self, client: ChatClient, job: AnalysisJob, context: int) -> str:
        """The transcript, or summaries of its parts when it is longer than the context."""
        max_tokens = min(job.max_tokens, max(64, context // 2))
        overhead = job.prompt.system_text() + job.prompt.analysis_template
        budget = input_budget_chars(context, max_tokens, overhead)
        part_tokens = max(MIN_PART_TOKENS, min(job.max_tokens, context // 8))
        part_budget = input_budget_chars(context, part_tokens,
                                         job.prompt.system_text() + PART_INSTRUCTION)
        source = job.transcript
        for _ in range(MAX_REDUCE_ROUNDS):
            if len(source) <= budget:
                return source
            parts = split_text(source, part_budget)
            summaries = []
            for index, part in enumerate(parts, start=1):
                self.progress.emit(f"The transcript is longer than {job.model} can read at "
                                   f"once: summarising part {index} of {len(parts)}…")
                completion = await client.chat(
                    chat_body(job.model, part_summary_messages(job.prompt, part, index,
                                                               len(parts)),
                              max_tokens=part_tokens, fallbacks=job.service.fallbacks),
                    on_wait=self._on_wait)
                summaries.append(completion.text)
            source = combined_summaries(summaries)
        return source[:budget]  # still too long after the bounded rounds: keep the start

    def _on_delta(self, text: str) -> None:
        self.text += text
        self.delta.emit(text)

    def _on_wait(self, seconds: float) -> None:
        self.progress.emit(f"Rate limited by the LLM service; trying again in {seconds:.0f} s…")
