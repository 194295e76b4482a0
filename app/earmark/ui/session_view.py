"""A saved session, read-only: its title and details, the transcript and the LLM's answers side
by side (the same cards as the live window), and the session analysis when there is one.
Without a session it shows a hint, or why the session cannot be opened. Its audio plays from a
turn on (double-click the turn, or Space), the turn being heard selected as it plays."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..controllers.library import (
    SessionCardModel,
    answer_cards,
    session_details,
    transcript_cards,
)
from ..controllers.playback import AudioOutput, PlaybackController
from ..core.session import SavedSession
from . import theme
from .card_list_view import CardListView
from .message_banner import MessageBanner
from .playback_bar import PlaybackBar, TurnPlayback
from .selection_link import SelectionLink

ERROR_COLOR = "#b3261e"  # light; the heading of why a session cannot be opened


class SessionView(QWidget):
    def __init__(self, parent=None, audio_output: AudioOutput | None = None) -> None:
        super().__init__(parent)
        self.session: SavedSession | None = None
        self.playback = PlaybackController(audio_output, self)
        self.transcript = SessionCardModel(self)
        self.answers = SessionCardModel(self)

        self.placeholder = QLabel(objectName="placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setTextFormat(Qt.TextFormat.RichText)
        self.placeholder.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.placeholder.setMargin(32)

        self.title_label = QLabel(objectName="sessionTitle")
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label = QLabel(objectName="sessionDetails")
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = MessageBanner()

        self.transcript_view = CardListView("This session has no transcript.")
        self.transcript_view.setObjectName("savedTranscriptView")
        self.transcript_view.setModel(self.transcript)
        self.answer_view = CardListView("No LLM answers were saved for this session.")
        self.answer_view.setObjectName("savedAnswerView")
        self.answer_view.setModel(self.answers)
        SelectionLink(self.transcript_view, self.answer_view)
        self.playback_bar = PlaybackBar(self.playback)
        self.turn_playback = TurnPlayback(self.playback, (self.transcript_view, self.answer_view),
                                          follow=self.transcript_view, scope=self)

        self.analysis_view = QTextBrowser(objectName="analysis")
        self.analysis_view.setOpenExternalLinks(True)
        self.analysis_caption = QLabel(objectName="hint")
        self.analysis_pane = _pane("Session analysis", self.analysis_view, self.analysis_caption)

        cards = QSplitter(Qt.Orientation.Horizontal)
        cards.setChildrenCollapsible(False)
        cards.addWidget(_pane("Transcript", self.transcript_view))
        cards.addWidget(_pane("LLM answers", self.answer_view))
        cards.setSizes([500, 400])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(cards)
        self.splitter.addWidget(self.analysis_pane)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)

        header = QWidget(objectName="sessionHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(18, 12, 18, 10)
        header_layout.setSpacing(2)
        header_layout.addWidget(self.title_label)
        header_layout.addWidget(self.details_label)
        header_layout.addWidget(self.playback_bar)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self._message = ("", "")
        self.show_message("Choose a session to read its transcript and answers.")
        theme.on_change(self._on_theme)

    # --- what is shown -------------------------------------------------------------------

    def show_message(self, text: str, heading: str = "") -> None:
        """No session: a hint, or (with a heading) why the chosen one cannot be opened."""
        self.session = None
        self.playback.close()
        self.transcript.clear()
        self.answers.clear()
        self._message = (text, heading)
        self.placeholder.setText(_message_html(text, heading))
        self.stack.setCurrentIndex(0)

    def _on_theme(self, _dark: bool) -> None:
        """The heading's colour is in the label's rich text: write it again for the scheme."""
        self.placeholder.setText(_message_html(*self._message))

    def show_session(self, session: SavedSession, turn_order: int | None = None,
                     source: str = "transcript") -> None:
        """Show a session; with `turn_order`, select that turn (in the transcript, or in the
        answers when `source` is "answer") and scroll it into view."""
        self.session = session
        self.set_title(session.meta.title)
        self.details_label.setText(session_details(session))
        self.details_label.setToolTip(str(session.folder))
        if session.problems:
            self.banner.show_message("Parts of this session could not be read and are "
                                     "skipped: " + "; ".join(session.problems), "info")
        else:
            self.banner.hide()
        self.transcript.set_cards(transcript_cards(session))
        self.answers.set_cards(answer_cards(session))
        self.playback.open(session)
        analysis = session.analysis
        self.analysis_pane.setVisible(analysis is not None)
        if analysis is not None:
            self.analysis_view.setMarkdown(analysis.text)
            self.analysis_caption.setText(analysis.model)
        self.stack.setCurrentIndex(1)
        self.transcript_view.clearSelection()
        self.answer_view.clearSelection()
        self.transcript_view.scrollToTop()
        self.answer_view.scrollToTop()
        if turn_order is not None:
            self.go_to_turn(turn_order, source)

    def set_title(self, title: str) -> None:
        self.title_label.setText(title.strip() or "Untitled session")

    def go_to_turn(self, turn_order: int, source: str = "transcript") -> None:
        view = self.answer_view if source == "answer" else self.transcript_view
        view.select_order(turn_order)
        # Card heights depend on the final width: scroll again once the layout has settled.
        QTimer.singleShot(0, lambda: self._scroll_to(view, turn_order))

    def _scroll_to(self, view: CardListView, turn_order: int) -> None:
        row = view.model().row_of(turn_order)
        if row is not None and self.session is not None:
            view.scrollTo(view.model().index(row), CardListView.ScrollHint.PositionAtCenter)


def _message_html(text: str, heading: str) -> str:
    body = escape(text).replace("\n", "<br>")
    if not heading:
        return body
    return (f"<p style='color:{theme.hex_color(ERROR_COLOR)}; font-size:16px; font-weight:600'>"
            f"{escape(heading)}</p><p>{body}</p>")


def _pane(title: str, view: QWidget, caption: QLabel | None = None) -> QWidget:
    pane = QWidget(objectName="pane")
    layout = QVBoxLayout(pane)
    layout.setContentsMargins(10, 10, 10, 6)
    layout.setSpacing(6)
    line = QHBoxLayout()
    line.addWidget(QLabel(title, objectName="paneTitle"))
    line.addStretch(1)
    if caption is not None:
        line.addWidget(caption)
    layout.addLayout(line)
    layout.addWidget(view, 1)
    return pane
