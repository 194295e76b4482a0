"""Kill the real app with SIGKILL in the middle of a live session, then start it again.

The app runs as a child process (tests/support/app_child.py) with the embedded engine, recording
from the virtual microphone while real speech is played into it. Whatever the window showed as
final before the kill, and the audio up to the kill, must be there after the next launch.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from earmark.app import build_main_window
from earmark.core.session import SessionStatus, SessionStore
from earmark.settings import Key
from earmark.ui.main_window import WELCOME_TOPIC
from tests.conftest import REPO, speech_file
from tests.support.virtual_mic import play, start_virtual_mic, stop

pytestmark = pytest.mark.slow

RATE = 16000
PAUSE_S = 1.5  # long enough for the engine to end a turn
# Two short sentences, each followed by a pause (two turns), then a long stretch of speech
# during which the app is killed.
PARTS = [
    "cmu_arctic/cmu_arctic_us_aew_a0001.wav",  # "Author of the danger trail, Philip Steels, etc."
    "cmu_arctic/cmu_arctic_us_aew_a0003.wav",  # "For the twentieth time that evening ..."
    "librispeech/test-clean/1089-134686-0002.wav",
    "misc/jfk.wav",
]
KILL_INTO_THIRD_S = 2.0  # kill this far into the third part: mid-sentence


@dataclass
class Crash:
    """What the child reported before it was killed, and when it was killed."""

    sessions: Path
    folder: Path
    audio_start: float  # time.time() of the first sample of audio.wav, reported by the child
    kill_time: float  # time.time() just before SIGKILL
    turns: dict[int, list[str]] = field(default_factory=dict)  # each final text shown, in order
    output: list[str] = field(default_factory=list)


def _speech_with_pauses(path: Path) -> float:
    """Write the parts as one 16 kHz mono WAV; return when the third part starts (s)."""
    chunks: list[np.ndarray] = []
    third_starts = 0.0
    for i, part in enumerate(PARTS):
        with wave.open(str(speech_file(part))) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2), part
            chunks.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"))
        if i < 2:
            chunks.append(np.zeros(int(PAUSE_S * RATE), dtype="<i2"))
        if i == 1:
            third_starts = sum(len(c) for c in chunks) / RATE
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.concatenate(chunks).tobytes())
    return third_starts


class ChildOutput:
    """The child's stdout lines, read on a thread so the test can wait with a deadline."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def join(self) -> None:
        """Wait until the child's stdout is closed (it exited) and everything is read."""
        self._thread.join(10)

    def poll(self) -> list[str]:
        """Lines that arrived since the last call (without waiting)."""
        new = []
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return new
            if line is not None:
                new.append(line)
                self.lines.append(line)


def _value(lines: list[str], kind: str) -> str | None:
    for line in lines:
        if line.startswith(kind + " "):
            return line[len(kind) + 1:]
    return None


def _turns(lines: list[str]) -> dict[int, list[str]]:
    turns: dict[int, list[str]] = {}
    for line in lines:
        if line.startswith("TURN "):
            order, text = line[5:].split(" ", 1)
            turns.setdefault(int(order), []).append(json.loads(text))
    return turns


@pytest.fixture(scope="module")
def crash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crash]:
    """Run the app, speak into the microphone, kill it mid-sentence after two final turns."""
    start_virtual_mic()
    tmp = tmp_path_factory.mktemp("crash")
    speech = tmp / "speech.wav"
    third_starts = _speech_with_pauses(speech)
    sessions = tmp / "sessions"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.app_child", "--sessions", str(sessions),
         "--ini", str(tmp / "child.ini"), "--max-seconds", "90"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = ChildOutput(child)
    player: subprocess.Popen | None = None
    try:
        deadline = time.monotonic() + 30
        while _value(out.lines, "AUDIO_START") is None or _value(out.lines, "SESSION") is None:
            out.poll()
            assert child.poll() is None, f"the app exited early: {out.lines}"
            assert _value(out.lines, "BANNER") is None, f"the session did not start: {out.lines}"
            assert time.monotonic() < deadline, f"the session did not start: {out.lines}"
            time.sleep(0.05)
        played_at = time.monotonic()
        player = play(speech)
        kill_at = played_at + third_starts + KILL_INTO_THIRD_S
        deadline = played_at + third_starts + 8
        while len(_turns(out.lines)) < 2 or time.monotonic() < kill_at:
            out.poll()
            assert child.poll() is None, f"the app exited early: {out.lines}"
            assert time.monotonic() < deadline, f"no two final turns in time: {out.lines}"
            time.sleep(0.02)
        assert player.poll() is None, "the speech ended before the kill"
        out.poll()
        kill_time = time.time()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
        out.join()
        out.poll()  # lines the child wrote before it died count as shown before the kill
        lines = list(out.lines)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if player is not None:
            stop(player)
    assert child.returncode == -signal.SIGKILL
    yield Crash(sessions, Path(_value(lines, "SESSION") or ""),
                float(_value(lines, "AUDIO_START") or 0), kill_time, _turns(lines), lines)


