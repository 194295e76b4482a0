"""Hosts the embedded engine in-process: a loopback server on a free port, started when the
window opens so it is ready (or visibly loading) before the user can press Start."""

from __future__ import annotations

import logging
from enum import StrEnum

from PySide6.QtCore import QObject, Signal

from ..core.protocol import Endpoint, local_endpoint

log = logging.getLogger(__name__)


class EngineState(StrEnum):
    STOPPED = "stopped"
    MISSING = "missing"  # this build has no embedded engine
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class EngineHost(QObject):
    state_changed = Signal(str, str)  # EngineState, a sentence for the status bar
    _loading_ended = Signal(str)  # from the engine thread: "" or the error

    def __init__(self, speech_model: str, llm_model: str | None = None) -> None:
        super().__init__()
        self._speech_model = speech_model
        self._llm_model = llm_model
        self._runner = None
        self.state = EngineState.STOPPED
        self.message = ""
        self._loading_ended.connect(self._on_loading_ended)

    def start(self) -> None:
        if self._runner is not None:
            return
        try:
            from ..engine.runner import EngineOptions, EngineRunner
        except ImportError as exc:
            log.error("embedded engine unavailable: %s", exc)
            self._set(EngineState.MISSING,
                      "The embedded engine is missing from this installation, so offline "
                      "transcription is unavailable. Use AssemblyAI cloud (Settings) instead.")
            return
        options = EngineOptions(host="127.0.0.1", port=0, speech_model=self._speech_model,
                                llm_model=self._llm_model)
        self._runner = EngineRunner(options)
        try:
            self._runner.start()
            if not self._runner.wait_listening(10.0):
                raise RuntimeError("it did not start listening within 10 s")
        except Exception as exc:
            log.exception("embedded engine failed to start")
            self._runner = None
            self._set(EngineState.FAILED, f"The embedded engine could not start: {exc}")
            return
        self._set(EngineState.LOADING, "Loading the offline speech model…")
        self._runner.add_ready_callback(lambda error: self._loading_ended.emit(error or ""))

    def _on_loading_ended(self, error: str) -> None:
        if error:
            self._set(EngineState.FAILED, f"The offline speech model could not load: {error}")
        else:
            self._set(EngineState.READY, "Embedded engine ready (offline)")

    @property
    def http_url(self) -> str | None:
        return self._runner.http_url if self._runner is not None else None

    def endpoint(self) -> Endpoint | None:
        if self._runner is None:
            return None
        return local_endpoint("127.0.0.1", self._runner.port, self._runner.token)

    def stop(self) -> None:
        if self._runner is not None:
            self._runner.stop()
            self._runner = None
        self.state = EngineState.STOPPED

    def _set(self, state: EngineState, message: str) -> None:
        self.state, self.message = state, message
        log.info("embedded engine: %s (%s)", state.value, message)
        self.state_changed.emit(state.value, message)
