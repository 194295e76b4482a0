"""Light or dark, following the system: the app's colours are written once, light (style.qss, the
widgets' own style sheets, the painted cards), and DARK maps every one of them to its dark
counterpart. `Theme` applies the style sheet and a matching palette and re-applies both when the
desktop switches (QStyleHints.colorSchemeChanged, Qt >= 6.5).

For painters: `colors()` (the card roles) and `color("#1d2230")` give the current scheme's colour
(read them while painting: a switch repolishes and repaints every widget); for widgets with a
style sheet of their own: `style(widget, qss)` themes it and keeps it themed; for what is built
once with a colour in it (rich text, icons): `on_change(self.method)` calls it on every switch.
EARMARK_COLOR_SCHEME=dark|light overrides the system (for a try-out, or a desktop that does not
say)."""

from __future__ import annotations

import functools
import logging
import os
import re
import weakref
from collections.abc import Callable
from pathlib import Path

import shiboken6
from PySide6.QtCore import QObject, QSize, QStandardPaths, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from ..resources import resource

log = logging.getLogger(__name__)

SCHEME_ENV = "EARMARK_COLOR_SCHEME"
SYSTEM, LIGHT, DARK = "system", "light", "dark"

# Every colour the app's style sheets and painters use (light) -> its dark counterpart. A colour
# added to a style sheet needs a line here (tests/ui/test_theme.py checks style.qss).
DARK_COLORS: dict[str, str] = {
    # surfaces
    "#f4f6f9": "#15181e",  # window, panes
    "#ffffff": "#1e222a",  # bars, fields, cards
    "#fff": "#1e222a",
    "#f8f9fb": "#1a1d24",  # alternate rows
    "#fbfcfe": "#1a1d24",  # the analysis text
    "#eef0f4": "#2a2f38",  # level meter trough
    "#eef3ff": "#243252",  # hover, selected card
    "#dfe8ff": "#2a3a63",  # selected row
    # lines
    "#dfe3ea": "#30363f",
    "#e1e5eb": "#323844",
    "#e4e8ee": "#2a2f38",
    "#cfd5df": "#3b424e",
    "#c9ced8": "#474e5b",  # scroll bar handle
    "#aab1bd": "#5d6575",
    # text
    "#1d2230": "#e7eaf0",
    "#4a5263": "#b6bdca",
    "#5b6270": "#a4acba",
    "#6b7280": "#9aa2b1",
    "#8a91a0": "#8f98a8",  # meta, provisional
    "#9aa1ad": "#6e7686",  # disabled
    "#b3261e": "#ff8a80",  # errors
    # accent and the Start/Stop button (white text)
    "#3866f2": "#4a76f4",
    "#2c55d8": "#3866f2",
    "#aab6d9": "#34405e",
    "#d0342c": "#c9362e",
    "#b82a23": "#d9463e",
    # banners: error, info, warning
    "#fdf1f0": "#3a1e1d",
    "#f1c8c4": "#5e2824",
    "#5c1a15": "#ffcfca",
    "#c8d6f5": "#2c3d68",
    "#1d2a5c": "#cfdafd",
    "#fff8e6": "#33291a",
    "#ecd9a6": "#5e4b1d",
    "#5a4210": "#f2d999",
    # search matches (controllers/library_models.HIGHLIGHT_COLOR): a dark amber behind light text
    "#ffe58a": "#6b5514",
    # signal colours read on both
    "#2e9d5b": "#2e9d5b",
    "#e0a020": "#e0a020",
    "#f0a030": "#f0a030",
}

# The card delegate's roles (ui/card_delegate.py COLORS), light.
CARD_COLORS: dict[str, str] = {
    "card": "#ffffff", "border": "#dfe3ea", "selected_bg": "#eef3ff", "accent": "#3866f2",
    "title": "#4a5263", "meta": "#8a91a0", "text": "#1d2230", "provisional": "#8a91a0",
    "error": "#b3261e", "error_bg": "#fdf1f0", "live_edge": "#f0a030",
}

_HEX = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
_ICON_URL = re.compile(r"@RESOURCES@/icons/([\w.-]+\.svg)")
_dark = False  # the scheme applied last (colors() and color() read it)
_theme: Theme | None = None
_notifier: _Notifier | None = None


# --- colours -------------------------------------------------------------------------------

def is_dark() -> bool:
    return _dark


def hex_color(light: str, dark: bool | None = None) -> str:
    """`light` in the given (default: current) scheme; colours without a mapping stay."""
    use_dark = _dark if dark is None else dark
    return DARK_COLORS.get(light.lower(), light) if use_dark else light


