"""Runs the embedded engine as a child process on a loopback port, with a token made for this
run, and keeps it running: when it dies (a native fault in a speech library, the OOM killer, a
kill) the log and the window say how, and it is started again.

The engine is `earmark-engine` (`python -m earmark.engine`, or the bundle's executable), so
nothing native runs in the window's process. It ends when its standard input closes, so it
never outlives the app, even after a crash of the app.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.process_exit import describe_exit
from ..core.protocol import Endpoint, local_endpoint
from ..core.protocol.endpoints import ENGINE_TOKEN_ENV

log = logging.getLogger(__name__)
engine_log = logging.getLogger("earmark.engine.process")

CRASH_WINDOW_S = 300.0
MAX_CRASHES = 5  # within CRASH_WINDOW_S, then the engine is left stopped
_LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


class EngineState(StrEnum):
    STOPPED = "stopped"
    MISSING = "missing"  # this build has no embedded engine
    LOADING = "loading"
    READY = "ready"
    RESTARTING = "restarting"
    FAILED = "failed"


def engine_command() -> list[str] | None:
    """How to start the engine here, or None when this installation has none."""
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).with_name(
            "earmark-engine.exe" if sys.platform == "win32" else "earmark-engine")
        return [str(exe)] if exe.exists() else None
    if importlib.util.find_spec("faster_whisper") is None:
        return None
    return [sys.executable, "-m", "earmark.engine"]


class EngineHost(QObject):
    state_changed = Signal(str, str)  # EngineState, a sentence for the status bar
    _line = Signal(object, str)  # (process, a line it printed)
    _exited = Signal(object, int)  # (process, its return code)

    def __init__(self, speech_model: str, llm_model: str | None = None,
                 command: list[str] | None = None) -> None:
        super().__init__()
        self._speech_model = speech_model
        self._llm_model = llm_model
        self._command = command
        self._token = secrets.token_urlsafe(24)
        self._process: subprocess.Popen[str] | None = None
        self._port: int | None = None
        self._stopping = False
        self._crashes: list[float] = []
        self._last_exit = ""
        self._restart_timer = QTimer(self, singleShot=True, timeout=self.start)
        self.state = EngineState.STOPPED
        self.message = ""
        self._line.connect(self._on_line)
        self._exited.connect(self._on_exited)

    # --- what the app asks ---------------------------------------------------------------

    @property
    def speech_model(self) -> str:
        """The speech model the engine runs (or is loading)."""
        return self._speech_model

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def http_url(self) -> str | None:
        return f"http://127.0.0.1:{self._port}" if self._port and self._process else None

    def endpoint(self) -> Endpoint | None:
        if self._port is None or self._process is None:
            return None
        return local_endpoint("127.0.0.1", self._port, self._token)

    def start(self) -> None:
        if self._process is not None:
            return
        command = self._command or engine_command()
        if command is None:
            self._set(EngineState.MISSING,
                      "The embedded engine is missing from this installation, so offline "
                      "transcription is unavailable. Use AssemblyAI cloud (Settings) instead.")
            return
        self._stopping = False
        self._port = None
        try:
            process = self._spawn(command)
        except OSError as exc:
            log.error("could not start the embedded engine: %s", exc)
            self._set(EngineState.FAILED, f"The embedded engine could not start: {exc}")
            return
        self._process = process
        log.info("embedded engine started (pid %s): %s", process.pid, self._speech_model)
        self._set(EngineState.LOADING, f"Loading the offline speech model ({self._speech_model})…")
        threading.Thread(target=self._pump, args=(process,), name="engine-output",
                         daemon=True).start()

    def set_speech_model(self, speech_model: str) -> None:
        """Run `speech_model` from now on: the engine restarts with it when it differs."""
        if speech_model == self._speech_model:
            return
        log.info("speech model %s -> %s: restarting the embedded engine", self._speech_model,
                 speech_model)
        self._speech_model = speech_model
        if self._process is not None:
            self.stop()
            self.start()

    def reload(self) -> None:
        """Restart the engine (when it runs) so it serves the answer models installed since
        it started: it reads the models index only at start."""
        if self._process is None:
            return
        log.info("restarting the embedded engine to serve newly installed models")
        self.stop()
        self.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._restart_timer.stop()
        process, self._process = self._process, None
        self._stopping = True
        self._port = None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("the embedded engine did not stop within %.0f s; killing it", timeout)
                process.kill()
                process.wait(timeout)
        if process is not None and process.stdin is not None:
            process.stdin.close()
        self.state = EngineState.STOPPED

    # --- the child -----------------------------------------------------------------------

    def _spawn(self, command: list[str]) -> subprocess.Popen[str]:
        args = [*command, "--host", "127.0.0.1", "--port", "0", "--exit-with-stdin",
                "--speech-model", self._speech_model]
        if self._llm_model:
            args += ["--llm-model", self._llm_model]
        env = {**os.environ, ENGINE_TOKEN_ENV: self._token, "PYTHONUNBUFFERED": "1"}
        return subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env, text=True, bufsize=1,
                                errors="replace")

    def _pump(self, process: subprocess.Popen[str]) -> None:
        """Output thread: every line to the GUI thread, then the exit code."""
        assert process.stdout is not None
        for line in process.stdout:
            self._line.emit(process, line.rstrip("\n"))
        self._exited.emit(process, process.wait())

    def _on_line(self, process: object, line: str) -> None:
        if process is not self._process:
            return
        if line.startswith("http:"):
            self._port = int(line.rsplit(":", 1)[1].strip())
        elif line == "speech: ready":
            self._on_ready()
        elif line.startswith("speech: FAILED:"):
            self._set(EngineState.FAILED,
                      f"The offline speech model could not load: {line[15:].strip()}")
        elif not line.startswith(("ws:", "token:")):
            match = _LEVEL.search(line[:40])
            level = logging.getLevelName(match.group(1)) if match else logging.WARNING
            engine_log.log(level, "%s", line)

    def _on_ready(self) -> None:
        if self._last_exit:
            self._set(EngineState.READY, f"Embedded engine restarted after it stopped "
                                         f"({self._last_exit}); ready (offline)")
        else:
            self._set(EngineState.READY, "Embedded engine ready (offline)")

    def _on_exited(self, process: object, code: int) -> None:
        if process is not self._process:
            return  # stopped on purpose, or replaced
        self._process = None
        self._port = None
        why = describe_exit(code)
        self._last_exit = why
        now = time.monotonic()
        self._crashes = [t for t in self._crashes if now - t < CRASH_WINDOW_S] + [now]
        log.error("the embedded engine (pid %s) stopped unexpectedly: %s", process.pid, why)
        if len(self._crashes) >= MAX_CRASHES:
            self._set(EngineState.FAILED,
                      f"The offline engine stopped {len(self._crashes)} times in a few minutes "
                      f"(last: {why}); it was not restarted again. Help → Open log folder shows "
                      "why.")
            return
        delay_s = 2 ** (len(self._crashes) - 1)
        self._set(EngineState.RESTARTING,
                  f"The offline engine stopped unexpectedly ({why}); restarting it…")
        self._restart_timer.start(int(delay_s * 1000))

    def _set(self, state: EngineState, message: str) -> None:
        self.state, self.message = state, message
        log.info("embedded engine: %s (%s)", state.value, message)
        self.state_changed.emit(state.value, message)
