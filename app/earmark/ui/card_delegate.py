"""Paints one transcript or answer card: a title line, a right-aligned detail, wrapped text.
Provisional text is grey and italic until the turn is final; selection draws an accent frame.
Its colours are the theme's card roles (ui/theme.py CARD_COLORS), light or dark as the app is.

Heights are measured here and cached by what decides them (the text, italic or not, shown in
full or not, and the width), so a card whose title or state changed but whose text did not is
not measured again. A card longer than card_text.ELIDE_AT characters shows its beginning and
a "… show all" link; shown in full, it is laid out in pieces (long_text) and only the pieces
on screen are painted."""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from ..controllers.card_model import Card, CardRole, CardState
from . import long_text, theme
from .card_text import Laid, beginning, is_long

OUTER = 6
PAD = 12
GAP = 4
RADIUS = 8
MIN_TEXT_WIDTH = 120
TALL = 1 << 24  # a bound no wrapped piece reaches
CACHED_TEXTS = 1024

TEXT_COLOR = {CardState.PROVISIONAL: "provisional", CardState.PENDING: "provisional",
              CardState.ERROR: "error"}

_Index = QModelIndex | QPersistentModelIndex


class Fonts(NamedTuple):
    title: QFont
    body: QFont
    link: QFont


class CardDelegate(QStyledItemDelegate):
    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self.expanded: set[int] = set()  # orders of the long cards shown in full
        self._fonts_by_key: dict[tuple[str, bool], Fonts] = {}
        self._texts: OrderedDict[tuple, Laid] = OrderedDict()  # most recently used last
        self.texts_measured = 0  # texts laid out (cache misses), for tests and benches

    # --- what a card shows ------------------------------------------------------------------

    def fonts(self, base: QFont, state: str) -> Fonts:
        italic = state in (CardState.PROVISIONAL, CardState.PENDING)
        key = (base.key(), italic)
        fonts = self._fonts_by_key.get(key)
        if fonts is None:
            title = QFont(base)
            title.setBold(True)
            title.setPointSizeF(max(7.0, base.pointSizeF() - 1))
            body = QFont(base)
            body.setPointSizeF(base.pointSizeF() + 1)
            link = QFont(body)
            body.setItalic(italic)
            fonts = self._fonts_by_key[key] = Fonts(title, body, link)
        return fonts

    def is_long(self, index: _Index) -> bool:
        return is_long(card_of(index).body)

    def is_expanded(self, card: Card) -> bool:
        return card.order in self.expanded

    def toggle(self, index: _Index) -> None:
        """Shows a long card in full, or its beginning again (the view lays it out again)."""
        self.expanded ^= {card_of(index).order}

    def _link_text(self, card: Card) -> str:
        if self.is_expanded(card):
            return "show less"
        return f"… show all ({len(card.body):,} characters)"

    # --- measuring ----------------------------------------------------------------------------

    def text_width(self, width: int) -> int:
        return max(MIN_TEXT_WIDTH, width - 2 * (OUTER + PAD))

    def laid_text(self, card: Card, body_font: QFont, width: int) -> Laid:
        """The card's text as shown, measured at this card width; cached."""
        expanded = self.is_expanded(card)
        key = (card.body, body_font.italic(), expanded, width)
        laid = self._texts.get(key)
        if laid is None:
            laid = self._measure(card.body, body_font, expanded, self.text_width(width))
            self._texts[key] = laid
            if len(self._texts) > CACHED_TEXTS:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        return laid

    def _measure(self, text: str, font: QFont, expanded: bool, width: int) -> Laid:
        self.texts_measured += 1
        if expanded and is_long(text):
            return long_text.measure(text, font, width)
        shown = beginning(text)
        height = QFontMetrics(font).boundingRect(QRect(0, 0, width, TALL),
                                                 Qt.TextFlag.TextWordWrap, shown).height()
        return Laid.of([(0, len(shown))], [height])

    def card_height(self, index: _Index, width: int) -> int:
        """The card's height at this width: what the view lays out with."""
        card = card_of(index)
        fonts = self.fonts(self._view.font(), card.state)
        height = QFontMetrics(fonts.title).height() + GAP + 2 * PAD + 2 * OUTER
        height += self.laid_text(card, fonts.body, width).height
        if is_long(card.body):
            height += GAP + QFontMetrics(fonts.link).height()
        return height

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        width = self._view.viewport().width()
        return QSize(width, self.card_height(index, width))

    def link_rect(self, rect: QRect, index: _Index) -> QRect | None:
        """Where a long card at `rect` draws its "show all" link; None for other cards."""
        card = card_of(index)
        if not is_long(card.body):
            return None
        fonts = self.fonts(self._view.font(), card.state)
        metrics = QFontMetrics(fonts.link)
        inner = _inner(rect)
        return QRect(inner.left(), inner.bottom() + 1 - metrics.height(),
                     metrics.horizontalAdvance(self._link_text(card)), metrics.height())

    # --- painting -------------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        card = card_of(index)
        fonts = self.fonts(option.font, card.state)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        colors = theme.colors()
        painter.save()
        self._paint_frame(painter, option.rect, card.state, selected, colors)
        inner = _inner(option.rect)
        title_height = QFontMetrics(fonts.title).height()
        self._paint_title(painter, QRect(inner.left(), inner.top(), inner.width(), title_height),
                          card, fonts.title, colors)
        text_top = inner.top() + title_height + GAP
        laid = self.laid_text(card, fonts.body, option.rect.width())
        painter.setFont(fonts.body)
        painter.setPen(colors[TEXT_COLOR.get(card.state, "text")])
        text_rect = QRect(inner.left(), text_top, self.text_width(option.rect.width()),
                          laid.height)
        self._paint_text(painter, text_rect, card.body, fonts.body, laid)
        link = self.link_rect(option.rect, index)
        if link is not None:
            painter.setFont(fonts.link)
            painter.setPen(colors["accent"])
            painter.drawText(link, Qt.AlignmentFlag.AlignLeft, self._link_text(card))
        painter.restore()

    def _paint_frame(self, painter: QPainter, rect: QRect, state: str, selected: bool,
                     colors: dict[str, QColor]) -> None:
        card = rect.adjusted(OUTER, OUTER, -OUTER, -OUTER)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = colors["error_bg"] if state == CardState.ERROR else colors["card"]
        if selected:
            background = colors["selected_bg"]
        painter.setPen(QPen(colors["accent"] if selected else colors["border"],
                            2 if selected else 1))
        painter.setBrush(background)
        painter.drawRoundedRect(card, RADIUS, RADIUS)
        if state in (CardState.PROVISIONAL, CardState.PENDING):
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colors["live_edge"])
            painter.drawRoundedRect(QRect(card.left(), card.top() + PAD, 3,
                                          card.height() - 2 * PAD), 1.5, 1.5)

    def _paint_title(self, painter: QPainter, rect: QRect, card: Card, font: QFont,
                     colors: dict[str, QColor]) -> None:
        painter.setFont(font)
        painter.setPen(colors["title"])
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeft, card.title)
        painter.setPen(colors["meta"])
        painter.drawText(rect, Qt.AlignmentFlag.AlignRight, card.meta)

    def _paint_text(self, painter: QPainter, rect: QRect, text: str, font: QFont, laid: Laid
                    ) -> None:
        """A long text shown in full: only its pieces within the painter's clip (the view
        clips to what it repaints); else the text shown, wrapped, as it was measured."""
        if laid.in_lines:
            clip = painter.clipBoundingRect().toAlignedRect() if painter.hasClipping() else rect
            long_text.paint(painter, rect, text, font, laid, clip)
            return
        start, end = laid.spans[0]
        painter.drawText(rect, Qt.TextFlag.TextWordWrap, text[start:end])


def _inner(rect: QRect) -> QRect:
    return rect.adjusted(OUTER + PAD, OUTER + PAD, -OUTER - PAD, -OUTER - PAD)


def card_of(index: _Index) -> Card:
    """The card at `index`, from CardRole.CARD (no copy of a long text), else its roles."""
    card = index.data(CardRole.CARD)
    if isinstance(card, Card):
        return card
    return Card(index.data(CardRole.ORDER) or 0, index.data(CardRole.TITLE) or "",
                index.data(Qt.ItemDataRole.DisplayRole) or "",
                CardState(index.data(CardRole.STATE) or CardState.FINAL),
                index.data(CardRole.META) or "")
