"""The main window's panes: the live transcript beside the LLM's answers (a turn selected in
one is selected in the other), the whole-session analysis below; and, after Stop, playback of
the session from any turn double-clicked (Space plays or pauses)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from ..controllers.live_session import LiveSessionController
from ..controllers.playback import PlaybackController
from .analysis_panel import AnalysisPanel
from .card_list_view import CardListView
from .card_menus import install_menus
from .playback_bar import PlaybackBar, TurnPlayback
from .selection_link import SelectionLink


class SessionPanes(QSplitter):
    """`playback_bar` is for the window to place; it shows once a session can be heard."""

    def __init__(self, controller: LiveSessionController, window: QWidget) -> None:
        super().__init__(Qt.Orientation.Vertical)
        self.setChildrenCollapsible(False)
        self.transcript_view = CardListView(
            "Press Start and speak.\nWords appear here as you talk; each turn is finalised "
            "when you pause.")
        self.transcript_view.setObjectName("transcriptView")
        self.transcript_view.setModel(controller.transcript)
        self.answer_view = CardListView(
            "The LLM's answer to each finished turn appears here, next to its turn.")
        self.answer_view.setObjectName("answerView")
        self.answer_view.setModel(controller.answers)
        SelectionLink(self.transcript_view, self.answer_view)
        install_menus(self.transcript_view, self.answer_view, controller, window)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(_pane("Live transcript", self.transcript_view))
        self.splitter.addWidget(_pane("LLM answers", self.answer_view))
        self.splitter.setSizes([620, 520])
        self.analysis_panel = AnalysisPanel()
        self.addWidget(self.splitter)
        self.addWidget(self.analysis_panel)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)
        self.playback = PlaybackController(parent=window)
        self.playback_bar = PlaybackBar(self.playback)
        self.playback_bar.hide()
        self.turn_playback = TurnPlayback(self.playback, (self.transcript_view, self.answer_view),
                                          follow=self.transcript_view, scope=self.splitter)


def _pane(title: str, view: QWidget) -> QWidget:
    pane = QWidget(objectName="pane")
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(10, 10, 10, 6)
    layout.setSpacing(6)
    layout.addWidget(QLabel(title, objectName="paneTitle"))
    layout.addWidget(view, 1)
    return pane