def color(light: str, dark: bool | None = None) -> QColor:
    return QColor(hex_color(light, dark))


def colors(dark: bool | None = None) -> dict[str, QColor]:
    """The card delegate's roles ("card", "text", "accent", …) in the current scheme (made
    once per scheme: every card paint asks). Do not change the colours it returns."""
    return _colors(_dark if dark is None else dark)


@functools.cache
def _colors(dark: bool) -> dict[str, QColor]:
    return {role: color(value, dark) for role, value in CARD_COLORS.items()}


def glyph(icon: QIcon, light: str = "#1d2230", sizes: tuple[int, ...] = (16, 24, 32)) -> QIcon:
    """A one-colour icon (a style's standard glyph, drawn black) as is when light, and drawn in
    `light`'s dark counterpart when dark, so it does not vanish into a dark background."""
    if not _dark:
        return icon
    tinted = QIcon()
    for size in sizes:
        pixmap = icon.pixmap(QSize(size, size))
        if pixmap.isNull():
            continue
        painter = QPainter(pixmap)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
        painter.fillRect(pixmap.rect(), color(light))
        painter.end()
        tinted.addPixmap(pixmap)
    return tinted


def themed(qss: str, dark: bool | None = None) -> str:
    """A light style sheet (or HTML) with every known colour in the given scheme."""
    use_dark = _dark if dark is None else dark
    if not use_dark:
        return qss
    return _HEX.sub(lambda m: DARK_COLORS.get(m.group(0).lower(), m.group(0)), qss)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    def luminance(value: str) -> float:
        c = QColor(value)
        channels = [x / 255 for x in (c.red(), c.green(), c.blue())]
        r, g, bl = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4
                    for x in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * bl

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def dark_palette() -> QPalette:
    """A palette for what the style sheet does not cover (dialogs, menus, fields)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#15181e", QPalette.ColorRole.WindowText: "#e7eaf0",
        QPalette.ColorRole.Base: "#1e222a", QPalette.ColorRole.AlternateBase: "#1a1d24",
        QPalette.ColorRole.Text: "#e7eaf0", QPalette.ColorRole.Button: "#262b34",
        QPalette.ColorRole.ButtonText: "#e7eaf0", QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#262b34", QPalette.ColorRole.ToolTipText: "#e7eaf0",
        QPalette.ColorRole.Highlight: "#3866f2", QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.PlaceholderText: "#9aa2b1", QPalette.ColorRole.Link: "#8aa7ff",
        QPalette.ColorRole.LinkVisited: "#b39cff", QPalette.ColorRole.Light: "#3b424e",
        QPalette.ColorRole.Midlight: "#30363f", QPalette.ColorRole.Mid: "#262b34",
        QPalette.ColorRole.Dark: "#101318", QPalette.ColorRole.Shadow: "#000000",
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6e7686"))
    return p


def light_palette() -> QPalette:
    """Only for a light choice on a dark desktop palette; otherwise the desktop's is kept."""
    p = QPalette(QColor("#f4f6f9"), QColor("#f4f6f9"))
    for role, value in ((QPalette.ColorRole.Base, "#ffffff"),
                        (QPalette.ColorRole.Text, "#1d2230"),
                        (QPalette.ColorRole.WindowText, "#1d2230"),
                        (QPalette.ColorRole.ButtonText, "#1d2230"),
                        (QPalette.ColorRole.Highlight, "#3866f2"),
                        (QPalette.ColorRole.HighlightedText, "#ffffff")):
        p.setColor(role, QColor(value))
    return p


# --- the system's scheme -------------------------------------------------------------------

def palette_is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def system_is_dark(app: QGuiApplication, palette: QPalette | None = None) -> bool:
    """The desktop's colour scheme (Qt >= 6.5), else whether its palette's window is dark."""
    hints = app.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else None
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return palette_is_dark(palette or app.palette())


def preference_from_env() -> str:
    value = os.environ.get(SCHEME_ENV, "").strip().lower()
    return value if value in (LIGHT, DARK) else SYSTEM


# --- icons referenced by the style sheet ---------------------------------------------------

def dark_icons_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(base or Path.home() / ".cache" / "earmark") / "theme-dark"


def _dark_icon(name: str) -> str | None:
    """A copy of resources/icons/`name` with its colours mapped, in the cache; None if it
    cannot be written (the light icon is kept)."""
    try:
        folder = dark_icons_dir()
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        svg = themed(resource("icons", name).read_text(encoding="utf-8"), dark=True)
        if not target.exists() or target.read_text(encoding="utf-8") != svg:
            target.write_text(svg, encoding="utf-8")
        return target.as_posix()
    except OSError as exc:
        log.warning("dark icon %s unavailable: %s", name, exc)
        return None


