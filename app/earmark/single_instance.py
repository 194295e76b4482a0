"""One Earmark per user: the first process listens on a local socket; a later `earmark FILE` (or
the desktop launcher) connects, sends what it was asked to do and exits, so the running window
opens the file instead of a second window starting a second engine.

The message is one line of JSON, {"files": [absolute paths], "show": true, "toggle": false},
answered by "ok"; the sender exits 0 only once the running instance has answered. Who holds the
name is decided by a lock file (QLockFile, whose lock is stale once its process is gone), so a
socket and lock left behind by a crash are taken over, and two launches at once cannot both
win."""

from __future__ import annotations

import getpass
import json
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QLockFile, QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

APP_ID = "earmark"
ACK = b"ok\n"
CONNECT_TIMEOUT_MS = 500  # a live instance accepts at once; the kernel queues the connection
ANSWER_TIMEOUT_MS = 3000  # the running window's event loop may be busy for a moment
MAX_MESSAGE_BYTES = 64 * 1024


def server_name(app_id: str = APP_ID) -> str:
    """Per user (and per login session's runtime dir where there is one): on Linux
    $XDG_RUNTIME_DIR/earmark-<uid> (a private 0700 dir), else <tmp>/earmark-<uid>; on Windows
    a named pipe "earmark-<user>"."""
    if sys.platform == "win32":
        return f"{app_id}-{getpass.getuser()}"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    folder = runtime if runtime and os.path.isdir(runtime) else tempfile.gettempdir()
    return str(Path(folder) / f"{app_id}-{os.getuid()}")


def lock_path(name: str) -> str:
    """The lock file that says who holds `name`: beside the socket (a pipe name on Windows has
    no folder: the temp dir)."""
    if os.path.isabs(name):
        return f"{name}.lock"
    return str(Path(tempfile.gettempdir()) / f"{name}.lock")


def handover_message(files: list[str], show: bool = True, toggle: bool = False,
                     cwd: str | None = None) -> dict[str, Any]:
    """What a second launch sends: the files as absolute paths (the running instance has
    another working directory)."""
    base = Path(cwd or os.getcwd())
    return {"files": [str(base / f) for f in files], "show": show, "toggle": toggle}


def parse_message(raw: bytes) -> dict[str, Any] | None:
    """A received line as {"files": [str], "show": bool, "toggle": bool}, or None if malformed."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    files = data.get("files", [])
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return {"files": files, "show": data.get("show") is not False,
            "toggle": data.get("toggle") is True}


def send_message(name: str, message: dict[str, Any],
                 timeout_ms: int = ANSWER_TIMEOUT_MS) -> bool:
    """Send `message` to the instance listening on `name`; True once it has answered. Works
    before any QApplication exists (blocking calls, no event loop)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    try:
        socket.write(json.dumps(message).encode("utf-8") + b"\n")
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        answer = bytes(socket.readAll().data())  # the answer may have come with the write
        while not answer.endswith(b"\n") and socket.waitForReadyRead(timeout_ms):
            answer += bytes(socket.readAll().data())
        return answer == ACK
    finally:
        socket.abort()


def is_listening(name: str) -> bool:
    """Someone accepts connections on `name` (a socket file nobody listens on does not)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    alive = socket.waitForConnected(CONNECT_TIMEOUT_MS)
    socket.abort()
    return alive


class SingleInstance(QObject):
    """The first instance's listening end. `claim()`: True when this process is now the one
    instance; `message_received` carries what a later launch sent (see parse_message)."""

    message_received = Signal(dict)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        self._lock = QLockFile(lock_path(self.name))

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def claim(self) -> bool:
        """True when this process is now the one instance and listens; False when a live
        instance holds the name. A lock file next to the socket decides (QLockFile: a lock
        whose process is gone is stale and taken over), so two launches at once cannot both
        win; the winner replaces whatever socket file a crashed instance left. Needs the
        QApplication: a server made before it listens but never accepts."""
        if QCoreApplication.instance() is None:
            raise RuntimeError("SingleInstance.claim() needs a QCoreApplication/QApplication")
        self._lock.setStaleLockTime(0)  # stale only when its process is gone, never by age
        if not self._lock.tryLock(0):
            return False
        if self._server.listen(self.name):
            return True
        QLocalServer.removeServer(self.name)  # a crashed instance's socket file
        if self._server.listen(self.name):
            return True
        log.warning("cannot listen on %s: %s", self.name, self._server.errorString())
        self._lock.unlock()
        return False

    def close(self) -> None:
        self._server.close()  # removes the socket file
        self._lock.unlock()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()  # a child of the server
            socket.disconnected.connect(socket.deleteLater)
            socket.readyRead.connect(self._read)  # no Python reference to the socket is kept

    @Slot()
    def _read(self) -> None:
        socket = self.sender()
        if not isinstance(socket, QLocalSocket) or socket.property("answered"):
            return
        if not socket.canReadLine():  # the line waits in the socket's own buffer
            if socket.bytesAvailable() > MAX_MESSAGE_BYTES:
                self._refuse(socket, f"a message over {MAX_MESSAGE_BYTES} bytes")
            return
        message = parse_message(bytes(socket.readLine(MAX_MESSAGE_BYTES + 1).data()))
        if message is None:
            self._refuse(socket, "a malformed message")
            return
        socket.setProperty("answered", True)
        socket.write(ACK)
        socket.flush()
        socket.disconnectFromServer()
        log.info("another launch handed over: %s", message)
        self.message_received.emit(message)

    def _refuse(self, socket: QLocalSocket, what: str) -> None:
        log.warning("single instance: %s ignored", what)
        socket.setProperty("answered", True)
        socket.abort()


def claim_or_hand_over(message: dict[str, Any], name: str | None = None,
                       parent: QObject | None = None) -> SingleInstance | None:
    """This launch's SingleInstance when it is the first; None when a running instance took
    `message` (this launch should exit 0). A running instance that does not answer is logged and
    this launch goes on, not listening (better a second window than none)."""
    instance = SingleInstance(name, parent)
    if instance.claim():
        return instance
    if send_message(instance.name, message):
        return None
    log.warning("an Earmark holding %s does not answer; starting another", instance.name)
    return instance
