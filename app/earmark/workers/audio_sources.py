"""Where audio comes from: a microphone or other input through PyAudio (files: file_source.py).

A source delivers 16 kHz mono PCM16 in 50 ms frames and raises AudioSourceError with a sentence
a person understands when it cannot.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from ..core.audio import CHANNELS, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE
from ..core.resample import FrameResampler
from . import pulse
from .audio_inputs import (
    PORTAUDIO_LOCK,
    AudioInput,
    close_portaudio,
    find_device_index,
    open_portaudio,
)

log = logging.getLogger(__name__)

_PA_INT16 = 8  # pyaudio.paInt16, without importing PyAudio at module load
PRESENCE_CHECK_S = 1.0


class AudioSourceError(RuntimeError):
    """The source cannot start or stopped delivering audio."""


class AudioSource(Protocol):
    """Also optional: `live: bool` (False for files: no silence/clipping watch), and for files
    `duration_ms: int` and `position_ms: int` (a progress bar)."""

    description: str

    def open(self) -> None: ...

    def read(self) -> bytes | None:
        """The next 50 ms frame, blocking about 50 ms; None at the end of a file."""
        ...

    def close(self) -> None: ...


class MicrophoneSource:
    """An input device (the default, a PortAudio index, or an AudioInput from the device list)
    read in 50 ms frames of 16 kHz mono.

    A device that cannot record at 16 kHz mono is opened at its own rate and channel count and
    resampled with soxr; `capture_rate` forces a rate (tests use it to exercise that path).
    A PulseAudio/PipeWire source that disappears mid-session ends the capture with a message.
    """

    live = True  # a person can fix silence or clipping here, so the capture worker watches it

    def __init__(self, device_index: int | None = None, *, device: AudioInput | None = None,
                 capture_rate: int | None = None) -> None:
        self.device_index = device_index
        self.device = device
        self.capture_rate = capture_rate
        self.description = device.label if device is not None else "microphone"
        self.rate = SAMPLE_RATE
        self.channels = CHANNELS
        self._pa = None
        self._stream = None
        self._chunk = FRAME_SAMPLES
        self._resampler: FrameResampler | None = None
        self._next_presence_check = 0.0

    def open(self) -> None:
        try:
            self._pa = open_portaudio()
        except OSError as exc:
            raise AudioSourceError(f"The audio system could not start: {exc}") from None
        with PORTAUDIO_LOCK:
            info = self._device_info()
            index = int(info["index"])
            candidates = self._formats(info)
            last_error: Exception | None = None
            for rate, channels in candidates:
                try:
                    with pulse.routed_to(self._pulse_source):
                        self._stream = self._pa.open(
                            format=_PA_INT16, channels=channels, rate=rate, input=True,
                            frames_per_buffer=rate * FRAME_MS // 1000, input_device_index=index)
                except (OSError, ValueError) as exc:
                    last_error = exc
                    continue
                self._configure(rate, channels)
                break
        if self._stream is None:
            self._release()
            raise AudioSourceError(
                f"The microphone '{self.description}' could not be opened; another program may "
                f"be using it ({last_error}).")
        self._next_presence_check = time.monotonic() + PRESENCE_CHECK_S

    def read(self) -> bytes:
        try:
            self._check_present()
            if self._resampler is None:
                return self._stream.read(FRAME_SAMPLES, exception_on_overflow=False)
            while (frame := self._resampler.pop_frame()) is None:
                self._resampler.push_pcm16(
                    self._stream.read(self._chunk, exception_on_overflow=False))
            return frame
        except (OSError, AttributeError) as exc:
            raise AudioSourceError(
                f"The microphone '{self.description}' stopped delivering audio ({exc}). "
                "Everything recorded so far is kept.") from None

    def close(self) -> None:
        self._release()

    @property
    def _pulse_source(self) -> str | None:
        return self.device.pulse_source if self.device is not None else None

    def _device_info(self) -> dict:
        try:
            if self.device is not None:
                index = find_device_index(self._pa, self.device)
                # the pulse server would not fall back from a named source that is gone
                gone = self._pulse_source and pulse.source_exists(self._pulse_source) is False
                if index is None or gone:
                    raise AudioSourceError(
                        f"The input '{self.device.label}' is not connected. Connect it (or pick "
                        "another input) and press Start again.")
                info = self._pa.get_device_info_by_index(index)
            elif self.device_index is not None:
                info = self._pa.get_device_info_by_index(self.device_index)
                self.description = str(info["name"])
            else:
                info = self._pa.get_default_input_device_info()
                self.description = str(info["name"])
        except AudioSourceError:
            self._release()
            raise
        except (OSError, ValueError):
            self._release()
            raise AudioSourceError(
                "No microphone found. Connect one (or pick another input) and press Start "
                "again.") from None
        return info

    def _formats(self, info: dict) -> list[tuple[int, int]]:
        """(rate, channels) to try, best first: 16 kHz mono, then the device's own format."""
        native = int(float(info.get("defaultSampleRate") or SAMPLE_RATE))
        most = max(1, min(2, int(info.get("maxInputChannels", 1))))
        rates = [self.capture_rate] if self.capture_rate else [SAMPLE_RATE, native]
        wanted = list(dict.fromkeys((r, c) for r in rates for c in (1, most)))
        supported = [f for f in wanted if self._supported(info, *f)]
        return supported or wanted

    def _supported(self, info: dict, rate: int, channels: int) -> bool:
        try:
            return bool(self._pa.is_format_supported(
                rate, input_device=int(info["index"]), input_channels=channels,
                input_format=_PA_INT16))
        except ValueError:
            return False

    def _configure(self, rate: int, channels: int) -> None:
        self.rate, self.channels = rate, channels
        self._chunk = rate * FRAME_MS // 1000
        self._resampler = (None if (rate, channels) == (SAMPLE_RATE, CHANNELS)
                           else FrameResampler(rate, channels))
        if self._resampler is not None:
            log.info("%s records at %d Hz, %d channel(s); resampling to 16 kHz mono",
                     self.description, rate, channels)

    def _check_present(self) -> None:
        """A pulse source that goes away has its stream moved to another source without an
        error, so ask the server now and then whether the chosen one still exists."""
        source = self._pulse_source
        if source is None or time.monotonic() < self._next_presence_check:
            return
        self._next_presence_check = time.monotonic() + PRESENCE_CHECK_S
        if pulse.source_exists(source) is False:
            raise AudioSourceError(
                f"The input '{self.description}' is no longer available: it was unplugged or "
                "switched off. Everything recorded so far is kept.")

    def _release(self) -> None:
        with PORTAUDIO_LOCK:
            if self._stream is not None:
                try:
                    self._stream.stop_stream()
                    self._stream.close()
                except OSError:
                    pass
                self._stream = None
            if self._pa is not None:
                close_portaudio(self._pa)
                self._pa = None
