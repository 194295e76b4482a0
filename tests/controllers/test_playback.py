"""Playing a session's audio from a turn on: the position → turn mapping, the controller driven
by a fake output whose position the test moves (the clock), the real PortAudio output on real
WAV files (lengths, seeking, damaged files), and sound played through PulseAudio into a null
sink of the test's own, recorded back with parec and checked."""

from __future__ import annotations

import math
import random
import shutil
import subprocess
import time
import wave
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from earmark.controllers.playback import (
    LEAD_IN_MS,
    PlaybackController,
    PlaybackError,
    PlaybackState,
    PortAudioOutput,
    TurnSpan,
    read_wav_format,
    turn_at,
    turn_spans,
)
from earmark.core.session import SessionMeta, SessionStore, TurnRecord, WordRecord

RATE = 16_000
WHEN = datetime(2026, 3, 2, 9, 30).astimezone()


# --- a fake output: the test is its clock ---------------------------------------------------

class FakeOutput:
    """An AudioOutput that plays nothing: `advance(ms)` moves the position while playing. It
    reads the real file's header on load, so missing and damaged files behave as for real."""

    def __init__(self, play_error: str | None = None) -> None:
        self.play_error = play_error  # play() raises this (no sound output)
        self.duration = 0
        self.position = 0
        self.playing = False
        self.loaded: Path | None = None
        self.failed: str | None = None
        self.seeks: list[int] = []

    def load(self, path: Path) -> int:
        self.close()
        self.duration = read_wav_format(path).duration_ms
        self.loaded = path
        return self.duration

    def play(self) -> None:
        if self.play_error:
            raise PlaybackError(self.play_error)
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def seek(self, position_ms: int) -> None:
        self.seeks.append(position_ms)
        self.position = position_ms

    def position_ms(self) -> int:
        return self.position

    def finished(self) -> bool:
        return self.position >= self.duration

    def failure(self) -> str | None:
        return self.failed

    def close(self) -> None:
        self.playing = False
        self.loaded = None
        self.position = 0

    def advance(self, ms: int) -> None:
        if self.playing:
            self.position = min(self.duration, self.position + ms)


def write_wav(path: Path, seconds: float, tones: dict[tuple[float, float], float] | None = None
              ) -> Path:
    """16 kHz mono PCM16: silence, with a sine of `hz` from `start` to `end` seconds for each
    `(start, end): hz` in `tones`."""
    samples = np.zeros(int(seconds * RATE), dtype=np.float64)
    for (start, end), hz in (tones or {}).items():
        t = np.arange(int(start * RATE), int(end * RATE))
        samples[t] = 0.4 * np.sin(2 * math.pi * hz * t / RATE)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def turn(order: int, start_ms: int, end_ms: int, text: str = "words") -> TurnRecord:
    return TurnRecord(order, text, start_ms=start_ms, end_ms=end_ms, wall_time=WHEN)


# Turns of a 10 s file; turn 2 starts 100 ms after turn 1 ends (less than the lead-in).
TURNS = (turn(0, 1000, 2000), turn(1, 3000, 4500), turn(2, 4600, 6000), turn(3, 8000, 9000))


@pytest.fixture
def audio(tmp_path) -> Path:
    return write_wav(tmp_path / "audio.wav", 10)


@pytest.fixture
def player(qtbot, audio) -> tuple[PlaybackController, FakeOutput, list[int]]:
    output = FakeOutput()
    controller = PlaybackController(output)
    heard: list[int] = []
    controller.turn_started.connect(heard.append)
    assert controller.open(audio, TURNS)
    return controller, output, heard


