"""The streaming worker against a real websocket server replaying recorded sessions."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from earmark.core.protocol import StreamingParams, Terminate, Termination, Turn
from earmark.workers.streaming import StreamingWorker
from tests.support.replay_server import ReplayServer, load_scenario

FRAME = bytes(1600)  # 50 ms of silence at 16 kHz PCM16


class Session:
    """Runs one StreamingWorker on its QThread and records every signal it emits."""

    def __init__(self, qtbot, url: str, key: str = "test-key") -> None:
        self.worker = StreamingWorker(url, {"Authorization": key})
        self.thread = QThread()
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        self.events: list[tuple[str, object]] = []
        for name in ("begin_received", "turn_received", "llm_response_received",
                     "termination_received", "error_received", "protocol_problem",
                     "other_message_received", "closed"):
            getattr(self.worker, name).connect(
                lambda *args, n=name: self.events.append((n, args if len(args) > 1 else args[0])))
        self.qtbot = qtbot
        self._stop_audio = threading.Event()

    def start(self, audio_ms: int = 0) -> None:
        self.thread.start()
        if audio_ms:
            threading.Thread(target=self._feed, args=(audio_ms,), daemon=True).start()

    def _feed(self, audio_ms: int) -> None:
        for _ in range(audio_ms // 50):
            if self._stop_audio.is_set():
                return
            self.worker.send_audio(FRAME)
            time.sleep(0.005)

    def wait_closed(self, timeout: int = 10_000) -> tuple[int, str]:
        self.qtbot.waitUntil(lambda: bool(self.of("closed")), timeout=timeout)
        self._stop_audio.set()
        self.thread.quit()
        self.thread.wait(2000)
        return self.of("closed")[0]

    def of(self, name: str) -> list:
        return [payload for n, payload in self.events if n == name]


@pytest.fixture
def session_for(qtbot):
    sessions: list[Session] = []
    servers: list[ReplayServer] = []

    def make(scenario: str, key: str = "test-key") -> tuple[Session, ReplayServer]:
        server = ReplayServer(load_scenario(scenario)).__enter__()
        servers.append(server)
        url = f"{server.url}?{StreamingParams(speech_model='u3-rt-pro').query_string()}"
        session = Session(qtbot, url, key)
        sessions.append(session)
        return session, server

    yield make
    for session in sessions:
        session.worker.abort()
        session.thread.quit()
        session.thread.wait(2000)
    for server in servers:
        server.__exit__(None, None, None)


def test_a_whole_session_emits_one_signal_per_message(session_for, qtbot):
    session, server = session_for("normal")
    session.start(audio_ms=2500)
    qtbot.waitUntil(lambda: len(session.of("llm_response_received")) == 1, timeout=10_000)
    assert session.worker.send_message(Terminate())
    code, sentence = session.wait_closed()
    assert (code, sentence) == (1000, "The session ended normally.")
    assert session.of("begin_received")[0].id.startswith("0f3c9a52")
    turns: list[Turn] = session.of("turn_received")
    assert [t.end_of_turn for t in turns].count(True) == 4  # unformatted + formatted, twice
    assert turns[-1].transcript == "Who owns the release notes?"
    assert len(session.of("llm_response_received")) == 2
    assert session.of("termination_received") == [Termination(2, 3)]
    assert server.received.headers["authorization"] == "test-key"
    assert server.received.path.startswith("/v3/ws?sample_rate=16000")
    assert server.received.text[-1] == {"type": "Terminate"}
    # one 50 ms frame per binary message, and at least the 1.4 s the first turn needed
    assert server.received.audio_bytes == server.received.binary_frames * len(FRAME)
    assert server.received.binary_frames >= 28


@pytest.mark.parametrize(("scenario", "code", "words"), [
    ("session_expired", 3008, "maximum length"),
    ("too_many_sessions", 3009, "Too many sessions"),
    ("server_error", 3005, "had an error"),
    ("invalid_message", 3006, "rejected a message"),
    ("input_duration", 3007, "50 to 1000 ms"),
])
def test_error_closes_become_sentences(session_for, scenario, code, words):
    session, _ = session_for(scenario)
    session.start(audio_ms=1000)
    closed_code, sentence = session.wait_closed()
    assert closed_code == code
    assert words in sentence
    assert session.of("error_received")[0].error_code == code


def test_a_wrong_key_is_reported_as_such(session_for):
    session, _ = session_for("normal", key="wrong-key")
    session.start()
    code, sentence = session.wait_closed()
    assert code == 1008
    assert "API key" in sentence


def test_malformed_messages_are_reported_and_skipped(session_for, qtbot):
    session, _ = session_for("malformed")
    session.start(audio_ms=600)
    qtbot.waitUntil(lambda: bool(session.of("turn_received")), timeout=10_000)
    session.worker.send_message(Terminate())
    code, _ = session.wait_closed()
    assert code == 1000
    assert len(session.of("protocol_problem")) == 3  # bad JSON, missing fields, not an object
    assert session.of("other_message_received")[0].type == "FutureEvent"
    assert session.of("turn_received")[0].transcript == "We need to ship the release Friday."


def test_a_dropped_connection_is_noticed(session_for):
    session, _ = session_for("network_drop")
    session.start(audio_ms=1000)
    code, sentence = session.wait_closed(timeout=30_000)
    assert code in (0, 1006)
    assert "network" in sentence.lower() or "dropped" in sentence.lower()
    assert session.of("turn_received")  # what arrived before the drop was delivered


def test_nothing_listening(qtbot):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = Session(qtbot, f"ws://127.0.0.1:{port}/v3/ws")
    session.start()
    code, sentence = session.wait_closed()
    assert code == 0
    # the engine on this machine is not "the network", and no connection was made to drop
    assert sentence == f"The embedded engine at 127.0.0.1:{port} is not running (the " \
                       "connection was refused)."


def test_no_internet_names_the_host_it_could_not_find(qtbot):
    session = Session(qtbot, "wss://streaming.assemblyai.invalid/v3/ws")
    session.start()
    code, sentence = session.wait_closed()
    assert code == 0
    assert sentence == ("No internet connection: streaming.assemblyai.invalid cannot be found "
                        "(DNS lookup failed).")
    assert "dropped" not in sentence
