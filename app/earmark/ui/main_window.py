"""The main window: choose engine, models and prompt, Start/Stop, and watch the transcript and
the LLM's answers side by side. It renders controller state and sends intents; no I/O here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .. import APP_NAME
from ..analysis_settings import AnalysisSettings
from ..controllers.analysis import AnalysisController
from ..controllers.audio_devices import AudioDevices
from ..controllers.connections import Connections, SessionSetupError, analysis_service
from ..controllers.live_session import LiveSessionController, SessionConfig, SessionState
from ..controllers.llm_models import ModelCatalog, remember, remembered
from ..controllers.models import speech_model_choices
from ..controllers.playback import PlaybackController
from ..core.catalog import (
    CLOUD_ENGINE,
    EMBEDDED_ENGINE,
    EMBEDDED_LLM_MODELS,
    ModelChoice,
    default_answer_model,
    is_demo_model,
    is_installed,
    speech_models_for,
)
from ..core.clock import format_clock
from ..core.grounded_prompts import turn_llm_gateway
from ..core.prompt_library import PromptLibrary
from ..core.prompts import Prompt, PromptError, custom_prompt
from ..core.protocol import LLMGatewayConfig, StreamingParams
from ..core.session import (
    Analysis,
    RecoveryReport,
    SessionError,
    SessionStore,
)
from ..logging_setup import log_dir
from ..resources import resource
from ..settings import Key, Settings
from ..transcription_settings import TranscriptionSettings
from ..workers.audio_sources import AudioSource, AudioSourceError, MicrophoneSource
from ..workers.engine_host import EngineHost, EngineState
from ..workers.file_source import FAST, REALTIME, FileSource, check_audio_file
from .about_dialog import AboutDialog, RunningModels
from .analysis_flow import AnalysisFlow
from .analysis_panel import AnalysisPanel
from .audio_files import OPEN_FILTER, dropped_file
from .card_list_view import CardListView
from .card_menus import install_menus
from .eliding_combo import ElidingComboBox
from .export_dialog import export_session_dialog
from .geometry import fit_to_screen
from .input_picker import InputPicker
from .library_window import LibraryWindow
from .message_banner import MessageBanner
from .models_dialog import ModelsDialog
from .playback_bar import PlaybackBar, TurnPlayback
from .prompt_editor import PromptEditor
from .prompt_manager import PromptManager
from .selection_link import SelectionLink
from .session_status_bar import SessionStatusBar
from .settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

CUSTOM_PROMPT_ID = "custom"
CLOUD_MAX_TOKENS = 4000
EMBEDDED_MAX_TOKENS = 256
NO_LLM = ""
WELCOME_TOPIC = "welcome"
CONNECTION_TOPIC = "connection"
STATE_PHRASES = {SessionState.IDLE: "Not connected", SessionState.CONNECTING: "Connecting…",
                 SessionState.LIVE: "Live", SessionState.RECONNECTING: "Reconnecting…",
                 SessionState.STOPPING: "Finishing…", SessionState.FINISHED: "Not connected",
                 SessionState.FAILED: "Not connected"}
ENGINE_TOPIC = "engine"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, engine_host: EngineHost,
                 make_source: Callable[[], AudioSource] | None = None,
                 store: SessionStore | None = None,
                 prompt_library: PromptLibrary | None = None,
                 devices: AudioDevices | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.engine_host = engine_host
        self.make_source = make_source or self._microphone
        self.devices = devices or AudioDevices(self)
        self.store = store
        self.library_window: LibraryWindow | None = None
        self.controller = LiveSessionController(store, self)
        self.model_catalog = ModelCatalog(self)
        self.model_catalog.models_loaded.connect(self._on_engine_models)
        self.gateway_catalog = ModelCatalog(self)  # the LLM Gateway's, with the key
        self.gateway_catalog.models_loaded.connect(self._on_gateway_models)
        self._gateway_llms = remembered(settings)
        self._gateway_fetched = False
        self._engine_llms = [(m.label, m.id) for m in EMBEDDED_LLM_MODELS]
        self.prompt_library = prompt_library or PromptLibrary(resource("prompts"))
        self.analysis = AnalysisController(self)
        self.connections = Connections(settings, engine_host)
        self._session_prompt: Prompt | None = None
        self._session_engine = ""
        self._custom_prompt_text = settings.get(Key.CUSTOM_PROMPT)
        self._close_when_idle = False
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(QIcon(str(resource("icons", "earmark.svg"))))
        fit_to_screen(self, QSize(1180, 760))
        self.setAcceptDrops(True)  # a recording dropped on the window is transcribed
        self._build_controls()
        self._build_panes()
        self._build_menus()
        self.status = SessionStatusBar(self.input_picker, self)
        self.setStatusBar(self.status)
        self._elapsed_timer = QTimer(self, interval=500)
        self._elapsed_timer.timeout.connect(
            lambda: self.status.set_elapsed(self.controller.elapsed_seconds()))
        self.analysis_flow = AnalysisFlow(self.analysis, self.connections, self.analysis_panel,
                                          self.banner, self.status, self.cancel_analysis_action,
                                          self.prompt_library, lambda: self.store, self)
        self._connect_controller()
        engine_host.state_changed.connect(self._on_engine_state)
        self._restore()
        self._on_engine_changed()
        self._on_engine_state(engine_host.state.value, engine_host.message)
        self.show_first_run_hint()

    # --- construction --------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.input_picker = InputPicker()
        self.input_picker.select_key(self.settings.get(Key.INPUT_DEVICE))
        self.input_picker.activated.connect(
            lambda _i: self.settings.set(Key.INPUT_DEVICE, self.input_picker.selected_key()))
        self.devices.devices_changed.connect(self.input_picker.set_devices)
        # fits a 1366-pixel laptop: the selectors shorten their text, the popups show all
        self.engine_combo = ElidingComboBox(min_chars=14, toolTip="Where speech is transcribed")
        self.engine_combo.addItem("Embedded (offline)", EMBEDDED_ENGINE)
        self.engine_combo.addItem("AssemblyAI cloud", CLOUD_ENGINE)
        self.speech_combo = ElidingComboBox(min_chars=12, toolTip="Speech model")
        self.llm_combo = ElidingComboBox(min_chars=15, toolTip="LLM that answers each turn")
        self.prompt_combo = ElidingComboBox(min_chars=12,
                                            toolTip="What the LLM is asked about each turn")
        self._fill_prompts(self.settings.get(Key.PROMPT_ID))
        self.prompts_button = QToolButton(text="Prompts…",
                                          toolTip="Add, edit, duplicate or delete prompts; the "
                                          "arrow writes a one-off custom prompt")
        self.prompts_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        prompt_menu = QMenu(self.prompts_button)
        prompt_menu.addAction("Manage prompts…", self.manage_prompts)
        prompt_menu.addAction("Write a custom prompt…", self.edit_custom_prompt)
        self.prompts_button.setMenu(prompt_menu)
        self.start_button = QPushButton("Start", objectName="startButton")
        self.start_button.setToolTip("Start or stop listening (Ctrl+R)")
        self.start_button.setMinimumWidth(120)
        self.engine_combo.currentIndexChanged.connect(self._on_engine_changed)
        self.speech_combo.activated.connect(self._on_speech_model_chosen)
        self.prompt_combo.activated.connect(self._on_prompt_activated)
        self.llm_combo.currentIndexChanged.connect(lambda _i: self._explain_answers())
        self.llm_combo.activated.connect(lambda _i: self.settings.set(
            Key.EMBEDDED_LLM if self.current_engine() == EMBEDDED_ENGINE else Key.CLOUD_LLM,
            self.llm_combo.currentData() or NO_LLM))
        self.prompts_button.clicked.connect(self.manage_prompts)
        self.start_button.clicked.connect(self.toggle_session)

        bar = QWidget(objectName="controlBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(14, 10, 14, 10)
        row.setSpacing(8)
        for label, widget in (("Engine", self.engine_combo), ("Speech", self.speech_combo),
                              ("LLM", self.llm_combo), ("Prompt", self.prompt_combo)):
            caption = QLabel(label, objectName="caption")
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget, 1 if widget in (self.llm_combo, self.prompt_combo) else 0)
        row.addWidget(self.prompts_button)
        row.addSpacing(12)
        row.addWidget(self.start_button)
        self.control_bar = bar

    def _build_panes(self) -> None:
        self.banner = MessageBanner()
        self.transcript_view = CardListView(
            "Press Start and speak.\nWords appear here as you talk; each turn is finalised "
            "when you pause.")
        self.transcript_view.setObjectName("transcriptView")
        self.transcript_view.setModel(self.controller.transcript)
        self.answer_view = CardListView(
            "The LLM's answer to each finished turn appears here, next to its turn.")
        self.answer_view.setObjectName("answerView")
        self.answer_view.setModel(self.controller.answers)
        SelectionLink(self.transcript_view, self.answer_view)
        install_menus(self.transcript_view, self.answer_view, self.controller, self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(_pane("Live transcript", self.transcript_view))
        self.splitter.addWidget(_pane("LLM answers", self.answer_view))
        self.splitter.setSizes([620, 520])
        self.analysis_panel = AnalysisPanel()
        self.vertical_splitter = QSplitter(Qt.Orientation.Vertical)
        self.vertical_splitter.setChildrenCollapsible(False)
        self.vertical_splitter.addWidget(self.splitter)
        self.vertical_splitter.addWidget(self.analysis_panel)
        self.vertical_splitter.setStretchFactor(0, 3)
        self.vertical_splitter.setStretchFactor(1, 2)
        # after Stop: double-click a turn to hear it, Space plays or pauses
        self.playback = PlaybackController(parent=self)
        self.playback_bar = PlaybackBar(self.playback)
        self.playback_bar.hide()
        self.turn_playback = TurnPlayback(self.playback, (self.transcript_view, self.answer_view),
                                          follow=self.transcript_view, scope=self.splitter)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.control_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.vertical_splitter, 1)
        layout.addWidget(self.playback_bar)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        self.toggle_action = QAction("&Start", self, shortcut=QKeySequence("Ctrl+R"))
        self.toggle_action.triggered.connect(self.toggle_session)
        self.open_file_action = QAction("&Open a recording…", self,
                                        shortcut=QKeySequence.StandardKey.Open)
        self.open_file_action.setToolTip("Transcribe a WAV, FLAC, MP3, M4A or OGG file")
        self.open_file_action.triggered.connect(self.choose_file)
        settings_action = QAction("&Settings…", self, shortcut=QKeySequence.StandardKey.Preferences)
        settings_action.triggered.connect(self.open_settings)
        models_action = QAction("&Models…", self, triggered=self.open_models)
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        about_action = QAction(f"&About {APP_NAME}", self)
        about_action.triggered.connect(self._about)
        self.library_action = QAction("Session &library…", self, shortcut=QKeySequence("Ctrl+L"))
        self.library_action.triggered.connect(self.open_library)
        self.export_action = QAction("&Export this session…", self,
                                     shortcut=QKeySequence("Ctrl+E"), enabled=False)
        self.export_action.triggered.connect(self.export_session)
        for action in (self.library_action, self.export_action):
            action.setEnabled(action is self.library_action and self.store is not None)
        self.analyse_action = QAction("&Analyse a session…", self,
                                      shortcut=QKeySequence("Ctrl+Shift+A"),
                                      enabled=self.store is not None)
        self.analyse_action.triggered.connect(self.analyse_saved_session)
        self.cancel_analysis_action = QAction("&Cancel the analysis", self, enabled=False)
        prompts_action = QAction("&Prompts…", self)
        prompts_action.triggered.connect(self.manage_prompts)
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_file_action)
        file_menu.addAction(self.library_action)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        file_menu.addAction(settings_action)
        file_menu.addAction(models_action)
        file_menu.addSeparator()
        file_menu.addAction(quit_action)
        session_menu = menu.addMenu("&Session")
        session_menu.addAction(self.toggle_action)
        session_menu.addSeparator()
        session_menu.addAction(self.analyse_action)
        session_menu.addAction(self.cancel_analysis_action)
        session_menu.addAction(prompts_action)
        help_menu = menu.addMenu("&Help")
        self.log_folder_action = QAction("Open &log folder", self)
        self.log_folder_action.triggered.connect(self.open_log_folder)
        help_menu.addAction(self.log_folder_action)
        help_menu.addSeparator()
        help_menu.addAction(about_action)

    def _connect_controller(self) -> None:
        c = self.controller
        c.state_changed.connect(self._on_session_state)
        c.connection_changed.connect(
            lambda text: self.status.set_connection(self.controller.state.value, text))
        c.session_id_changed.connect(self.status.set_session_id)
        self.banner.dismissed.connect(
            lambda topic: topic == WELCOME_TOPIC and self.settings.set(Key.HINT_DISMISSED, True))
        c.level_changed.connect(self.status.level_meter.set_level)
        c.problem.connect(lambda text: self.banner.show_message(text, "error"))
        c.storage_problem.connect(lambda text: self.banner.show_message(text, "error", "storage"))
        c.storage_recovered.connect(lambda: self.banner.clear("storage"))
        c.notice.connect(lambda text: self.status.showMessage(text, 8000))
        c.input_warning.connect(lambda text: self.banner.show_message(text, "warning", "input"))
        c.input_recovered.connect(lambda: self.banner.clear("input"))
        c.progress.connect(self.status.set_progress)
        c.configuration_applied.connect(
            lambda text: self.status.engine_label.setToolTip(f"The server applied: {text}"))
        c.link_notice.connect(lambda kind, text: self.banner.show_message(
            text, kind, CONNECTION_TOPIC))
        c.session_ended.connect(self._on_session_ended)

    def _restore(self) -> None:
        geometry = self.settings.get(Key.WINDOW_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.get(Key.SPLITTER_STATE)
        if splitter is not None:
            self.splitter.restoreState(splitter)
        engine = self.engine_combo.findData(self.settings.get(Key.ENGINE))
        self.engine_combo.setCurrentIndex(max(0, engine))
        prompt = self.prompt_combo.findData(self.settings.get(Key.PROMPT_ID))
        self.prompt_combo.setCurrentIndex(max(0, prompt))

    # --- intents -------------------------------------------------------------------------

    def toggle_session(self) -> None:
        if not self.controller.active:
            self.start_session()
        else:
            self.controller.stop_session()

    def start_session(self, make_source: Callable[[], AudioSource] | None = None,
                      title: str = "") -> None:
        """Start listening: to the chosen input, or to `make_source` (a file) if given."""
        try:
            config = self._session_config(make_source or self.make_source, title,
                                          from_file=make_source is not None)
        except SessionSetupError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.banner.hide()
        self.playback.close()  # never into a microphone that is listening
        self.playback_bar.hide()
        self._save_choices()
        self._session_prompt = self.current_prompt()
        self._session_engine = self.current_engine()
        log.info("starting a session: engine=%s speech=%s llm=%s", self.current_engine(),
                 config.params.speech_model, config.llm_model)
        self.controller.start_session(config)

    def _session_config(self, make_source: Callable[[], AudioSource], title: str,
                        from_file: bool = False) -> SessionConfig:
        if make_source == self._microphone and self.input_picker.is_unplugged():
            raise SessionSetupError(f"{self.input_picker.currentText()}: plug it in, or "
                                    "choose another input.")
        engine = self.current_engine()
        llm = self.llm_combo.currentData() or None
        prompt = self.current_prompt()
        params = StreamingParams(
            sample_rate=16000, speech_model=self._speech_model(engine), format_turns=True,
            llm_gateway=_turn_llm_gateway(prompt, llm, engine, self.controller.speaker_names)
            if llm else None)
        params = TranscriptionSettings.load(self.settings).apply(params)
        endpoint, label = self.connections.streaming(engine)
        return SessionConfig(endpoint, params, label, make_source, prompt.name, title, prompt,
                             from_file=from_file,
                             reconnect_to=lambda: self.connections.streaming(engine)[0],
                             retry_for_s=float(self.settings.get(Key.RECONNECT_FOR_S)))

    def _speech_model(self, engine: str) -> str:
        """What transcribes: the model the embedded engine runs, or the cloud model chosen."""
        if engine == EMBEDDED_ENGINE:
            return self.engine_host.speech_model
        return self.speech_combo.currentData()

    def _microphone(self) -> AudioSource:
        """The input chosen in the picker (called on the capture thread)."""
        return MicrophoneSource(device=self.input_picker.selected_device())

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Transcribe a recording", "", OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path, start_ms: int = 0, title: str = "") -> bool:
        """Transcribe a recording (from `start_ms` on) as a session, saved like a live one. The
        cloud takes audio at real-time pace only; the embedded engine as fast as it keeps up."""
        path = Path(path)
        if self.controller.active:
            self.banner.show_message(f"Stop the current session before transcribing "
                                     f"{path.name}.", "info")
            return False
        try:
            check_audio_file(path)
        except AudioSourceError as exc:
            log.error("cannot open %s: %s", path, exc)
            self.banner.show_message(str(exc), "error")
            return False
        speed = FAST if self.current_engine() == EMBEDDED_ENGINE else REALTIME
        log.info("transcribing %s from %d ms at %sx", path, start_ms, speed)
        self.start_session(lambda: FileSource(path, speed=speed, start_ms=start_ms),
                           title or path.stem)
        return self.controller.active

    def _transcribe_rest(self, audio: str, start_ms: int, title: str) -> None:
        self.open_file(audio, start_ms, f"{title} (from {format_clock(start_ms)})")

    def open_file_when_ready(self, path: str | Path) -> None:
        """`earmark FILE`: transcribe once the embedded engine is ready (at once otherwise)."""
        if self.current_engine() != EMBEDDED_ENGINE or self.engine_host.state in (
                EngineState.READY, EngineState.MISSING, EngineState.FAILED):
            self.open_file(path)
            return

        def on_state(_state: str, _message: str) -> None:
            if self.engine_host.state in (EngineState.LOADING, EngineState.STOPPED,
                                          EngineState.RESTARTING):
                return
            self.engine_host.state_changed.disconnect(on_state)
            self.open_file(path)

        self.engine_host.state_changed.connect(on_state)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event.mimeData()) is not None and \
                not self.controller.active:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_file(path)

    def current_engine(self) -> str:
        return self.engine_combo.currentData()

    def current_prompt(self) -> Prompt:
        prompt_id = self.prompt_combo.currentData()
        if prompt_id == CUSTOM_PROMPT_ID:
            try:
                return custom_prompt(self._custom_prompt_text)
            except PromptError as exc:
                raise SessionSetupError(f"Custom prompt: {exc}") from None
        prompt = self.prompt_library.get(prompt_id)
        if prompt is None:
            raise SessionSetupError("The selected prompt no longer exists; choose another.")
        return prompt

    def edit_custom_prompt(self) -> None:
        dialog = PromptEditor(self._custom_prompt_text, self)
        if dialog.exec() and dialog.prompt is not None:
            self._custom_prompt_text = dialog.editor.toPlainText().strip()
            self.settings.set(Key.CUSTOM_PROMPT, self._custom_prompt_text)
            self.prompt_combo.setCurrentIndex(self.prompt_combo.findData(CUSTOM_PROMPT_ID))
            self._apply_prompt_to_live_session()

    def manage_prompts(self) -> None:
        """The prompt library; the dropdown follows every change made there."""
        dialog = PromptManager(self.prompt_library, self.prompt_combo.currentData() or "", self)
        dialog.prompts_changed.connect(
            lambda: self._fill_prompts(self.prompt_combo.currentData()))
        dialog.exec()
        chosen = dialog.selected_prompt()
        self._fill_prompts(chosen.id if chosen is not None else self.prompt_combo.currentData())

    def _fill_prompts(self, selected: str | None) -> None:
        self.prompt_combo.blockSignals(True)
        self.prompt_combo.clear()
        for group in (self.prompt_library.builtins, self.prompt_library.user):
            if group and self.prompt_combo.count():
                self.prompt_combo.insertSeparator(self.prompt_combo.count())
            for prompt in group:
                self.prompt_combo.addItem(prompt.name, prompt.id)
                self.prompt_combo.setItemData(self.prompt_combo.count() - 1,
                                              prompt.turn_template, Qt.ItemDataRole.ToolTipRole)
        self.prompt_combo.insertSeparator(self.prompt_combo.count())
        self.prompt_combo.addItem("Custom prompt…", CUSTOM_PROMPT_ID)
        self.prompt_combo.setCurrentIndex(max(0, self.prompt_combo.findData(selected)))
        self.prompt_combo.blockSignals(False)

    # --- whole-session analysis ------------------------------------------------------------

    def _analyse_finished_session(self) -> None:
        """On Stop: the session's prompt on its whole transcript, with the session's LLM."""
        config, prompt = self.controller.last_config, self._session_prompt
        if config is None or prompt is None or not config.llm_model \
                or not AnalysisSettings.load(self.settings).analyse_on_stop:
            return
        recorder = self.controller.finished_recorder
        save = None
        if recorder is not None:
            def save(analysis: Analysis) -> None:
                if not recorder.set_analysis(analysis):
                    raise SessionError(recorder.last_error or "the disk refused it")
        kind = analysis_service(self._session_engine)
        transcript = self.controller.assembler.full_text(self.controller.speaker_names)
        self.analysis_flow.start(transcript, prompt, config.llm_model, kind, "this session",
                                 save)

    def analyse_saved_session(self) -> None:
        """“Analyse…”: any saved session, with any prompt and model."""
        kind = analysis_service(self.current_engine())
        engine_models = self._engine_llms if self.engine_host.state == EngineState.READY else []
        self.analysis_flow.choose_and_analyse(
            engine_models, self._gateway_llms.choices, self.controller.saved_folder or "",
            self.prompt_combo.currentData() or "", f"{kind}|{self.llm_combo.currentData() or ''}")

    def open_library(self) -> None:
        if self.store is None:
            return
        if self.library_window is None:
            self.library_window = LibraryWindow(self.store, self)
            self.library_window.transcribe_rest_requested.connect(self._transcribe_rest)
        self.library_window.refresh()
        self.library_window.show()
        self.library_window.raise_()

    def export_session(self) -> None:
        if self.controller.saved_folder:
            export_session_dialog(self, self.controller.saved_folder, self.store)

    def open_settings(self) -> None:
        if SettingsDialog(self.settings, self).exec() and self.store is not None:
            folder = self.settings.get(Key.SESSIONS_DIR) or None
            if SessionStore(folder).root != self.store.root:
                self.set_store(SessionStore(folder))

    def set_store(self, store: SessionStore) -> None:
        """Save new sessions in another folder (the one chosen in Settings)."""
        self.store = store
        self.controller.set_store(store)
        if self.library_window is not None:
            self.library_window.close()
            self.library_window = None

    # --- reactions -----------------------------------------------------------------------

    def _on_prompt_activated(self, _index: int) -> None:
        if self.prompt_combo.currentData() == CUSTOM_PROMPT_ID and not self._custom_prompt_text:
            self.edit_custom_prompt()
        else:
            self._apply_prompt_to_live_session()

    def _apply_prompt_to_live_session(self) -> None:
        """A prompt chosen during a session answers from the next turn on."""
        config = self.controller.last_config
        if self.controller.state not in (SessionState.CONNECTING, SessionState.LIVE) \
                or config is None or not config.llm_model:
            return
        try:
            prompt = self.current_prompt()
        except SessionSetupError as exc:
            self.banner.show_message(str(exc), "error")
            return
        if prompt == self._session_prompt:
            return
        self._session_prompt = prompt
        gateway = _turn_llm_gateway(prompt, config.llm_model, self._session_engine,
                                    self.controller.speaker_names)
        self.controller.change_prompt(replace(config.params, llm_gateway=gateway), prompt.name)

    def _on_engine_changed(self) -> None:
        engine = self.current_engine()
        speech_key = Key.EMBEDDED_SPEECH_MODEL if engine == EMBEDDED_ENGINE \
            else Key.CLOUD_SPEECH_MODEL
        choices = speech_models_for(engine)
        downloaded = speech_model_choices() if engine == EMBEDDED_ENGINE else []
        _fill(self.speech_combo, [(m.label, m.id) for m in choices] + downloaded,
              self.settings.get(speech_key))
        _disable_missing(self.speech_combo, choices)
        self._fill_llms(self.settings.get(
            Key.EMBEDDED_LLM if engine == EMBEDDED_ENGINE else Key.CLOUD_LLM))
        if engine == CLOUD_ENGINE:
            self._fetch_gateway_models()
        self._update_engine_label()
        self._update_start_button()

    def _on_speech_model_chosen(self) -> None:
        """The embedded engine restarts with the chosen model (the cloud takes it per session)."""
        if self.current_engine() == EMBEDDED_ENGINE:
            self.settings.set(Key.EMBEDDED_SPEECH_MODEL, self.speech_combo.currentData())
            self.engine_host.set_speech_model(self.speech_combo.currentData())

    def _on_engine_state(self, _state: str, message: str) -> None:
        state = self.engine_host.state
        endpoint = self.engine_host.endpoint()
        if state == EngineState.READY and endpoint is not None:
            self.model_catalog.fetch(endpoint.llm_base_url, endpoint.credential)
        self._update_engine_label()
        self._update_start_button()
        if self.current_engine() != EMBEDDED_ENGINE:
            return
        if state in (EngineState.MISSING, EngineState.FAILED):
            self.banner.show_message(message, "error", topic=ENGINE_TOPIC)
        elif state == EngineState.RESTARTING or "restarted" in message:
            self.banner.show_message(message, "warning" if state == EngineState.RESTARTING
                                     else "info", topic=ENGINE_TOPIC)

    def _on_engine_models(self, choices: list[tuple[str, str]]) -> None:
        """What the embedded engine's GET /v1/models offers (local GGUF files, Ollama, …)."""
        if not choices:
            return
        self._engine_llms = [(label, model_id) for model_id, label in choices]
        if self.current_engine() == EMBEDDED_ENGINE and not self.controller.active:
            self._fill_llms(self.settings.get(Key.EMBEDDED_LLM)
                            or default_answer_model([m for _label, m in self._engine_llms]))

    def _fetch_gateway_models(self) -> None:
        """Once a run, with a key: the Gateway's GET /v1/models (the last list until then)."""
        if self._gateway_fetched:
            return
        key = self.connections.stored_key()
        if key:
            self._gateway_fetched = True
            self.gateway_catalog.fetch(self.connections.gateway_url(), key)

    def _on_gateway_models(self, choices: list[tuple[str, str]]) -> None:
        if not choices:
            return
        self._gateway_llms = remember(self.settings, choices)
        if self.current_engine() == CLOUD_ENGINE and not self.controller.active:
            self._fill_llms(self.llm_combo.currentData() or self.settings.get(Key.CLOUD_LLM))

    def _fill_llms(self, selected: str) -> None:
        """The engine's models, or the Gateway's grouped by provider; then "None"."""
        if self.current_engine() == EMBEDDED_ENGINE:
            items: list[tuple[str, str] | None] = list(self._engine_llms)
            source = "the embedded engine's models"
        else:
            items = _grouped([(label, model_id) for model_id, label
                              in self._gateway_llms.choices])
            source = self._gateway_llms.describe()
        _fill(self.llm_combo, [*items, None, ("None (transcript only)", NO_LLM)], selected)
        self.llm_combo.setToolTip(f"LLM that answers each turn; from {source}")
        self._explain_answers()

    def _explain_answers(self) -> None:
        """The answer pane says what it will show, and how to get answers when they are off."""
        self.answer_view.set_empty_hint(answer_pane_hint(
            self.llm_combo.currentData() or NO_LLM, self.current_engine()))

    def _update_engine_label(self) -> None:
        if self.current_engine() == CLOUD_ENGINE:
            self.status.set_engine("AssemblyAI cloud")
        else:
            self.status.set_engine(f"Embedded: {self.engine_host.state.value}")

    def _update_start_button(self) -> None:
        state = self.controller.state
        idle = not self.controller.active
        loading = self.current_engine() == EMBEDDED_ENGINE and self.engine_host.state in (
            EngineState.LOADING, EngineState.STOPPED, EngineState.RESTARTING)
        if idle:
            text = "Loading…" if loading else "Start"
        else:
            text = "Stopping…" if state == SessionState.STOPPING else "Stop"
        self.start_button.setText(text)
        self.start_button.setProperty("live", not idle)
        self.start_button.style().unpolish(self.start_button)
        self.start_button.style().polish(self.start_button)
        self.start_button.setEnabled(not loading and state != SessionState.STOPPING)
        self.toggle_action.setText("&Stop" if not idle else "&Start")
        self.export_action.setEnabled(idle and bool(self.controller.saved_folder))
        self.analyse_action.setEnabled(self.store is not None)
        for widget in (self.input_picker, self.engine_combo, self.speech_combo, self.llm_combo,
                       self.prompts_button, self.open_file_action):
            widget.setEnabled(idle)
        # the prompt can change mid-session (it applies from the next turn) when there is an LLM
        config = self.controller.last_config
        self.prompt_combo.setEnabled(idle or (state == SessionState.LIVE and config is not None
                                              and bool(config.llm_model)))

    def _on_session_state(self, state: str) -> None:
        self._update_start_button()
        self.status.set_connection(state, STATE_PHRASES[SessionState(state)])
        if not self.controller.active:
            self.banner.clear(CONNECTION_TOPIC)
            self._elapsed_timer.stop()
            self.status.level_meter.reset()
            self.status.clear_progress()
            self.banner.clear("input")
        else:
            self._elapsed_timer.start()

    def show_recovered(self, reports: list[RecoveryReport]) -> None:
        """Tell the user which interrupted sessions were repaired at launch."""
        if not reports:
            return
        lines = [f"“{r.meta.title or r.folder.name}” ({r.folder.name})" +
                 ("" if r.recovered else f": could not be repaired: {r.error}") for r in reports]
        self.banner.show_message("Earmark was closed during a session. Recovered: "
                                 + "; ".join(lines), "info")

    def _open_playback(self) -> None:
        """The finished session's audio, to hear any turn of it."""
        folder = self.controller.saved_folder
        if not folder or self.store is None:
            return
        try:
            self.playback.open(self.store.load(folder))
        except (OSError, ValueError) as exc:
            log.warning("playback unavailable for %s: %s", folder, exc)
            return
        self.playback_bar.show()

    def _on_session_ended(self, summary: str) -> None:
        self._open_playback()
        if self.controller.saved_folder:
            summary += f" Saved in {self.controller.saved_folder}"
        self.status.showMessage(summary)
        if self._close_when_idle:
            self.close()
            return
        self._analyse_finished_session()

    def _save_choices(self) -> None:
        engine = self.current_engine()
        s = self.settings
        s.set(Key.ENGINE, engine)
        s.set(Key.EMBEDDED_SPEECH_MODEL if engine == EMBEDDED_ENGINE
              else Key.CLOUD_SPEECH_MODEL, self.speech_combo.currentData())
        s.set(Key.EMBEDDED_LLM if engine == EMBEDDED_ENGINE else Key.CLOUD_LLM,
              self.llm_combo.currentData())
        s.set(Key.PROMPT_ID, self.prompt_combo.currentData())

    def _about(self) -> None:
        speech = self.engine_host.speech_model if self.current_engine() == EMBEDDED_ENGINE \
            else self.speech_combo.currentText()
        AboutDialog(RunningModels(self.status.engine_label.text(), speech,
                                  self.llm_combo.currentText()), self).exec()

    def open_models(self) -> None:
        """Settings → Models: what is installed, what to download, what answers."""
        ModelsDialog(self.settings, self.engine_host, self,
                     served_answer_models=lambda: [m for _label, m in self._engine_llms]).exec()
        self._on_engine_changed()  # the pickers show what the dialog chose

    def open_log_folder(self) -> None:
        folder = log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.banner.show_message(f"The log folder {folder} cannot be created: {exc}")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.banner.show_message(f"No file manager could open {folder}.", "info")

    def show_first_run_hint(self) -> None:
        """Until dismissed: the app works offline as it is, and where the cloud key goes."""
        if self.settings.get(Key.HINT_DISMISSED) or self.banner.isVisible():
            return
        self.banner.show_message(
            "Earmark works offline: its embedded engine transcribes on this computer, so you "
            "can press Start and speak. For AssemblyAI's cloud models, add your API key in "
            "File → Settings.", "info", WELCOME_TOPIC)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.controller.active:
            # Finish the session first so its last turn is kept, then close.
            self._close_when_idle = True
            self.controller.stop_session()
            event.ignore()
            return
        self.analysis.cancel()
        self.settings.set(Key.WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.set(Key.SPLITTER_STATE, self.splitter.saveState())
        self._save_choices()
        self.settings.sync()
        super().closeEvent(event)


def _pane(title: str, view: QWidget) -> QWidget:
    pane = QWidget(objectName="pane")
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(10, 10, 10, 6)
    layout.setSpacing(6)
    header = QLabel(title, objectName="paneTitle")
    layout.addWidget(header)
    layout.addWidget(view, 1)
    return pane


def _turn_llm_gateway(prompt: Prompt, model: str, engine: str,
                      speakers: dict[str, str]) -> LLMGatewayConfig:
    """The per-turn LLM request, grounded in the turn (core/grounded_prompts.py). The
    tutorial's 4000 tokens suit the Gateway; a local CPU model must stay brief to keep up."""
    max_tokens = EMBEDDED_MAX_TOKENS if engine == EMBEDDED_ENGINE else CLOUD_MAX_TOKENS
    return turn_llm_gateway(prompt, model, max_tokens=max_tokens, speakers=speakers)


def answer_pane_hint(model: str, engine: str) -> str:
    if not model:
        where = ("choose a model you downloaded or added, run Ollama or LM Studio (listed "
                 "automatically), or use the AssemblyAI cloud"
                 if engine == EMBEDDED_ENGINE else "choose an LLM Gateway model")
        return ("Answers are off: the transcript only.\nFor an answer beside every turn, "
                f"{where} in the LLM selector above.")
    if is_demo_model(model):
        return ("SmolLM2-135M is a tiny demo model: its answers are often invented.\nFor real "
                "answers choose a downloaded model, Ollama, LM Studio or the cloud.")
    return "The LLM's answer to each finished turn appears here, next to its turn."


def _grouped(items: list[tuple[str, str]]) -> list[tuple[str, str] | None]:
    """A separator (None) wherever the provider named after the label's " — " changes."""
    def provider(label: str) -> str:
        return label.rpartition(" — ")[2] if " — " in label else ""

    out: list[tuple[str, str] | None] = []
    for label, data in items:
        if out and out[-1] is not None and provider(out[-1][0]) != provider(label):
            out.append(None)
        out.append((label, data))
    return out


def _disable_missing(combo: QComboBox, choices: list[ModelChoice]) -> None:
    """Models whose files are not installed stay listed, disabled, saying how to get them."""
    for choice in choices:
        index = combo.findData(choice.id)
        if index >= 0 and not is_installed(choice):
            combo.model().item(index).setEnabled(False)
            combo.setItemData(index, choice.install_hint, Qt.ItemDataRole.ToolTipRole)
            combo.setItemText(index, f"{choice.label}: not installed")


def _fill(combo: QComboBox, items: list[tuple[str, str] | None], selected: str) -> None:
    """Refill `combo`; None is a separator."""
    combo.blockSignals(True)
    combo.clear()
    for item in items:
        if item is None:
            combo.insertSeparator(combo.count())
        else:
            combo.addItem(*item)
    combo.setCurrentIndex(max(0, combo.findData(selected)))
    combo.blockSignals(False)
