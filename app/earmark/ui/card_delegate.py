"""Paints one transcript or answer card: a title line, a right-aligned detail, wrapped text.
Provisional text is grey and italic until the turn is final; selection draws an accent frame."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..controllers.card_model import CardRole, CardState

OUTER = 6
PAD = 12
GAP = 4
RADIUS = 8

COLORS = {
    "card": QColor("#ffffff"),
    "border": QColor("#dfe3ea"),
    "selected_bg": QColor("#eef3ff"),
    "accent": QColor("#3866f2"),
    "title": QColor("#4a5263"),
    "meta": QColor("#8a91a0"),
    "text": QColor("#1d2230"),
    "provisional": QColor("#8a91a0"),
    "error": QColor("#b3261e"),
    "error_bg": QColor("#fdf1f0"),
    "live_edge": QColor("#f0a030"),
}


class CardDelegate(QStyledItemDelegate):
    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view

    def _fonts(self, option: QStyleOptionViewItem, state: str) -> tuple[QFont, QFont]:
        title = QFont(option.font)
        title.setBold(True)
        title.setPointSizeF(max(7.0, option.font.pointSizeF() - 1))
        body = QFont(option.font)
        body.setPointSizeF(option.font.pointSizeF() + 1)
        body.setItalic(state in (CardState.PROVISIONAL, CardState.PENDING))
        return title, body

    def _text_width(self) -> int:
        return max(120, self._view.viewport().width() - 2 * (OUTER + PAD))

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        title_font, body_font = self._fonts(option, index.data(CardRole.STATE))
        body = QFontMetrics(body_font).boundingRect(
            QRect(0, 0, self._text_width(), 100_000), Qt.TextFlag.TextWordWrap,
            index.data(Qt.ItemDataRole.DisplayRole) or "")
        height = QFontMetrics(title_font).height() + GAP + body.height() + 2 * PAD + 2 * OUTER
        return QSize(self._view.viewport().width(), height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        state = index.data(CardRole.STATE)
        title_font, body_font = self._fonts(option, state)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        card = option.rect.adjusted(OUTER, OUTER, -OUTER, -OUTER)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = COLORS["error_bg"] if state == CardState.ERROR else COLORS["card"]
        if selected:
            background = COLORS["selected_bg"]
        painter.setPen(QPen(COLORS["accent"] if selected else COLORS["border"],
                            2 if selected else 1))
        painter.setBrush(background)
        painter.drawRoundedRect(card, RADIUS, RADIUS)
        if state in (CardState.PROVISIONAL, CardState.PENDING):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(COLORS["live_edge"])
            painter.drawRoundedRect(QRect(card.left(), card.top() + PAD, 3,
                                          card.height() - 2 * PAD), 1.5, 1.5)
        inner = card.adjusted(PAD, PAD, -PAD, -PAD)
        title_height = QFontMetrics(title_font).height()
        painter.setFont(title_font)
        painter.setPen(COLORS["title"])
        title_rect = QRect(inner.left(), inner.top(), inner.width(), title_height)
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignLeft, index.data(CardRole.TITLE) or "")
        painter.setPen(COLORS["meta"])
        painter.drawText(title_rect, Qt.AlignmentFlag.AlignRight, index.data(CardRole.META) or "")
        painter.setFont(body_font)
        color = {CardState.PROVISIONAL: "provisional", CardState.PENDING: "provisional",
                 CardState.ERROR: "error"}.get(state, "text")
        painter.setPen(COLORS[color])
        body_rect = QRect(inner.left(), inner.top() + title_height + GAP, self._text_width(),
                          inner.height() - title_height - GAP)
        painter.drawText(body_rect, Qt.TextFlag.TextWordWrap,
                         index.data(Qt.ItemDataRole.DisplayRole) or "")
        painter.restore()
