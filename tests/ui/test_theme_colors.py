"""What the dark theme looks like where the app paints or styles for itself: the cards, the
library, the analysis panel, the level meter, the status dot and the session view's messages are
dark with light text under the dark theme, exactly as before under the light one, and follow a
switch of the desktop's scheme while shown."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from PySide6.QtCore import QEvent, QObject, QRect, Qt
from PySide6.QtGui import (
    QColor,
    QImage,
    QPainter,
    QPalette,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QWidget

from earmark.controllers.card_model import Card, CardListModel, CardState
from earmark.controllers.library_models import DAMAGED_COLOR, HIGHLIGHT_COLOR
from earmark.controllers.playback import PlaybackController
from earmark.core.session import SessionStore
from earmark.ui import analysis_panel, library_window, theme
from earmark.ui.analysis_panel import AnalysisPanel
from earmark.ui.card_list_view import CardListView
from earmark.ui.level_meter import LevelMeter
from earmark.ui.library_window import LibraryWindow
from earmark.ui.playback_bar import PlaybackBar
from earmark.ui.session_status_bar import SessionStatusBar
from earmark.ui.session_table import ThemedTextDelegate
from earmark.ui.session_view import SessionView
from tests.controllers.test_playback import FakeOutput

BODY = "We need to ship the release on Friday, and who owns the release notes this time?"
BACKGROUND = re.compile(r"(?<![-\w])background(?:-color)?:\s*(#[0-9a-fA-F]{3,6})\b")


@pytest.fixture
def app(qapp, monkeypatch, tmp_path):
    """The app as create_app themes it, the desktop's scheme switched by the test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(theme.SCHEME_ENV, raising=False)
    desktop = {"dark": False}
    monkeypatch.setattr(theme, "system_is_dark", lambda *_a, **_k: desktop["dark"])
    monkeypatch.setattr(theme, "_theme", None)  # put back (no theme, light) after the test
    monkeypatch.setattr(theme, "_dark", False)
    before = qapp.styleSheet()
    current = theme.install(qapp)
    assert current is not None and not current.dark
    qapp.desktop = desktop
    yield qapp
    current.stop()
    qapp.setStyleSheet(before)
    qapp.setPalette(QPalette())
    del qapp.desktop


def switch(app, dark: bool) -> None:
    """The desktop changes its colour scheme."""
    app.desktop["dark"] = dark
    app.styleHints().colorSchemeChanged.emit(
        Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    app.processEvents()


def card_view(qtbot, state: CardState = CardState.FINAL) -> CardListView:
    model = CardListModel()
    model.upsert(Card(0, "Speaker A · Turn 1", BODY, state, "00:12"))
    view = CardListView("No turns yet.")
    view.setModel(model)
    model.setParent(view)
    qtbot.addWidget(view)
    view.resize(420, 200)
    return view


def paint_card(view: CardListView, selected: bool = False) -> QImage:
    """The delegate paints the view's one card into an image that starts magenta (a colour no
    theme uses), the way the view paints it."""
    index = view.model().index(0)
    delegate = view.itemDelegate()
    height = delegate.card_height(index, 420)
    image = QImage(420, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("#ff00ff"))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, 420, height)
    option.font = view.font()
    option.state = QStyle.StateFlag.State_Enabled
    if selected:
        option.state |= QStyle.StateFlag.State_Selected
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()
    return image


def card_colors(image: QImage) -> tuple[QColor, list[QColor]]:
    """The card's background (its most common colour, within its frame) and every other
    colour painted on it (the text, anti-aliased)."""
    counts: Counter[int] = Counter()
    for y in range(12, image.height() - 12):
        for x in range(12, image.width() - 12):
            counts[image.pixel(x, y)] += 1
    (background, _n), *others = counts.most_common()
    return QColor.fromRgb(background), [QColor.fromRgb(rgb) for rgb, _n in others]


def is_light(color: QColor) -> bool:
    return color.lightness() >= 160


def is_dark(color: QColor) -> bool:
    return color.lightness() <= 60


def test_under_the_dark_theme_a_card_is_dark_with_light_text(app, qtbot):
    view = card_view(qtbot)
    switch(app, True)
    background, ink = card_colors(paint_card(view))
    assert is_dark(background), background.name()
    assert sum(is_light(c) for c in ink) >= 5, "no light text pixels on the dark card"
    assert not any(c.name() == "#ffffff" for c in ink)


def test_under_the_light_theme_a_card_is_as_it_always_was(app, qtbot):
    view = card_view(qtbot)
    background, ink = card_colors(paint_card(view))
    assert background == QColor("#ffffff")
    assert any(c == QColor("#1d2230") for c in ink), "the card text is #1d2230 as before"
    selected, _ink = card_colors(paint_card(view, selected=True))
    assert selected == QColor("#eef3ff")


def test_dark_selected_and_provisional_cards_stay_dark(app, qtbot):
    switch(app, True)
    background, _ink = card_colors(paint_card(card_view(qtbot), selected=True))
    assert is_dark(background) and background.blue() > background.red()  # a blue tint
    background, ink = card_colors(paint_card(card_view(qtbot, CardState.PROVISIONAL)))
    assert is_dark(background)
    assert sum(c.lightness() >= 120 for c in ink) >= 5, "provisional text too dark to read"


