"""Windows that open within the screen they are on, a 1366×768 laptop's included."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

MARGIN = 0.92  # of the available area: room for the frame and title bar


def fit_to_screen(window: QWidget, preferred: QSize) -> QSize:
    """Resize `window` to `preferred`, or smaller where the screen's available area (without
    panels and docks) is smaller, and centre it there. Returns the size used."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(preferred)
        return preferred
    area = screen.availableGeometry()
    size = QSize(min(preferred.width(), int(area.width() * MARGIN)),
                 min(preferred.height(), int(area.height() * MARGIN)))
    window.resize(size)
    window.move(area.x() + (area.width() - size.width()) // 2,
                area.y() + (area.height() - size.height()) // 2)
    return size
