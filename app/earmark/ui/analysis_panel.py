"""The whole-session analysis under the transcript and answers: the text as it is written
(rendered as Markdown), what is happening, Cancel, and the reason when it fails."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
)

from ..core.session import Analysis
from . import theme

RENDER_INTERVAL_MS = 80  # re-render the Markdown at most this often while text streams in

STYLE = """
QFrame#analysisPanel { background: #ffffff; border-top: 1px solid #dfe3ea; }
QLabel#analysisMeta { color: #5b6270; }
QLabel#analysisStatus { color: #3866f2; }
QLabel#analysisStatus[kind="error"] { color: #b3261e; }
QTextBrowser#analysisText { border: 1px solid #e4e8ee; border-radius: 8px; background: #fbfcfe;
                             padding: 6px; }
"""


class AnalysisPanel(QFrame):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("analysisPanel")
        theme.style(self, STYLE)  # light or dark, and switched with the app
        self.title_label = QLabel("Session analysis", objectName="paneTitle")
        self.meta_label = QLabel(objectName="analysisMeta")
        self.status_label = QLabel(objectName="analysisStatus", wordWrap=True)
        self.cancel_button = QPushButton("Cancel", toolTip="Stop the analysis")
        self.close_button = QToolButton(text="✕", autoRaise=True, toolTip="Hide the analysis")
        self.close_button.clicked.connect(self.hide)
        self.text_view = QTextBrowser(objectName="analysisText", openExternalLinks=True)
        self.text_view.setPlaceholderText("The analysis appears here as it is written.")
        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addWidget(self.meta_label, 1)
        header.addWidget(self.cancel_button)
        header.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.status_label)
        layout.addWidget(self.text_view, 1)
        self._text = ""
        self._render_timer = QTimer(self, singleShot=True, interval=RENDER_INTERVAL_MS)
        self._render_timer.timeout.connect(self._render)
        self.cancel_button.hide()
        self.hide()

    @property
    def text(self) -> str:
        return self._text

    @property
    def status(self) -> str:
        return self.status_label.text() if self.status_label.isVisible() else ""

    def begin(self, title: str, prompt_name: str, model: str, service: str) -> None:
        self._text = ""
        self.text_view.clear()
        self.title_label.setText(f"Analysis · {title}" if title else "Session analysis")
        self.meta_label.setText(f"{prompt_name} · {model} · {service}")
        self.set_status("Starting…")
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.show()

    def append(self, text: str) -> None:
        self._text += text
        if not self._render_timer.isActive():
            self._render_timer.start()

    def set_status(self, text: str, kind: str = "info") -> None:
        self.status_label.setProperty("kind", kind)
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))

    def finish(self, analysis: Analysis, saved: bool = True) -> None:
        self._text = analysis.text
        self._render()
        self.cancel_button.hide()
        self.meta_label.setText(f"{analysis.prompt} · {analysis.model}")
        self.set_status("" if saved else "Not saved with the session.",
                        "info" if saved else "error")

    def fail(self, message: str) -> None:
        self._render()
        self.cancel_button.hide()
        self.set_status(message, "error")

    def cancelled(self) -> None:
        self._render()
        self.cancel_button.hide()
        self.set_status("Cancelled; nothing was saved.", "error")

    def _render(self) -> None:
        self._render_timer.stop()
        bar = self.text_view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 4
        self.text_view.setMarkdown(self._text)
        if at_end:
            self.text_view.moveCursor(QTextCursor.MoveOperation.End)
            bar.setValue(bar.maximum())
