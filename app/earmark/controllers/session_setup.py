"""A session's setup, decided apart from the widgets that show it: the engine, speech model,
LLM and prompt chosen (remembered in the settings), what the selectors list, what the Start
button and the empty answer pane say, the SessionConfig a Start builds from the choices, and
what a prompt chosen mid-session does (it answers from the next turn)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..core.catalog import CLOUD_ENGINE, EMBEDDED_ENGINE, default_answer_model
from ..core.prompt_library import PromptLibrary
from ..core.prompts import Prompt, PromptError, custom_prompt
from ..settings import Key, Settings
from ..workers.audio_sources import AudioSource, AudioSourceError
from ..workers.engine_host import EngineHost, EngineState
from ..workers.file_source import FAST, REALTIME, FileSource, check_audio_file
from .connections import Connections, SessionSetupError
from .live_session import LiveSessionController, SessionState
from .llm_lists import LLMLists
from .models import speech_model_choices
from .selector_choices import (
    CUSTOM_PROMPT_ID,
    NO_LLM,
    answer_pane_hint,
    engine_choices,
    llm_choices,
    prompt_choices,
    speech_choices,
)
from .session_config import SessionConfig
from .session_controls import ENGINE_BUSY, Controls, engine_label, engine_notice, session_controls
from .session_params import llm_key, speech_key, streaming_params, turn_llm

log = logging.getLogger(__name__)


class SessionSetup(QObject):
    engine_choices_changed = Signal(object)  # ChoiceList
    speech_choices_changed = Signal(object)  # ChoiceList
    llm_choices_changed = Signal(object)  # ChoiceList
    prompt_choices_changed = Signal(object)  # ChoiceList
    answer_hint_changed = Signal(str)
    engine_label_changed = Signal(str)
    controls_changed = Signal(object)  # Controls
    engine_notice = Signal(str, str)  # text, kind: the embedded engine failed or restarted
    problem = Signal(str)  # a prompt chosen mid-session cannot be used
    custom_prompt_wanted = Signal()  # "Custom prompt…" chosen before one was written

    def __init__(self, settings: Settings, engine_host: EngineHost,
                 session: LiveSessionController, prompts: PromptLibrary,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.engine_host = engine_host
        self.session = session
        self.prompts = prompts
        self.connections = Connections(settings, engine_host)
        self.llms = LLMLists(settings, self.connections, self)
        self.engine = engine_choices(settings.get(Key.ENGINE)).selected
        self.speech_model = ""
        self.llm = NO_LLM
        self.prompt_id = prompt_choices(prompts, settings.get(Key.PROMPT_ID)).selected
        self.custom_prompt_text: str = settings.get(Key.CUSTOM_PROMPT)
        self.session_prompt: Prompt | None = None  # the running (or last) session's
        self.session_engine = ""
        engine_host.state_changed.connect(self._on_engine_state)
        session.state_changed.connect(lambda _state: self.controls_changed.emit(self.controls()))
        self.llms.engine_models_changed.connect(self._on_engine_models)
        self.llms.gateway_models_changed.connect(self._on_gateway_models)

    # --- what the window shows -----------------------------------------------------------

    def publish(self) -> None:
        """Everything the selectors, the Start button and the engine label show."""
        self.engine_choices_changed.emit(engine_choices(self.engine))
        self.show_prompts()
        self.select_engine(self.engine)
        self._on_engine_state()

    def show_prompts(self, wanted: str | None = None) -> None:
        """The prompts again (the library changed), `wanted` chosen if it is still there."""
        choices = prompt_choices(self.prompts, self.prompt_id if wanted is None else wanted)
        self.prompt_id = choices.selected
        self.prompt_choices_changed.emit(choices)

    def controls(self) -> Controls:
        return session_controls(self.session, self.engine, self.engine_host.state)

    def speech_in_use(self, chosen_label: str) -> str:
        """What transcribes, in words: the model the embedded engine runs, or the one chosen."""
        return self.engine_host.speech_model if self.engine == EMBEDDED_ENGINE else chosen_label

    # --- the user's choices --------------------------------------------------------------

    def select_engine(self, engine: str) -> None:
        """Its speech models and LLMs, each as last chosen with it."""
        self.engine = engine
        embedded = engine == EMBEDDED_ENGINE
        downloaded = speech_model_choices() if embedded else []
        speech = speech_choices(engine, downloaded, self.settings.get(speech_key(engine)))
        self.speech_model = speech.selected
        self.speech_choices_changed.emit(speech)
        self._show_llms(self.settings.get(llm_key(engine)))
        if not embedded:
            self.llms.fetch_gateway_models()
        self._show_state()

    def select_speech_model(self, model: str) -> None:
        self.speech_model = model

    def choose_speech_model(self, model: str) -> None:
        """The embedded engine restarts with the chosen model (the cloud takes it per session)."""
        self.speech_model = model
        if self.engine == EMBEDDED_ENGINE:
            self.settings.set(Key.EMBEDDED_SPEECH_MODEL, model)
            self.engine_host.set_speech_model(model)

    def select_llm(self, model: str | None) -> None:
        self.llm = model or NO_LLM
        self.answer_hint_changed.emit(answer_pane_hint(self.llm, self.engine))

    def choose_llm(self, model: str | None) -> None:
        self.select_llm(model)
        self.settings.set(llm_key(self.engine), self.llm)

    def select_prompt(self, prompt_id: str) -> None:
        self.prompt_id = prompt_id

    def choose_prompt(self, prompt_id: str) -> None:
        """A custom prompt needs writing first; any other answers from the next turn on."""
        self.prompt_id = prompt_id
        if prompt_id == CUSTOM_PROMPT_ID and not self.custom_prompt_text:
            self.custom_prompt_wanted.emit()
        else:
            self.apply_prompt_to_live_session()

    def set_custom_prompt(self, text: str) -> None:
        self.custom_prompt_text = text
        self.settings.set(Key.CUSTOM_PROMPT, text)
        self.show_prompts(CUSTOM_PROMPT_ID)
        self.apply_prompt_to_live_session()

    def current_prompt(self) -> Prompt:
        if self.prompt_id == CUSTOM_PROMPT_ID:
            try:
                return custom_prompt(self.custom_prompt_text)
            except PromptError as exc:
                raise SessionSetupError(f"Custom prompt: {exc}") from None
        prompt = self.prompts.get(self.prompt_id)
        if prompt is None:
            raise SessionSetupError("The selected prompt no longer exists; choose another.")
        return prompt

    def save_choices(self) -> None:
        self.settings.set(Key.ENGINE, self.engine)
        self.settings.set(speech_key(self.engine), self.speech_model)
        self.settings.set(llm_key(self.engine), self.llm)
        self.settings.set(Key.PROMPT_ID, self.prompt_id)

    # --- a session -----------------------------------------------------------------------

    def session_config(self, make_source: Callable[[], AudioSource], title: str = "",
                       from_file: bool = False, unplugged_input: str = "",
                       system_source: Callable[[], AudioSource] | None = None) -> SessionConfig:
        """What a Start runs with the current choices; raises SessionSetupError saying what to
        do when it cannot (`unplugged_input`: the chosen input, gone). `system_source`: a call,
        what the speakers play as its other side."""
        if unplugged_input:
            raise SessionSetupError(f"{unplugged_input}: plug it in, or choose another input.")
        engine, llm, prompt = self.engine, self.llm or None, self.current_prompt()
        speech = self.engine_host.speech_model if engine == EMBEDDED_ENGINE else self.speech_model
        params = streaming_params(self.settings, engine, speech, prompt, llm,
                                  self.session.speaker_names)
        endpoint, label = self.connections.streaming(engine)
        return SessionConfig(endpoint, params, label, make_source, prompt.name, title, prompt,
                             from_file=from_file,
                             reconnect_to=lambda: self.connections.streaming(engine)[0],
                             retry_for_s=float(self.settings.get(Key.RECONNECT_FOR_S)),
                             system_source=system_source)

    def start(self, config: SessionConfig) -> None:
        """Start `config`, the choices it was built from remembered."""
        self.save_choices()
        self.session_prompt, self.session_engine = config.prompt, self.engine
        log.info("starting a session: engine=%s speech=%s llm=%s", self.engine,
                 config.params.speech_model, config.llm_model)
        self.session.start_session(config)

    def recording_source(self, path: Path, start_ms: int = 0) -> Callable[[], AudioSource]:
        """A recording as a session's source, once it is known readable: at real-time pace for
        the cloud (it takes no faster), as fast as the embedded engine keeps up."""
        try:
            check_audio_file(path)
        except AudioSourceError as exc:
            log.error("cannot open %s: %s", path, exc)
            raise SessionSetupError(str(exc)) from None
        speed = FAST if self.engine == EMBEDDED_ENGINE else REALTIME
        log.info("transcribing %s from %d ms at %sx", path, start_ms, speed)
        return lambda: FileSource(path, speed=speed, start_ms=start_ms)

    def when_engine_settled(self, then: Callable[[], None]) -> None:
        """`then` once the embedded engine is ready or has failed (at once for the cloud)."""
        if self.engine != EMBEDDED_ENGINE or self.engine_host.state not in ENGINE_BUSY:
            then()
            return

        def on_state(_state: str, _message: str) -> None:
            if self.engine_host.state not in ENGINE_BUSY:
                self.engine_host.state_changed.disconnect(on_state)
                then()

        self.engine_host.state_changed.connect(on_state)

    def apply_prompt_to_live_session(self) -> None:
        """A prompt chosen during a session with an LLM answers from the next turn on."""
        config = self.session.last_config
        if self.session.state not in (SessionState.CONNECTING, SessionState.LIVE) \
                or config is None or not config.llm_model:
            return
        try:
            prompt = self.current_prompt()
        except SessionSetupError as exc:
            self.problem.emit(str(exc))
            return
        if prompt == self.session_prompt:
            return
        self.session_prompt = prompt
        gateway = turn_llm(prompt, config.llm_model, self.session_engine,
                           self.session.speaker_names)
        self.session.change_prompt(replace(config.params, llm_gateway=gateway), prompt.name)

    # --- what changes on its own ---------------------------------------------------------

    def _show_llms(self, wanted: str) -> None:
        choices = llm_choices(self.engine, self.llms.engine_models, self.llms.gateway, wanted)
        self.llm_choices_changed.emit(choices)
        self.select_llm(choices.selected)

    def _show_state(self) -> None:
        self.engine_label_changed.emit(engine_label(self.engine, self.engine_host.state))
        self.controls_changed.emit(self.controls())

    def _on_engine_state(self, _state: str = "", _message: str = "") -> None:
        state, endpoint = self.engine_host.state, self.engine_host.endpoint()
        if state == EngineState.READY and endpoint is not None:
            self.llms.fetch_engine_models(endpoint)
        self._show_state()
        notice = engine_notice(state, self.engine_host.message)
        if notice is not None and self.engine == EMBEDDED_ENGINE:
            self.engine_notice.emit(*notice)

    def _on_engine_models(self) -> None:
        """A list from the engine: shown between sessions, first choosing a real model."""
        if self.engine == EMBEDDED_ENGINE and not self.session.active:
            self._show_llms(self.settings.get(Key.EMBEDDED_LLM)
                            or default_answer_model(self.llms.engine_model_ids()))

    def _on_gateway_models(self) -> None:
        if self.engine == CLOUD_ENGINE and not self.session.active:
            self._show_llms(self.llm or self.settings.get(Key.CLOUD_LLM))
