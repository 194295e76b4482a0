"""The session library with a saved session playing, for scripts/screenshot.py --library.

The sessions are real: `earmark transcribe` turns recordings from tests/fixtures/speech/ into
saved sessions (the embedded engine, speaker labels on, the bundled demo LLM answering with the
"Main take-away" prompt) in a temporary folder, as the window would have saved them. The library
window then opens the two-speaker one, a turn with an answer is double-clicked the way a user
does, and the window is grabbed a few seconds into that turn, its card highlighted and the
player showing the position. The sound goes to the default output (under Xvfb, a PulseAudio
null sink: tests/support/virtual-mic start)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from earmark.controllers.playback import PlaybackState
from earmark.core.session import SessionStore
from earmark.settings import Settings
from earmark.transcription_settings import TranscriptionSettings
from earmark.ui.library_window import LibraryWindow

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "speech"
OTHERS = {  # more saved sessions for the list: recording -> title
    FIXTURES / "misc" / "jfk.wav": "Inaugural address, an excerpt",
    FIXTURES / "librispeech" / "test-clean" / "1089-134686-0002.wav": "Reading: nightfall",
}
TITLE = "Two readers, turn by turn"
HEARD_S = 3.5  # how long the turn plays before the grab


def wait(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)


def transcribe(speech: Path, work: Path) -> SessionStore:
    """Saved sessions made by `earmark transcribe`, with the settings a user would have."""
    config = work / "config"
    conf = QSettings(str(config / "Earmark" / "Earmark.conf"), QSettings.Format.IniFormat)
    TranscriptionSettings(speaker_labels=True, max_speakers=2).save(Settings(conf))
    conf.sync()
    root = work / "sessions"
    command = [sys.executable, "-m", "earmark", "transcribe", *map(str, OTHERS), str(speech),
               "--prompt", "takeaway", "--llm", "smollm2-135m", "--sessions-dir", str(root),
               "--out", str(work / "transcripts"), "-q"]
    env = dict(os.environ, XDG_CONFIG_HOME=str(config), QT_QPA_PLATFORM="offscreen")
    subprocess.run(command, env=env, check=True)
    store = SessionStore(root)
    titles = {path.stem: title for path, title in OTHERS.items()} | {speech.stem: TITLE}
    for summary in store.list_sessions():
        store.rename(summary.folder, titles.get(summary.title, summary.title))
    return store


def library_playback(app: QApplication, out: Path, speech: Path, size: tuple[int, int]) -> int:
    store = transcribe(speech, Path(tempfile.mkdtemp(prefix="earmark-library-")))
    folder = next(s.folder for s in store.list_sessions() if s.title == TITLE)
    window = LibraryWindow(store)
    window.resize(*size)
    window.show()
    window.show_session(folder)
    wait(1.0)
    view = window.session_view
    answered = sorted({a.turn_order for a in view.session.answers if a.answer.strip()})
    order = next((o for o in answered if o >= 3), answered[0] if answered else 0)
    transcript = view.transcript_view
    index = transcript.model().index(transcript.model().row_of(order))
    transcript.scrollTo(index, transcript.ScrollHint.PositionAtCenter)
    wait(0.3)
    where = transcript.visualRect(index).center()
    QTest.mouseClick(transcript.viewport(), Qt.MouseButton.LeftButton, pos=where)
    QTest.mouseDClick(transcript.viewport(), Qt.MouseButton.LeftButton, pos=where)
    wait(HEARD_S)
    if view.playback.state is not PlaybackState.PLAYING:
        print(f"not playing: {view.playback.problem_text or view.playback.state}",
              file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"saved {out} (turn {order + 1} playing at {view.playback.position_ms} ms)")
    view.playback.close()
    window.controller.shutdown()
    return 0
