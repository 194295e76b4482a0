"""A recording on disk (WAV, FLAC, MP3, M4A/AAC, OGG Vorbis/Opus, anything FFmpeg reads) as an
AudioSource: decoded with PyAV, resampled to 16 kHz mono PCM16 with soxr, in 50 ms frames.

Pacing: the cloud closes a session fed faster than real time (close 3007), so `speed=1.0` there;
the embedded engine takes audio as fast as it can transcribe it, but `speed=FAST` (20x) keeps the
socket from being flooded; `speed=None` does not pace at all (tests, batch tools).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np

from ..core.audio import FRAME_MS
from ..core.clock import format_duration
from ..core.resample import FrameResampler
from .audio_sources import AudioSourceError

log = logging.getLogger(__name__)

REALTIME = 1.0
FAST = 20.0
MAX_LAG_S = 0.25  # a consumer that stalled longer does not earn a catch-up burst
MAX_BAD_PACKETS = 50  # damaged packets skipped in a row (as ffmpeg does) before giving up


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


class FileSource:
    """Plays an audio file into a session at `speed` times real time (None: unpaced)."""

    live = False  # silence in a recording is nothing a person can fix at the input

    def __init__(self, path: Path | str, *, speed: float | None = REALTIME,
                 start_ms: int = 0) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive, or None for unpaced")
        self.path = Path(path)
        self.speed = speed
        self.start_ms = start_ms  # the audio before this is skipped (the rest of a session)
        self.description = self.path.name
        self.duration_ms = 0  # known after open(); 0 when the file does not say
        self._frames_out = 0
        self._container: Any = None
        self._decoded: Iterator[np.ndarray] | None = None
        self._resampler: FrameResampler | None = None
        self._next_at = 0.0

    @property
    def position_ms(self) -> int:
        """How much audio has been delivered."""
        return self._frames_out * FRAME_MS

    def open(self) -> None:
        name = self.path.name
        if not self.path.exists():
            raise AudioSourceError(f"{name} could not be found; it may have been moved or "
                                   "deleted.")
        if self.path.is_dir():
            raise AudioSourceError(f"{name} is a folder, not an audio file.")
        try:
            if self.path.stat().st_size == 0:
                raise AudioSourceError(f"{name} is empty: there is no audio in it.")
            self._container = av.open(str(self.path))
        except PermissionError:
            raise AudioSourceError(f"Earmark is not allowed to read {name}.") from None
        except (av.FFmpegError, OSError) as exc:
            raise AudioSourceError(
                f"{name} is not an audio file Earmark can read: {_reason(exc)}.") from None
        try:
            if not self._container.streams.audio:
                raise AudioSourceError(
                    f"{name} is not an audio file Earmark can read: it has no sound track.")
            stream = self._container.streams.audio[0]
            self.duration_ms = self._duration_ms(stream)
            self._decoded = self._decode(stream)
            first = self._next_chunk()  # decode now, so a bad file fails before a session starts
            if first is None:
                raise AudioSourceError(
                    f"{name} is not an audio file Earmark can read: no sound could be decoded "
                    "from it.")
        except AudioSourceError:
            self.close()
            raise
        while self._frames_out * FRAME_MS < self.start_ms and self._frame() is not None:
            pass
        self._next_at = time.monotonic()

    def read(self) -> bytes | None:
        frame = self._frame()
        if frame is not None:
            self._pace()
        return frame

    def _frame(self) -> bytes | None:
        if self._resampler is None:
            raise AudioSourceError(f"{self.description} is not open.")
        frame = self._resampler.pop_frame()
        while frame is None:
            if self._next_chunk() is None:
                self._resampler.flush()
                frame = self._resampler.pop_frame()
                if frame is None:
                    return None
                break
            frame = self._resampler.pop_frame()
        self._frames_out += 1
        return frame

    def close(self) -> None:
        self._decoded = None
        if self._container is not None:
            self._container.close()
            self._container = None

    def _pace(self) -> None:
        if self.speed is None:
            return
        self._next_at += FRAME_MS / 1000 / self.speed
        delay = self._next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        elif -delay > MAX_LAG_S:
            self._next_at = time.monotonic()

    def _next_chunk(self) -> np.ndarray | None:
        """Decode and push the next piece of audio into the resampler; None at the end."""
        assert self._decoded is not None
        try:
            chunk = next(self._decoded, None)
        except (av.FFmpegError, OSError) as exc:
            raise AudioSourceError(
                f"{self.description} could not be read past {format_duration(self.position_ms)} "
                f"({_reason(exc)}). Everything before that point is kept.") from None
        if chunk is not None and self._resampler is not None:
            self._resampler.push_float(chunk)
        return chunk

    def _decode(self, stream: Any) -> Iterator[np.ndarray]:
        """Mono float32 chunks at the file's own rate (FFmpeg's converter does the downmix, as
        `ffmpeg -ac 1` would); creates the soxr resampler from the first frame's rate."""
        converter = None
        bad = 0
        for packet in self._container.demux(stream):
            try:
                frames = packet.decode()
            except av.InvalidDataError as exc:
                bad += 1
                log.debug("%s: skipped a damaged packet: %s", self.description, exc)
                if bad > MAX_BAD_PACKETS:
                    raise
                continue
            bad = 0
            for frame in frames:
                if converter is None:
                    converter = av.AudioResampler(format="flt", layout="mono",
                                                  rate=frame.sample_rate)
                    self._resampler = FrameResampler(frame.sample_rate, 1)
                for out in converter.resample(frame):
                    yield out.to_ndarray().reshape(-1)
        if converter is not None:
            for out in converter.resample(None):
                yield out.to_ndarray().reshape(-1)

    def _duration_ms(self, stream: Any) -> int:
        if self._container.duration:  # in AV_TIME_BASE (microseconds)
            return int(self._container.duration // 1000)
        if stream.duration and stream.time_base:
            return int(stream.duration * stream.time_base * 1000)
        return 0


def check_audio_file(path: Path | str) -> int:
    """Whether Earmark can play `path` (raises AudioSourceError saying why not); its duration in
    ms (0 when unknown). Cheap enough to call when a file is dropped on the window."""
    source = FileSource(path, speed=None)
    source.open()
    source.close()
    return source.duration_ms
