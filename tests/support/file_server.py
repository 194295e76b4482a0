"""A file server on loopback with Range support and ways to misbehave (drop the connection
mid-file, serve wrong bytes, go slowly), for the model download tests."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class FileServer:
    files: dict[str, bytes] = field(default_factory=dict)  # URL path -> content
    drop_after: int = 0  # bytes a dropping response sends before it closes the connection
    drops_left: int = 0  # how many responses drop (then they complete)
    wrong: set[str] = field(default_factory=set)  # paths served with other bytes
    delay_s: float = 0.0  # between two 16 kB pieces
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    url: str = ""

    def add(self, path: str, content: bytes) -> str:
        self.files[path] = content
        return self.url + path

    def respond(self, handler: BaseHTTPRequestHandler) -> None:
        path = urlsplit(handler.path).path
        requested = handler.headers.get("Range")
        self.requests.append((path, requested))
        content = self.files.get(path)
        if content is None:
            handler.send_error(404)
            return
        if path in self.wrong:
            content = bytes(b ^ 0x5A for b in content)
        start = int(requested[len("bytes="):].split("-")[0]) if requested else 0
        handler.send_response(206 if start else 200)
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(content) - 1}/{len(content)}")
        handler.send_header("Content-Length", str(len(content) - start))
        handler.end_headers()
        self._body(handler, content, start)

    def _body(self, handler: BaseHTTPRequestHandler, content: bytes, start: int) -> None:
        end = len(content)
        dropping = self.drops_left > 0
        if dropping:
            self.drops_left -= 1
            end = min(end, start + self.drop_after)
        for at in range(start, end, 16_384):
            handler.wfile.write(content[at:min(at + 16_384, end)])
            if self.delay_s:
                time.sleep(self.delay_s)
        handler.wfile.flush()
        if dropping:
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.close_connection = True


@contextlib.contextmanager
def file_server() -> Iterator[FileServer]:
    files = FileServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a cancel
                files.respond(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    files.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="file-server",
                              daemon=True)
    thread.start()
    yield files
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)
