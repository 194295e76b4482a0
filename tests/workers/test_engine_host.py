"""The embedded engine runs as a supervised child process: a fault there is reported with its
signal and the engine comes back; the window's process never runs the native code."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from earmark.core.protocol.endpoints import ENGINE_TOKEN_ENV as TOKEN_ENV
from earmark.workers.engine_host import EngineHost, EngineState

READY_MS = 120_000


@pytest.fixture
def host():
    engine = EngineHost("whisper-tiny.en")
    yield engine
    engine.stop()


def health(engine: EngineHost) -> dict:
    """The engine's /health as the app sees it (with the token: the models it runs)."""
    request = urllib.request.Request(f"{engine.http_url}/health",
                                     headers={"Authorization": engine.endpoint().credential})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_a_crashed_engine_is_reported_with_its_signal_and_restarted(qtbot, host, caplog, sig):
    caplog.set_level(logging.INFO)
    states: list[tuple[str, str]] = []
    host.state_changed.connect(lambda state, message: states.append((state, message)))
    host.start()
    qtbot.waitUntil(lambda: host.state == EngineState.READY, timeout=READY_MS)
    first = host.pid
    assert first is not None and first != os.getpid()
    assert health(host)["status"] == "ready"

    os.kill(first, sig)
    qtbot.waitUntil(lambda: host.state == EngineState.RESTARTING, timeout=10_000)
    assert sig.name in host.message and "restarting" in host.message
    qtbot.waitUntil(lambda: host.state == EngineState.READY, timeout=READY_MS)
    assert host.pid != first and gone(first)
    assert "restarted" in host.message and sig.name in host.message
    assert health(host)["status"] == "ready"
    logged = caplog.text
    assert f"stopped unexpectedly: signal {sig.name}" in logged
    if sig == signal.SIGSEGV:  # faulthandler's trace of the engine reached the app's log
        assert "Fatal Python error: Segmentation fault" in logged
    assert [s for s, _ in states].count(EngineState.READY) == 2


def test_choosing_another_speech_model_restarts_the_engine_with_it(qtbot, host):
    host.start()
    qtbot.waitUntil(lambda: host.state == EngineState.READY, timeout=READY_MS)
    first = host.pid
    assert health(host)["speech_model"] == "whisper-tiny.en"
    host.set_speech_model("tiny.en-bundled")  # another name the engine loads
    qtbot.waitUntil(lambda: host.state == EngineState.READY, timeout=READY_MS)
    assert host.pid != first and gone(first)
    assert host.speech_model == "tiny.en-bundled"
    assert health(host)["speech_model"] == "tiny.en-bundled"
    assert "restarted" not in host.message  # on purpose, not after a crash


def test_a_speech_model_that_cannot_load_says_so(qtbot):
    engine = EngineHost("/nonexistent/whisper-model")
    engine.start()
    try:
        qtbot.waitUntil(lambda: engine.state == EngineState.FAILED, timeout=READY_MS)
        assert "could not load" in engine.message and "/nonexistent" in engine.message
    finally:
        engine.stop()


def test_the_engine_ends_when_the_app_that_started_it_is_gone():
    """The app holds the engine's standard input; when the app dies the pipe closes."""
    env = {**os.environ, TOKEN_ENV: "secret-token"}
    engine = subprocess.Popen(
        [sys.executable, "-m", "earmark.engine", "--port", "0", "--exit-with-stdin"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        text=True)
    try:
        lines = [engine.stdout.readline()]
        while not lines[-1].startswith("token:"):
            lines.append(engine.stdout.readline())
        assert any(line.startswith("ws:") for line in lines), lines
        assert "secret-token" not in "".join(lines)  # a token from the environment stays there
        engine.stdin.close()
        assert engine.wait(30) == 0
    finally:
        if engine.poll() is None:
            engine.kill()
