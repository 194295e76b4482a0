"""The real app window in a child process, for tests that kill it (crash recovery).

    python -m tests.support.app_child --sessions DIR [--ini FILE] [--max-seconds N]

Run from the repository root. It builds the window like `earmark.app.main` does
(`create_app`, `build_main_window` with QSettings in an ini file and `Key.SESSIONS_DIR` set to
DIR), starts the embedded engine in-process with no LLM, records from the default microphone
(the virtual microphone in tests) and starts a session as soon as the engine is ready. It
reports on stdout, one line each, flushed at once:

    ENGINE <state>            the embedded engine's state as it changes ("ready", ...)
    SESSION <folder>          the session folder the recorder writes into
    AUDIO_START <epoch s>     wall-clock time (time.time()) of the first captured sample
    TURN <order> <json text>  a transcript card is final (again on each new final text)
    BANNER <text>             the window's banner shows a message
    HINT <text>               the banner shows the first-run hint
    ENDED <summary>           the session ended by itself

It exits after --max-seconds so a test that dies cannot leave it running.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from earmark.app import build_main_window, create_app
from earmark.controllers.card_model import CardState
from earmark.controllers.selector_choices import NO_LLM
from earmark.core.audio import FRAME_MS
from earmark.core.catalog import EMBEDDED_ENGINE
from earmark.settings import Key, Settings
from earmark.ui.main_window import WELCOME_TOPIC, MainWindow
from earmark.workers.audio_sources import MicrophoneSource
from earmark.workers.engine_host import EngineState

_print_lock = threading.Lock()


def say(kind: str, text: str) -> None:
    """One report line, flushed at once (the test may kill us right after)."""
    with _print_lock:
        sys.stdout.write(f"{kind} {text}\n")
        sys.stdout.flush()


class ReportingMicrophone(MicrophoneSource):
    """The default microphone; reports when its first sample was captured, which is time 0 of
    the session's audio.wav."""

    def __init__(self) -> None:
        super().__init__()
        self._first = True

    def read(self) -> bytes | None:
        frame = super().read()
        if frame and self._first:
            self._first = False
            # read() returns once a whole frame is in: its first sample is one frame older
            say("AUDIO_START", f"{time.time() - FRAME_MS / 1000:.3f}")
        return frame


class TurnReporter:
    """Prints each final transcript card. The scan runs on the next event-loop pass, after the
    controller's slot that showed the card has also handed the turn to the session recorder,
    so a printed turn is one the app had already asked to save."""

    def __init__(self, window: MainWindow) -> None:
        self.model = window.controller.transcript
        self.printed: dict[int, str] = {}
        self.model.dataChanged.connect(self._later)
        self.model.rowsInserted.connect(self._later)

    def _later(self, *_args: object) -> None:
        QTimer.singleShot(0, self.scan)

    def scan(self) -> None:
        for card in self.model.cards():
            if card.state == CardState.FINAL and self.printed.get(card.order) != card.body:
                self.printed[card.order] = card.body
                say("TURN", f"{card.order} {json.dumps(card.body)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", required=True, help="the sessions folder")
    parser.add_argument("--ini", help="settings file (default: a temporary one)")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)

    app = create_app([sys.argv[0]])
    ini = args.ini or str(Path(tempfile.mkdtemp(prefix="earmark-child-")) / "earmark.ini")
    settings = Settings(QSettings(ini, QSettings.Format.IniFormat))
    settings.set(Key.SESSIONS_DIR, args.sessions)
    settings.set(Key.ENGINE, EMBEDDED_ENGINE)
    settings.set(Key.EMBEDDED_LLM, NO_LLM)  # transcript only: no LLM to load
    window = build_main_window(settings)
    window.make_source = ReportingMicrophone
    reporter = TurnReporter(window)  # noqa: F841 - kept alive for the window's lifetime
    window.controller.problem.connect(lambda text: say("BANNER", text))
    window.controller.session_ended.connect(lambda summary: say("ENDED", summary))
    window.show()
    if window.banner.text:  # the first-run hint, or the sessions recovered at this launch
        say("HINT" if window.banner.topic == WELCOME_TOPIC else "BANNER", window.banner.text)

    def on_engine(state: str, _message: str) -> None:
        say("ENGINE", state)
        if state == EngineState.READY.value:
            window.start_session()
            recording = window.controller.recording
            if recording is not None and recording.recorder is not None:
                say("SESSION", str(recording.recorder.folder))
            elif window.banner.text and window.banner.topic != WELCOME_TOPIC:
                say("BANNER", window.banner.text)

    window.engine_host.state_changed.connect(on_engine)
    QTimer.singleShot(0, window.engine_host.start)
    QTimer.singleShot(int(args.max_seconds * 1000), app.quit)
    app.aboutToQuit.connect(window.engine_host.stop)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
