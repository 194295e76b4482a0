"""The streaming worker: one v3 websocket session (websocket-client) on its own thread.

`run()` blocks its thread for the whole session, so the methods that send (`send_audio`,
`send_message`, `terminate`, `abort`) are plain thread-safe methods, not queued slots. Every
server message becomes one typed Qt signal; a malformed one is logged and reported, never fatal.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from urllib.parse import urlsplit

import websocket
from PySide6.QtCore import QObject, Signal, Slot

from ..core.audio import FRAME_MS
from ..core.protocol import (
    Begin,
    ClientMessage,
    CloseCode,
    LLMGatewayResponse,
    ProtocolError,
    ServerError,
    ServerWarning,
    SpeakerRevision,
    SpeechStarted,
    Termination,
    Turn,
    UnknownMessage,
    describe_close,
    parse_server_message,
    to_json,
)

log = logging.getLogger(__name__)

PING_INTERVAL_S = 10  # a dead network is noticed within about 18 s
PING_TIMEOUT_S = 8
PREOPEN_BUFFER_MS = 3000  # audio captured while connecting is sent once the socket opens


class StreamingWorker(QObject):
    connecting = Signal(str)  # host, for the status bar
    opened = Signal()
    begin_received = Signal(object)  # Begin
    turn_received = Signal(object)  # Turn
    speech_started = Signal(object)  # SpeechStarted
    llm_response_received = Signal(object)  # LLMGatewayResponse
    speaker_revision_received = Signal(object)  # SpeakerRevision
    warning_received = Signal(object)  # ServerWarning
    error_received = Signal(object)  # ServerError
    termination_received = Signal(object)  # Termination
    other_message_received = Signal(object)  # Heartbeat, Silence, UnknownMessage
    protocol_problem = Signal(str)  # a malformed message was ignored
    closed = Signal(int, str)  # close code (0: none), a sentence for a person

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        super().__init__()
        self._url = url
        self._headers = headers
        self._app: websocket.WebSocketApp | None = None
        self._lock = threading.Lock()
        self._open = False
        self._pending: deque[bytes] = deque(maxlen=PREOPEN_BUFFER_MS // FRAME_MS)
        self._error_code: int | None = None
        self._failure: Exception | None = None
        self._terminated = False
        self.audio_bytes_sent = 0

    # --- the session thread ----------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        host = urlsplit(self._url).netloc
        self.connecting.emit(host)
        log.info("connecting to %s", host)  # the key is in a header, never in the log
        self._app = websocket.WebSocketApp(
            self._url, header=self._headers, on_open=self._on_open,
            on_message=self._on_message, on_error=self._on_error, on_close=self._on_close)
        try:
            self._app.run_forever(ping_interval=PING_INTERVAL_S, ping_timeout=PING_TIMEOUT_S,
                                  skip_utf8_validation=True)
        except Exception as exc:  # run_forever reports through callbacks; this is a backstop
            log.exception("websocket loop crashed")
            self._failure = exc
            self._emit_closed(None, "")

    def _on_open(self, _ws: websocket.WebSocket) -> None:
        with self._lock:
            self._open = True
            while self._pending:
                self._send_binary(self._pending.popleft())
        log.info("websocket open")
        self.opened.emit()

    def _on_message(self, _ws: websocket.WebSocket, text: str | bytes) -> None:
        try:
            message = parse_server_message(text)
        except ProtocolError as exc:
            preview = text[:200] if isinstance(text, str) else repr(text[:200])
            log.warning("ignored a malformed server message (%s): %s", exc, preview)
            self.protocol_problem.emit(f"Ignored a malformed message from the server: {exc}")
            return
        self._dispatch(message)

    def _dispatch(self, message: object) -> None:
        match message:
            case Begin():
                self.begin_received.emit(message)
            case Turn():
                self.turn_received.emit(message)
            case LLMGatewayResponse():
                self.llm_response_received.emit(message)
            case SpeechStarted():
                self.speech_started.emit(message)
            case SpeakerRevision():
                self.speaker_revision_received.emit(message)
            case ServerWarning():
                log.warning("server warning %s: %s", message.warning_code, message.warning)
                self.warning_received.emit(message)
            case ServerError():
                log.error("server error %s: %s", message.error_code, message.error)
                self._error_code = message.error_code
                self.error_received.emit(message)
            case Termination():
                self._terminated = True
                self.termination_received.emit(message)
            case UnknownMessage():
                log.info("ignored a message of unknown type %r", message.type)
                self.other_message_received.emit(message)
            case _:
                self.other_message_received.emit(message)

    def _on_error(self, _ws: websocket.WebSocket, error: Exception) -> None:
        if isinstance(error, websocket.WebSocketConnectionClosedException):
            return  # the close itself is reported by _on_close, with its code
        log.warning("websocket error: %s: %s", type(error).__name__, error)
        self._failure = error

    def _on_close(self, _ws: websocket.WebSocket, code: int | None, reason: str | None) -> None:
        with self._lock:
            self._open = False
        self._emit_closed(code, reason or "")

    def _emit_closed(self, code: int | None, reason: str) -> None:
        code = code or self._error_code
        if code is None and self._terminated:
            code = CloseCode.NORMAL
        sentence = describe_close(code, reason) if code else self._describe_failure()
        log.info("websocket closed: code=%s reason=%r", code, reason)
        self.closed.emit(int(code or 0), sentence)

    def _describe_failure(self) -> str:
        exc = self._failure
        host = urlsplit(self._url).netloc
        if isinstance(exc, websocket.WebSocketBadStatusException):
            if exc.status_code in (401, 403):
                return describe_close(CloseCode.POLICY, f"HTTP {exc.status_code}")
            return f"{host} refused the connection (HTTP {exc.status_code})."
        if isinstance(exc, ConnectionRefusedError):
            return f"Nothing is listening at {host}: the connection was refused."
        if isinstance(exc, socket.gaierror):
            return f"Cannot find {host}. Check the network connection."
        if isinstance(exc, websocket.WebSocketTimeoutException | TimeoutError):
            return f"{host} stopped answering: the network may be down."
        if isinstance(exc, OSError):
            return f"Network error talking to {host}: {exc.strerror or exc}."
        return describe_close(CloseCode.ABNORMAL)

    # --- thread-safe sending --------------------------------------------------------------

    def send_audio(self, frame: bytes) -> None:
        """Called on the capture thread for every 50 ms frame."""
        with self._lock:
            if self._open:
                self._send_binary(frame)
            elif self._app is None or not self._terminated:
                self._pending.append(frame)

    def _send_binary(self, frame: bytes) -> None:
        try:
            self._app.send(frame, websocket.ABNF.OPCODE_BINARY)
            self.audio_bytes_sent += len(frame)
        except (websocket.WebSocketException, OSError) as exc:
            self._open = False
            log.warning("audio not sent: %s", exc)

    def send_message(self, message: ClientMessage) -> bool:
        with self._lock:
            if not self._open:
                return False
            try:
                self._app.send(to_json(message))
                return True
            except (websocket.WebSocketException, OSError) as exc:
                log.warning("%s not sent: %s", type(message).__name__, exc)
                return False

    def abort(self) -> None:
        """Close the socket now, without waiting for the server's reply (a close handshake
        with a server that stopped answering would block the caller for seconds)."""
        app = self._app
        if app is None:
            return
        app.keep_running = False
        raw = getattr(app.sock, "sock", None)
        if raw is not None:
            # shutdown, not close: the session thread blocked in select() on this socket wakes
            # up to an end of stream, reports the close and returns.
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)
