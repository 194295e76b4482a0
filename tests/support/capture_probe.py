"""Run the real AudioCaptureWorker on its QThread against the default input while a file is
played into the virtual microphone; save what it captured and the levels it reported.

Run as a child process by tests/workers/test_audio_capture.py. After real microphone reads, the
interpreter aborts during finalisation (a refcount fault in a C extension, seen with PyAudio
0.2.14 once keyring's imports are loaded; under investigation), so the probe ends with os._exit
after its results are on disk, as the app does (see earmark.app.main)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, QThread

from earmark.workers.audio_capture import AudioCaptureWorker
from earmark.workers.audio_sources import MicrophoneSource
from tests.support.virtual_mic import play


def main(speech: Path, out: Path) -> None:
    app = QCoreApplication([])
    frames: list[bytes] = []
    result = {"levels": [], "failures": [], "started": None, "finished_ms": None}
    worker = AudioCaptureWorker(lambda: MicrophoneSource())
    thread = QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.frame_captured.connect(frames.append, Qt.ConnectionType.DirectConnection)
    worker.level_changed.connect(lambda db: result["levels"].append(db))
    worker.capture_failed.connect(lambda text: result["failures"].append(text))
    worker.capture_started.connect(lambda name: result.__setitem__("started", name))
    worker.capture_finished.connect(lambda ms: result.__setitem__("finished_ms", ms))

    def pump(until) -> None:
        deadline = time.monotonic() + 30
        while not until() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)

    thread.start()
    pump(lambda: result["started"] is not None or bool(result["failures"]))
    player = play(speech)
    pump(lambda: player.poll() is not None)
    end = time.monotonic() + 0.5
    pump(lambda: time.monotonic() > end)
    worker.stop()
    pump(lambda: result["finished_ms"] is not None)
    thread.quit()
    thread.wait(2000)
    result["frame_sizes"] = sorted({len(f) for f in frames})
    out.with_suffix(".pcm").write_bytes(b"".join(frames))
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.flush()
    os._exit(0)
