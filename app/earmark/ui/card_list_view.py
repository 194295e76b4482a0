"""A list of cards that follows the newest card while the user is at the bottom, re-wraps on
resize, and shows a hint while it is empty."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QListView

from ..controllers.card_model import CardListModel
from .card_delegate import CardDelegate
from .empty_hint import paint_empty_hint


class CardListView(QListView):
    def __init__(self, empty_hint: str, parent=None) -> None:
        super().__init__(parent)
        self._empty_hint = empty_hint
        self.setItemDelegate(CardDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(False)
        self.setWordWrap(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSpacing(0)

    def setModel(self, model: CardListModel) -> None:
        super().setModel(model)
        model.rowsInserted.connect(self._follow_new_rows)
        model.dataChanged.connect(self._on_data_changed)

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def _follow_new_rows(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        if self._at_bottom():
            self.scrollToBottom()

    def _on_data_changed(self, *_args) -> None:
        follow = self._at_bottom()
        self.scheduleDelayedItemsLayout()  # the card's height may have changed
        if follow:
            self.scrollToBottom()

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

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        paint_empty_hint(self, self._empty_hint)
