"""A TCP proxy on loopback that a test can break: reset (RST), close (FIN) or stall the
connections it carries, as a network or a dying server would."""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
import time


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stalled: set[int] = set()  # ids of the client sockets that forward nothing
        self._closed = False
        self.connections = 0
        threading.Thread(target=self._accept, name="proxy-accept", daemon=True).start()

    def retarget(self, port: int) -> None:
        """New connections go to `port` (a restarted server)."""
        self.target = (self.target[0], port)

    def cut(self, how: str) -> None:
        """End every connection now: "rst" (reset), "fin" (orderly close, no websocket close
        frame) or "stall" (keep the sockets open and forward nothing more)."""
        with self._lock:
            if how == "stall":
                self._stalled |= {id(client) for client, _ in self._pairs}
                return
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for sock in (client, upstream):
                if how == "rst":
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.cut("fin")

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peer:
                selector.register(sock, selectors.EVENT_READ)
            while True:
                try:
                    events = selector.select(0.2)
                except (OSError, ValueError):
                    return
                if self._is_stalled(client):
                    time.sleep(0.2)
                    continue
                for key, _ in events:
                    if not self._forward(key.fileobj, peer[key.fileobj]):
                        return

    def _is_stalled(self, client: socket.socket) -> bool:
        with self._lock:
            return id(client) in self._stalled

    @staticmethod
    def _forward(source: socket.socket, sink: socket.socket) -> bool:
        try:
            data = source.recv(65536)
            if not data:
                sink.shutdown(socket.SHUT_WR)
                return False
            sink.sendall(data)
            return True
        except OSError:
            return False
