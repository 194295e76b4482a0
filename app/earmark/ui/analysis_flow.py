"""Whole-session analysis as the window offers it: on Stop with the session's prompt and LLM,
and on demand for any saved session with any prompt and model (the Analyse dialog). Streams
into the analysis panel; saves with the session."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QStatusBar, QWidget

from ..controllers.analysis import AnalysisController, AnalysisJob
from ..controllers.connections import (
    ENGINE_SERVICE,
    GATEWAY_SERVICE,
    Connections,
    SessionSetupError,
)
from ..core.prompt_library import PromptLibrary
from ..core.prompts import Prompt
from ..core.session import Analysis, SessionError, SessionStatus, SessionStore
from ..core.session.speakers import transcript_lines
from .analyse_dialog import AnalyseDialog
from .analysis_panel import AnalysisPanel
from .message_banner import MessageBanner

GATEWAY_ANALYSIS_MAX_TOKENS = 4000
ENGINE_ANALYSIS_MAX_TOKENS = 384  # a local CPU model: brief, and done in seconds

SaveAnalysis = Callable[[Analysis], None]


class AnalysisFlow:
    def __init__(self, analysis: AnalysisController, connections: Connections,
                 panel: AnalysisPanel, banner: MessageBanner, status: QStatusBar,
                 cancel_action: QAction, prompts: PromptLibrary,
                 store: Callable[[], SessionStore | None], parent: QWidget) -> None:
        self.analysis = analysis
        self.prompts = prompts
        self.connections = connections
        self.panel = panel
        self.banner = banner
        self.status = status
        self.cancel_action = cancel_action
        self._store = store
        self._parent = parent
        panel.cancel_button.clicked.connect(analysis.cancel)
        cancel_action.triggered.connect(analysis.cancel)
        analysis.started.connect(self._on_started)
        analysis.progress.connect(panel.set_status)
        analysis.delta.connect(panel.append)
        analysis.finished.connect(self._on_finished)
        analysis.failed.connect(self._on_failed)
        analysis.cancelled.connect(self._on_cancelled)
        analysis.save_failed.connect(lambda text: banner.show_message(text, "error"))

    def start(self, transcript: str, prompt: Prompt, model: str, service_kind: str,
              title: str, save: SaveAnalysis | None) -> bool:
        if not transcript.strip():
            self.status.showMessage("Nothing to analyse: the transcript is empty.", 8000)
            return False
        try:
            service = self.connections.llm_service(service_kind)
        except SessionSetupError as exc:
            self.panel.begin(title, prompt.name, model, "")
            self.panel.fail(str(exc))
            return False
        max_tokens = ENGINE_ANALYSIS_MAX_TOKENS if service_kind == ENGINE_SERVICE \
            else GATEWAY_ANALYSIS_MAX_TOKENS
        return self.analysis.start(AnalysisJob(transcript, prompt, model, service, title,
                                               max_tokens, save))

    def choose_and_analyse(self, engine_models: list[tuple[str, str]],
                           gateway_models: list[tuple[str, str]], session: str,
                           prompt_id: str, model: str) -> None:
        """The Analyse dialog: any complete saved session, any prompt, any model; `model` is
        "<service>|<model id>" as the dialog lists them."""
        store = self._store()
        if store is None:
            return
        try:
            summaries = store.list_sessions()
        except OSError as exc:
            self.banner.show_message(f"The sessions cannot be listed: {exc}")
            return
        sessions = [(f"{s.title or s.folder.name} — {s.folder.name}", str(s.folder))
                    for s in summaries if s.status == SessionStatus.COMPLETE]
        models = [(f"{label} — embedded engine", f"{ENGINE_SERVICE}|{model_id}")
                  for label, model_id in engine_models]
        models += [(f"{label} — AssemblyAI LLM Gateway", f"{GATEWAY_SERVICE}|{model_id}")
                   for model_id, label in gateway_models]
        dialog = AnalyseDialog(sessions, self.prompts.all(), models, session=session,
                               prompt_id=prompt_id, model=model, parent=self._parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        folder, chosen_prompt, model_data = dialog.choice()
        self.analyse_folder(folder, self.prompts.get(chosen_prompt), *model_data.split("|", 1))

    def analyse_folder(self, folder: str, prompt: Prompt | None, service_kind: str,
                       model: str) -> bool:
        store = self._store()
        if store is None or prompt is None:
            return False
        try:
            saved = store.load(folder)
        except (SessionError, OSError) as exc:
            self.banner.show_message(f"The session cannot be read: {exc}")
            return False
        transcript = transcript_lines([(t.speaker, t.text) for t in saved.turns],
                                      saved.meta.speakers)
        return self.start(transcript, prompt, model, service_kind,
                          saved.meta.title or saved.folder.name,
                          lambda analysis: store.set_analysis(saved.folder, analysis))

    def _on_started(self, job: AnalysisJob) -> None:
        self.panel.begin(job.title, job.prompt.name, job.model, job.service.label)
        self.cancel_action.setEnabled(True)

    def _on_finished(self, analysis: Analysis) -> None:
        self.panel.finish(analysis)
        self.cancel_action.setEnabled(False)
        self.status.showMessage(f"Analysis by {analysis.model} done.", 8000)

    def _on_failed(self, message: str) -> None:
        if not self.panel.isVisible():
            self.panel.begin("", "", "", "")
        self.panel.fail(message)
        self.cancel_action.setEnabled(False)

    def _on_cancelled(self) -> None:
        self.panel.cancelled()
        self.cancel_action.setEnabled(False)
