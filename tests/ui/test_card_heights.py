"""Card heights are measured once per change, not once per card per change: the real main
window fed Turn messages the way a connection hands them to the session controller, and a
card list on its own, with the real delegate's measuring counted."""

from __future__ import annotations

from collections import Counter

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication

from earmark.controllers.card_model import Card, CardListModel, CardState
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.protocol import Turn
from earmark.settings import Key
from earmark.ui.card_list_view import CardListView
from earmark.ui.card_text import ELIDE_AT
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost

SENTENCE = "we need to ship the release on friday and who owns the release notes"
WORDS = SENTENCE.split()


class _Link:
    retired = True  # a connection's messages are heard (see LiveSessionController._on_turn)


def text(order: int, words: int = 24) -> str:
    return " ".join(WORDS[(order + i) % len(WORDS)] for i in range(words))


def turn(order: int, body: str, final: bool = True) -> Turn:
    return Turn(order, final, final, body, 0.9 if final else 0.1, ())


def settle() -> None:
    """One frame: the delayed layout, then the paint it asks for."""
    for _ in range(3):
        QApplication.processEvents()


def refined(qtbot, view: CardListView) -> None:
    """Until every card is measured at the view's width (a first layout may bring a scroll
    bar, so a narrower viewport and a second width)."""
    for _ in range(2):
        settle()
        qtbot.waitUntil(lambda: not view.heights.rough, timeout=10_000)


class Spy:
    """Counts the rows the delegate measures (CardDelegate.card_height) in one view."""

    def __init__(self, view: CardListView, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows: Counter[int] = Counter()
        delegate = view.itemDelegate()
        measure = delegate.card_height

        def counted(index: QModelIndex, width: int) -> int:
            self.rows[index.row()] += 1
            return measure(index, width)

        monkeypatch.setattr(delegate, "card_height", counted)

    def take(self) -> Counter[int]:
        rows, self.rows = self.rows, Counter()
        return rows


@pytest.fixture
def window(qtbot, settings, memory_keyring) -> MainWindow:
    settings.set(Key.ENGINE, CLOUD_ENGINE)
    w = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(w, before_close_func=lambda win: win.controller.shutdown())
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def feed(window: MainWindow, message: Turn) -> None:
    window.controller._on_turn(_Link(), message)


@pytest.fixture
def cards(qtbot) -> tuple[CardListView, CardListModel]:
    model = CardListModel()
    view = CardListView("empty")
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(500, 600)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def fill(model: CardListModel, count: int) -> None:
    for order in range(count):
        model.upsert(Card(order, f"Turn {order + 1}", text(order), CardState.FINAL, "00:00"))
    settle()


def test_a_changed_card_is_measured_again_and_no_other(qtbot, window, monkeypatch):
    for order in range(50):
        feed(window, turn(order, text(order)))
    view = window.transcript_view
    refined(qtbot, view)
    spy = Spy(view, monkeypatch)
    measured = view.itemDelegate().texts_measured
    feed(window, turn(50, "a new turn", final=False))
    settle()
    assert spy.take() == {50: 1}
    feed(window, turn(50, "a new turn, longer now and then final"))
    settle()
    assert spy.take() == {50: 1}
    assert view.itemDelegate().texts_measured == measured + 2
    # a title that changes over an unchanged text: the row is asked, its text is not wrapped
    model = window.controller.transcript
    card = model.card(20)
    model.upsert(Card(card.order, card.title + " · Speaker A", card.body, card.state, card.meta))
    settle()
    assert spy.take() == {20: 1}
    assert view.itemDelegate().texts_measured == measured + 2


def test_appending_at_5000_cards_measures_only_the_new_card(qtbot, window, monkeypatch):
    model = window.controller.transcript
    for order in range(5000):
        model.upsert(Card(order, f"Turn {order + 1}", text(order), CardState.FINAL, "00:00"))
    view = window.transcript_view
    refined(qtbot, view)
    spy = Spy(view, monkeypatch)
    passes = view.heights.passes
    feed(window, turn(5000, "the five thousand and first turn", final=False))
    settle()
    assert spy.take() == {5000: 1}
    assert view.heights.passes == passes + 1
    # and the window follows it: the newest card is on screen
    index = model.index(5000)
    assert view.viewport().rect().intersects(view.visualRect(index))


def test_a_width_change_measures_every_card_once(qtbot, cards, monkeypatch):
    view, model = cards
    fill(model, 400)
    refined(qtbot, view)
    spy = Spy(view, monkeypatch)
    tall = view.heights.total()
    with monkeypatch.context() as later:
        later.setattr(view._refiner, "start", lambda: None)
        view.resize(300, 600)
        settle()  # the first frame: the cards on screen, at the bottom (the view follows)
    on_screen = set(spy.rows)
    assert 0 < len(on_screen) < 20 and max(on_screen) == 399
    assert view.verticalScrollBar().value() == view.verticalScrollBar().maximum()
    view._refiner.start()
    refined(qtbot, view)  # then the others, a batch at a time
    assert spy.take() == dict.fromkeys(range(400), 1)
    assert view.heights.total() > tall  # narrower: more lines
    assert view.verticalScrollBar().value() == view.verticalScrollBar().maximum()
    view.resize(300, 700)  # taller, not wider: nothing to measure
    settle()
    assert spy.take() == {}


def test_a_width_change_keeps_the_card_being_read_in_place(qtbot, cards):
    view, model = cards
    fill(model, 400)
    refined(qtbot, view)
    view.scrollTo(model.index(200), view.ScrollHint.PositionAtTop)
    settle()
    view.resize(350, 600)
    refined(qtbot, view)
    assert view.indexAt(view.viewport().rect().topLeft() + QPoint(5, 1)).row() == 200
    assert view.visualRect(model.index(200)).top() == 0


def test_a_burst_within_one_frame_is_one_layout_pass(qtbot, cards, monkeypatch):
    view, model = cards
    fill(model, 200)
    refined(qtbot, view)
    spy = Spy(view, monkeypatch)
    passes = view.heights.passes
    for order in range(200, 300):  # a backlog of new turns, each rewritten twice
        for words in (3, 9, 15):
            model.upsert(Card(order, "Turn", text(order, words), CardState.PROVISIONAL))
    for order in (10, 150, 199):  # and earlier cards changed
        model.upsert(Card(order, "Turn", "changed", CardState.FINAL))
    settle()
    assert view.heights.passes == passes + 1
    assert spy.take() == dict.fromkeys([10, 150, 199, *range(200, 300)], 1)
    assert [view.heights.top(r + 1) - view.heights.top(r) for r in (10, 250)] == [
        view.itemDelegate().card_height(model.index(r), view.viewport().width())
        for r in (10, 250)]


def test_a_huge_card_shows_its_beginning_and_expands(qtbot, cards):
    view, model = cards
    fill(model, 3)
    huge = "word " * 200_000  # 1 MB
    model.upsert(Card(3, "Turn 4", huge, CardState.FINAL))
    settle()
    index = model.index(3)
    collapsed = view.heights.height(3)
    assert collapsed < 2000  # 4,000 characters' worth, not a megabyte's
    delegate = view.itemDelegate()
    laid = delegate.laid_text(model.card(3), delegate.fonts(view.font(), "final").body,
                              view.viewport().width())
    assert laid.spans == [(0, laid.spans[0][1])] and laid.spans[0][1] <= ELIDE_AT

    view.scrollTo(index, view.ScrollHint.PositionAtBottom)  # "… show all", at its end
    link = delegate.link_rect(view.visualRect(index), index)
    assert view.viewport().rect().contains(link.center())
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=link.center())
    settle()
    expanded = view.heights.height(3)
    assert expanded > 50 * collapsed  # the whole megabyte, laid out in pieces
    assert view.grab().width() > 0  # and a frame of it paints

    view.scrollTo(index, view.ScrollHint.PositionAtBottom)
    link = delegate.link_rect(view.visualRect(index), index)  # "show less", at its end
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=link.center())
    settle()
    assert view.heights.height(3) == collapsed
    assert view.viewport().rect().intersects(view.visualRect(index))  # still in view


