"""Where audio comes from: a microphone through PyAudio, or a WAV file played as if spoken.

A source delivers 16 kHz mono PCM16 in 50 ms frames and raises AudioSourceError with a sentence
a person understands when it cannot.
"""

from __future__ import annotations

import logging
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..core.audio import CHANNELS, FRAME_BYTES, FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, SAMPLE_WIDTH

log = logging.getLogger(__name__)


class AudioSourceError(RuntimeError):
    """The source cannot start or stopped delivering audio."""


class AudioSource(Protocol):
    description: str

    def open(self) -> None: ...

    def read(self) -> bytes | None:
        """The next 50 ms frame, blocking about 50 ms; None at the end of a file."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class InputDevice:
    index: int
    name: str
    is_default: bool


def list_input_devices() -> list[InputDevice]:
    """Every input device PortAudio reports; empty when there is none or no audio system."""
    import pyaudio

    try:
        pa = pyaudio.PyAudio()
    except OSError as exc:
        log.warning("audio system unavailable: %s", exc)
        return []
    try:
        try:
            default = pa.get_default_input_device_info()["index"]
        except OSError:
            default = None
        devices = []
        for i in range(pa.get_device_count()):
            info = pa.get_device_info_by_index(i)
            if int(info.get("maxInputChannels", 0)) > 0:
                devices.append(InputDevice(i, str(info["name"]), i == default))
        return devices
    finally:
        pa.terminate()


class MicrophoneSource:
    """The default (or a chosen) input device at 16 kHz mono, read in 50 ms buffers."""

    def __init__(self, device_index: int | None = None) -> None:
        self.device_index = device_index
        self.description = "microphone"
        self._pa = None
        self._stream = None

    def open(self) -> None:
        import pyaudio

        try:
            self._pa = pyaudio.PyAudio()
        except OSError as exc:
            raise AudioSourceError(f"The audio system could not start: {exc}") from None
        try:
            info = (self._pa.get_device_info_by_index(self.device_index)
                    if self.device_index is not None
                    else self._pa.get_default_input_device_info())
            self.description = str(info["name"])
        except (OSError, ValueError):
            self._release()
            raise AudioSourceError(
                "No microphone found. Connect one (or pick another input) and press Start "
                "again.") from None
        try:
            self._stream = self._pa.open(
                format=pyaudio.paInt16, channels=CHANNELS, rate=SAMPLE_RATE, input=True,
                frames_per_buffer=FRAME_SAMPLES, input_device_index=self.device_index)
        except (OSError, ValueError) as exc:
            self._release()
            raise AudioSourceError(
                f"The microphone '{self.description}' could not be opened; another program may "
                f"be using it ({exc}).") from None

    def read(self) -> bytes:
        try:
            return self._stream.read(FRAME_SAMPLES, exception_on_overflow=False)
        except (OSError, AttributeError) as exc:
            raise AudioSourceError(
                f"The microphone '{self.description}' stopped delivering audio ({exc}). "
                "Everything recorded so far is kept.") from None

    def close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._stream is not None:
            try:
                self._stream.stop_stream()
                self._stream.close()
            except OSError:
                pass
            self._stream = None
        if self._pa is not None:
            self._pa.terminate()
            self._pa = None


class WavFileSource:
    """A 16 kHz mono PCM16 WAV file, paced at real time (like a microphone) or as fast as read."""

    def __init__(self, path: Path, realtime: bool = True) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self.description = self.path.name
        self._wav: wave.Wave_read | None = None
        self._next_at = 0.0

    def open(self) -> None:
        try:
            self._wav = wave.open(str(self.path), "rb")  # noqa: SIM115 - closed in close()
        except (OSError, EOFError, wave.Error) as exc:
            raise AudioSourceError(f"Cannot read {self.path.name}: {exc}") from None
        w = self._wav
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (
                SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
            self.close()
            raise AudioSourceError(f"{self.path.name} is not 16 kHz mono 16-bit PCM.")
        self._next_at = time.monotonic()

    def read(self) -> bytes | None:
        assert self._wav is not None, "open() first"
        data = self._wav.readframes(FRAME_SAMPLES)
        if not data:
            return None
        if self.realtime:
            self._next_at += FRAME_MS / 1000
            delay = self._next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return data if len(data) == FRAME_BYTES else data + bytes(FRAME_BYTES - len(data))

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None
