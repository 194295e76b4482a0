"""Search hits as a list: each shows where it is (session, turn, transcript or answer) and a
snippet with the matched words highlighted."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QFont,
    QFontMetrics,
    QPainter,
    QPalette,
    QPen,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
)

from ..controllers.library import LibraryRole
from . import theme

PAD_X = 14
PAD_Y = 8
GAP = 2

# Light; theme.color() gives the current scheme's (the snippet's highlight: theme.themed()).
HEADING_COLOR = "#5b6270"
TEXT_COLOR = "#1d2230"
SELECTED_BG = "#eef3ff"
ACCENT = "#3866f2"
DIVIDER = "#e4e8ee"
HINT_COLOR = "#8a91a0"


class SearchHitDelegate(QStyledItemDelegate):
    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self._view = view

    def _heading_font(self, option: QStyleOptionViewItem) -> QFont:
        font = QFont(option.font)
        font.setPointSizeF(max(7.0, option.font.pointSizeF() - 1))
        font.setBold(True)
        return font

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex) -> QTextDocument:
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        doc.setHtml(theme.themed(index.data(LibraryRole.HTML) or ""))
        doc.setTextWidth(max(80, self._view.viewport().width() - 2 * PAD_X))
        return doc

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        heading = QFontMetrics(self._heading_font(option)).height()
        body = self._document(option, index).size().height()
        return QSize(self._view.viewport().width(), int(heading + GAP + body + 2 * PAD_Y) + 1)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        painter.save()
        rect = option.rect
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, theme.color(SELECTED_BG))
            painter.fillRect(rect.adjusted(0, 0, -(rect.width() - 3), 0), theme.color(ACCENT))
        painter.setPen(QPen(theme.color(DIVIDER)))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        heading_font = self._heading_font(option)
        heading_height = QFontMetrics(heading_font).height()
        painter.setFont(heading_font)
        painter.setPen(theme.color(HEADING_COLOR))
        heading_rect = rect.adjusted(PAD_X, PAD_Y, -PAD_X, 0)
        heading_rect.setHeight(heading_height)
        heading = QFontMetrics(heading_font).elidedText(
            index.data(LibraryRole.HEADING) or "", Qt.TextElideMode.ElideRight,
            heading_rect.width())
        painter.drawText(heading_rect, Qt.AlignmentFlag.AlignLeft, heading)
        doc = self._document(option, index)
        painter.translate(rect.left() + PAD_X, rect.top() + PAD_Y + heading_height + GAP)
        context = QAbstractTextDocumentLayout.PaintContext()
        context.palette.setColor(QPalette.ColorRole.Text, theme.color(TEXT_COLOR))
        context.clip = QRectF(0, 0, doc.textWidth(), doc.size().height())
        doc.documentLayout().draw(painter, context)
        painter.restore()


class SearchResultsView(QListView):
    """Shows `empty_hint` while there are no hits (set by the window: searching, no match)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("searchResults")
        self.empty_hint = ""
        self.setItemDelegate(SearchHitDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setFrameShape(QFrame.Shape.NoFrame)

    def set_empty_hint(self, text: str) -> None:
        self.empty_hint = text
        self.viewport().update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.model() is not None and self.model().rowCount() == 0 and self.empty_hint:
            painter = QPainter(self.viewport())
            painter.setPen(theme.color(HINT_COLOR))
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                             | Qt.TextFlag.TextWordWrap, self.empty_hint)
