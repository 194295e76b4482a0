"""The grey sentence an empty list or table shows in place of rows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QAbstractItemView

from . import theme

HINT_COLOR = "#8a91a0"  # light; theme.color() gives the current scheme's


def paint_empty_hint(view: QAbstractItemView, text: str) -> None:
    """Call at the end of the view's paintEvent; draws only when the model has no rows."""
    if view.model() is None or view.model().rowCount() != 0:
        return
    painter = QPainter(view.viewport())
    painter.setPen(theme.color(HINT_COLOR))
    painter.drawText(view.viewport().rect().adjusted(24, 24, -24, -24),
                     Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
