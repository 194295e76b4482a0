"""The main window: choose engine, models and prompt, Start/Stop, and watch the transcript and
the LLM's answers side by side. It renders controller state and sends intents; the choices
are the SessionSetup's (controllers/session_setup.py), the analysis the AnalysisFlow's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, QUrl
from PySide6.QtGui import QCloseEvent, QDesktopServices, QDragEnterEvent, QDropEvent, QIcon
from PySide6.QtWidgets import QFileDialog, QMainWindow, QVBoxLayout, QWidget

from .. import APP_NAME
from ..controllers.analysis import AnalysisController
from ..controllers.analysis_flow import AnalysisFlow
from ..controllers.audio_devices import AudioDevices
from ..controllers.connections import SessionSetupError
from ..controllers.live_session import LiveSessionController
from ..controllers.session_controls import Controls
from ..controllers.session_setup import SessionSetup
from ..core.clock import format_clock
from ..core.prompt_library import PromptLibrary
from ..core.prompts import Prompt
from ..core.session import RecoveryReport, SessionStore
from ..logging_setup import log_dir
from ..resources import resource
from ..settings import Key, Settings
from ..workers.audio_sources import AudioSource, MicrophoneSource
from ..workers.engine_host import EngineHost
from .about_dialog import AboutDialog, RunningModels
from .analysis_view import AnalysisView
from .audio_files import OPEN_FILTER, dropped_file
from .export_dialog import export_session_dialog
from .geometry import fit_to_screen
from .input_picker import InputPicker
from .library_window import LibraryWindow
from .main_menus import MainMenus
from .message_banner import MessageBanner
from .models_dialog import ModelsDialog
from .prompt_editor import PromptEditor
from .prompt_manager import PromptManager
from .session_controls import SessionControls
from .session_feedback import SessionFeedback
from .session_panes import SessionPanes
from .session_status_bar import SessionStatusBar
from .settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

WELCOME_TOPIC = "welcome"
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
        self.prompt_library = prompt_library or PromptLibrary(resource("prompts"))
        self.setup = SessionSetup(settings, engine_host, self.controller, self.prompt_library,
                                  self)
        self.analysis = AnalysisController(self)
        self.analysis_flow = AnalysisFlow(self.analysis, self.setup, lambda: self.store, self)
        self._close_when_idle = False
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(QIcon(str(resource("icons", "earmark.svg"))))
        fit_to_screen(self, QSize(1180, 760))
        self.setAcceptDrops(True)  # a recording dropped on the window is transcribed
        self._build()
        self._connect()
        self._restore()
        self.setup.publish()
        self.show_first_run_hint()

    def _build(self) -> None:
        self.input_picker = InputPicker()
        self.input_picker.select_key(self.settings.get(Key.INPUT_DEVICE))
        self.input_picker.activated.connect(
            lambda _i: self.settings.set(Key.INPUT_DEVICE, self.input_picker.selected_key()))
        self.devices.devices_changed.connect(self.input_picker.set_devices)
        self.control_bar = SessionControls(self.setup, self.manage_prompts,
                                           self.edit_custom_prompt, self.toggle_session)
        bar = self.control_bar
        self.engine_combo, self.speech_combo, self.llm_combo, self.prompt_combo = (
            bar.engine_combo, bar.speech_combo, bar.llm_combo, bar.prompt_combo)
        self.prompts_button, self.start_button = bar.prompts_button, bar.start_button
        self.banner = MessageBanner()
        self.panes = SessionPanes(self.controller, self)
        p = self.panes
        self.transcript_view, self.answer_view, self.splitter, self.analysis_panel = (
            p.transcript_view, p.answer_view, p.splitter, p.analysis_panel)
        self.playback, self.playback_bar = p.playback, p.playback_bar
        m = MainMenus(self)
        self.toggle_action, self.open_file_action, self.library_action, self.export_action = (
            m.toggle_action, m.open_file_action, m.library_action, m.export_action)
        self.analyse_action, self.cancel_analysis_action, self.log_folder_action = (
            m.analyse_action, m.cancel_analysis_action, m.log_folder_action)
        self.status = SessionStatusBar(self.input_picker, self)
        self.setStatusBar(self.status)
        self.feedback = SessionFeedback(self.controller, self.status, self.banner, self)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        for widget, stretch in ((bar, 0), (self.banner, 0), (self.panes, 1),
                                (self.playback_bar, 0)):
            layout.addWidget(widget, stretch)
        self.setCentralWidget(central)
        self.analysis_view = AnalysisView(self.analysis_flow, self.analysis_panel, self.banner,
                                          self.status, self.cancel_analysis_action, self)

    def _connect(self) -> None:
        self.banner.dismissed.connect(
            lambda topic: topic == WELCOME_TOPIC and self.settings.set(Key.HINT_DISMISSED, True))
        self.controller.session_ended.connect(self._on_session_ended)
        s = self.setup
        s.controls_changed.connect(self._show_controls)
        s.answer_hint_changed.connect(self.answer_view.set_empty_hint)
        s.engine_label_changed.connect(self.status.set_engine)
        s.engine_notice.connect(lambda text, kind: self.banner.show_message(
            text, kind, ENGINE_TOPIC))
        s.problem.connect(lambda text: self.banner.show_message(text, "error"))
        s.custom_prompt_wanted.connect(self.edit_custom_prompt)

    def _restore(self) -> None:
        geometry = self.settings.get(Key.WINDOW_GEOMETRY)
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.settings.get(Key.SPLITTER_STATE)
        if splitter is not None:
            self.splitter.restoreState(splitter)

    # --- intents -------------------------------------------------------------------------

    def toggle_session(self) -> None:
        if not self.controller.active:
            self.start_session()
        else:
            self.controller.stop_session()

    def start_session(self, make_source: Callable[[], AudioSource] | None = None,
                      title: str = "") -> None:
        """Start listening: to the chosen input, or to `make_source` (a file) if given."""
        source = make_source or self.make_source
        listening = source == self._microphone
        unplugged = listening and self.input_picker.is_unplugged()
        call = self.input_picker.selected_call_audio() if listening else None
        try:
            config = self.setup.session_config(
                source, title, from_file=make_source is not None,
                unplugged_input=self.input_picker.currentText() if unplugged else "",
                system_source=(lambda: MicrophoneSource(device=call)) if call else None)
        except SessionSetupError as exc:
            self.banner.show_message(str(exc), "error")
            return
        self.banner.hide()
        self.playback.close()  # never into a microphone that is listening
        self.playback_bar.hide()
        self.setup.start(config)

    def _microphone(self) -> AudioSource:
        """The input chosen in the picker (called on the capture thread)."""
        return MicrophoneSource(device=self.input_picker.selected_device())

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Transcribe a recording", "", OPEN_FILTER)
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path, start_ms: int = 0, title: str = "") -> bool:
        """Transcribe a recording (from `start_ms` on) as a session, saved like a live one."""
        path = Path(path)
        if self.controller.active:
            self.banner.show_message(f"Stop the current session before transcribing "
                                     f"{path.name}.", "info")
            return False
        try:
            source = self.setup.recording_source(path, start_ms)
        except SessionSetupError as exc:
            self.banner.show_message(str(exc), "error")
            return False
        self.start_session(source, title or path.stem)
        return self.controller.active

    def open_file_when_ready(self, path: str | Path) -> None:
        """`earmark FILE`: transcribe once the embedded engine is ready (at once otherwise)."""
        self.setup.when_engine_settled(lambda: self.open_file(path))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event.mimeData()) is not None and not self.controller.active:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.open_file(path)

    def current_prompt(self) -> Prompt:
        return self.setup.current_prompt()

    def edit_custom_prompt(self) -> None:
        dialog = PromptEditor(self.setup.custom_prompt_text, self)
        if dialog.exec() and dialog.prompt is not None:
            self.setup.set_custom_prompt(dialog.editor.toPlainText().strip())

    def manage_prompts(self) -> None:
        """The prompt library; the dropdown follows every change made there."""
        dialog = PromptManager(self.prompt_library, self.setup.prompt_id, self)
        dialog.prompts_changed.connect(lambda: self.setup.show_prompts())
        dialog.exec()
        chosen = dialog.selected_prompt()
        self.setup.show_prompts(chosen.id if chosen is not None else None)

    def analyse_saved_session(self) -> None:
        """“Analyse…”: any saved session, with any prompt and model."""
        self.analysis_flow.choose_and_analyse(self.controller.saved_folder or "")

    def open_library(self) -> None:
        if self.store is None:
            return
        if self.library_window is None:
            self.library_window = LibraryWindow(self.store, self)
            self.library_window.transcribe_rest_requested.connect(
                lambda audio, start_ms, title: self.open_file(
                    audio, start_ms, f"{title} (from {format_clock(start_ms)})"))
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

    def open_models(self) -> None:
        """Settings → Models: what is installed, what to download, what answers."""
        ModelsDialog(self.settings, self.engine_host, self,
                     served_answer_models=self.setup.llms.engine_model_ids).exec()
        self.setup.select_engine(self.setup.engine)  # the pickers show what the dialog chose

    def open_log_folder(self) -> None:
        folder = log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.banner.show_message(f"The log folder {folder} cannot be created: {exc}")
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.banner.show_message(f"No file manager could open {folder}.", "info")

    def show_about(self) -> None:
        speech = self.setup.speech_in_use(self.speech_combo.currentText())
        AboutDialog(RunningModels(self.status.engine_label.text(), speech,
                                  self.llm_combo.currentText()), self).exec()

    # --- what the window shows -----------------------------------------------------------

    def _show_controls(self, controls: Controls) -> None:
        self.control_bar.show_controls(controls)
        self.toggle_action.setText("&Stop" if controls.live else "&Start")
        self.export_action.setEnabled(controls.can_export)
        self.analyse_action.setEnabled(self.store is not None)
        self.input_picker.setEnabled(controls.choices_enabled)
        self.open_file_action.setEnabled(controls.choices_enabled)

    def show_recovered(self, reports: list[RecoveryReport]) -> None:
        """Tell the user which interrupted sessions were repaired at launch."""
        if not reports:
            return
        lines = [f"“{r.meta.title or r.folder.name}” ({r.folder.name})" +
                 ("" if r.recovered else f": could not be repaired: {r.error}") for r in reports]
        self.banner.show_message("Earmark was closed during a session. Recovered: "
                                 + "; ".join(lines), "info")

    def show_first_run_hint(self) -> None:
        """Until dismissed: the app works offline as it is, and where the cloud key goes."""
        if self.settings.get(Key.HINT_DISMISSED) or self.banner.isVisible():
            return
        self.banner.show_message(
            "Earmark works offline: its embedded engine transcribes on this computer, so you "
            "can press Start and speak. For AssemblyAI's cloud models, add your API key in "
            "File → Settings.", "info", WELCOME_TOPIC)

    def _on_session_ended(self, summary: str) -> None:
        self._open_playback()
        if self.controller.saved_folder:
            summary += f" Saved in {self.controller.saved_folder}"
        self.status.showMessage(summary)
        if self._close_when_idle:
            self.close()
            return
        self.analysis_flow.analyse_finished_session()

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
        self.setup.save_choices()
        self.settings.sync()
        super().closeEvent(event)
