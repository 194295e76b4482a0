"""A real websocket server for tests that replays a recorded v3 message sequence.

A scenario is a JSONL file; each line is one step:
  {"send": {...}}            send a message (JSON)
  {"raw": "..."}             send a text frame as is (malformed input)
  {"after_audio_ms": N}      wait until N ms of 16 kHz PCM16 audio has arrived
  {"await": "Terminate"}     wait for a client message of that type
  {"close": 1000, "reason": ""}   close with a code
  {"drop": true}             cut the TCP connection without a close frame
  {"sleep_ms": N}
Authorization is checked like the service: a wrong key gets Error 1008, then close 1008.
The first connection plays `steps`; later ones (a client reconnecting) play `then`, the last
of it again for every further connection, or `steps` again when `then` is empty.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

FIXTURES = Path(__file__).parents[1] / "fixtures" / "sessions"
BYTES_PER_MS = 32


def load_scenario(name: str) -> list[dict]:
    lines = (FIXTURES / f"{name}.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@dataclass
class Received:
    headers: dict[str, str] = field(default_factory=dict)
    path: str = ""
    audio_bytes: int = 0
    binary_frames: int = 0
    text: list[dict] = field(default_factory=list)


class ReplayServer:
    def __init__(self, steps: list[dict], api_key: str = "test-key",
                 then: list[list[dict]] | None = None) -> None:
        self.steps = steps
        self.then = then or []
        self.api_key = api_key
        self.connections: list[Received] = []  # every connection, in order
        self._cond = threading.Condition()
        self._reading: set[int] = set()  # the connections still being read
        self._server = serve(self._handle, "127.0.0.1", 0, close_timeout=1)
        self.port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/v3/ws"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def received(self) -> Received:
        """What the latest connection received."""
        return self.connections[-1] if self.connections else Received()

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join(5)

    def _handle(self, conn: ServerConnection) -> None:
        got = Received({k.lower(): v for k, v in conn.request.headers.raw_items()},
                       conn.request.path)
        with self._cond:
            self.connections.append(got)
            self._reading.add(id(got))
            index = len(self.connections) - 1
        reader = threading.Thread(target=self._read, args=(conn, got), daemon=True)
        reader.start()
        if conn.request.headers.get("Authorization") != self.api_key:
            conn.send(json.dumps({"type": "Error", "error_code": 1008,
                                  "error": "Unauthorized Connection: Invalid API key"}))
            conn.close(1008, "Unauthorized Connection: Invalid API key")
            return
        try:
            for step in self._scenario(index):
                self._play(conn, got, step)
        except ConnectionClosed:
            pass

    def _scenario(self, index: int) -> list[dict]:
        if index == 0 or not self.then:
            return self.steps
        return self.then[min(index - 1, len(self.then) - 1)]

    def _read(self, conn: ServerConnection, got: Received) -> None:
        try:
            for message in conn:
                with self._cond:
                    if isinstance(message, bytes):
                        got.audio_bytes += len(message)
                        got.binary_frames += 1
                    else:
                        got.text.append(json.loads(message))
                    self._cond.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._cond:
                self._reading.discard(id(got))
                self._cond.notify_all()

    def _wait(self, got: Received, predicate, timeout: float = 30.0) -> None:
        """Until the predicate holds, the client stops sending audio, or the socket closes."""
        def done() -> bool:
            terminated = any(m.get("type") == "Terminate" for m in got.text)
            return predicate() or terminated or id(got) not in self._reading
        with self._cond:
            self._cond.wait_for(done, timeout)

    def _play(self, conn: ServerConnection, got: Received, step: dict) -> None:
        if "send" in step:
            conn.send(json.dumps(step["send"]))
        elif "raw" in step:
            conn.send(step["raw"])
        elif "after_audio_ms" in step:
            need = step["after_audio_ms"] * BYTES_PER_MS
            self._wait(got, lambda: got.audio_bytes >= need)
        elif "await" in step:
            kind = step["await"]
            self._wait(got, lambda: any(m.get("type") == kind for m in got.text))
        elif "close" in step:
            conn.close(step["close"], step.get("reason", ""))
        elif "drop" in step:
            conn.socket.shutdown(socket.SHUT_RDWR)
            conn.socket.close()
        elif "sleep_ms" in step:
            time.sleep(step["sleep_ms"] / 1000)
