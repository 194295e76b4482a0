"""Playing a session's audio back, turn by turn: hear what was said.

`PlaybackController` plays a session's audio.wav from a turn's start (a little before it) on to
the end, like a player, and says which turn is being heard (`turn_started`) as the position
moves, so the window can highlight it. The position comes from the audio output, polled while
playing; `turn_at` maps it to a turn by binary search over the turns' spans.

The sound goes out through PortAudio (PyAudio, which the app already uses to capture), in
`PortAudioOutput`: a callback on PortAudio's own thread reads the file, so the GUI never waits
for the disk or the device. The file and the device are held only while playing. Anything that
keeps the audio from playing (no audio.wav, a damaged one, no sound output) becomes a sentence
(`problem`), never an exception in the window.
"""

from __future__ import annotations

import logging
import threading
import wave
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from ..core.session import SavedSession, TurnRecord
from ..core.session.call_audio import MixedWav, open_session_audio

log = logging.getLogger(__name__)

LEAD_IN_MS = 250  # a turn plays from this much before its first word, so no syllable is cut
TICK_MS = 40  # how often the position is read while playing (25 times a second)
BUFFER_MS = 50  # what PortAudio asks the callback for at a time
PA_CONTINUE, PA_COMPLETE, PA_ABORT = 0, 1, 2  # PortAudio's callback results (PA_CONTINUE…)


# --- turns on the audio's time line (pure) ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class TurnSpan:
    order: int
    start_ms: int
    end_ms: int


def turn_spans(turns: Iterable[TurnRecord]) -> list[TurnSpan]:
    """The turns that have times, by start; a turn without times cannot be played."""
    spans = [TurnSpan(t.turn_order, t.start_ms, max(t.start_ms, t.end_ms or t.start_ms))
             for t in turns if t.start_ms is not None]
    return sorted(spans, key=_start_of)


def turn_at(spans: Sequence[TurnSpan], position_ms: int) -> int | None:
    """The order of the turn whose span holds `position_ms` (the one started last, should two
    overlap); None in silence between turns, before the first and after the last. `spans` sorted
    by start, as `turn_spans` gives them."""
    i = bisect_right(spans, position_ms, key=_start_of) - 1
    if i >= 0 and position_ms < spans[i].end_ms:
        return spans[i].order
    return None


def _start_of(span: TurnSpan) -> int:
    return span.start_ms


# --- where the sound goes -------------------------------------------------------------------

class PlaybackError(Exception):
    """A sentence for the user: why the audio cannot be played."""


class AudioOutput(Protocol):
    """Plays one file; the controller asks it for the position (it is the clock)."""

    def load(self, path: Path) -> int:
        """Stops, then checks that `path` can be played; its length in ms. Raises
        PlaybackError (and nothing is loaded)."""

    def play(self) -> None:
        """From the position on. Raises PlaybackError when there is no sound output."""

    def pause(self) -> None: ...

    def seek(self, position_ms: int) -> None: ...

    def position_ms(self) -> int: ...

    def finished(self) -> bool:
        """The end of the file was played."""

    def failure(self) -> str | None:
        """Why playing stopped by itself, if it did."""

    def close(self) -> None:
        """Releases the device and the file; `load` again before playing."""


@dataclass(frozen=True, slots=True)
class WavFormat:
    rate: int
    channels: int
    width: int  # bytes per sample
    frames: int

    @property
    def duration_ms(self) -> int:
        return self.frames * 1000 // self.rate


def read_wav_format(path: Path) -> WavFormat:
    """The format and length of a WAV file, or a PlaybackError saying what is wrong with it."""
    if not path.is_file():
        raise PlaybackError(f"This session's audio ({path.name}) is missing, so it cannot be "
                            "played.")
    try:
        with wave.open(str(path), "rb") as wav:
            fmt = WavFormat(wav.getframerate(), wav.getnchannels(), wav.getsampwidth(),
                            wav.getnframes())
        mixed = open_session_audio(path)  # a call: its other side is heard too
        fmt = replace(fmt, frames=mixed.getnframes())
        mixed.close()
    except (wave.Error, EOFError, OSError, ValueError) as exc:
        raise PlaybackError(f"This session's audio cannot be played: {path.name} is damaged "
                            f"({exc or type(exc).__name__}).") from None
    if fmt.rate <= 0 or fmt.frames <= 0:
        raise PlaybackError(f"This session's audio ({path.name}) is empty.")
    return fmt


