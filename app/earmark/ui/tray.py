"""The tray icon: Start/Stop, Show window, Quit, and the session's state in the tooltip and the
icon (a dot on the app icon: grey idle, red live, amber connecting/reconnecting/finishing).

`tray_view()` turns a session state into what the tray shows and `TrayMenu` builds the menu from
it, both without a system tray, so they are tested offscreen; `Tray` adds the QSystemTrayIcon
when the desktop has a tray (`QSystemTrayIcon.isSystemTrayAvailable()`), and is an inert no-op
otherwise (offscreen, GNOME without the AppIndicator extension).

Global shortcut: Qt has none. The portable way is a command the desktop binds a key to:
`earmark --toggle` hands "toggle" to the running window (single_instance.py), e.g. GNOME
Settings → Keyboard → Custom Shortcuts, KDE System Settings → Shortcuts (which also lists the
launcher's [Desktop Action toggle]), on X11 and Wayland alike."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QAction, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from .. import APP_NAME
from . import theme

IDLE, LIVE, RECONNECTING = "idle", "live", "reconnecting"  # the icon's three looks
BADGE = {IDLE: "#9aa1ad", LIVE: "#d0342c", RECONNECTING: "#e0a020"}  # light, as theme maps
RING = "#ffffff"  # around the dot, to part it from the icon
STATE_TEXT = {"idle": "Not listening", "connecting": "Connecting…", "live": "Live",
              "reconnecting": "Reconnecting…", "stopping": "Finishing…",
              "finished": "Not listening", "failed": "Not listening"}
ICON_SIZE = 64


@dataclass(frozen=True, slots=True)
class TrayView:
    tooltip: str
    icon_kind: str  # IDLE, LIVE or RECONNECTING
    toggle_text: str
    toggle_enabled: bool


def tray_view(state: str, detail: str = "", can_start: bool = True) -> TrayView:
    """What the tray shows for a session state (core/session_lifecycle.SessionState values);
    `detail`, e.g. "12 s of audio waiting", is added to the tooltip while a session runs."""
    active = state in ("connecting", "live", "reconnecting", "stopping")
    kind = LIVE if state == "live" else RECONNECTING if active else IDLE
    tooltip = f"{APP_NAME}: {STATE_TEXT.get(state, state)}"
    if detail and active:
        tooltip += f"\n{detail}"
    if state == "stopping":
        return TrayView(tooltip, kind, "Stopping…", False)
    if active:
        return TrayView(tooltip, kind, "Stop", True)
    return TrayView(tooltip, kind, "Start", can_start)


def badged_icon(base: QIcon, kind: str, size: int = ICON_SIZE) -> QIcon:
    """The app icon with a coloured dot in its lower right corner (the current scheme's)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    base.paint(painter, 0, 0, size, size)
    radius = size * 0.2
    centre = QPointF(size - radius - 1, size - radius - 1)
    painter.setPen(QPen(theme.color(RING), size / 20))
    painter.setBrush(theme.color(BADGE[kind]))
    painter.drawEllipse(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
    painter.end()
    return QIcon(pixmap)


class TrayMenu(QObject):
    """The tray's menu, rendered from a TrayView; its actions only call the intents given."""

    def __init__(self, on_toggle: Callable[[], None], on_show: Callable[[], None],
                 on_quit: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = QMenu()  # a QMenu takes only a widget parent: this object keeps it
        self.toggle_action = QAction("Start", self.menu)
        self.show_action = QAction("Show window", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        self.toggle_action.triggered.connect(lambda: on_toggle())
        self.show_action.triggered.connect(lambda: on_show())
        self.quit_action.triggered.connect(lambda: on_quit())
        self.menu.addAction(self.toggle_action)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)

    def render(self, view: TrayView) -> None:
        self.toggle_action.setText(view.toggle_text)
        self.toggle_action.setEnabled(view.toggle_enabled)


class Tray(QObject):
    """The system tray icon, when the desktop has a tray; `available` says whether it does."""

    def __init__(self, base_icon: QIcon, on_toggle: Callable[[], None],
                 on_show: Callable[[], None], on_quit: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.menu = TrayMenu(on_toggle, on_show, on_quit, self)
        self._base_icon = base_icon
        self._icons = self._badged_icons()
        self._on_show = on_show
        self._state, self._detail, self._can_start = "idle", "", True
        self.view = tray_view(self._state)
        self.icon: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon = QSystemTrayIcon(self._icons[IDLE], self)
            self.icon.setContextMenu(self.menu.menu)
            self.icon.activated.connect(self._on_activated)
            self.icon.show()
        self._render()
        theme.on_change(self._on_theme)

    @property
    def available(self) -> bool:
        return self.icon is not None

    def set_state(self, state: str) -> None:
        """Connect to LiveSessionController.state_changed."""
        self._state = state
        if state not in ("connecting", "live", "reconnecting", "stopping"):
            self._detail = ""
        self._render()

    def set_detail(self, text: str) -> None:
        """Connect to LiveSessionController.connection_changed ("Reconnecting… 12 s …")."""
        self._detail = text
        self._render()

    def set_can_start(self, can_start: bool) -> None:
        """False while Start is not possible (the embedded engine still loading)."""
        self._can_start = can_start
        self._render()

    def icon_for(self, kind: str) -> QIcon:
        return self._icons[kind]

    def _badged_icons(self) -> dict[str, QIcon]:
        return {kind: badged_icon(self._base_icon, kind) for kind in BADGE}

    def _on_theme(self, _dark: bool) -> None:
        self._icons = self._badged_icons()
        self._render()

    def _render(self) -> None:
        self.view = tray_view(self._state, self._detail, self._can_start)
        self.menu.render(self.view)
        if self.icon is not None:
            self.icon.setIcon(self._icons[self.view.icon_kind])
            self.icon.setToolTip(self.view.tooltip)

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:  # a left click
            self._on_show()


def show_window(window: QWidget) -> None:
    """Bring `window` to the front: un-minimised, raised, focused. On Wayland the compositor
    decides about focus (it may flash the window in the task bar instead)."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()
