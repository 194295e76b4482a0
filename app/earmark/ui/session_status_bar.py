"""The status bar: engine, connection state, session id, elapsed time, the input picker with
its level meter, and while a file plays, its progress and the time left."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QStatusBar, QWidget

from ..core.clock import format_clock, format_duration
from . import theme
from .level_meter import LevelMeter

# Light; theme.hex_color() gives the current scheme's.
STATE_COLORS = {"idle": "#9aa1ad", "connecting": "#e0a020", "live": "#2e9d5b",
                "reconnecting": "#e0a020", "stopping": "#e0a020", "finished": "#9aa1ad",
                "failed": "#d0342c", "error": "#d0342c"}


def _dot(color: str) -> str:
    return f'<span style="color:{theme.hex_color(color)}; font-size:14px;">●</span>'


class ElidedLabel(QLabel):
    """One line that shortens itself with "…" to the space it has; the tooltip has it all."""

    def __init__(self) -> None:
        super().__init__()
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = QFontMetrics(self.font())
        self.setText(metrics.elidedText(" ".join(self._full.split()),
                                        Qt.TextElideMode.ElideRight, max(0, self.width())))


class SessionStatusBar(QStatusBar):
    """Messages have a space of their own at the left (shortened with "…", whole in the
    tooltip), so they never run into the engine and connection labels at the right."""

    def __init__(self, input_picker: QWidget | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self.message_label = ElidedLabel()
        self.message_label.setObjectName("statusMessage")
        self.addWidget(self.message_label, 1)
        self._message_timer = QTimer(self, singleShot=True)
        self._message_timer.timeout.connect(self.clearMessage)
        self.engine_label = QLabel()
        self.connection_label = QLabel()
        self.session_label = QLabel()
        self.session_label.setObjectName("sessionId")
        self.elapsed_label = QLabel("00:00")
        self.elapsed_label.setObjectName("elapsed")
        self.level_meter = LevelMeter()
        self.progress = QProgressBar(objectName="fileProgress", textVisible=True)
        self.progress.setFixedWidth(180)
        self.progress.hide()
        self._progress_since = (0.0, 0)
        right = QWidget()
        layout = QHBoxLayout(right)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(14)
        for widget in (self.progress, self.engine_label, self.connection_label, self.session_label,
                       self.elapsed_label, input_picker, self.level_meter):
            if widget is not None:
                layout.addWidget(widget)
        self.addPermanentWidget(right)
        self._connection = ("idle", "Not connected")
        self.set_connection(*self._connection)
        theme.on_change(self._on_theme)

    def showMessage(self, text: str, timeout: int = 0) -> None:
        self.message_label.set_full_text(text)
        self._message_timer.stop()
        if timeout > 0:
            self._message_timer.start(timeout)

    def clearMessage(self) -> None:
        self.message_label.set_full_text("")

    def currentMessage(self) -> str:
        return self.message_label.full_text()

    def set_engine(self, text: str) -> None:
        self.engine_label.setText(text)

    def set_connection(self, state: str, text: str) -> None:
        self._connection = (state, text)
        self.connection_label.setText(f"{_dot(STATE_COLORS.get(state, '#9aa1ad'))} {text}")
        self.connection_label.setToolTip(text)

    def _on_theme(self, _dark: bool) -> None:
        self.set_connection(*self._connection)  # the dot's colour is in the label's rich text

    def set_session_id(self, session_id: str) -> None:
        self.session_label.setText(f"Session {session_id[:8]}" if session_id else "")
        self.session_label.setToolTip(session_id)

    def set_elapsed(self, seconds: float) -> None:
        self.elapsed_label.setText(format_clock(int(seconds * 1000)))

    def set_progress(self, position_ms: int, duration_ms: int) -> None:
        """A file being transcribed: how far, and how long is left."""
        if duration_ms <= 0:
            return
        now = time.monotonic()
        if not self.progress.isVisible():
            self._progress_since = (now, position_ms)
        self.progress.setRange(0, duration_ms)
        self.progress.setValue(min(position_ms, duration_ms))
        self.progress.setFormat(f"%p% · {self._time_left(now, position_ms, duration_ms)}")
        self.progress.show()

    def _time_left(self, now: float, position_ms: int, duration_ms: int) -> str:
        """Wall-clock time left at the pace so far (a file may play faster than real time)."""
        since, from_ms = self._progress_since
        if now - since < 0.5 or position_ms <= from_ms:
            return "starting…"
        pace = (position_ms - from_ms) / 1000 / (now - since)  # audio seconds per second
        left_s = max(0, duration_ms - position_ms) / 1000 / pace
        return f"{format_duration(round(left_s) * 1000)} left"

    def clear_progress(self) -> None:
        self.progress.hide()
        self.progress.reset()