class PortAudioOutput:
    """A WAV file through PortAudio's default output. The callback (PortAudio's thread) reads
    the file; the position is what was handed to the device less the device's latency."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._fmt: WavFormat | None = None
        self._pa: Any = None
        self._stream: Any = None
        self._wav: wave.Wave_read | MixedWav | None = None
        self._start = 0  # frame playing started from (the last seek)
        self._delivered = 0  # frames handed to the device
        self._latency = 0  # frames the device holds before they are heard
        self._eof = False
        self._failure: str | None = None

    def load(self, path: Path) -> int:
        self._close_stream()  # PortAudio itself stays up for the next file
        self._close_file()
        self._fmt = None
        self._fmt = read_wav_format(path)
        self._path = path
        self._start = self._delivered = 0
        return self._fmt.duration_ms

    def play(self) -> None:
        if self._fmt is None or self._stream is not None:
            return
        self._failure = None
        self._eof = False
        self._open_file()
        try:
            self._open_stream()
        except PlaybackError:
            self._close_file()
            raise

    def pause(self) -> None:
        if self._stream is None:
            return
        heard = self._heard()
        self._close_stream()
        self._close_file()
        self._start = self._delivered = heard  # what was buffered but not heard plays again
        self._eof = False

    def seek(self, position_ms: int) -> None:
        if self._fmt is None:
            return
        frame = min(max(0, position_ms * self._fmt.rate // 1000), self._fmt.frames)
        ending = self._stream is not None and self._eof  # its stream is completing: a new one
        if ending:
            self._close_stream()
        with self._lock:
            if self._wav is not None:
                self._wav.setpos(frame)
            self._start = self._delivered = frame
            self._eof = False
        if ending:
            try:
                self._open_stream()
            except PlaybackError as exc:
                self._failure = str(exc)

    def position_ms(self) -> int:
        if self._fmt is None:
            return 0
        frames = self._heard() if self._stream is not None else self._delivered
        return frames * 1000 // self._fmt.rate

    def finished(self) -> bool:
        return self._eof and (self._stream is None or not self._stream.is_active())

    def failure(self) -> str | None:
        if self._failure is None and self._stream is not None and not self._eof \
                and not self._stream.is_active():
            self._failure = "The sound output stopped."
        return self._failure

    def close(self) -> None:
        self._close_stream()
        self._close_file()
        if self._pa is not None:
            from ..workers.audio_inputs import close_portaudio

            close_portaudio(self._pa)
            self._pa = None
        self._fmt = None

    # --- PortAudio's thread ------------------------------------------------------------------

    def _callback(self, _in: bytes | None, count: int, _time: dict, _status: int
                  ) -> tuple[bytes, int]:
        fmt = self._fmt
        frame_bytes = fmt.channels * fmt.width
        try:
            with self._lock:
                data = self._wav.readframes(count) if self._wav is not None else b""
                self._delivered += len(data) // frame_bytes
                if len(data) < count * frame_bytes:
                    self._eof = True
        except Exception as exc:  # a file that went bad: a message, not a dead thread
            self._failure = f"The audio could not be read any further ({exc})."
            return b"\x00" * (count * frame_bytes), PA_ABORT
        if self._eof:
            return data.ljust(count * frame_bytes, b"\x00"), PA_COMPLETE
        return data, PA_CONTINUE

    # --- helpers -----------------------------------------------------------------------------

    def _heard(self) -> int:
        with self._lock:
            return max(self._start, self._delivered - self._latency)

    def _open_file(self) -> None:
        try:
            wav = open_session_audio(self._path)
            wav.setpos(min(self._delivered, wav.getnframes()))  # never out of range
        except (wave.Error, EOFError, OSError, ValueError) as exc:
            raise PlaybackError(f"This session's audio cannot be played: {exc}.") from None
        with self._lock:
            self._wav = wav

    def _close_file(self) -> None:
        with self._lock:
            wav, self._wav = self._wav, None
        if wav is not None:
            wav.close()

    def _open_stream(self) -> None:
        from ..workers.audio_inputs import PORTAUDIO_LOCK, open_portaudio

        fmt = self._fmt
        if self._pa is None:
            try:
                self._pa = open_portaudio()
            except OSError as exc:
                raise PlaybackError(f"No sound output is available on this computer ({exc})."
                                    ) from None
        try:
            with PORTAUDIO_LOCK:
                self._stream = self._pa.open(
                    format=self._pa.get_format_from_width(fmt.width), channels=fmt.channels,
                    rate=fmt.rate, output=True, frames_per_buffer=fmt.rate * BUFFER_MS // 1000,
                    stream_callback=self._callback)
        except (OSError, ValueError) as exc:
            raise PlaybackError(f"The sound output could not be opened ({exc}).") from None
        self._latency = int(self._stream.get_output_latency() * fmt.rate)
        log.info("playing %s from %d ms (output latency %d ms)", self._path,
                 self._start * 1000 // fmt.rate, self._latency * 1000 // fmt.rate)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        from ..workers.audio_inputs import PORTAUDIO_LOCK

        with PORTAUDIO_LOCK:
            try:
                stream.close()  # discards what is still buffered: a pause is heard at once
            except OSError as exc:
                log.warning("closing the sound output: %s", exc)


# --- the controller -------------------------------------------------------------------------

class PlaybackState(StrEnum):
    NO_AUDIO = "no_audio"  # nothing opened, or its audio cannot be played (see `problem`)
    PAUSED = "paused"  # ready: before the first play, paused, or at the end
    PLAYING = "playing"


class PlaybackController(QObject):
    """`open(session)` then `play_turn(order)`, `toggle()`, `seek(ms)`. Widgets render the
    signals; the position logic runs on `tick()`, which a timer calls while playing."""

    state_changed = Signal(str)  # PlaybackState
    position_changed = Signal(int, int)  # position, duration (ms)
    turn_started = Signal(int)  # the order of the turn now being heard
    problem = Signal(str)  # why the audio cannot be played; "" when that is over

    def __init__(self, output: AudioOutput | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._output: AudioOutput = output if output is not None else PortAudioOutput()
        self._spans: list[TurnSpan] = []
        self._by_order: dict[int, TurnSpan] = {}
        self._state = PlaybackState.NO_AUDIO
        self._duration = 0
        self._position = 0
        self._order: int | None = None
        self._hold: TurnSpan | None = None  # the turn play_turn chose, kept through its lead-in
        self._problem = ""
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self.tick)
        # no PortAudio callback may outlive the window or the interpreter
        self.destroyed.connect(self._output.close)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    # --- what is known ---------------------------------------------------------------------

    @property
    def state(self) -> PlaybackState:
        return self._state

    @property
    def position_ms(self) -> int:
        return self._position

    @property
    def duration_ms(self) -> int:
        return self._duration

    @property
    def current_order(self) -> int | None:
        """The turn last heard (or chosen with play_turn); None before any."""
        return self._order

    @property
    def problem_text(self) -> str:
        return self._problem

    def can_play(self, order: int) -> bool:
        return self._state is not PlaybackState.NO_AUDIO and order in self._by_order

    # --- intents ---------------------------------------------------------------------------

    def open(self, source: SavedSession | Path | str,
             turns: Iterable[TurnRecord] = ()) -> bool:
        """A saved session, or an audio file and its turns; False (and `problem`) when its
        audio cannot be played."""
        if isinstance(source, SavedSession):
            path, turns = source.audio_path, source.turns
        else:
            path = Path(source)
        self._reset(turns, release=False)
        try:
            self._duration = self._output.load(path)
        except PlaybackError as exc:
            self._set_problem(str(exc))
            return False
        self._set_problem("")
        self._set_state(PlaybackState.PAUSED)
        self.position_changed.emit(0, self._duration)
        return True

    def close(self) -> None:
        """Stops and lets go of the file and the sound device."""
        self._reset((), release=True)
        self._set_problem("")

    def play_turn(self, order: int) -> bool:
        """Plays from (just before) the turn's start on; False if it cannot be played."""
        span = self._by_order.get(order)
        if span is None or self._state is PlaybackState.NO_AUDIO:
            return False
        self._hold = span
        self._set_order(order)
        self._move_to(span.start_ms - LEAD_IN_MS)
        return self.play()

    def toggle(self) -> None:
        if self._state is PlaybackState.PLAYING:
            self.pause()
        else:
            self.play()

    def play(self) -> bool:
        if self._state is PlaybackState.NO_AUDIO:
            return False
        if self._state is PlaybackState.PLAYING:
            return True
        if self._position >= self._duration:
            self._move_to(0)  # at the end: from the beginning, as players do
        try:
            self._output.play()
        except PlaybackError as exc:
            self._set_problem(str(exc))
            return False
        self._set_problem("")
        self._set_state(PlaybackState.PLAYING)
        self._timer.start()
        return True

    def pause(self) -> None:
        if self._state is not PlaybackState.PLAYING:
            return
        self._timer.stop()
        self._output.pause()
        self._set_state(PlaybackState.PAUSED)
        self._follow(self._output.position_ms())

    def seek(self, position_ms: int) -> None:
        if self._state is PlaybackState.NO_AUDIO:
            return
        self._hold = None
        self._move_to(position_ms)

    def tick(self) -> None:
        """Reads the position, moves the turn being heard, and notices the end or a failure."""
        if self._state is not PlaybackState.PLAYING:
            return
        failure = self._output.failure()
        if failure:
            self._stop(failure)
            return
        if self._output.finished():
            self._stop("")
            self._follow(self._duration)
            return
        self._follow(self._output.position_ms())

    # --- helpers ---------------------------------------------------------------------------

    def _move_to(self, position_ms: int) -> None:
        self._output.seek(min(max(0, position_ms), self._duration))
        self._follow(self._output.position_ms())

    def _follow(self, position_ms: int) -> None:
        if position_ms != self._position:
            self._position = position_ms
            self.position_changed.emit(position_ms, self._duration)
        if self._hold is not None and position_ms < self._hold.start_ms:
            return  # the lead-in of the chosen turn may overlap the end of the one before
        self._hold = None
        order = turn_at(self._spans, position_ms)
        if order is not None:  # silence between turns: the last one heard stays
            self._set_order(order)

    def _set_order(self, order: int) -> None:
        if order != self._order:
            self._order = order
            self.turn_started.emit(order)

    def _stop(self, failure: str) -> None:
        self._timer.stop()
        self._output.pause()
        self._set_state(PlaybackState.PAUSED)
        if failure:
            log.warning("playback stopped: %s", failure)
            self._set_problem(failure)

    def _reset(self, turns: Iterable[TurnRecord], release: bool) -> None:
        self._timer.stop()
        if release:
            self._output.close()
        else:
            self._output.pause()
        self._spans = turn_spans(turns)
        self._by_order = {s.order: s for s in self._spans}
        self._duration = self._position = 0
        self._order = self._hold = None
        self._set_state(PlaybackState.NO_AUDIO)

    def _set_state(self, state: PlaybackState) -> None:
        if state is not self._state:
            self._state = state
            self.state_changed.emit(state.value)

    def _set_problem(self, text: str) -> None:
        if text != self._problem:
            self._problem = text
            self.problem.emit(text)
