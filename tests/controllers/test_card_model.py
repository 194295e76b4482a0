"""CardListModel: cards in turn order, replaced in place, rows exact after every upsert."""

from __future__ import annotations

from PySide6.QtCore import Qt

from earmark.controllers.card_model import Card, CardListModel, CardRole, CardState
from earmark.controllers.library import SessionCardModel


def card(order: int, body: str = "", state: CardState = CardState.FINAL) -> Card:
    return Card(order, f"Turn {order + 1}", body or f"text {order}", state, "00:00")


def test_cards_stay_in_turn_order_and_rows_stay_exact():
    model = CardListModel()
    inserted = []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    for order in (0, 1, 5, 3, 4, 2):  # late turns and answers arrive out of order
        model.upsert(card(order))
    assert [c.order for c in model.cards()] == [0, 1, 2, 3, 4, 5]
    assert [model.row_of(o) for o in range(6)] == [0, 1, 2, 3, 4, 5]
    assert inserted == [(0, 0), (1, 1), (2, 2), (2, 2), (3, 3), (2, 2)]
    assert model.rowCount() == 6 and model.row_of(9) is None


def test_an_upsert_replaces_in_place_and_says_which_row():
    model = CardListModel()
    for order in range(3):
        model.upsert(card(order, state=CardState.PROVISIONAL))
    changed = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    assert model.upsert(card(1, "final words")) == 1
    assert changed == [(1, 1)] and model.rowCount() == 3
    index = model.index(1)
    assert index.data(Qt.ItemDataRole.DisplayRole) == "final words"
    assert index.data(CardRole.STATE) == "final"
    assert index.data(CardRole.CARD) is model.card(1)


def test_the_library_model_fills_in_one_go():
    model = SessionCardModel()
    model.set_cards([card(2), card(0), card(1)])
    assert [c.order for c in model.cards()] == [0, 1, 2]
    assert model.row_of(2) == 2
    model.upsert(card(3))
    assert model.row_of(3) == 3
