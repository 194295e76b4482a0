"""Start the desktop app: logging, the Qt application on a qasync loop, the embedded engine
(after the window is visible, so the window opens fast), and the main window."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from . import APP_NAME, ORG_NAME, __version__
from .core.catalog import installed_speech_model
from .core.session import SessionStore
from .logging_setup import setup_logging
from .resources import resource
from .settings import Key, Settings
from .single_instance import claim_or_hand_over, handover_message
from .ui import theme
from .ui.main_window import MainWindow
from .ui.tray import Tray, show_window
from .workers import alsa_quiet
from .workers.engine_host import EngineHost

log = logging.getLogger(__name__)


def create_app(argv: list[str]) -> QApplication:
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("earmark")
    app.setWindowIcon(QIcon(str(resource("icons", "earmark.svg"))))
    theme.install(app)  # style.qss, light or dark as the desktop is, and follows it
    return app


def build_main_window(settings: Settings) -> MainWindow:
    engine = EngineHost(installed_speech_model(settings.get(Key.EMBEDDED_SPEECH_MODEL)))
    store = SessionStore(settings.get(Key.SESSIONS_DIR) or None)
    window = MainWindow(settings, engine, store=store)
    try:
        window.show_recovered(store.recover_interrupted())
    except OSError as exc:
        log.error("session recovery failed: %s", exc)
        window.banner.show_message(f"Earmark could not check for interrupted sessions: {exc}")
    window.destroyed.connect(engine.stop)
    return window


def install_tray(app: QApplication, window: MainWindow) -> Tray:
    """Start/Stop and the live state from the tray (nothing where the desktop has none)."""
    tray = Tray(app.windowIcon(), window.toggle_session, lambda: show_window(window),
                window.close, window)
    window.controller.state_changed.connect(tray.set_state)
    window.controller.connection_changed.connect(tray.set_detail)
    window.engine_host.state_changed.connect(
        lambda *_: tray.set_can_start(window.start_button.isEnabled()))
    return tray


def take_handover(window: MainWindow, message: dict) -> None:
    """`earmark FILE` (or `--toggle`) while Earmark runs: this window takes it."""
    if message.get("show"):
        show_window(window)
    for path in message.get("files", [])[:1]:  # one session at a time
        window.open_file_when_ready(path)
    if message.get("toggle") and window.start_button.isEnabled():
        window.toggle_session()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="earmark", description="A live transcript and an LLM's reading of every turn.",
        epilog="earmark transcribe FILE… transcribes recordings without the window "
               "(earmark transcribe --help).")
    parser.add_argument("file", nargs="?", help="a recording to transcribe (WAV, FLAC, MP3, "
                        "M4A, OGG) as soon as the engine is ready")
    parser.add_argument("--toggle", action="store_true",
                        help="start or stop listening in the running Earmark (bind a desktop "
                        "shortcut to `earmark --toggle`)")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    known, _qt_args = parser.parse_known_args(argv[1:])  # Qt takes its own (-platform, …)
    return known


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    if len(argv) > 1 and argv[1] == "transcribe":  # headless: no window, no QApplication
        from .transcribe import main as transcribe

        return transcribe(argv[2:])
    args = parse_args(argv)
    log_file = setup_logging()
    log.info("%s %s starting; log file %s", APP_NAME, __version__, log_file)
    app = create_app(argv)
    instance = claim_or_hand_over(
        handover_message([args.file] if args.file else [], toggle=args.toggle), parent=app)
    if instance is None:
        log.info("handed over to the Earmark already running")
        return 0
    alsa_quiet.install()  # before the first PyAudio (devices.start): no ALSA/JACK noise
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    settings = Settings()
    window = build_main_window(settings)
    install_tray(app, window)  # a child of the window: it lives as long as the window
    instance.message_received.connect(lambda message: take_handover(window, message))
    app.aboutToQuit.connect(instance.close)
    window.show()
    QTimer.singleShot(0, window.engine_host.start)
    QTimer.singleShot(0, window.devices.start)
    if args.file:
        window.open_file_when_ready(args.file)
    app.aboutToQuit.connect(window.controller.shutdown)
    app.aboutToQuit.connect(window.engine_host.stop)
    with loop:
        app_closed = asyncio.Event()
        app.aboutToQuit.connect(app_closed.set)
        loop.run_until_complete(app_closed.wait())
    return 0


if __name__ == "__main__":
    sys.exit(main())
