"""A list model of cards keyed by turn order: the transcript pane and the answer pane each show
one. Updating a card replaces it in place, so provisional text is rewritten, not appended.

Every upsert costs the same at 10 cards and at 10,000: a card after the last one is appended,
another is placed by binary search, and only the rows after an insertion are renumbered. The
model signals each change at once (rowCount, data and the signals always agree); the view
batches what it does about them into one layout and one paint per frame."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt


class CardState(StrEnum):
    PROVISIONAL = "provisional"  # words still changing
    FINAL = "final"
    PENDING = "pending"  # waiting for the LLM
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Card:
    order: int
    title: str
    body: str
    state: CardState
    meta: str = ""  # right-aligned detail: a time, a model


class CardRole(IntEnum):
    ORDER = Qt.ItemDataRole.UserRole + 1
    TITLE = Qt.ItemDataRole.UserRole + 2
    STATE = Qt.ItemDataRole.UserRole + 3
    META = Qt.ItemDataRole.UserRole + 4
    CARD = Qt.ItemDataRole.UserRole + 5  # the Card itself: no copy of a long text per call


_Index = QModelIndex | QPersistentModelIndex


class CardListModel(QAbstractListModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._cards: list[Card] = []
        self._rows: dict[int, int] = {}  # order -> row

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._cards)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._cards):
            return None
        card = self._cards[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return card.body
            case Qt.ItemDataRole.ToolTipRole:
                return card.title
            case CardRole.ORDER:
                return card.order
            case CardRole.TITLE:
                return card.title
            case CardRole.STATE:
                return card.state.value
            case CardRole.META:
                return card.meta
            case CardRole.CARD:
                return card
        return None

    def upsert(self, card: Card) -> int:
        """Insert the card in turn order, or replace the one with the same order; its row."""
        row = self._rows.get(card.order)
        if row is not None:
            self._cards[row] = card
            index = self.index(row)
            self.dataChanged.emit(index, index)
            return row
        row = self._insertion_row(card.order)
        self.beginInsertRows(QModelIndex(), row, row)
        self._cards.insert(row, card)
        self._renumber_from(row)
        self.endInsertRows()
        return row

    def _insertion_row(self, order: int) -> int:
        if not self._cards or self._cards[-1].order < order:
            return len(self._cards)  # the usual case: a new turn after the last
        return bisect_left(self._cards, order, key=_order_of)

    def _renumber_from(self, row: int) -> None:
        for i in range(row, len(self._cards)):
            self._rows[self._cards[i].order] = i

    def remove(self, order: int) -> None:
        """Take the card of turn `order` away (nothing when there is none)."""
        row = self._rows.get(order)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._cards[row]
        del self._rows[order]
        self._renumber_from(row)
        self.endRemoveRows()

    def row_of(self, order: int) -> int | None:
        return self._rows.get(order)

    def card(self, row: int) -> Card:
        return self._cards[row]

    def cards(self) -> list[Card]:
        return list(self._cards)

    def clear(self) -> None:
        self.beginResetModel()
        self._cards.clear()
        self._rows.clear()
        self.endResetModel()

    def _reindex(self) -> None:
        self._rows = {c.order: i for i, c in enumerate(self._cards)}


def _order_of(card: Card) -> int:
    return card.order
