"""Helpers for the engine tests: speech files, a websocket client that records everything,
and a small LLM service that echoes the turn."""

from __future__ import annotations

import json
import re
import struct
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jiwer
import numpy as np
import soundfile as sf
import websocket

from earmark.engine.llm.service import LLMError
from earmark.engine.speech import Decoded, DecodedWord
from tests.conftest import SPEECH, missing_speech


def speech(relative: str) -> Path:
    path = SPEECH / relative
    assert path.exists(), missing_speech(path)
    return path


def pcm16(relative: str) -> bytes:
    audio, rate = sf.read(speech(relative), dtype="int16")
    assert rate == 16000
    return audio.tobytes()


def reference(relative: str) -> str:
    return speech(relative).with_suffix(".txt").read_text().strip()


def decoded(*words: tuple[str, float, float]) -> Decoded:
    """A decode result from (text, start s, end s) triples."""
    ws = tuple(DecodedWord(t, s, e, 0.9) for t, s, e in words)
    return Decoded(" ".join(w.text for w in ws), ws)


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]", " ", text.lower()).split())


def wer(ref: str, hyp: str) -> float:
    return jiwer.wer(normalise(ref), normalise(hyp) or "<empty>")


def silence(ms: int, rate: int = 16000) -> bytes:
    return bytes(2 * rate * ms // 1000)


class EchoLLM:
    """An LLMService that answers with the prompt it got; fails when the prompt says so."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    async def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(request)
        prompt = request["messages"][-1]["content"]
        if "[fail]" in prompt:
            raise LLMError(503, "the echo model is unavailable")
        return {"request_id": f"echo-{len(self.requests)}",
                "choices": [{"index": 0, "message": {"role": "assistant",
                                                     "content": f"echo: {prompt}"},
                             "finish_reason": "stop"}],
                "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
                "request": {"model": request["model"]}}

    def stream(self, request: dict[str, Any]) -> Any:
        raise LLMError(400, "streaming is not supported by the echo model")

    async def list_models(self) -> list[dict[str, Any]]:
        return [{"id": "echo", "name": "Echo"}]

    async def close(self) -> None:
        return None


@dataclass
class Session:
    """A raw v3 client (websocket-client) that records every message and the close."""

    ws: websocket.WebSocket
    messages: list[dict[str, Any]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    close_code: int | None = None
    close_reason: str = ""
    opened_at: float = 0.0
    _thread: threading.Thread | None = None

    @classmethod
    def open(cls, url: str, token: str | None, params: dict[str, Any] | None = None,
             header_token: bool = True) -> Session:
        query = dict(params or {"sample_rate": 16000})
        if token is not None and not header_token:
            query["token"] = token
        headers = {"Authorization": token} if token is not None and header_token else {}
        started = time.monotonic()
        ws = websocket.create_connection(f"{url}?{urlencode(query)}", header=headers,
                                         timeout=30)
        session = cls(ws, opened_at=started)
        session._thread = threading.Thread(target=session._read, daemon=True)
        session._thread.start()
        return session

    def _read(self) -> None:
        while True:
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except Exception:
                return
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                if len(data) >= 2:
                    self.close_code = struct.unpack("!H", data[:2])[0]
                    self.close_reason = data[2:].decode(errors="replace")
                else:
                    self.close_code = 1005
                return
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self.received_at.append(time.monotonic())
                self.messages.append(json.loads(data))

    def send_audio(self, pcm: bytes, chunk_ms: int = 100, pace: float = 0.0,
                   rate: int = 16000, bytes_per_sample: int = 2) -> None:
        """Send `pcm` in chunks; `pace` 1.0 is real time, 0 as fast as possible."""
        step = rate * bytes_per_sample * chunk_ms // 1000
        t0 = time.monotonic()
        for i, start in enumerate(range(0, len(pcm), step)):
            self.ws.send_binary(pcm[start:start + step])
            if pace:
                delay = t0 + (i + 1) * chunk_ms / 1000 / pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def send_json(self, message: dict[str, Any] | str) -> None:
        self.ws.send(message if isinstance(message, str) else json.dumps(message))

    def wait_for(self, predicate: Any, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < deadline:
            while seen < len(self.messages):
                message = self.messages[seen]
                seen += 1
                if predicate(message):
                    return message
            if self.closed:
                break
            time.sleep(0.01)
        raise AssertionError(f"no matching message; got {[m.get('type') for m in self.messages]}"
                             f", close {self.close_code}")

    def wait_closed(self, timeout: float = 30.0) -> int | None:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.close_code

    @property
    def closed(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def terminate(self, timeout: float = 30.0) -> int | None:
        self.send_json({"type": "Terminate"})
        return self.wait_closed(timeout)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    def finals(self, formatted: bool | None = None) -> list[dict[str, Any]]:
        return [m for m in self.of_type("Turn") if m["end_of_turn"]
                and (formatted is None or m["turn_is_formatted"] == formatted)]

    def final_text(self, formatted: bool = False) -> str:
        return " ".join(m["transcript"] for m in self.finals(formatted))


def assert_well_formed(messages: list[dict[str, Any]]) -> None:
    """What the SDKs rely on: no `error` key outside Error, integers where they are due."""
    for m in messages:
        if m.get("type") != "Error":
            assert "error" not in m, m
        if m.get("type") == "Turn":
            assert isinstance(m["turn_order"], int)
            for w in m["words"]:
                assert isinstance(w["start"], int) and isinstance(w["end"], int), w
                assert w["start"] <= w["end"]
                assert set(w) >= {"text", "confidence", "word_is_final"}
        if m.get("type") == "Termination":
            assert isinstance(m["audio_duration_seconds"], int)
            assert isinstance(m["session_duration_seconds"], int)


def pcm_to_float(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
