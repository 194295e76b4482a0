"""ALSA's and JACK's probing messages stay off the terminal: the same device listing, measured
in a fresh process, prints ~80 lines to stderr without the handlers and none with them."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from earmark.workers import alsa_quiet

APP_DIR = Path(__file__).resolve().parents[2] / "app"

# Creates PyAudio and lists its devices, as the device poller does; prints the device count.
LIST_DEVICES = textwrap.dedent("""
    import sys
    if sys.argv[1] == "quiet":
        from earmark.workers import alsa_quiet
        print("handled:", ",".join(alsa_quiet.install()))
    import pyaudio
    pa = pyaudio.PyAudio()
    names = [pa.get_device_info_by_index(i)["name"] for i in range(pa.get_device_count())]
    pa.terminate()
    print("devices:", len(names))
""")


def list_devices(mode: str) -> tuple[int, list[str], list[str]]:
    """(device count, stdout lines, stderr lines) of LIST_DEVICES in a fresh process."""
    env = dict(os.environ, PYTHONPATH=str(APP_DIR))
    env.pop("JACK_NO_START_SERVER", None)
    done = subprocess.run([sys.executable, "-c", LIST_DEVICES, mode], env=env, text=True,
                          capture_output=True, timeout=120, check=True)
    out = done.stdout.splitlines()
    count = int(next(line for line in out if line.startswith("devices:")).split()[1])
    return count, out, done.stderr.splitlines()


@pytest.fixture(scope="module")
def pyaudio_present():
    pytest.importorskip("pyaudio")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ALSA and JACK are Linux's")
def test_probing_noise_stays_off_the_terminal(pyaudio_present):
    devices_before, _, noise_before = list_devices("plain")
    devices_after, out, noise_after = list_devices("quiet")
    print(f"stderr lines: {len(noise_before)} before, {len(noise_after)} after; "
          f"{devices_after} devices")
    assert devices_after == devices_before  # the same devices are still found
    assert "libasound.so.2" in out[0]
    assert len(noise_after) <= 1, noise_after


def test_alsa_messages_go_to_the_log_once(caplog):
    caplog.set_level(logging.DEBUG, logger=alsa_quiet.__name__)
    for _ in range(3):
        alsa_quiet._on_alsa(b"pcm.c", 2666, b"snd_pcm_open_noupdate", 0, b"Unknown PCM %s")
    alsa_quiet._on_jack_error(b"jack server is not running or cannot be started")
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert messages.count("ALSA: pcm.c:2666 snd_pcm_open_noupdate: Unknown PCM %s") == 1
    assert "JACK: jack server is not running or cannot be started" in messages


def test_a_library_not_loaded_is_left_alone():
    assert alsa_quiet.loaded_library("libnot-a-library-earmark.so.9") is None
