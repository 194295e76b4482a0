"""A small horizontal audio level meter in dBFS, with a quick attack and a slow release."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QWidget

from . import theme

FLOOR_DB = -60.0
DECAY_DB_PER_TICK = 1.5
TROUGH, EDGE = "#eef0f4", "#c9ced8"  # light; theme.color() maps them
GOOD, LOUD, CLIPPING = "#2e9d5b", "#e0a020", "#d0342c"


class LevelMeter(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._db = FLOOR_DB
        self.setFixedSize(QSize(110, 12))
        self.setToolTip("Input level")
        self._decay = QTimer(self, interval=50)
        self._decay.timeout.connect(self._fall)

    @property
    def level_db(self) -> float:
        return self._db

    def set_level(self, dbfs: float) -> None:
        self._db = max(self._db, max(FLOOR_DB, min(0.0, dbfs)))
        self.setToolTip(f"Input level: {dbfs:.0f} dBFS")
        self._decay.start()
        self.update()

    def reset(self) -> None:
        self._db = FLOOR_DB
        self._decay.stop()
        self.update()

    def _fall(self) -> None:
        self._db = max(FLOOR_DB, self._db - DECAY_DB_PER_TICK)
        if self._db <= FLOOR_DB:
            self._decay.stop()
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(theme.color(EDGE))
        painter.setBrush(theme.color(TROUGH))
        painter.drawRoundedRect(rect, 3, 3)
        fraction = (self._db - FLOOR_DB) / -FLOOR_DB
        if fraction > 0:
            color = GOOD if self._db < -12 else LOUD if self._db < -3 else CLIPPING
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color(color))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1).adjusted(
                0, 0, -(rect.width() - 2) * (1 - fraction), 0), 2, 2)
