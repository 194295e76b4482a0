"""The virtual microphone (a PulseAudio null sink whose monitor is the default input), run by
the script `virtual-mic` beside this file."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

TOOL = REPO / "tests" / "support" / "virtual-mic"


def start_virtual_mic() -> None:
    if not os.access(TOOL, os.X_OK):
        pytest.fail(f"{TOOL.relative_to(REPO)} is missing or not executable")
    if shutil.which("apt-get") is None and shutil.which("pulseaudio") is None:
        pytest.skip("PulseAudio cannot run here: neither pulseaudio nor apt-get is available")
    result = subprocess.run([str(TOOL), "start"], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        pytest.skip(f"PulseAudio could not start here: {result.stderr.strip()[-300:]}")


SPEAKERS_MONITOR = "earmark_speakers.monitor"  # system audio: what the virtual speakers play


def play(path: Path, into: str = "play") -> subprocess.Popen:
    """Speak `path` into the microphone ("play") or through the speakers ("speak"), in real
    time, in the background (in its own process group, so `stop` ends paplay too, not only the
    wrapper script)."""
    return subprocess.Popen([str(TOOL), into, str(path)], start_new_session=True)


def stop(player: subprocess.Popen) -> None:
    """Stop playing now, so nothing leaks into the next test's microphone."""
    if player.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(player.pid, signal.SIGTERM)
    player.wait(10)
