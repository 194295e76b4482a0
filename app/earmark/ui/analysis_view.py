"""The whole-session analysis on screen: the panel it streams into, its Cancel button and menu
action, the status bar and the banner; and the Analyse dialog the flow asks through."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QStatusBar, QWidget

from ..controllers.analysis import AnalysisJob
from ..controllers.analysis_flow import AnalyseOffer, AnalysisFlow
from ..core.session import Analysis
from .analyse_dialog import AnalyseDialog
from .analysis_panel import AnalysisPanel
from .message_banner import MessageBanner


class AnalysisView(QObject):
    def __init__(self, flow: AnalysisFlow, panel: AnalysisPanel, banner: MessageBanner,
                 status: QStatusBar, cancel_action: QAction, parent: QWidget) -> None:
        super().__init__(parent)
        self._flow = flow
        self._panel = panel
        self._status = status
        self._cancel_action = cancel_action
        self._parent = parent
        analysis = flow.analysis
        panel.cancel_button.clicked.connect(analysis.cancel)
        cancel_action.triggered.connect(analysis.cancel)
        analysis.started.connect(self._on_started)
        analysis.progress.connect(panel.set_status)
        analysis.delta.connect(panel.append)
        analysis.finished.connect(self._on_finished)
        analysis.failed.connect(self._on_failed)
        analysis.cancelled.connect(self._on_cancelled)
        analysis.save_failed.connect(lambda text: banner.show_message(text, "error"))
        flow.message.connect(lambda text: status.showMessage(text, 8000))
        flow.problem.connect(lambda text: banner.show_message(text, "error"))
        flow.unavailable.connect(self._on_unavailable)
        flow.choice_wanted.connect(self._ask)

    def _ask(self, offer: AnalyseOffer) -> None:
        dialog = AnalyseDialog(offer.sessions, offer.prompts, offer.models,
                               session=offer.session, prompt_id=offer.prompt_id,
                               model=offer.model, parent=self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._flow.analyse_choice(*dialog.choice())

    def _on_unavailable(self, title: str, prompt_name: str, model: str, why: str) -> None:
        self._panel.begin(title, prompt_name, model, "")
        self._panel.fail(why)

    def _on_started(self, job: AnalysisJob) -> None:
        self._panel.begin(job.title, job.prompt.name, job.model, job.service.label)
        self._cancel_action.setEnabled(True)

    def _on_finished(self, analysis: Analysis) -> None:
        self._panel.finish(analysis)
        self._cancel_action.setEnabled(False)
        self._status.showMessage(f"Analysis by {analysis.model} done.", 8000)

    def _on_failed(self, message: str) -> None:
        if not self._panel.isVisible():
            self._panel.begin("", "", "", "")
        self._panel.fail(message)
        self._cancel_action.setEnabled(False)

    def _on_cancelled(self) -> None:
        self._panel.cancelled()
        self._cancel_action.setEnabled(False)