def test_enter_expands_the_current_long_card(qtbot, cards):
    view, model = cards
    model.upsert(Card(0, "Turn 1", "x " * ELIDE_AT, CardState.FINAL))
    settle()
    collapsed = view.heights.height(0)
    view.setCurrentIndex(model.index(0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    settle()
    assert view.heights.height(0) > collapsed
    assert view.expand_action_text(model.index(0)) == "Show less"


def test_the_view_follows_new_cards_only_from_the_bottom(cards):
    view, model = cards
    fill(model, 30)
    bar = view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    model.upsert(Card(30, "Turn 31", text(30), CardState.FINAL))
    settle()
    assert bar.value() == bar.maximum()
    bar.setValue(0)  # the user scrolled up to read
    model.upsert(Card(31, "Turn 32", text(31), CardState.FINAL))
    settle()
    assert bar.value() == 0


def test_selection_and_geometry_stay_exact(cards):
    view, model = cards
    fill(model, 30)
    view.scrollToTop()
    settle()
    view.select_order(25)
    index = model.index(25)
    assert view.selectionModel().selectedIndexes() == [index]
    assert view.viewport().rect().contains(view.visualRect(index))
    assert view.indexAt(view.visualRect(index).center()) == index
    model.upsert(Card(12, "Turn 13", text(12, 90), CardState.FINAL))  # taller, above it
    assert view.indexAt(view.visualRect(index).center()) == index  # exact before the frame


def test_new_cards_below_offer_a_jump_to_the_latest(cards):
    view, model = cards
    fill(model, 30)
    assert view.latest_button.isHidden()  # following: nothing to offer
    bar = view.verticalScrollBar()
    bar.setValue(0)  # the user scrolled up to read
    model.upsert(Card(30, "Turn 31", text(30), CardState.FINAL))
    settle()
    assert bar.value() == 0 and view.latest_button.isVisible()
    view.latest_button.click()
    settle()
    assert bar.value() == bar.maximum() and view.latest_button.isHidden()
    model.upsert(Card(31, "Turn 32", text(31), CardState.FINAL))
    settle()
    assert bar.value() == bar.maximum()  # following again


def test_a_banner_does_not_stop_the_transcript_following(qtbot, window):
    for order in range(40):
        feed(window, turn(order, text(order)))
    settle()
    bar = window.transcript_view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    window.banner.show_message("Reconnecting… 12 s of audio waiting", "warning")
    settle()
    feed(window, turn(40, text(40)))
    settle()
    assert bar.value() == bar.maximum()
    assert window.transcript_view.latest_button.isHidden()
