"""Stand-ins for the objects the session setup and the analysis flow watch, so their decisions
are tested without an engine process, a server or a widget: an engine host whose state the test
sets, a live session whose state the test sets and which records what it is asked to do."""

from __future__ import annotations

from types import SimpleNamespace

from PySide6.QtCore import QObject, Signal

from earmark.controllers.session_config import SessionConfig
from earmark.core.protocol import Endpoint, StreamingParams
from earmark.core.session_lifecycle import ACTIVE, SessionState
from earmark.workers.engine_host import EngineState

ENGINE_ENDPOINT = Endpoint("ws://127.0.0.1:9/v3/ws", "run-token", "http://127.0.0.1:9")


class FakeEngineHost(QObject):
    state_changed = Signal(str, str)

    def __init__(self, speech_model: str = "whisper-tiny.en") -> None:
        super().__init__()
        self.state = EngineState.STOPPED
        self.message = ""
        self.speech_model = speech_model
        self.asked: list[str] = []  # speech models it was asked to run

    def endpoint(self) -> Endpoint | None:
        return ENGINE_ENDPOINT if self.state == EngineState.READY else None

    def set_speech_model(self, speech_model: str) -> None:
        self.asked.append(speech_model)
        self.speech_model = speech_model

    def become(self, state: EngineState, message: str = "") -> None:
        self.state, self.message = state, message
        self.state_changed.emit(state.value, message)


class FakeSession(QObject):
    state_changed = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.state = SessionState.IDLE
        self.last_config: SessionConfig | None = None
        self.saved_folder: str | None = None
        self.speaker_names: dict[str, str] = {}
        self.finished_recorder = None
        self.assembler = SimpleNamespace(full_text=lambda names: self.transcript)
        self.transcript = ""
        self.started: list[SessionConfig] = []
        self.prompt_changes: list[tuple[StreamingParams, str]] = []

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def start_session(self, config: SessionConfig) -> None:
        self.started.append(config)
        self.last_config = config
        self.become(SessionState.CONNECTING)

    def change_prompt(self, params: StreamingParams, prompt_name: str) -> None:
        self.prompt_changes.append((params, prompt_name))

    def become(self, state: SessionState) -> None:
        self.state = state
        self.state_changed.emit(state.value)
