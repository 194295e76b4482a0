"""Links two card lists: selecting a turn in one selects the same turn in the other."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QObject

from ..controllers.card_model import CardRole
from .card_list_view import CardListView


class SelectionLink(QObject):
    def __init__(self, first: CardListView, second: CardListView) -> None:
        super().__init__(first)
        self._linking = False
        first.selectionModel().selectionChanged.connect(
            lambda selected, _old: self._follow(selected, second))
        second.selectionModel().selectionChanged.connect(
            lambda selected, _old: self._follow(selected, first))

    def _follow(self, selected: QItemSelection, target: CardListView) -> None:
        if self._linking or selected.isEmpty():
            return
        self._linking = True  # selecting in the target must not echo back
        try:
            target.select_order(selected.indexes()[0].data(CardRole.ORDER))
        finally:
            self._linking = False
