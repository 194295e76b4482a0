"""One Earmark per user: real processes hand their files to the one listening, and a socket left
by a crashed instance is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from earmark.single_instance import (
    SingleInstance,
    is_listening,
    parse_message,
    send_message,
    server_name,
)

APP_DIR = Path(__file__).resolve().parents[1] / "app"

# The first instance: claims the name, prints "claimed", then prints every message it receives
# and quits after the first (or after 20 s).
FIRST = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QCoreApplication, QTimer
    from earmark.single_instance import SingleInstance
    app = QCoreApplication([])
    instance = SingleInstance(sys.argv[1])
    print("claimed" if instance.claim() else "taken", flush=True)
    def received(message):
        print(json.dumps(message), flush=True)
        app.quit()
    instance.message_received.connect(received)
    QTimer.singleShot(20000, app.quit)
    app.exec()
""")

# A later launch, as app.main() does it: the app first, then claim or hand over.
SECOND = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QCoreApplication
    from earmark.single_instance import claim_or_hand_over, handover_message
    app = QCoreApplication([])
    instance = claim_or_hand_over(handover_message(sys.argv[2:]), sys.argv[1])
    sys.exit(0 if instance is None else 3)
""")

# A hand-over before the QApplication is made (blocking calls need no event loop).
SEND_WITHOUT_APP = textwrap.dedent("""
    import sys
    from earmark.single_instance import handover_message, send_message
    sys.exit(0 if send_message(sys.argv[1], handover_message(sys.argv[2:], toggle=True)) else 1)
""")


def python(code: str, *args: str, cwd: Path | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(APP_DIR), QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.fixture
def name(tmp_path) -> str:
    return str(tmp_path / "earmark-test.sock")


def start_first(name: str) -> subprocess.Popen:
    first = python(FIRST, name)
    assert first.stdout.readline().strip() == "claimed", first.stderr.read()
    return first


def test_a_second_launch_hands_its_files_over_and_exits_0(name, tmp_path):
    first = start_first(name)
    try:
        second = python(SECOND, name, "talk.wav", "/data/call.flac", cwd=tmp_path)
        assert second.wait(timeout=20) == 0, second.stderr.read()
        out, _err = first.communicate(timeout=20)
    finally:
        first.kill()
    assert json.loads(out.strip().splitlines()[-1]) == {
        "files": [str(tmp_path / "talk.wav"), "/data/call.flac"], "show": True, "toggle": False}


def test_a_socket_left_by_a_crashed_instance_is_taken_over(name):
    crashed = start_first(name)
    crashed.send_signal(signal.SIGKILL)  # no clean-up: the socket file stays behind
    crashed.wait(timeout=10)
    assert Path(name).exists() and not is_listening(name)
    first = start_first(name)  # takes the name over
    try:
        second = python(SECOND, name, "/a.wav")
        assert second.wait(timeout=20) == 0, second.stderr.read()
        out, _ = first.communicate(timeout=20)
    finally:
        first.kill()
    assert json.loads(out.strip().splitlines()[-1])["files"] == ["/a.wav"]


def test_a_stale_socket_file_is_removed_and_taken_over(qapp, name):
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(name)  # bound, never listened on, closed: what a crash leaves
    stale.close()
    instance = SingleInstance(name)
    assert instance.claim()
    assert is_listening(name)
    instance.close()


def test_with_nobody_listening_the_first_launch_claims(qapp, name):
    instance = SingleInstance(name)
    assert instance.claim() and instance.listening
    assert not SingleInstance(name).claim()  # a live instance holds it
    instance.close()
    assert not is_listening(name)


def test_the_window_process_receives_a_hand_over_sent_before_any_qapplication(qtbot, name):
    instance = SingleInstance(name)
    assert instance.claim()
    with qtbot.waitSignal(instance.message_received, timeout=10000) as got:
        sender = python(SEND_WITHOUT_APP, name, "/x.wav")
    assert sender.wait(timeout=10) == 0, sender.stderr.read()
    instance.close()
    assert got.args[0] == {"files": ["/x.wav"], "show": True, "toggle": True}


def test_nobody_listening_send_fails_fast(name):
    assert send_message(name, {"files": []}) is False


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'{"files": "a.wav"}',
                                 b'{"files": [1]}', b"\xff"])
def test_malformed_messages_are_refused(raw):
    assert parse_message(raw) is None


def test_messages_default_to_showing_the_window():
    assert parse_message(b"{}") == {"files": [], "show": True, "toggle": False}


def test_the_name_is_per_user_in_the_runtime_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert server_name() == str(tmp_path / f"earmark-{os.getuid()}")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert server_name().endswith(f"earmark-{os.getuid()}")
