"""`earmark transcribe` at work: the files of a checked Plan, one session after another, through
the window's parts without a widget: the embedded engine's host (or the cloud), the live
session controller, the session library and the exporters, on a QCoreApplication.

Standard error gets each file's progress and every problem; standard output the path of each
transcript written."""

from __future__ import annotations

import logging
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from .controllers.connections import Connections, SessionSetupError
from .controllers.live_session import LiveSessionController, SessionConfig
from .controllers.session_params import CLOUD_MAX_TOKENS, EMBEDDED_MAX_TOKENS
from .core.catalog import EMBEDDED_ENGINE, installed_speech_model
from .core.clock import format_duration
from .core.protocol import (
    Endpoint,
    LLMGatewayConfig,
    Region,
    StreamingParams,
    cloud_endpoint,
)
from .core.session import SessionError, SessionStore, export
from .settings import Key, Settings
from .transcribe import EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, Job, Plan
from .transcription_settings import TranscriptionSettings
from .workers.engine_host import EngineHost, EngineState
from .workers.file_source import FAST, REALTIME, FileSource

log = logging.getLogger(__name__)

ENGINE_READY_TIMEOUT_MS = 300_000
REDRAW_S = 0.2  # a terminal's progress line at most this often
TICK_MS = 200  # how often Python gets to run a Ctrl+C handler while Qt waits