def play_for(controller: PlaybackController, output: FakeOutput, ms: int, step: int = 40
             ) -> None:
    """What the timer does while playing: the clock moves, the controller reads it."""
    for _ in range(ms // step):
        output.advance(step)
        controller.tick()


# --- position → turn ------------------------------------------------------------------------

SPANS = [TurnSpan(0, 1000, 2000), TurnSpan(1, 3000, 4500), TurnSpan(2, 4600, 6000)]


@pytest.mark.parametrize(("position", "order"), [
    (0, None), (999, None),  # before the first turn
    (1000, 0), (1999, 0),  # a span holds its start, not its end
    (2000, None), (2999, None),  # silence between two turns
    (3000, 1), (4499, 1), (4500, None), (4600, 2), (5999, 2),
    (6000, None), (60_000, None),  # after the last
])
def test_turn_at_finds_the_turn_whose_span_holds_the_position(position, order):
    assert turn_at(SPANS, position) == order


def test_turn_at_with_no_turns_and_with_overlapping_turns():
    assert turn_at([], 500) is None
    overlapping = [TurnSpan(0, 0, 3000), TurnSpan(1, 2000, 4000)]
    assert turn_at(overlapping, 2500) == 1  # the one started last
    assert turn_at(overlapping, 1500) == 0


def test_turn_at_agrees_with_a_linear_search_over_many_turns():
    rng = random.Random(7)
    spans, at = [], 0
    for order in range(2000):
        at += rng.randint(0, 800)
        length = rng.randint(1, 5000)
        spans.append(TurnSpan(order, at, at + length))
        at += length
    for position in (rng.randint(-10, at + 10) for _ in range(5000)):
        inside = [s.order for s in spans if s.start_ms <= position < s.end_ms]
        assert turn_at(spans, position) == (inside[-1] if inside else None)


def test_turn_spans_sorts_by_start_and_skips_turns_without_times():
    words = (WordRecord("Hi", 700, 900),)
    turns = [turn(1, 5000, 6000), TurnRecord(0, "Hi", words=words, wall_time=WHEN),
             TurnRecord(2, "(no words)", wall_time=WHEN), turn(3, 7000, 6500)]
    assert turn_spans(turns) == [TurnSpan(0, 700, 900), TurnSpan(1, 5000, 6000),
                                 TurnSpan(3, 7000, 7000)]


# --- the controller, on a fake clock ----------------------------------------------------------

def test_open_reads_the_length_and_is_ready(audio, qtbot):
    controller = PlaybackController(FakeOutput())
    positions = []
    controller.position_changed.connect(lambda p, d: positions.append((p, d)))
    assert controller.open(audio, TURNS)
    assert controller.state is PlaybackState.PAUSED
    assert controller.duration_ms == 10_000
    assert positions == [(0, 10_000)]
    assert controller.problem_text == ""


def test_open_takes_a_saved_session(tmp_path, qtbot):
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    recorder = store.create(SessionMeta(title="Saved", started_at=WHEN))
    recorder.write_audio(b"\x00\x00" * RATE * 3)
    recorder.add_turn(TurnRecord(0, "Hello there.", words=(
        WordRecord("Hello", 400, 700), WordRecord("there.", 750, 1200)), wall_time=WHEN))
    recorder.finish()
    output = FakeOutput()
    controller = PlaybackController(output)
    assert controller.open(store.load(recorder.folder))
    assert output.loaded == recorder.folder / "audio.wav"
    assert controller.duration_ms == 3000
    assert controller.play_turn(0)
    assert output.position == 400 - LEAD_IN_MS


def test_play_turn_seeks_to_just_before_its_start_and_highlights_it(player):
    controller, output, heard = player
    states = []
    controller.state_changed.connect(states.append)
    assert controller.play_turn(1)
    assert output.playing
    assert output.position == 3000 - LEAD_IN_MS
    assert heard == [1]
    assert controller.current_order == 1
    assert states == ["playing"]
    assert controller.play_turn(0)
    assert output.position == 1000 - LEAD_IN_MS
    assert heard == [1, 0]


def test_play_turn_at_the_very_beginning_starts_at_zero(audio, qtbot):
    controller = PlaybackController(FakeOutput())
    controller.open(audio, (turn(0, 100, 900),))
    controller.play_turn(0)
    assert controller.position_ms == 0


def test_an_unknown_turn_does_not_play(player):
    controller, output, heard = player
    assert not controller.play_turn(42)
    assert not output.playing and heard == []


def test_the_highlight_follows_the_position_from_turn_to_turn(player):
    controller, output, heard = player
    controller.play_turn(0)
    play_for(controller, output, 1500)  # into the silence after turn 0: it stays
    assert heard == [0]
    play_for(controller, output, 1000)  # 3190 ms: turn 1
    assert heard == [0, 1]
    play_for(controller, output, 1600)  # 4790 ms: turn 2, after 100 ms of silence
    assert heard == [0, 1, 2]
    play_for(controller, output, 3400)  # 8190 ms: turn 3
    assert heard == [0, 1, 2, 3]
    assert controller.state is PlaybackState.PLAYING


def test_the_lead_in_keeps_the_chosen_turn_over_the_end_of_the_one_before(player):
    controller, output, heard = player
    controller.play_turn(2)  # 4350 ms: still inside turn 1's span
    assert turn_at(turn_spans(TURNS), output.position) == 1
    play_for(controller, output, 200)
    assert heard == [2]
    play_for(controller, output, 400)
    assert heard == [2]


def test_position_signals_carry_the_duration(player):
    controller, output, _heard = player
    positions = []
    controller.position_changed.connect(lambda p, d: positions.append((p, d)))
    controller.play_turn(3)
    play_for(controller, output, 80)
    assert positions == [(7750, 10_000), (7790, 10_000), (7830, 10_000)]


def test_toggle_pauses_and_resumes_where_it_was(player):
    controller, output, _heard = player
    controller.play_turn(1)
    play_for(controller, output, 400)
    controller.toggle()
    assert controller.state is PlaybackState.PAUSED and not output.playing
    paused_at = controller.position_ms
    output.advance(1000)
    controller.tick()  # nothing moves while paused
    assert controller.position_ms == paused_at
    controller.toggle()
    assert controller.state is PlaybackState.PLAYING and output.position == paused_at


def test_toggle_before_any_turn_plays_from_the_beginning(player):
    controller, output, _heard = player
    controller.toggle()
    assert output.playing and output.position == 0


def test_the_end_stops_and_toggle_then_starts_again(player):
    controller, output, heard = player
    controller.play_turn(3)
    play_for(controller, output, 3000)
    assert controller.state is PlaybackState.PAUSED
    assert controller.position_ms == 10_000
    assert heard == [3]
    controller.toggle()
    assert controller.state is PlaybackState.PLAYING and output.position == 0


def test_seek_moves_the_highlight_and_the_lead_in_no_longer_holds(player):
    controller, _output, heard = player
    controller.play_turn(2)
    controller.seek(3100)
    assert heard == [2, 1]
    controller.seek(-50)
    assert controller.position_ms == 0
    controller.seek(99_000)
    assert controller.position_ms == 10_000


def test_the_timer_reads_the_position_only_while_playing(player, qtbot):
    controller, output, heard = player
    controller.play_turn(0)
    output.advance(2400)  # into turn 1 (3150 ms), as if 2.4 s had been played
    qtbot.waitUntil(lambda: heard == [0, 1], timeout=2000)
    controller.pause()
    assert not controller._timer.isActive()


# --- what keeps the audio from playing ---------------------------------------------------------

def test_a_missing_audio_file_is_a_message_not_a_crash(tmp_path, qtbot):
    controller = PlaybackController(FakeOutput())
    problems = []
    controller.problem.connect(problems.append)
    assert not controller.open(tmp_path / "audio.wav", TURNS)
    assert controller.state is PlaybackState.NO_AUDIO
    assert problems == ["This session's audio (audio.wav) is missing, so it cannot be played."]
    assert not controller.play_turn(0)
    controller.toggle()
    controller.seek(1000)
    controller.tick()
    assert controller.state is PlaybackState.NO_AUDIO


@pytest.mark.parametrize(("content", "says"), [
    (b"this is not a wav file at all" * 10, "audio.wav is damaged (file does not start with "
                                            "RIFF id)"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio.wav is damaged"),  # cut off in its header
    (b"", "audio.wav is damaged"),
])
def test_a_damaged_audio_file_is_a_message(tmp_path, qtbot, content, says):
    path = tmp_path / "audio.wav"
    path.write_bytes(content)
    controller = PlaybackController(PortAudioOutput())
    assert not controller.open(path, TURNS)
    assert says in controller.problem_text
    assert controller.problem_text.startswith("This session's audio cannot be played")


def test_an_audio_file_without_samples_is_a_message(tmp_path, qtbot):
    controller = PlaybackController(PortAudioOutput())
    assert not controller.open(write_wav(tmp_path / "audio.wav", 0), TURNS)
    assert controller.problem_text == "This session's audio (audio.wav) is empty."


def test_no_sound_output_is_a_message_and_the_audio_stays_ready(audio, qtbot):
    output = FakeOutput(play_error="No sound output is available on this computer (no device).")
    controller = PlaybackController(output)
    controller.open(audio, TURNS)
    assert not controller.play_turn(1)
    assert controller.problem_text.startswith("No sound output is available")
    assert controller.state is PlaybackState.PAUSED
    output.play_error = None  # a device came back
    assert controller.play_turn(1)
    assert controller.problem_text == ""


def test_an_output_that_fails_while_playing_pauses_with_a_message(player):
    controller, output, _heard = player
    controller.play_turn(0)
    output.failed = "The sound output stopped."
    controller.tick()
    assert controller.state is PlaybackState.PAUSED and not output.playing
    assert controller.problem_text == "The sound output stopped."


def test_opening_another_file_stops_and_forgets_the_last(player, tmp_path):
    controller, output, _heard = player
    controller.play_turn(1)
    assert controller.open(write_wav(tmp_path / "other.wav", 2), ())
    assert controller.state is PlaybackState.PAUSED and controller.position_ms == 0
    assert controller.current_order is None and not controller.play_turn(1)
    controller.close()
    assert controller.state is PlaybackState.NO_AUDIO and output.loaded is None


# --- the real output, without sound -------------------------------------------------------------

def test_the_portaudio_output_reads_lengths_and_seeks_without_a_device(tmp_path):
    output = PortAudioOutput()
    assert output.load(write_wav(tmp_path / "a.wav", 2.5)) == 2500
    output.seek(1234)
    assert output.position_ms() == 1234
    output.seek(99_000)
    assert output.position_ms() == 2500
    assert output.load(write_wav(tmp_path / "b.wav", 1)) == 1000
    assert output.position_ms() == 0
    output.close()


def test_a_recorded_session_s_audio_has_the_length_its_meta_says(tmp_path):
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    recorder = store.create(SessionMeta(title="Length", started_at=WHEN))
    recorder.write_audio(b"\x01\x00" * (RATE * 7 + RATE // 2))
    recorder.finish()
    session = store.load(recorder.folder)
    assert read_wav_format(session.audio_path).duration_ms == session.meta.audio_duration_ms \
        == 7500


# --- real sound, through PulseAudio into a null sink, recorded back ------------------------------

@pytest.fixture
def pulse_sink(monkeypatch):
    """A null sink of this test's own (never the virtual microphone other tests listen to),
    made the default output of this process through PULSE_SINK; yields its name."""
    from tests.support.virtual_mic import start_virtual_mic

    start_virtual_mic()  # a PulseAudio daemon, installed and started if need be
    if shutil.which("parec") is None:
        pytest.skip("parec is not installed")
    name = f"earmark_playback_test_{time.monotonic_ns()}"
    module = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}", f"rate={RATE}",
         "channels=1"], capture_output=True, text=True, check=True).stdout.strip()
    monkeypatch.setenv("PULSE_SINK", name)
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], check=False)


