"""A call in the main window, for scripts/screenshot.py --call (docs/call.png).

Two virtual sound devices stand in for a laptop on a call (tests/support/virtual-mic): the
virtual microphone hears the user and, as laptop speakers would let it, the other side too
(an echo); the virtual speakers' monitor is the system audio. The window's input picker is
set to "Call: microphone + System audio (…)" as a user would, Start is pressed, both sides are
played in real time (tests/support/call_audio.py builds them from the two-speaker fixture), and
the window is grabbed mid-call: "You" turns and the other side's, each said once.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from earmark.core.session import SessionStore
from earmark.settings import Settings
from earmark.transcription_settings import TranscriptionSettings
from earmark.ui.input_picker import CALL
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost, EngineState

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # tests.support: the call's audio and the virtual devices
from tests.support.call_audio import build_call  # noqa: E402

VIRTUAL_MIC = REPO / "tests" / "support" / "virtual-mic"
SPEAKERS = "pulse:earmark_speakers.monitor"


def call_window(app: QApplication, out: Path, size: tuple[int, int],
                pump: Callable[[Callable[[], bool], float], bool], seconds: float) -> int:
    subprocess.run([str(VIRTUAL_MIC), "start"], check=True)
    work = Path(tempfile.mkdtemp(prefix="earmark-call-"))
    call = build_call(work / "audio", turns=6, echo_gain=0.4)
    settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    TranscriptionSettings(speaker_labels=True, max_speakers=2).save(settings)
    engine = EngineHost("whisper-tiny.en")
    window = MainWindow(settings, engine, store=SessionStore(work / "sessions"))
    window.resize(*size)
    window.show()
    window.devices.start()  # as the app does
    engine.start()
    picker = window.input_picker
    if not pump(lambda: engine.state == EngineState.READY
                and picker.findData(CALL + SPEAKERS) >= 0, 120):
        print(f"not ready: engine {engine.message}; inputs "
              f"{[picker.itemText(i) for i in range(picker.count())]}", file=sys.stderr)
        return 1
    picker.select_key(CALL + SPEAKERS)
    window.start_session()
    pump(lambda: window.controller.state.value == "live", 20)
    players = [subprocess.Popen([str(VIRTUAL_MIC), "speak", str(call.system)]),
               subprocess.Popen([str(VIRTUAL_MIC), "play", str(call.microphone)])]
    started = time.monotonic()
    pump(lambda: time.monotonic() - started >= seconds, seconds + 5)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"saved {out}")
    for player in players:
        player.terminate()
    window.controller.stop_session()
    pump(lambda: not window.controller.active, 30)
    engine.stop()
    return 0
