"""The dark theme: every light colour has a readable dark counterpart, the app follows the
desktop's colour scheme at run time, and painters and widget style sheets follow with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from earmark.resources import resource
from earmark.ui import theme

RAW = resource("style.qss").read_text(encoding="utf-8")
HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")


@pytest.fixture
def app(qapp, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(theme.SCHEME_ENV, raising=False)
    # Set here, so that monkeypatch puts back the light scheme and no theme after the test
    # (later tests paint with theme.colors()).
    monkeypatch.setattr(theme, "_theme", None)
    monkeypatch.setattr(theme, "_dark", False)
    before = qapp.styleSheet()
    yield qapp
    current = theme.current()
    if current is not None:
        current.stop()
    qapp.setStyleSheet(before)
    qapp.setPalette(QPalette())


@pytest.fixture
def desktop(monkeypatch):
    """The desktop's scheme, switched by the test (offscreen Qt has none)."""
    state = {"dark": False}
    monkeypatch.setattr(theme, "system_is_dark", lambda *_a, **_k: state["dark"])
    return state


def test_every_colour_of_the_style_sheet_has_a_dark_counterpart():
    missing = {c.lower() for c in HEX.findall(RAW)} - set(theme.DARK_COLORS)
    assert not missing, f"add to theme.DARK_COLORS: {sorted(missing)}"


def test_every_colour_of_the_widgets_own_style_sheets_has_a_dark_counterpart():
    from earmark.ui import analysis_panel, library_window, playback_bar

    for qss in (analysis_panel.STYLE, library_window.STYLE, playback_bar.STYLE):
        missing = {c.lower() for c in HEX.findall(qss)} - set(theme.DARK_COLORS)
        assert not missing, f"add to theme.DARK_COLORS: {sorted(missing)}"


def test_the_card_roles_are_the_light_colours_in_light_and_mapped_in_dark():
    light, dark = theme.colors(dark=False), theme.colors(dark=True)
    assert light["card"] == QColor("#ffffff") and light["text"] == QColor("#1d2230")
    assert {role: c.name() for role, c in dark.items()} == {
        role: theme.DARK_COLORS[value] for role, value in theme.CARD_COLORS.items()}


def test_light_is_the_style_sheet_as_written_and_dark_maps_it():
    assert theme.themed(RAW, dark=False) == RAW
    dark = theme.themed(RAW, dark=True)
    for surface in ("#f4f6f9", "#ffffff", "#1d2230", "#fdf1f0"):
        assert surface not in dark
    assert "#15181e" in dark and "color: white" in dark  # the Start button's text stays


@pytest.mark.parametrize(("text", "background", "least"), [
    ("#1d2230", "#ffffff", 4.5),  # card text
    ("#1d2230", "#f4f6f9", 4.5),  # pane titles
    ("#5b6270", "#f4f6f9", 4.5),  # captions
    ("#4a5263", "#ffffff", 4.5),  # card titles, the status bar
    ("#b3261e", "#ffffff", 4.5),  # errors
    ("#5c1a15", "#fdf1f0", 4.5),  # the error banner
    ("#5a4210", "#fff8e6", 4.5),  # the warning banner
    ("#1d2a5c", "#eef3ff", 4.5),  # the info banner
    ("#1d2230", "#eef3ff", 4.5),  # a selected card
    ("#8a91a0", "#ffffff", 3.0),  # provisional text and times (secondary)
    ("#3866f2", "#ffffff", 3.0),  # accent on cards
    ("#1d2230", "#ffe58a", 4.5),  # a search match's highlight
    ("#b3261e", "#f8f9fb", 4.5),  # a damaged session's row
])
def test_dark_text_is_readable(text, background, least):
    assert theme.contrast(theme.hex_color(text, True), theme.hex_color(background, True)) >= least
    assert theme.contrast("#ffffff", theme.hex_color("#3866f2", True)) >= 4.0  # Start button


def test_the_app_follows_the_desktop_at_run_time(app, desktop):
    current = theme.Theme(app, RAW)
    current.apply()
    assert not current.dark and "#f4f6f9" in app.styleSheet()
    switched: list[bool] = []
    current.changed.connect(switched.append)

    desktop["dark"] = True
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert switched == [True] and theme.is_dark()
    assert "#15181e" in app.styleSheet() and "#f4f6f9" not in app.styleSheet()
    assert theme.palette_is_dark(app.palette())
    assert theme.colors()["card"] == QColor("#1e222a")
    assert theme.color("#1d2230") == QColor("#e7eaf0")

    desktop["dark"] = False
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert switched == [True, False] and not theme.is_dark()
    assert not theme.palette_is_dark(app.palette())
    assert theme.colors()["card"] == QColor("#ffffff")
    current.stop()


def test_a_chosen_scheme_ignores_the_desktop(app, desktop):
    current = theme.Theme(app, RAW, theme.DARK)
    current.apply()
    assert current.dark
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert current.dark
    current.set_preference(theme.LIGHT)
    assert not current.dark
    current.stop()


def test_the_environment_can_choose(app, monkeypatch):
    monkeypatch.setenv(theme.SCHEME_ENV, "dark")
    current = theme.install(app)
    assert current is not None and current.dark and theme.current() is current


def test_without_a_scheme_the_palette_decides(app):
    if app.styleHints().colorScheme() != Qt.ColorScheme.Unknown:
        pytest.skip("this platform reports a colour scheme")
    assert theme.system_is_dark(app, theme.dark_palette())
    assert not theme.system_is_dark(app, theme.light_palette())


def test_the_dark_sheet_gets_a_light_chevron(app):
    qss = theme.app_style_sheet(RAW, dark=True)
    url = re.search(r"url\(([^)]*chevron-down\.svg)\)", qss).group(1)
    assert url.startswith(theme.dark_icons_dir().as_posix())
    assert 'stroke="#a4acba"' in Path(url).read_text(encoding="utf-8")
    assert "@RESOURCES@" not in qss
    assert resource("icons", "chevron-down.svg").as_posix() in theme.app_style_sheet(RAW, False)


def test_a_widget_style_sheet_follows_the_scheme(app, desktop, qtbot):
    current = theme.install(app)
    widget = QWidget()
    qtbot.addWidget(widget)
    theme.style(widget, "QWidget { background: #ffffff; color: #1d2230; }")
    assert "#ffffff" in widget.styleSheet()
    gone = QWidget()
    theme.style(gone, "QWidget { background: #f4f6f9; }")
    del gone  # a widget deleted meanwhile is forgotten, not an error
    closed = QWidget()
    theme.style(closed, "QWidget { background: #f4f6f9; }")
    shiboken6.delete(closed)  # its C++ side gone, the Python object still here
    desktop["dark"] = True
    current.apply()
    assert widget.styleSheet() == "QWidget { background: #1e222a; color: #e7eaf0; }"
