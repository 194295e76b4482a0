"""A list of cards that follows the newest card while the user is at the bottom, re-wraps on
resize, and shows a hint while it is empty.

It lays its cards out itself (QListView measures every card again on every insertion and on
every layout): a new or changed card is measured once (CardHeights), every card only when the
width changes (those on screen at once, the others in batches of REFINE_S while the GUI stays
responsive), and all the changes of one frame are laid out and painted together, on Qt's
delayed-layout timer. Painting touches only the cards on screen. A long card's "… show all"
link (a click, Enter, or the context menu where the view has its own) shows it in full."""

from __future__ import annotations

import time
from collections.abc import Sequence

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    QTimer,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QRegion,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QMenu,
    QStyle,
    QStyleOptionViewItem,
    QToolButton,
    QWidget,
)

from ..controllers.card_model import CardListModel
from .card_delegate import CardDelegate, card_of
from .card_heights import CardHeights
from .empty_hint import paint_empty_hint

BOTTOM_SLACK = 8  # px from the end that still counts as "at the bottom"
SCROLL_STEP = 24
REFINE_S = 0.005  # how long one batch of measuring at a new width may hold the GUI
Hint = QAbstractItemView.ScrollHint
Move = QAbstractItemView.CursorAction


class CardListView(QAbstractItemView):
    def __init__(self, empty_hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._empty_hint = empty_hint
        self.heights = CardHeights(self._measure_row)
        self._delegate = CardDelegate(self)
        self.setItemDelegate(self._delegate)
        self._width = -1  # the viewport width the heights were measured at
        self._follow = False  # scroll to the bottom at the next layout
        self._refiner = QTimer(self, singleShot=True, interval=0)
        self._refiner.timeout.connect(self._refine)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)  # the pane shows through, as QListView's
        self.viewport().setMouseTracking(True)  # the pointing hand over "show all"
        # new cards below while the user reads further up: a way back to the newest
        self.latest_button = QToolButton(self.viewport(), text="↓ Jump to latest",
                                         objectName="jumpToLatest", autoRaise=False)
        self.latest_button.hide()
        self.latest_button.clicked.connect(self.jump_to_latest)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    def jump_to_latest(self) -> None:
        self.latest_button.hide()
        self._follow = True
        self.scrollToBottom()

    def _on_scrolled(self, _value: int) -> None:
        if self._at_bottom():
            self.latest_button.hide()

    def _offer_latest(self) -> None:
        button = self.latest_button
        button.adjustSize()
        area = self.viewport().rect()
        button.move(area.right() - button.width() - 12, area.bottom() - button.height() - 10)
        button.show()
        button.raise_()

    def set_empty_hint(self, text: str) -> None:
        """What the view says while it has no cards."""
        self._empty_hint = text
        self.viewport().update()

    def setModel(self, model: CardListModel | None) -> None:
        old = self.model()
        if old is not None and old is not model:
            self._listen(old, False)
        super().setModel(model)
        if model is not None and old is not model:
            self._listen(model, True)
        self._relayout_all()

    def _listen(self, model: CardListModel, listen: bool) -> None:
        """What QAbstractItemView has no virtual slot for: rows gone, moved, re-sorted."""
        for signal, slot in ((model.rowsRemoved, self._rows_removed),
                             (model.rowsMoved, self._relayout_all),
                             (model.layoutChanged, self._relayout_all)):
            if listen:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    # --- what the model says ------------------------------------------------------------------

    def rowsInserted(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self._follow = self._follow or self._at_bottom()
            if not self._follow and len(self.heights):
                self._offer_latest()
            self.heights.insert(first, last - first + 1)
            self._schedule()
        super().rowsInserted(parent, first, last)

    def dataChanged(self, top_left: QModelIndex, bottom_right: QModelIndex,
                    roles: Sequence[int] = ()) -> None:
        if top_left.isValid() and bottom_right.isValid() and not top_left.parent().isValid():
            self._follow = self._follow or self._at_bottom()
            self.heights.invalidate(top_left.row(), bottom_right.row())
            self._schedule()  # before the base class, which then leaves the painting to us
        super().dataChanged(top_left, bottom_right, list(roles))

    def _rows_removed(self, parent: QModelIndex, first: int, last: int) -> None:
        if not parent.isValid():
            self.heights.remove(first, last - first + 1)
            self._schedule()

    def reset(self) -> None:
        super().reset()
        self._relayout_all()
        self._delegate.expanded.clear()

    def _relayout_all(self, *_args: object) -> None:
        self._follow = False
        model = self.model()
        self.heights.reset(model.rowCount(self.rootIndex()) if model is not None else 0)
        self._schedule()

    # --- layout: once per frame -------------------------------------------------------------

    def _schedule(self) -> None:
        self.scheduleDelayedItemsLayout()

    def _measure_row(self, row: int) -> int:
        return self._delegate.card_height(self.model().index(row, 0, self.rootIndex()),
                                          self.viewport().width())

    def doItemsLayout(self) -> None:
        """Measures what changed since the last layout and what is on screen at a new width,
        sets the scroll range, follows the newest card if the user was at the bottom, and
        repaints from the first card that changed down (Qt's delayed layout; the base class
        would repaint everything). Cards off screen at a new width: `_refine`, later."""
        self._check_width()
        self.heights.settle()
        follow, self._follow = self._follow, False
        for _ in range(4):  # cards measured on screen may bring others onto it
            self.updateGeometries()
            if follow:
                self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
            if not self.heights.settle(self._visible_rows()):
                break
        self._repaint_from(self.heights.take_dirty())
        if self.heights.rough:
            self._refiner.start()

    def _refine(self) -> None:
        """A batch of the cards still measured at an old width, for at most REFINE_S; the
        cards on screen stay where they are (the scroll value follows what moved above)."""
        anchor = self._anchor()
        deadline = time.perf_counter() + REFINE_S
        done = self.heights.refine(lambda: time.perf_counter() < deadline)
        self.updateGeometries()
        self._restore(anchor)
        visible = self._visible_rows()
        if any(row in visible for row in done):
            self.viewport().update()
        if self.heights.rough:
            self._refiner.start()

    def _visible_rows(self) -> range:
        offset = self.verticalOffset()
        return self.heights.rows_between(offset, offset + self.viewport().height())

    def _anchor(self) -> tuple[int, int] | None:
        """The row at the top of the viewport and how far into it; None at the bottom."""
        if self._at_bottom() or not len(self.heights):
            return None
        offset = self.verticalOffset()
        row = self.heights.row_at(offset)
        return row, offset - self.heights.top(row)

    def _restore(self, anchor: tuple[int, int] | None) -> None:
        """Scrolls back to `anchor` without moving a pixel: what is on screen did not change,
        only the height of what is above it."""
        bar = self.verticalScrollBar()
        value = bar.maximum() if anchor is None else self.heights.top(anchor[0]) + anchor[1]
        blocked = bar.blockSignals(True)
        bar.setValue(value)
        bar.blockSignals(blocked)

    def _repaint_from(self, row: int | None) -> None:
        if row is None:
            return
        top = self.heights.top(row) - self.verticalOffset() if row < len(self.heights) else \
            self.heights.total() - self.verticalOffset()
        viewport = self.viewport().rect()
        if top < viewport.bottom():
            self.viewport().update(viewport.adjusted(0, max(0, top), 0, 0))

    def _ensure_layout(self) -> None:
        """Before geometry is read outside a layout: the layout now if one is due."""
        self.executeDelayedItemsLayout()
        self._check_width()
        if self.heights.settle():
            self.updateGeometries()

    def _check_width(self) -> None:
        width = self.viewport().width()
        if width != self._width:
            self._width = width
            self.heights.invalidate_all()

    def updateGeometries(self) -> None:
        bar, page = self.verticalScrollBar(), self.viewport().height()
        bar.setSingleStep(SCROLL_STEP)
        bar.setPageStep(page)
        bar.setRange(0, max(0, self.heights.total() - page))
        super().updateGeometries()

    def resizeEvent(self, event: QResizeEvent) -> None:
        follow = self._at_bottom()
        super().resizeEvent(event)
        if follow or self.viewport().width() != self._width:
            self._follow = self._follow or follow  # the newest card stays in view
            self._schedule()  # a new width: every card again, once the resizing settles

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - BOTTOM_SLACK

    # --- geometry (QAbstractItemView's contract) ------------------------------------------

    def _row_rect(self, row: int) -> QRect:
        return QRect(0, self.heights.top(row) - self.verticalOffset(), self.viewport().width(),
                     self.heights.height(row))

    def _valid_row(self, index: QModelIndex) -> bool:
        return index.isValid() and index.parent() == self.rootIndex() \
            and 0 <= index.row() < len(self.heights)

    def visualRect(self, index: QModelIndex) -> QRect:
        if not self._valid_row(index):
            return QRect()
        self.heights.settle()
        return self._row_rect(index.row())

    def indexAt(self, point: QPoint) -> QModelIndex:
        self.heights.settle()
        y = point.y() + self.verticalOffset()
        if self.model() is None or not 0 <= y < self.heights.total():
            return QModelIndex()
        return self.model().index(self.heights.row_at(y), 0, self.rootIndex())

    def scrollTo(self, index: QModelIndex, hint: Hint = Hint.EnsureVisible) -> None:
        if not self._valid_row(index):
            return
        self._ensure_layout()
        if self.heights.settle([index.row()]):  # measured at an old width
            self.updateGeometries()
        top, height = self.heights.top(index.row()), self.heights.height(index.row())
        page, value = self.viewport().height(), self.verticalOffset()
        if hint == Hint.PositionAtTop or (hint == Hint.EnsureVisible and top < value):
            value = top
        elif hint == Hint.PositionAtBottom:
            value = top + height - page
        elif hint == Hint.PositionAtCenter:
            value = top + (height - page) // 2
        elif top + height > value + page:  # EnsureVisible, below the viewport
            value = min(top, top + height - page)
        self.verticalScrollBar().setValue(value)

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: QModelIndex) -> bool:
        return False

    def moveCursor(self, action: Move, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        model = self.model()
        count = model.rowCount(self.rootIndex()) if model is not None else 0
        if count == 0:
            return QModelIndex()
        self._ensure_layout()
        current = self.currentIndex()
        row = current.row() if current.isValid() else -1
        page = self.viewport().height()
        target = {Move.MoveUp: row - 1, Move.MovePrevious: row - 1, Move.MoveDown: row + 1,
                  Move.MoveNext: row + 1, Move.MoveHome: 0, Move.MoveEnd: count - 1,
                  Move.MovePageUp: self.heights.row_at(self.heights.top(max(row, 0)) - page),
                  Move.MovePageDown: self.heights.row_at(self.heights.top(max(row, 0)) + page),
                  }.get(action, row)
        return model.index(min(max(target, 0), count - 1), 0, self.rootIndex())

    def setSelection(self, rect: QRect, flags: QItemSelectionModel.SelectionFlag) -> None:
        if self.model() is None or not len(self.heights):
            return
        self.heights.settle()
        rect = rect.normalized()
        first = self.heights.row_at(rect.top() + self.verticalOffset())
        last = self.heights.row_at(rect.bottom() + self.verticalOffset())
        model, root = self.model(), self.rootIndex()
        selection = QItemSelection(model.index(first, 0, root), model.index(last, 0, root))
        self.selectionModel().select(selection, flags)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        for selected in selection:
            if selected.parent() != self.rootIndex():
                continue
            first = self.visualRect(selected.model().index(selected.top(), 0, selected.parent()))
            last = self.visualRect(selected.model().index(selected.bottom(), 0,
                                                          selected.parent()))
            region = region.united(first.united(last).intersected(self.viewport().rect()))
        return region

    # --- painting ---------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.model() is not None and len(self.heights):
            self._check_width()
            if self.heights.settle(self._visible_rows()):  # not laid out yet: painted as is,
                self._follow = self._follow or self._at_bottom()  # and laid out next
                self._schedule()
            painter = QPainter(self.viewport())
            painter.setClipRegion(event.region())
            self._paint_cards(painter, event.rect())
            painter.end()
        paint_empty_hint(self, self._empty_hint)

    def _paint_cards(self, painter: QPainter, exposed: QRect) -> None:
        offset, root = self.verticalOffset(), self.rootIndex()
        first = self.heights.row_at(exposed.top() + offset)
        last = self.heights.row_at(exposed.bottom() + offset)
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        base_state = option.state
        selection, current = self.selectionModel(), self.currentIndex()
        for row in range(first, last + 1):
            index = self.model().index(row, 0, root)
            option.rect = self._row_rect(row)
            option.state = base_state
            if selection is not None and selection.isSelected(index):
                option.state |= QStyle.StateFlag.State_Selected
            if index == current and self.hasFocus():
                option.state |= QStyle.StateFlag.State_HasFocus
            self._delegate.paint(painter, option, index)

    # --- long cards: "… show all" ----------------------------------------------------------

    def toggle_expanded(self, index: QModelIndex) -> None:
        """Shows a long card in full, or only its beginning again; it stays in view."""
        if not self._is_long(index):
            return
        self._delegate.toggle(index)
        self.heights.invalidate(index.row(), index.row())
        self._ensure_layout()
        self.viewport().update()
        if self.heights.top(index.row()) < self.verticalOffset():
            self.scrollTo(index, Hint.PositionAtTop)

    def _link_at(self, pos: QPoint) -> QModelIndex:
        index = self.indexAt(pos)
        if not index.isValid():
            return QModelIndex()
        link = self._delegate.link_rect(self.visualRect(index), index)
        return index if link is not None and link.contains(pos) else QModelIndex()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        link = self._link_at(event.position().toPoint())
        super().mouseReleaseEvent(event)
        if link.isValid() and event.button() == Qt.MouseButton.LeftButton:
            self.toggle_expanded(link)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self._link_at(event.position().toPoint()).isValid()
        self.viewport().setCursor(Qt.CursorShape.PointingHandCursor if over
                                  else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._is_long(current):
            self.toggle_expanded(current)
            return
        super().keyPressEvent(event)

    def _is_long(self, index: QModelIndex) -> bool:
        return self._valid_row(index) and self._delegate.is_long(index)

    def expand_action_text(self, index: QModelIndex) -> str | None:
        """"Show all" or "Show less" for a long card, None for others: for a context menu."""
        if not self._is_long(index):
            return None
        return "Show less" if card_of(index).order in self._delegate.expanded else "Show all"

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Where no one else gives the cards a menu (the library's session view)."""
        index = self.indexAt(event.pos())
        text = self.expand_action_text(index)
        if text is None:
            return
        card = QPersistentModelIndex(index)
        menu = QMenu(self)
        menu.addAction(text, lambda: self.toggle_expanded(self._index_of(card)))
        menu.exec(event.globalPos())

    def _index_of(self, index: QPersistentModelIndex) -> QModelIndex:
        if not index.isValid():
            return QModelIndex()
        return self.model().index(index.row(), 0, self.rootIndex())

    # --- selection by turn ------------------------------------------------------------------

    def select_order(self, order: int) -> None:
        model: CardListModel = self.model()
        row = model.row_of(order)
        if row is None:
            self.clearSelection()
            return
        index = model.index(row)
        self.selectionModel().setCurrentIndex(
            index, self.selectionModel().SelectionFlag.ClearAndSelect)
        self.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