def test_a_shown_card_list_repaints_when_the_desktop_switches(app, qtbot):
    view = card_view(qtbot)
    view.show()
    qtbot.waitExposed(view)
    app.processEvents()
    painted = PaintCounter(view.viewport())
    switch(app, True)
    qtbot.waitUntil(lambda: painted.count > 0, timeout=2000)
    card = view.visualRect(view.model().index(0))
    background, _ink = card_colors(view.viewport().grab(card).toImage())
    assert is_dark(background), background.name()


class PaintCounter(QObject):
    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def backgrounds(qss: str) -> list[QColor]:
    found = [QColor(c) for c in BACKGROUND.findall(qss)]
    assert found, "the style sheet sets no background any more: update this test"
    return found


def test_the_analysis_panel_and_the_library_have_no_light_panels_in_the_dark(app, qtbot, tmp_path):
    panel = AnalysisPanel()
    qtbot.addWidget(panel)
    library = LibraryWindow(SessionStore(tmp_path / "sessions", use_trash=False))
    qtbot.addWidget(library)
    assert panel.styleSheet() == analysis_panel.STYLE  # light: as written
    assert library.styleSheet() == library_window.STYLE
    switch(app, True)
    for widget in (panel, library):
        light = [c.name() for c in backgrounds(widget.styleSheet()) if not is_dark(c)]
        assert not light, f"{type(widget).__name__} keeps light backgrounds {light}"
    switch(app, False)
    assert panel.styleSheet() == analysis_panel.STYLE
    library.controller.shutdown()


def test_the_library_bar_is_painted_dark(app, qtbot, tmp_path):
    library = LibraryWindow(SessionStore(tmp_path / "sessions", use_trash=False))
    qtbot.addWidget(library)
    library.resize(1000, 600)
    library.show()
    qtbot.waitExposed(library)
    bar = library.findChild(QWidget, "libraryBar")
    assert bar.grab().toImage().pixelColor(3, 3) == QColor("#ffffff")
    switch(app, True)
    image = bar.grab().toImage()
    assert is_dark(image.pixelColor(3, 3)), image.pixelColor(3, 3).name()
    placeholder = library.session_view.placeholder.grab().toImage()
    assert is_dark(placeholder.pixelColor(3, 3))
    library.controller.shutdown()


def test_the_level_meter_trough_is_dark(app, qtbot):
    meter = LevelMeter()
    qtbot.addWidget(meter)
    assert meter.grab().toImage().pixelColor(4, 6) == QColor("#eef0f4")
    switch(app, True)
    assert is_dark(meter.grab().toImage().pixelColor(4, 6))


def test_colours_written_into_rich_text_are_written_again(app, qtbot):
    view = SessionView()
    qtbot.addWidget(view)
    view.show_message("Its folder is gone.", heading="This session cannot be opened")
    bar = SessionStatusBar()
    qtbot.addWidget(bar)
    bar.set_connection("idle", "Not connected")
    assert "#b3261e" in view.placeholder.text() and "#9aa1ad" in bar.connection_label.text()
    switch(app, True)
    assert "#b3261e" not in view.placeholder.text()
    assert theme.hex_color("#b3261e") in view.placeholder.text()
    assert theme.hex_color("#9aa1ad") in bar.connection_label.text()
    assert "Not connected" in bar.connection_label.text()


def test_a_damaged_session_row_and_a_search_match_are_readable_in_the_dark(app):
    model = QStandardItemModel()
    row = QStandardItem("Weekly sync")
    row.setData(DAMAGED_COLOR, Qt.ItemDataRole.ForegroundRole)  # as SessionTableModel gives it
    model.appendRow(row)

    def text_color() -> QColor:
        option = QStyleOptionViewItem()
        ThemedTextDelegate().initStyleOption(option, model.index(0, 0))
        return option.palette.color(QPalette.ColorRole.Text)

    assert text_color() == DAMAGED_COLOR
    switch(app, True)
    assert theme.contrast(text_color().name(), theme.hex_color("#ffffff")) >= 4.5
    snippet = theme.themed(f"<span style='background:{HIGHLIGHT_COLOR}'>release</span>")
    match_bg = BACKGROUND.search(snippet).group(1)
    assert theme.contrast(theme.hex_color("#1d2230"), match_bg) >= 4.5


def test_the_play_button_glyph_is_light_in_the_dark(app, qtbot):
    bar = PlaybackBar(PlaybackController(FakeOutput()))
    qtbot.addWidget(bar)

    def glyph_pixels() -> list[QColor]:
        image = bar.play_button.icon().pixmap(16, 16).toImage()
        pixels = [image.pixelColor(x, y) for y in range(image.height())
                  for x in range(image.width())]
        return [c for c in pixels if c.alpha() > 200]

    assert glyph_pixels() and all(is_dark(c) for c in glyph_pixels())  # the style's, as before
    switch(app, True)
    assert glyph_pixels() and all(is_light(c) for c in glyph_pixels())