def app_style_sheet(raw: str, dark: bool) -> str:
    """resources/style.qss (as read, with @RESOURCES@) for the scheme."""
    qss = themed(raw, dark)
    if dark:
        qss = _ICON_URL.sub(lambda m: _dark_icon(m.group(1)) or m.group(0), qss)
    return qss.replace("@RESOURCES@", resource().as_posix())


# --- applying and following ----------------------------------------------------------------

class _Notifier(QObject):
    changed = Signal(bool)  # dark; whichever Theme is installed (or installed later) sends it


def notifier() -> _Notifier:
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


def on_change(slot: Callable[[bool], None]) -> None:
    """Call `slot(dark)` after every switch of scheme, colours and palette already switched.
    `slot` is a QObject's method, so Qt disconnects it when that object goes."""
    notifier().changed.connect(slot)


class Theme(QObject):
    """Applies the app style sheet and palette for the scheme and follows the desktop."""

    changed = Signal(bool)  # dark

    def __init__(self, app: QApplication, raw_qss: str, preference: str = SYSTEM) -> None:
        super().__init__(app)
        self._app = app
        self._raw = raw_qss
        self.preference = preference
        self.dark = False
        self._styled: list[tuple[weakref.ref[QWidget], str]] = []
        self._following = hasattr(app.styleHints(), "colorSchemeChanged")  # Qt >= 6.5
        if self._following:
            app.styleHints().colorSchemeChanged.connect(self._on_system_change)

    def apply(self) -> None:
        global _dark
        self._app.setPalette(QPalette())  # the desktop's: to read, and to keep when it fits
        dark = (self.preference == DARK if self.preference != SYSTEM
                else system_is_dark(self._app))
        _dark = dark  # before the palette: widgets may read colors() on its PaletteChange
        if dark:
            self._app.setPalette(dark_palette())
        elif palette_is_dark(self._app.palette()):  # light chosen on a dark desktop palette
            self._app.setPalette(light_palette())
        previous, self.dark = self.dark, dark
        self._app.setStyleSheet(app_style_sheet(self._raw, dark))
        self._restyle()
        if dark != previous:
            log.info("colour scheme: %s", DARK if dark else LIGHT)
            self.changed.emit(dark)
            notifier().changed.emit(dark)

    def set_preference(self, preference: str) -> None:
        self.preference = preference if preference in (LIGHT, DARK) else SYSTEM
        self.apply()

    def style(self, widget: QWidget, qss: str) -> None:
        """Give `widget` the light style sheet `qss` in the current scheme, and keep it so."""
        self._styled = [(ref, s) for ref, s in self._styled
                        if _alive(ref()) and ref() is not widget]
        self._styled.append((weakref.ref(widget), qss))
        widget.setStyleSheet(themed(qss, self.dark))

    def stop(self) -> None:
        """Stop following the desktop."""
        if self._following:
            self._following = False
            self._app.styleHints().colorSchemeChanged.disconnect(self._on_system_change)

    def _on_system_change(self, *_scheme: object) -> None:
        if self.preference == SYSTEM:
            self.apply()

    def _restyle(self) -> None:
        self._styled = [(ref, qss) for ref, qss in self._styled if _alive(ref())]
        for ref, qss in self._styled:
            widget = ref()
            if widget is not None:
                widget.setStyleSheet(themed(qss, self.dark))


def _alive(widget: QWidget | None) -> bool:
    """The Python object is there and so is its C++ widget (a closed window may be gone)."""
    return widget is not None and shiboken6.isValid(widget)


def install(app: QApplication, preference: str | None = None) -> Theme | None:
    """Theme the app from resources/style.qss and follow the desktop; None without the file."""
    global _theme
    try:
        raw = resource("style.qss").read_text(encoding="utf-8")
    except OSError as exc:
        log.warning("style sheet unavailable: %s", exc)
        return None
    _theme = Theme(app, raw, preference or preference_from_env())
    _theme.apply()
    return _theme


def current() -> Theme | None:
    return _theme


def style(widget: QWidget, qss: str) -> None:
    """For a widget with a style sheet of its own: themed now and on every change (plain
    setStyleSheet before install(), e.g. in tests)."""
    if _theme is None:
        widget.setStyleSheet(qss)
    else:
        _theme.style(widget, qss)