class Recorder:
    """parec on a sink's monitor, raw 16 kHz mono PCM16, into a file."""

    def __init__(self, sink: str, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._process = subprocess.Popen(
            ["parec", f"--device={sink}.monitor", f"--rate={RATE}", "--channels=1",
             "--format=s16le", "--raw", "--latency-msec=20"], stdout=self._file)

    def stop(self) -> np.ndarray:
        self._process.terminate()
        self._process.wait(10)
        self._file.close()
        return np.frombuffer(self.path.read_bytes(), dtype="<i2").astype(np.float64) / 32767


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / RATE)[int(np.argmax(spectrum))])


def loud(samples: np.ndarray, threshold: float = 0.05) -> np.ndarray:
    """The samples of the 20 ms blocks louder than `threshold` (RMS)."""
    blocks = samples[: len(samples) // 320 * 320].reshape(-1, 320)
    return blocks[np.sqrt((blocks ** 2).mean(axis=1)) > threshold].ravel()


@pytest.mark.slow
def test_a_turn_is_heard_through_pulseaudio_and_pause_silences_it(pulse_sink, tmp_path, qtbot):
    # turn 0 is a 440 Hz tone, turn 1 an 880 Hz one; playing turn 1 must sound 880 Hz only
    path = write_wav(tmp_path / "audio.wav", 6, {(0.5, 2.0): 440, (3.0, 4.5): 880})
    controller = PlaybackController(PortAudioOutput())
    heard: list[int] = []
    controller.turn_started.connect(heard.append)
    assert controller.open(path, (turn(0, 500, 2000), turn(1, 3000, 4500)))
    recorder = Recorder(pulse_sink, tmp_path / "out.raw")
    try:
        time.sleep(0.3)  # parec is listening
        assert controller.play_turn(1), controller.problem_text
        started = time.monotonic()
        # a null sink that was idle takes a second or two to start pulling: wait for the clock
        qtbot.waitUntil(lambda: controller.position_ms >= 4000, timeout=15_000)
        assert controller.position_ms < 4500
        controller.pause()
        paused_at = controller.position_ms
        time.sleep(0.8)  # anything still coming out after a pause would be recorded now
        sound = recorder.stop()
    finally:
        controller.close()
    assert heard == [1]
    assert controller.problem_text == ""
    assert 4000 <= paused_at < 4600
    assert time.monotonic() - started >= 1.2  # it took real time: 1.25 s of audio
    tone = loud(sound)
    assert len(tone) >= RATE * 0.8, f"only {len(tone) / RATE:.2f} s of sound came out"
    assert abs(dominant_hz(tone) - 880) < 10
    # the position is what was heard: the tone came out from 3000 ms to where it paused
    assert abs(len(tone) / RATE * 1000 - (paused_at - 3000)) <= 150
    tail = sound[-int(RATE * 0.4):]
    assert np.sqrt((tail ** 2).mean()) < 0.01, "sound went on after the pause"


@pytest.mark.slow
def test_a_missing_sound_output_is_a_message(pulse_sink, monkeypatch, tmp_path, qtbot):
    monkeypatch.setenv("PULSE_SINK", "earmark_no_such_sink")
    controller = PlaybackController(PortAudioOutput())
    assert controller.open(write_wav(tmp_path / "audio.wav", 2), (turn(0, 100, 900),))
    assert not controller.play_turn(0)
    assert controller.problem_text.startswith(
        ("The sound output could not be opened", "No sound output is available"))
    assert controller.state is PlaybackState.PAUSED
    controller.close()


@pytest.mark.slow
def test_playing_to_the_end_of_the_file_stops_there(pulse_sink, tmp_path, qtbot):
    controller = PlaybackController(PortAudioOutput())
    states: list[str] = []
    controller.state_changed.connect(states.append)
    assert controller.open(write_wav(tmp_path / "audio.wav", 1.5, {(0.0, 1.5): 660}),
                           (turn(0, 1000, 1500),))
    try:
        assert controller.play_turn(0), controller.problem_text
        qtbot.waitUntil(lambda: controller.state is PlaybackState.PAUSED, timeout=15_000)
        assert controller.position_ms == controller.duration_ms == 1500
        assert controller.problem_text == ""
        assert states == ["paused", "playing", "paused"]  # ready, playing, at the end
        controller.toggle()  # from the beginning again
        assert controller.state is PlaybackState.PLAYING
        qtbot.waitUntil(lambda: 200 <= controller.position_ms < 1500, timeout=15_000)
    finally:
        controller.close()


@pytest.mark.slow
def test_opening_another_file_while_playing_switches_cleanly(pulse_sink, tmp_path, qtbot):
    controller = PlaybackController(PortAudioOutput())
    first = write_wav(tmp_path / "first.wav", 3, {(0.0, 3.0): 440})
    second = write_wav(tmp_path / "second.wav", 2, {(0.0, 2.0): 550})
    try:
        assert controller.open(first, (turn(0, 0, 3000),))
        assert controller.play_turn(0), controller.problem_text
        assert controller.open(second, (turn(0, 500, 1500),))
        assert controller.state is PlaybackState.PAUSED and controller.position_ms == 0
        assert controller.play_turn(0), controller.problem_text
        qtbot.waitUntil(lambda: controller.position_ms >= 600, timeout=15_000)
        assert controller.problem_text == ""
    finally:
        controller.close()
