"""The tray icon's menu for scripts/screenshot.py --tray.

With a system tray on the X display, the menu is popped up under the real tray icon and the
screen around both is grabbed: a top panel with the icon and its badge, the menu, and the window
below. Xvfb has no tray: `system_tray()` starts Debian's trayer (apt-get install trayer) as a
grey top panel when there is none. With no tray at all, the same QMenu is popped up on its own
and grabbed (say so where it is shown)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from earmark.ui.tray import Tray

MARGIN = 24  # px of the screen kept around the icon and the menu
CONTEXT = (420, 150)  # and more to the left and below: the window under the menu, live
TRAYER = ["trayer", "--edge", "top", "--align", "right", "--widthtype", "percent", "--width",
          "100", "--height", "28", "--transparent", "true", "--alpha", "0", "--tint", "0x3a3f48",
          "--SetDockType", "true"]


def settle(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


@contextmanager
def system_tray() -> Iterator[None]:
    """A system tray on the display while inside: the desktop's, else trayer's, else none."""
    if QSystemTrayIcon.isSystemTrayAvailable() or shutil.which(TRAYER[0]) is None:
        yield
        return
    panel = subprocess.Popen(TRAYER, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not QSystemTrayIcon.isSystemTrayAvailable() and time.monotonic() < deadline:
        settle(0.1)
    try:
        yield
    finally:
        panel.terminate()
        panel.wait(5)


def grab_tray_menu(tray: Tray) -> QPixmap:
    menu = tray.menu.menu
    if tray.icon is None or not tray.icon.geometry().isValid():
        print("no system tray: grabbing the tray's menu on its own", file=sys.stderr)
        menu.popup(QPoint(40, 40))
        settle(0.5)
        return menu.grab()
    settle(1.0)  # the tray has embedded the icon and drawn it
    icon = tray.icon.geometry()
    screen = QGuiApplication.primaryScreen()
    size = menu.sizeHint()
    left = min(icon.left(), screen.geometry().right() - size.width())
    menu.popup(QPoint(left, icon.bottom() + 2))
    settle(0.8)
    area = icon.united(menu.geometry()).adjusted(-MARGIN - CONTEXT[0], -MARGIN, MARGIN,
                                                 MARGIN + CONTEXT[1])
    area = area.intersected(QRect(screen.geometry()))
    print(f"tray icon at {icon.getRect()}, menu at {menu.geometry().getRect()}", file=sys.stderr)
    return screen.grabWindow(0, area.x(), area.y(), area.width(), area.height())
