"""The audio-capture worker: reads 50 ms frames from a source on its own thread.

`frame_captured` is emitted on the capture thread for every frame. Connect it with
`Qt.DirectConnection` to consumers that are thread-safe and cheap (the websocket send, the WAV
writer), so audio never waits for the GUI; the level goes to the GUI through a queued signal.

Live inputs are watched for silence and clipping (`input_warning` / `input_recovered`); sources
that know their length (files) report `position_changed(position_ms, duration_ms)` for a
progress bar, at most ten times a second however fast the file is read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from ..core.audio import FRAME_MS, level_dbfs
from ..core.signal_watch import SignalWatch
from .audio_sources import AudioSource, AudioSourceError

log = logging.getLogger(__name__)

LEVEL_EVERY_N_FRAMES = 2  # 10 level updates a second are plenty for a meter
POSITION_EVERY_S = 0.1


class AudioCaptureWorker(QObject):
    frame_captured = Signal(bytes)
    level_changed = Signal(float)  # dBFS
    capture_started = Signal(str)  # what is being captured, for the status bar
    capture_failed = Signal(str)  # a sentence for the window
    capture_finished = Signal(int)  # milliseconds captured; emitted last, always
    input_warning = Signal(str)  # "No sound from …" / clipping: a sentence for the window
    input_recovered = Signal()  # every warning above is over: hide it
    position_changed = Signal(int, int)  # ms delivered, ms in all (sources with a duration)

    def __init__(self, make_source: Callable[[], AudioSource]) -> None:
        super().__init__()
        self._make_source = make_source
        self._stop = threading.Event()

    def stop(self) -> None:
        """Thread-safe: the capture loop ends within one frame."""
        self._stop.set()

    @Slot()
    def run(self) -> None:
        frames = 0
        source: AudioSource | None = None
        try:
            source = self._make_source()
            source.open()
            log.info("capturing from %s", source.description)
            self.capture_started.emit(source.description)
            watch = (SignalWatch(source.description) if getattr(source, "live", True)
                     else None)
            duration = int(getattr(source, "duration_ms", 0) or 0)
            next_position = 0.0
            while not self._stop.is_set():
                frame = source.read()
                if frame is None:
                    break
                frames += 1
                self.frame_captured.emit(frame)
                if frames % LEVEL_EVERY_N_FRAMES == 0:
                    self.level_changed.emit(level_dbfs(frame))
                if watch is not None:
                    self._watch(watch, frame)
                if duration and time.monotonic() >= next_position:
                    next_position = time.monotonic() + POSITION_EVERY_S
                    self.position_changed.emit(frames * FRAME_MS, duration)
            if duration:
                self.position_changed.emit(frames * FRAME_MS, duration)
        except AudioSourceError as exc:
            log.error("audio capture: %s", exc)
            self.capture_failed.emit(str(exc))
        except Exception as exc:  # never let the thread die silently
            log.exception("audio capture crashed")
            self.capture_failed.emit(f"Audio capture failed unexpectedly: {exc}")
        finally:
            if source is not None:
                source.close()
            self.capture_finished.emit(frames * FRAME_MS)

    def _watch(self, watch: SignalWatch, frame: bytes) -> None:
        for event in watch.feed(frame):
            if event.started:
                log.warning("input: %s", event.message)
                self.input_warning.emit(event.message)
            elif not watch.active:
                self.input_recovered.emit()
