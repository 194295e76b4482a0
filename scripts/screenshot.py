"""Make the README's screenshots of the real app.

Without options: docs/screenshot.png, the main window in the middle of a real session. The
embedded engine transcribes real speech played as if spoken (a two-speaker recording from
tests/fixtures/speech/) and the built-in LLM answers each turn; the window is captured while a
turn is still provisional, speakers labelled. The answers come from the bundled demo model,
chosen explicitly (answers are off by default offline), so its cards carry the "demo model" mark.

  --dark     the same in the dark theme (docs/dark-theme.png)
  --tray     the tray icon's menu during that session, live (docs/tray-menu.png): on an X
             display, under the tray icon (trayer started if there is no tray, see
             screenshot_tray.py), else the menu alone
  --library  the session library with a saved session playing (docs/library-playback.png),
             see screenshot_library.py
  --call     a call through two virtual sound devices, "You" and the other side
             (docs/call.png), see screenshot_call.py

Usage: .venv/bin/python scripts/screenshot.py [--dark] [--tray | --library | --call]
       [--seconds 45] [--out PATH]
under Xvfb: xvfb-run -s "-screen 0 1366x768x24" with QT_QPA_PLATFORM=xcb.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from screenshot_call import call_window
from screenshot_library import library_playback
from screenshot_tray import grab_tray_menu, system_tray

from earmark.app import create_app, install_tray
from earmark.controllers.card_model import CardState
from earmark.core.session import SessionStore
from earmark.settings import Settings
from earmark.transcription_settings import TranscriptionSettings
from earmark.ui import theme
from earmark.ui.main_window import MainWindow
from earmark.workers import alsa_quiet
from earmark.workers.engine_host import EngineHost, EngineState
from earmark.workers.file_source import REALTIME, FileSource

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SPEECH = (REPO / "tests" / "fixtures" / "speech" / "multispeaker"
          / "ms01_2spk_alternating_ls-test-other.wav")
SIZE = (1366, 740)  # a 1366×768 laptop screen, less the title bar


def pump(until: Callable[[], bool], limit: float) -> bool:
    """Run the event loop until `until()` or `limit` seconds."""
    app = QApplication.instance()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        app.processEvents()
        if until():
            return True
        time.sleep(0.02)
    return False


def default_out(args: argparse.Namespace) -> Path:
    if args.library:
        return DOCS / ("library-playback-dark.png" if args.dark else "library-playback.png")
    if args.tray:
        return DOCS / ("tray-menu-dark.png" if args.dark else "tray-menu.png")
    if args.call:
        return DOCS / ("call-dark.png" if args.dark else "call.png")
    return DOCS / ("dark-theme.png" if args.dark else "screenshot.png")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=45, help="how far into the session")
    parser.add_argument("--out", type=Path, help="where the PNG goes (default: see above)")
    parser.add_argument("--speech", type=Path, default=SPEECH)
    parser.add_argument("--dark", action="store_true", help="the dark theme")
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--tray", action="store_true", help="the tray icon's menu, live")
    what.add_argument("--library", action="store_true",
                      help="the library, a saved session playing")
    what.add_argument("--call", action="store_true", help="a call through two sound devices")
    args = parser.parse_args()
    args.out = args.out or default_out(args)
    return args


def live_session(app: QApplication, args: argparse.Namespace) -> int:
    """The main window mid-session: grabbed, or (--tray) its tray menu while it is live."""
    with ExitStack() as stack:
        return _live_session(app, args, stack)


def _live_session(app: QApplication, args: argparse.Namespace, stack: ExitStack) -> int:
    work = Path(tempfile.mkdtemp(prefix="earmark-shot-"))
    settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    TranscriptionSettings(speaker_labels=True, max_speakers=2).save(settings)
    engine = EngineHost("whisper-tiny.en")
    window = MainWindow(settings, engine, store=SessionStore(work / "sessions"),
                        make_source=lambda: FileSource(args.speech, speed=REALTIME))
    tray = None
    if args.tray:
        stack.enter_context(system_tray())
        tray = install_tray(app, window)
    window.resize(*SIZE)
    window.show()
    engine.start()
    if not pump(lambda: engine.state == EngineState.READY, 120):
        print(f"engine not ready: {engine.message}", file=sys.stderr)
        return 1
    combo = window.llm_combo
    pump(lambda: combo.findData("smollm2-135m") >= 0, 15)
    combo.setCurrentIndex(combo.findData("smollm2-135m"))
    window.start_session()
    started = time.monotonic()

    def mid_session() -> bool:
        cards = window.controller.transcript.cards()
        answered = [c for c in window.controller.answers.cards() if c.state == CardState.FINAL]
        return (time.monotonic() - started >= args.seconds and len(answered) >= 2
                and bool(cards) and cards[-1].state == CardState.PROVISIONAL)

    pump(mid_session, args.seconds + 90)
    window.transcript_view.select_order(max(0, len(window.controller.answers.cards()) - 2))
    app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    image = grab_tray_menu(tray) if tray is not None else window.grab()
    image.save(str(args.out))
    print(f"saved {args.out}")
    window.controller.stop_session()
    pump(lambda: not window.controller.active, 20)
    engine.stop()
    return 0


def main() -> int:
    args = parse_args()
    if args.dark:
        os.environ[theme.SCHEME_ENV] = theme.DARK
    app = create_app(sys.argv[:1])
    alsa_quiet.install()  # as the app does: no ALSA/JACK noise from the sound devices
    if args.library:
        return library_playback(app, args.out, args.speech, SIZE)
    if args.call:
        return call_window(app, args.out, SIZE, pump, args.seconds)
    return live_session(app, args)


if __name__ == "__main__":
    sys.exit(main())
