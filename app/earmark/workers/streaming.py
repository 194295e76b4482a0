"""The streaming worker: one v3 websocket session (websocket-client) on its own thread.

`run()` blocks its thread for the whole session, so the methods that send (`send_audio`,
`send_message`, `terminate`, `abort`) are plain thread-safe methods, not queued slots. Every
server message becomes one typed Qt signal; a malformed one is logged and reported, never fatal
(the first few one by one, then as counts, so a server sending thousands cannot flood the log).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

import websocket
from PySide6.QtCore import QObject, Signal, Slot

from ..core.audio import FRAME_MS
from ..core.protocol import (
    Begin,
    ClientMessage,
    CloseCode,
    Heartbeat,
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
from ..core.protocol.endpoints import is_loopback

log = logging.getLogger(__name__)

CLOSE_CODES = range(1000, 5000)  # RFC 6455; an Error's code outside it is no close code
PING_INTERVAL_S = 5  # a dead network is noticed within about 10 s
PING_TIMEOUT_S = 4
PREOPEN_BUFFER_MS = 3000  # audio captured while connecting is sent once the socket opens
DETAILED_PROBLEMS = 10  # malformed messages logged one by one; after them, counts
SUMMARY_INTERVAL_S = 5.0  # at most one count a while, and the rest when the connection ends
PREVIEW_CHARS = 200


@dataclass
class IgnoredTally:
    """Ignored messages of one kind on one connection: the first DETAILED_PROBLEMS are to be
    logged one by one, the rest as a count at most every SUMMARY_INTERVAL_S."""

    total: int = 0
    unreported: int = 0
    last_summary: float = float("-inf")

    def add(self) -> bool:
        """Count one; True when it is to be logged on its own."""
        self.total += 1
        if self.total <= DETAILED_PROBLEMS:
            return True
        self.unreported += 1
        return False

    def take_summary(self, now: float, final: bool = False) -> int:
        """How many the summary logged now covers; 0 when none is due."""
        if not self.unreported or (not final and now - self.last_summary < SUMMARY_INTERVAL_S):
            return 0
        count, self.unreported, self.last_summary = self.unreported, 0, now
        return count


def preview(text: str | bytes) -> str:
    """The start of a frame for the log (a lone surrogate escaped: the log is UTF-8)."""
    cut = text[:PREVIEW_CHARS]
    more = f"… ({len(text)} characters)" if len(text) > PREVIEW_CHARS else ""
    if isinstance(cut, str):
        return cut.encode("utf-8", "backslashreplace").decode("utf-8") + more
    return repr(cut) + more


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
    heartbeat_received = Signal(object)  # Heartbeat (emitted on the websocket thread)
    other_message_received = Signal(object)  # Silence, UnknownMessage
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
        self._binary_frame = False  # the kind of frame _on_message is about to get
        self._malformed = IgnoredTally()
        self._unknown = IgnoredTally()
        self.audio_bytes_sent = 0
        self.was_opened = False
        self.last_message_at = 0.0  # time.monotonic() of the last server message

    # --- the session thread ----------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        host = urlsplit(self._url).netloc
        self.connecting.emit(host)
        log.info("connecting to %s", host)  # the key is in a header, never in the log
        self._app = websocket.WebSocketApp(
            self._url, header=self._headers, on_open=self._on_open, on_data=self._on_data,
            on_message=self._on_message, on_error=self._on_error, on_close=self._on_close)
        try:
            self._app.run_forever(ping_interval=PING_INTERVAL_S, ping_timeout=PING_TIMEOUT_S,
                                  skip_utf8_validation=True)
        except Exception as exc:  # run_forever reports through callbacks; this is a backstop
            log.exception("websocket loop crashed")
            self._failure = exc
            self._emit_closed(None, "")

    def _on_open(self, _ws: websocket.WebSocket) -> None:
        self.last_message_at = time.monotonic()
        with self._lock:
            self._open = self.was_opened = True
            while self._pending:
                self._send_binary(self._pending.popleft())
        log.info("websocket open")
        self.opened.emit()

    def _on_data(self, _ws: websocket.WebSocket, _data: str | bytes, opcode: int,
                 _fin: bool) -> None:
        """Called before _on_message with the same frame, which arrives as bytes either way
        (UTF-8 is checked by the parser, not by websocket-client)."""
        self._binary_frame = opcode == websocket.ABNF.OPCODE_BINARY

    def _on_message(self, _ws: websocket.WebSocket, text: str | bytes) -> None:
        self.last_message_at = time.monotonic()
        if self._binary_frame:
            self._on_malformed(ProtocolError("a binary frame: the server sends text"), text)
            return
        try:
            message = parse_server_message(text)
        except ProtocolError as exc:
            self._on_malformed(exc, text)
            return
        except Exception:  # a bug in parsing: last line of defence, the session goes on
            log.exception("a server message could not be parsed: %s", preview(text))
            return
        self._dispatch(message)

    def _on_malformed(self, exc: ProtocolError, text: str | bytes) -> None:
        if self._malformed.add():
            log.warning("ignored a malformed server message (%s): %s", exc, preview(text))
            self.protocol_problem.emit(f"Ignored a malformed message from the server: {exc}")
        self._summarise_malformed()

    def _summarise_malformed(self, final: bool = False) -> None:
        count = self._malformed.take_summary(time.monotonic(), final)
        if count:
            total = self._malformed.total
            log.warning("ignored %d more malformed server messages (%d on this connection)",
                        count, total)
            self.protocol_problem.emit(f"Ignored {total} malformed messages from the server.")

    def _on_unknown(self, message: UnknownMessage) -> None:
        if self._unknown.add():
            log.info("ignored a message of unknown type %s", preview(repr(message.type)))
        self._summarise_unknown()

    def _summarise_unknown(self, final: bool = False) -> None:
        count = self._unknown.take_summary(time.monotonic(), final)
        if count:
            log.info("ignored %d more messages of unknown types (%d on this connection)",
                     count, self._unknown.total)

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
            case Heartbeat():
                self.heartbeat_received.emit(message)
            case SpeakerRevision():
                self.speaker_revision_received.emit(message)
            case ServerWarning():
                log.warning("server warning %s: %s", message.warning_code,
                            preview(message.warning))
                self.warning_received.emit(message)
            case ServerError():
                log.error("server error %s: %s", message.error_code, preview(message.error))
                code = message.error_code
                if code is not None and code in CLOSE_CODES:  # the code of the close to come
                    self._error_code = code
                self.error_received.emit(message)
            case Termination():
                self._terminated = True
                self.termination_received.emit(message)
            case UnknownMessage():
                self._on_unknown(message)
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
        self._summarise_malformed(final=True)
        self._summarise_unknown(final=True)
        code = code or self._error_code
        if code is None and self._terminated:
            code = CloseCode.NORMAL
        sentence = describe_close(code, reason) if code else self._describe_failure()
        log.info("websocket closed: code=%s reason=%r", code, reason)
        self.closed.emit(int(code or 0), sentence)

    def _describe_failure(self) -> str:
        """The real cause: no internet is not a dropped connection, and the embedded engine
        on this machine is not "the network"."""
        exc = self._failure
        parts = urlsplit(self._url)
        host = parts.netloc
        local = is_loopback(self._url)
        peer = f"the embedded engine at {host}" if local else host
        if isinstance(exc, websocket.WebSocketBadStatusException):
            if exc.status_code in (401, 403):
                return describe_close(CloseCode.POLICY, f"HTTP {exc.status_code}")
            return f"{_capital(peer)} refused the connection (HTTP {exc.status_code})."
        if isinstance(exc, ConnectionRefusedError):
            return (f"The embedded engine at {host} is not running (the connection was refused)."
                    if local else f"{host} refused the connection.")
        if isinstance(exc, socket.gaierror | websocket.WebSocketAddressException):
            return f"No internet connection: {parts.hostname} cannot be found (DNS lookup failed)."
        if isinstance(exc, websocket.WebSocketTimeoutException | TimeoutError):
            if local:
                return f"{_capital(peer)} stopped answering."
            return f"{host} stopped answering: the network may be down."
        if isinstance(exc, OSError):
            detail = exc.strerror or exc
            return (f"Lost the connection to {peer}: {detail}." if local
                    else f"Network error talking to {host}: {detail}.")
        if not self.was_opened:
            return f"Could not connect to {peer}."
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


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