class Progress:
    """One file's progress on a stream: rewritten in place on a terminal, a line per tenth
    elsewhere (a pipe, a log); `say` prints a line of its own."""

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self._stream = stream
        self._enabled = enabled
        self._tty = stream.isatty()
        self._name = ""
        self._since: tuple[float, int] | None = None
        self._step = -1
        self._drawn_at = 0.0
        self._open_line = False

    def begin(self, name: str) -> None:
        self.close_line()
        self._name, self._since, self._step, self._drawn_at = name, None, -1, 0.0

    def update(self, delivered_ms: int, total_ms: int) -> None:
        if not self._enabled or total_ms <= 0:
            return
        now = time.monotonic()
        if self._since is None:
            self._since = (now, delivered_ms)
        percent = min(100, delivered_ms * 100 // total_ms)
        text = (f"{self._name}: {percent:3d}% of {format_duration(total_ms)}, "
                f"{self._left(now, delivered_ms, total_ms)}")
        if self._tty:
            if now - self._drawn_at < REDRAW_S and percent < 100:
                return
            self._drawn_at = now
            self._stream.write(f"\r{text}\x1b[K")
            self._open_line = True
        elif percent // 10 != self._step:
            self._step = percent // 10
            self._stream.write(text + "\n")
        self._stream.flush()

    def _left(self, now: float, delivered_ms: int, total_ms: int) -> str:
        """Wall-clock time left at the pace so far (as the window's status bar says it)."""
        if delivered_ms >= total_ms:
            return "finishing…"
        since, from_ms = self._since or (now, delivered_ms)
        if now - since < 0.5 or delivered_ms <= from_ms:
            return "starting…"
        pace = (delivered_ms - from_ms) / 1000 / (now - since)  # audio seconds per second
        left_s = (total_ms - delivered_ms) / 1000 / pace
        return f"{format_duration(round(left_s) * 1000)} left"

    def close_line(self) -> None:
        if self._open_line:
            self._stream.write("\n")
            self._open_line = False

    def say(self, text: str) -> None:
        self.close_line()
        self._stream.write(f"earmark: {text}\n")
        self._stream.flush()


@dataclass(frozen=True, slots=True)
class Outcome:
    job: Job
    complete: bool


class BatchRunner(QObject):
    """Transcribes the plan's files in turn; `done` when all are through (or it gave up)."""

    done = Signal()

    def __init__(self, plan: Plan, settings: Settings, store: SessionStore,
                 engine: EngineHost | None, progress: Progress, quiet: bool = False) -> None:
        super().__init__()
        self.plan, self.settings, self.engine = plan, settings, engine
        self.progress, self.quiet = progress, quiet
        self.controller = LiveSessionController(store, self)
        self.outcomes: list[Outcome] = []
        self.interrupted = False
        self._queue = list(plan.jobs)
        self._current: Job | None = None
        self._problem = False  # the current file met a problem (its end was not read, …)
        self._started_at = 0.0
        self._finished = False
        self._engine_timer = QTimer(self, singleShot=True, interval=ENGINE_READY_TIMEOUT_MS)
        self._engine_timer.timeout.connect(self._engine_too_slow)
        self._wire()

    def _wire(self) -> None:
        c = self.controller
        c.progress.connect(self.progress.update)
        c.problem.connect(self._on_problem)
        c.storage_problem.connect(lambda text: self._say_about(text))
        c.link_notice.connect(lambda _kind, text: self._say_about(text))
        c.notice.connect(lambda text: log.info("session notice: %s", text))
        c.session_ended.connect(self._on_ended)

    # --- the batch ---------------------------------------------------------------------------

    def start(self) -> None:
        if self.engine is not None:
            self.engine.state_changed.connect(lambda _state, _text: self._next())
            self.engine.start()
        self._next()

    def exit_status(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(o.complete for o in self.outcomes) else EXIT_INCOMPLETE

    def interrupt(self) -> None:
        """Ctrl+C: end the current session now (what it has is kept) and skip the rest; a
        second Ctrl+C ends the batch at once."""
        if self.interrupted:
            self._finish()
            return
        self.interrupted = True
        self.progress.say("interrupted; what was transcribed so far is kept in the library.")
        self._queue.clear()
        try:
            if self.controller.active:
                # stop first: shutdown() alone ends a live session with an invalid
                # transition (ended in state live)
                self.controller.stop_session()
                self.controller.shutdown()  # session_ended comes back: _on_ended
        except Exception:
            log.exception("the session could not be stopped")
            self._finish()
        if self._current is None:
            self._finish()

    def _next(self) -> None:
        if self._current is not None or self._finished:
            return
        if self.interrupted or not self._queue:
            self._finish()
        elif self._engine_ready():
            self._run(self._queue.pop(0))

    def _finish(self) -> None:
        if not self._finished:
            self._finished = True
            self.done.emit()

    def _engine_ready(self) -> bool:
        """Whether a session can start now; gives up on the batch when the engine cannot."""
        if self.engine is None or self.engine.state == EngineState.READY:
            self._engine_timer.stop()
            return True
        if self.engine.state in (EngineState.FAILED, EngineState.MISSING):
            self._give_up(self.engine.message or "The embedded engine could not start.")
        elif not self._engine_timer.isActive():
            self._engine_timer.start()
        return False

    def _engine_too_slow(self) -> None:
        if self._current is None:
            self._give_up(f"The embedded engine was not ready within "
                          f"{ENGINE_READY_TIMEOUT_MS // 1000} s.")

    def _give_up(self, why: str) -> None:
        self.progress.say(why)
        for job in self._queue:
            self.progress.say(f"{job.source}: not transcribed.")
            self.outcomes.append(Outcome(job, False))
        self._queue.clear()
        self._finish()

    # --- one file ----------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        self._current, self._problem = job, False
        self._started_at = time.monotonic()
        self.progress.begin(str(job.source))
        try:
            config = self._config(job)
        except (SessionSetupError, ValueError) as exc:
            self._say_about(str(exc))
            self._done_with(job, False)
            return
        log.info("transcribing %s to %s", job.source, job.output)
        self.controller.start_session(config)

    def _config(self, job: Job) -> SessionConfig:
        """The session for one file, as the window builds it (`SessionSetup.session_config`)."""
        embedded = self.plan.engine == EMBEDDED_ENGINE
        endpoint, label, reconnect = self._endpoint()
        speech_model = self.engine.speech_model if self.engine is not None \
            else self.settings.get(Key.CLOUD_SPEECH_MODEL)
        params = TranscriptionSettings.load(self.settings).apply(StreamingParams(
            sample_rate=16000, speech_model=speech_model, format_turns=True,
            llm_gateway=self._turn_llm(embedded)))
        speed = FAST if embedded else REALTIME
        source = job.source
        return SessionConfig(endpoint, params, label, lambda: FileSource(source, speed=speed),
                             self.plan.prompt.name if self.plan.prompt else "", source.stem,
                             from_file=True, reconnect_to=reconnect,
                             retry_for_s=float(self.settings.get(Key.RECONNECT_FOR_S)))

    def _endpoint(self) -> tuple[Endpoint, str, Callable[[], Endpoint]]:
        """Where the session connects, its label on disk, and where it connects again."""
        if self.engine is not None:
            connections = Connections(self.settings, self.engine)
            return connections.engine_endpoint(), "Embedded engine", connections.engine_endpoint
        assert self.plan.api_key is not None
        endpoint = cloud_endpoint(self.plan.api_key, Region(self.settings.get(Key.CLOUD_REGION)),
                                  self.settings.get(Key.CLOUD_CUSTOM_URL) or None)
        return endpoint, "AssemblyAI cloud", lambda: endpoint

    def _turn_llm(self, embedded: bool) -> LLMGatewayConfig | None:
        prompt, model = self.plan.prompt, self.plan.llm
        if prompt is None or not model:
            return None
        return prompt.llm_gateway(model, EMBEDDED_MAX_TOKENS if embedded else CLOUD_MAX_TOKENS)

    def _on_problem(self, text: str) -> None:
        self._problem = True
        self._say_about(text)

    def _say_about(self, text: str) -> None:
        name = self._current.source if self._current is not None else "earmark"
        self.progress.say(f"{name}: {text}")

    def _on_ended(self, summary: str) -> None:
        job = self._current
        if job is None:
            return
        self.progress.close_line()
        took = time.monotonic() - self._started_at
        summary = summary.removeprefix("Session ended: ")
        complete = self.controller.complete and not self._problem and not self.interrupted
        if complete and self._write(job):
            if not self.quiet:
                self.progress.say(f"{job.source}: {summary} Took {took:.1f} s.")
        else:
            complete = False
            self._say_incomplete(job, summary)
        self._done_with(job, complete)

    def _say_incomplete(self, job: Job, summary: str) -> None:
        folder = self.controller.saved_folder
        kept = f" What was transcribed is in the library: {folder}" if folder else ""
        why = "" if self._problem else f" ({summary})"  # a problem has been said already
        self.progress.say(f"{job.source}: not transcribed completely{why}; no transcript "
                          f"written.{kept}")

    def _write(self, job: Job) -> bool:
        """The export of the session just ended, to the job's output; its path on stdout."""
        recorder = self.controller.finished_recorder
        if recorder is None:
            self._say_about("the session could not be saved, so there is nothing to export.")
            return False
        try:
            export(recorder.snapshot(), self.plan.fmt, job.output)
        except (SessionError, OSError) as exc:
            self._say_about(f"cannot write {job.output}: {exc}")
            return False
        print(job.output, flush=True)
        return True

    def _done_with(self, job: Job, complete: bool) -> None:
        self.outcomes.append(Outcome(job, complete))
        self._current = None
        QTimer.singleShot(0, self._next)  # after the controller has finished its own slot


@contextmanager
def ctrl_c_stops(runner: BatchRunner) -> Iterator[None]:
    """Ctrl+C (SIGINT) interrupts the batch; a timer lets Python run the handler while Qt
    waits."""
    ticker = QTimer(interval=TICK_MS)
    ticker.timeout.connect(lambda: None)
    ticker.start()
    previous = signal.signal(signal.SIGINT, lambda *_: runner.interrupt())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        ticker.stop()


def run_batch(app: QCoreApplication, plan: Plan, quiet: bool = False) -> int:
    """Transcribe the plan's files; the exit status (EXIT_OK, EXIT_INCOMPLETE, interrupted)."""
    settings = Settings()
    store = SessionStore(plan.sessions_dir or settings.get(Key.SESSIONS_DIR) or None)
    engine = EngineHost(installed_speech_model(settings.get(Key.EMBEDDED_SPEECH_MODEL))) \
        if plan.engine == EMBEDDED_ENGINE else None
    runner = BatchRunner(plan, settings, store, engine, Progress(sys.stderr, not quiet), quiet)
    runner.done.connect(app.quit)
    try:
        with ctrl_c_stops(runner):
            QTimer.singleShot(0, runner.start)
            app.exec()
    finally:
        runner.controller.stop_session()
        runner.controller.shutdown()
        if engine is not None:
            engine.stop()
    return runner.exit_status()
