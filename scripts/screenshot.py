"""Make docs/screenshot.png: the main window in the middle of a real session.

The embedded engine transcribes real speech played as if spoken (a two-speaker recording from
../shared/speech/) and the built-in LLM answers each turn; the window is captured while a turn
is still provisional, speakers labelled. The answers come from the bundled demo model, chosen
explicitly (answers are off by default offline), so its cards carry the "demo model" mark.
Usage: .venv/bin/python scripts/screenshot.py [--seconds 45] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings

from earmark.app import create_app
from earmark.controllers.card_model import CardState
from earmark.core.session import SessionStore
from earmark.settings import Settings
from earmark.transcription_settings import TranscriptionSettings
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost, EngineState
from earmark.workers.file_source import REALTIME, FileSource

REPO = Path(__file__).resolve().parents[1]
SPEECH = (REPO.parent / "shared" / "speech" / "multispeaker"
          / "ms01_2spk_alternating_ls-test-other.wav")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=45, help="how far into the session")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--speech", type=Path, default=SPEECH)
    args = parser.parse_args()
    app = create_app(sys.argv[:1])
    work = Path(tempfile.mkdtemp(prefix="earmark-shot-"))
    settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    TranscriptionSettings(speaker_labels=True, max_speakers=2).save(settings)
    engine = EngineHost("whisper-tiny.en")
    window = MainWindow(settings, engine, store=SessionStore(work / "sessions"),
                        make_source=lambda: FileSource(args.speech, speed=REALTIME))
    window.resize(1366, 740)  # a 1366×768 laptop screen, less the title bar
    window.show()
    engine.start()

    def pump(until, limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            app.processEvents()
            if until():
                return True
            time.sleep(0.02)
        return False

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
    window.grab().save(str(args.out))
    print(f"saved {args.out}")
    window.controller.stop_session()
    pump(lambda: not window.controller.active, 20)
    engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