def _copy(crash: Crash, tmp_path: Path) -> Path:
    """A copy of the sessions folder as the kill left it (each test repairs its own copy)."""
    sessions = tmp_path / "sessions"
    shutil.copytree(crash.sessions, sessions)  # copy2: keeps the files' times
    return sessions


def _transcript_lines(folder: Path) -> dict[int, list[str]]:
    """Every line of transcript.jsonl, as text per turn in file order."""
    lines: dict[int, list[str]] = {}
    for raw in (folder / "transcript.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(raw)
        lines.setdefault(record["turn_order"], []).append(record["text"])
    return lines


def _find_in_order(shown: list[str], lines: list[str]) -> int | None:
    """Where the last of `shown` is in `lines`, if all of `shown` occur there in that order."""
    at = -1
    for text in shown:
        try:
            at = lines.index(text, at + 1)
        except ValueError:
            return None
    return at


def test_everything_shown_before_the_kill_is_recovered(crash: Crash, tmp_path: Path) -> None:
    assert len(crash.turns) >= 2
    assert "danger trail" in crash.turns[0][-1].lower(), crash.output  # real speech, heard
    sessions = _copy(crash, tmp_path)
    folder = sessions / crash.folder.name
    store = SessionStore(sessions, use_trash=False)

    reports = store.recover_interrupted()

    assert [r.folder for r in reports] == [folder]
    assert reports[0].recovered, reports[0].error
    saved = store.load(folder)
    assert saved.meta.status == SessionStatus.RECOVERED
    assert saved.problems == ()
    assert not (folder / "recording.lock").exists()
    # Every final text the window showed is in transcript.jsonl, in the order shown (the window
    # may skip a revision that was replaced at once; one saved just before the kill may follow).
    on_disk = _transcript_lines(folder)
    loaded = {t.turn_order: t.text for t in saved.turns}
    for order, shown in crash.turns.items():
        lines = on_disk.get(order, [])
        assert _find_in_order(shown, lines) is not None, (order, shown, lines)
        assert loaded[order] == lines[-1]  # the library shows the latest revision
    assert saved.meta.turn_count == len(loaded)
    # The audio is a valid WAV that reaches to the kill.
    with wave.open(str(folder / "audio.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (RATE, 1, 2)
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / RATE
    assert len(frames) == w.getnframes() * 2
    recorded_until = crash.kill_time - crash.audio_start
    assert recorded_until - 1.0 <= seconds <= recorded_until + 0.5, (seconds, recorded_until)
    # What the library shows: the repaired length and the end of the session.
    assert abs(saved.meta.audio_duration_ms - seconds * 1000) < 50
    started = saved.meta.started_at.timestamp()
    assert started <= crash.audio_start + 0.1
    assert saved.meta.ended_at is not None
    assert abs(saved.meta.ended_at.timestamp() - crash.kill_time) < 1.5
    # The microphone heard the speech right up to the kill, not silence.
    tail = np.frombuffer(frames[-RATE:], dtype="<i2").astype(float)  # the last second
    assert np.sqrt(np.mean(tail ** 2)) > 100


def test_the_next_launch_repairs_the_session_and_says_so(
        qtbot, settings, crash: Crash, tmp_path: Path) -> None:
    sessions = _copy(crash, tmp_path)
    folder = sessions / crash.folder.name
    settings.set(Key.SESSIONS_DIR, str(sessions))

    window = build_main_window(settings)
    qtbot.addWidget(window)
    window.show()

    banner = window.banner.text
    assert banner.startswith("Earmark was closed during a session. Recovered:"), banner
    meta = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert f"“{meta['title']}” ({folder.name})" in banner  # names the session
    assert "could not be repaired" not in banner
    assert meta["status"] == "recovered"
    assert meta["turn_count"] >= 2 and meta["ended_at"]
    # A third launch has nothing left to repair.
    again = build_main_window(settings)
    qtbot.addWidget(again)
    again.show()
    assert again.banner.topic == WELCOME_TOPIC  # the first-run hint, no recovery
