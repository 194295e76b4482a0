"""The tray: its menu and tooltip follow the session's state without any system tray, and with
no tray (offscreen) it is an inert object, not a crash."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from earmark.resources import resource
from earmark.ui import tray
from earmark.ui.tray import IDLE, LIVE, RECONNECTING, Tray, TrayMenu, tray_view


@pytest.fixture
def app_icon(qapp) -> QIcon:
    return QIcon(str(resource("icons", "earmark.svg")))


@pytest.mark.parametrize(("state", "kind", "toggle", "enabled"), [
    ("idle", IDLE, "Start", True),
    ("connecting", RECONNECTING, "Stop", True),
    ("live", LIVE, "Stop", True),
    ("reconnecting", RECONNECTING, "Stop", True),
    ("stopping", RECONNECTING, "Stopping…", False),
    ("finished", IDLE, "Start", True),
    ("failed", IDLE, "Start", True),
])
def test_the_view_follows_the_session_state(state, kind, toggle, enabled):
    view = tray_view(state)
    assert (view.icon_kind, view.toggle_text, view.toggle_enabled) == (kind, toggle, enabled)
    assert view.tooltip.startswith("Earmark: ")


def test_the_tooltip_says_what_is_going_on():
    assert tray_view("live").tooltip == "Earmark: Live"
    assert tray_view("reconnecting", "Reconnecting… 12 s of audio waiting").tooltip == \
        "Earmark: Reconnecting…\nReconnecting… 12 s of audio waiting"
    assert tray_view("idle", "Connected").tooltip == "Earmark: Not listening"
    assert not tray_view("idle", can_start=False).toggle_enabled


def test_the_menu_sends_the_intents(qapp):
    calls: list[str] = []
    menu = TrayMenu(lambda: calls.append("toggle"), lambda: calls.append("show"),
                    lambda: calls.append("quit"))
    assert [a.text() for a in menu.menu.actions() if not a.isSeparator()] == \
        ["Start", "Show window", "Quit"]
    menu.toggle_action.trigger()
    menu.show_action.trigger()
    menu.quit_action.trigger()
    assert calls == ["toggle", "show", "quit"]
    menu.render(tray_view("live"))
    assert menu.toggle_action.text() == "Stop"
    menu.render(tray_view("stopping"))
    assert not menu.toggle_action.isEnabled()


def test_without_a_system_tray_there_is_no_icon_and_no_crash(app_icon):
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen
    calls: list[str] = []
    t = Tray(app_icon, lambda: calls.append("toggle"), lambda: None, lambda: None)
    assert not t.available and t.icon is None
    t.set_state("live")
    t.set_detail("Connected")
    t.set_can_start(False)
    assert t.view.toggle_text == "Stop" and t.view.tooltip == "Earmark: Live\nConnected"
    t.menu.toggle_action.trigger()
    assert calls == ["toggle"]


class AvailableTray(QSystemTrayIcon):
    @staticmethod
    def isSystemTrayAvailable() -> bool:
        return True


def test_with_a_tray_the_icon_shows_the_state(app_icon, monkeypatch):
    monkeypatch.setattr(tray, "QSystemTrayIcon", AvailableTray)
    shown: list[bool] = []
    t = Tray(app_icon, lambda: None, lambda: shown.append(True), lambda: None)
    assert t.available and t.icon.contextMenu() is t.menu.menu
    t.set_state("reconnecting")
    t.set_detail("Reconnecting… 3 s of audio waiting")
    assert t.icon.toolTip() == "Earmark: Reconnecting…\nReconnecting… 3 s of audio waiting"
    assert t.icon.icon().cacheKey() == t.icon_for(RECONNECTING).cacheKey()
    t.set_state("idle")
    assert t.icon.toolTip() == "Earmark: Not listening"  # the detail went with the session
    t._on_activated(QSystemTrayIcon.ActivationReason.Trigger)  # a left click
    assert shown == [True]
    t.icon.hide()


def test_the_icons_carry_a_coloured_badge(app_icon):
    for kind, colour in tray.BADGE.items():
        image = tray.badged_icon(app_icon, kind).pixmap(64, 64).toImage()
        centre = image.pixelColor(64 - 13, 64 - 13)
        assert centre == QColor(colour), kind


def test_show_window_brings_it_back(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    window.showMinimized()
    tray.show_window(window)
    assert window.isVisible() and not window.isMinimized()
