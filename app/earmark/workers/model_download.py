"""Downloading a catalogue model, only when the user asks (nothing here runs by itself).

The core (`Download`, `install`) is plain Python on urllib, testable without Qt; the thin
`ModelDownloadWorker` runs it on a QThread and reports through signals.

What a download promises:
- free disk space is checked first: a download that cannot fit is refused with a message that
  says what it needs and what is free;
- bytes go to `<name>.part` beside the target (a speech model: `<folder>.part/`, each file in
  it as `<file>.part` until verified) and a `.part` left by a cancel or a lost connection is
  resumed with an HTTP Range request (a lost connection is retried by itself a few times);
- every file's size and SHA-256 are checked before it takes its final name (an atomic rename),
  and a speech folder takes its name only once every file in it is verified, so a half or wrong
  download never looks complete; a wrong file is deleted and refused with a clear message;
- the source can be a mirror: `mirror` replaces `https://huggingface.co` in every URL
  (`earmark.core.models.effective_mirror` reads the setting, `EARMARK_MODEL_MIRROR`, `HF_ENDPOINT`).
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from ..core.models import (
    CatalogEntry,
    InstalledModel,
    RemoteFile,
    catalog_record,
    effective_mirror,
    install_path,
    mirrored,
    models_dir,
    register,
)
from ..core.models.paths import check_mirror

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
TIMEOUT_S = 30.0  # a connection that sends nothing this long is lost
RETRY_WAITS_S = (1.0, 3.0, 10.0)  # a lost connection is resumed after each of these
PROGRESS_INTERVAL_S = 0.25
RATE_WINDOW_S = 5.0
DISK_RESERVE_BYTES = 100_000_000  # kept free, so recordings do not meet a full disk
USER_AGENT = "Earmark model downloader"
PART_SUFFIX = ".part"


class DownloadError(RuntimeError):
    """A download that cannot complete; the message is for the user."""


class NotEnoughSpace(DownloadError):
    """Refused before a byte was fetched: the disk cannot hold the model."""


class WrongFile(DownloadError):
    """A file whose size or SHA-256 is not the catalogue's; it has been deleted."""


class DownloadCancelled(Exception):
    """The user cancelled; what arrived is kept for a resume."""


class _ConnectionLost(Exception):
    """Internal: the connection failed; the download resumes after a wait."""


@dataclass(frozen=True, slots=True)
class Progress:
    done: int  # bytes on disk toward this model
    total: int
    bytes_per_s: float  # over the last few seconds of this run
    seconds_left: float  # -1 while unknown


ProgressCallback = Callable[[Progress], None]


def format_size(n: int) -> str:
    """`1.1 GB`, `145 MB`, `2.2 kB` (decimal units, as Hugging Face shows sizes)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{n} bytes"


def part_path(path: Path) -> Path:
    return path.with_name(path.name + PART_SUFFIX)


def sha256_of(path: Path, chunk: int = CHUNK_BYTES) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class RateMeter:
    """Bytes per second over the last `window_s` seconds."""

    def __init__(self, clock: Callable[[], float], window_s: float = RATE_WINDOW_S) -> None:
        self._clock = clock
        self._window_s = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def add(self, done: int) -> float:
        now = self._clock()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self._window_s:
            self._samples.popleft()
        first_t, first_done = self._samples[0]
        return (done - first_done) / (now - first_t) if now > first_t else 0.0


@dataclass
class Download:
    """One catalogue entry fetched to `target` (its GGUF file, or its Whisper folder)."""

    entry: CatalogEntry
    target: Path
    mirror: str | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    on_progress: ProgressCallback | None = None
    chunk_bytes: int = CHUNK_BYTES
    timeout_s: float = TIMEOUT_S
    retry_waits_s: tuple[float, ...] = RETRY_WAITS_S
    progress_interval_s: float = PROGRESS_INTERVAL_S
    reserve_bytes: int = DISK_RESERVE_BYTES
    clock: Callable[[], float] = time.monotonic
    _done_before: int = field(default=0, init=False)  # bytes of files already finished
    _last_report: float = field(default=float("-inf"), init=False)
    _meter: RateMeter | None = field(default=None, init=False)

    @property
    def label(self) -> str:
        return self.entry.label

    def run(self) -> Path:
        """Download, verify and install; the target. Raises DownloadError, DownloadCancelled."""
        if not self.entry.downloadable:
            raise DownloadError(f"{self.label} cannot be downloaded: its size or SHA-256 is not "
                                f"known ({self.entry.evidence})")
        if self.mirror:
            try:
                self.mirror = check_mirror(self.mirror)
            except ValueError as exc:
                raise DownloadError(str(exc)) from None
        if self._complete():
            return self.target
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self._check_space()
        self._meter = RateMeter(self.clock)
        self._report(self._already_here(), force=True)
        if self.entry.is_folder:
            self._download_folder()
        else:
            self._download_file(self.entry.files[0], self.target)
        self._report(self.entry.size, force=True)
        log.info("model %s installed at %s", self.entry.id, self.target)
        return self.target

    # --- what is there already ---------------------------------------------------------------

    def _complete(self) -> bool:
        if not self.entry.is_folder:
            return self.target.is_file() and self.target.stat().st_size == self.entry.size
        return self.target.is_dir() and all(
            (self.target / f.name).is_file() and (self.target / f.name).stat().st_size == f.size
            for f in self.entry.files)

    def _have(self, f: RemoteFile, final: Path) -> int:
        """Bytes of `f` on disk: all of it once verified, else its `.part`."""
        if final.is_file() and final.stat().st_size == f.size:
            return f.size
        part = part_path(final)
        return min(part.stat().st_size, f.size) if part.is_file() else 0

    def _already_here(self) -> int:
        if not self.entry.is_folder:
            return self._have(self.entry.files[0], self.target)
        folder = part_path(self.target)
        return sum(self._have(f, folder / f.name) for f in self.entry.files)

    def _check_space(self) -> None:
        remaining = self.entry.size - self._already_here()
        free = shutil.disk_usage(self.target.parent).free
        needed = remaining + self.reserve_bytes
        if free < needed:
            raise NotEnoughSpace(
                f"Not enough disk space for {self.label}: it needs {format_size(needed)} free "
                f"({format_size(remaining)} to download and {format_size(self.reserve_bytes)} "
                f"to spare), and {self.target.parent} has {format_size(free)} free.")

    # --- fetching ------------------------------------------------------------------------------

    def _download_folder(self) -> None:
        folder = part_path(self.target)
        folder.mkdir(parents=True, exist_ok=True)
        for f in self.entry.files:
            final = folder / f.name
            if final.is_file() and final.stat().st_size == f.size:
                self._done_before += f.size  # verified before it took this name
                continue
            final.unlink(missing_ok=True)
            self._download_file(f, final)
            self._done_before += f.size
        if self.target.exists():
            shutil.rmtree(self.target)  # an incomplete copy: the verified one replaces it
        os.replace(folder, self.target)

    def _download_file(self, f: RemoteFile, final: Path) -> None:
        """Fetch `f` into `<final>.part`, verify it, then give it its final name."""
        part = part_path(final)
        waits = list(self.retry_waits_s)
        while True:
            try:
                self._fetch(f, part)
                break
            except WrongFile:
                part.unlink(missing_ok=True)
                raise
            except _ConnectionLost as lost:
                if not waits:
                    raise DownloadError(
                        f"The download of {self.label} stopped: {lost}. What arrived is kept; "
                        "start the download again to resume it.") from None
                wait = waits.pop(0)
                log.info("download of %s: %s; resuming in %.0f s", f.name, lost, wait)
                if self.cancel.wait(wait):
                    raise DownloadCancelled() from None
        self._verify(f, part)
        os.replace(part, final)

    def _request(self, f: RemoteFile, offset: int) -> urllib.request.Request:
        headers = {"User-Agent": USER_AGENT}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        return urllib.request.Request(mirrored(f.url, self.mirror), headers=headers)

    def _open(self, f: RemoteFile, part: Path, offset: int) -> http.client.HTTPResponse:
        request = self._request(f, offset)
        host = urlsplit(request.full_url).netloc
        try:
            return urllib.request.urlopen(request, timeout=self.timeout_s)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code == 416 and offset:
                part.unlink(missing_ok=True)  # the .part is no prefix of this file: start over
                raise _ConnectionLost(f"{host} would not resume {f.name}") from None
            if exc.code >= 500 or exc.code in (408, 429):
                raise _ConnectionLost(f"{host} answered {exc.code} {exc.reason}") from None
            raise DownloadError(f"{host} answered {exc.code} {exc.reason} for {f.name} of "
                                f"{self.label}; try another download source.") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise _ConnectionLost(f"{host} cannot be reached ({reason})") from None

    def _fetch(self, f: RemoteFile, part: Path) -> None:
        """Bring `part` up to `f.size` bytes, resuming what is there."""
        offset = part.stat().st_size if part.is_file() else 0
        if offset > f.size:
            part.unlink()
            offset = 0
        if offset == f.size:
            return
        with self._open(f, part, offset) as response:
            start = self._start_of(response, offset)
            if start is None:
                part.unlink(missing_ok=True)
                raise _ConnectionLost("the server resumed at the wrong place")
            with part.open("ab" if start else "wb") as out:
                try:
                    self._stream(response, out, f, start)
                finally:
                    out.flush()
                    os.fsync(out.fileno())

    @staticmethod
    def _start_of(response: http.client.HTTPResponse, offset: int) -> int | None:
        """Where the body starts: `offset` for a matching 206, 0 for a 200, None otherwise."""
        if response.status == 200:
            return 0
        content_range = response.headers.get("Content-Range", "")
        if response.status == 206 and content_range.startswith(f"bytes {offset}-"):
            return offset
        return None

    def _stream(self, response: http.client.HTTPResponse, out: BinaryIO, f: RemoteFile,
                written: int) -> None:
        while True:
            if self.cancel.is_set():
                raise DownloadCancelled()
            try:
                chunk = response.read(self.chunk_bytes)
            except (OSError, http.client.HTTPException) as exc:
                raise _ConnectionLost(f"the connection was lost ({exc or type(exc).__name__})"
                                      ) from None
            if not chunk:
                break
            if written + len(chunk) > f.size:
                raise WrongFile(f"The server sent more than the {f.size} bytes of {f.name} "
                                f"for {self.label}: it is not the file the catalogue vouches "
                                "for. It was deleted; try another download source.")
            self._write(out, chunk)
            written += len(chunk)
            self._report(self._done_before + written)
        if written < f.size:
            raise _ConnectionLost(f"the connection closed after {format_size(written)} of "
                                  f"{format_size(f.size)}")

    def _write(self, out: BinaryIO, chunk: bytes) -> None:
        try:
            out.write(chunk)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DownloadError(f"The disk filled up while downloading {self.label}. What "
                                    "arrived is kept; free some space and start the download "
                                    "again.") from None
            raise

    def _verify(self, f: RemoteFile, part: Path) -> None:
        size = part.stat().st_size
        digest = sha256_of(part) if size == f.size else ""
        if size == f.size and digest == f.sha256:
            return
        part.unlink(missing_ok=True)
        found = f"SHA-256 {digest[:12]}…" if digest else f"{size} bytes"
        raise WrongFile(
            f"The {f.name} downloaded for {self.label} is not the file the catalogue vouches "
            f"for ({found} where {f.sha256[:12]}… of {f.size} bytes was expected). It was "
            "deleted; try again, or try another download source.")

    def _report(self, done: int, force: bool = False) -> None:
        if self.on_progress is None or self._meter is None:
            return
        rate = self._meter.add(done)
        now = self.clock()
        if not force and now - self._last_report < self.progress_interval_s:
            return
        self._last_report = now
        left = (self.entry.size - done) / rate if rate > 0 else -1.0
        self.on_progress(Progress(done, self.entry.size, rate, left))


def install(entry: CatalogEntry, root: Path | None = None, *, mirror: str | None = None,
            cancel: threading.Event | None = None, on_progress: ProgressCallback | None = None,
            **options) -> InstalledModel:
    """Download `entry` into the models folder `root` and register it in the index. `mirror`
    is the setting; without one, EARMARK_MODEL_MIRROR or HF_ENDPOINT apply."""
    root = models_dir() if root is None else root
    try:
        source = effective_mirror(mirror)
    except ValueError as exc:
        raise DownloadError(str(exc)) from None
    download = Download(entry, install_path(entry, root), mirror=source,
                        cancel=cancel or threading.Event(), on_progress=on_progress, **options)
    return register(root, catalog_record(entry, download.run()))


class ModelDownloadWorker(QObject):
    """Runs `install` on the thread it is moved to, when `run` is called (see `start_download`).
    `cancel` may be called from any thread; the `.part` is kept for a resume."""

    progress = Signal("qint64", "qint64", float, float)  # bytes, total, bytes/s, seconds left
    finished = Signal(str)  # the installed file or folder
    failed = Signal(str)  # a sentence for the user
    cancelled = Signal()

    def __init__(self, entry: CatalogEntry, root: Path | None = None, *,
                 mirror: str | None = None, parent: QObject | None = None, **options) -> None:
        super().__init__(parent)
        self.entry = entry
        self._root = root
        self._mirror = mirror
        self._options = options
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def _on_progress(self, p: Progress) -> None:
        self.progress.emit(p.done, p.total, p.bytes_per_s, p.seconds_left)

    @Slot()
    def run(self) -> None:
        try:
            model = install(self.entry, self._root, mirror=self._mirror, cancel=self._cancel,
                            on_progress=self._on_progress, **self._options)
        except DownloadCancelled:
            log.info("download of %s cancelled; the partial file is kept", self.entry.id)
            self.cancelled.emit()
        except DownloadError as exc:
            log.warning("download of %s failed: %s", self.entry.id, exc)
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug or an unexpected OS error: said, never silent
            log.exception("download of %s failed", self.entry.id)
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            self.failed.emit(f"The download of {self.entry.label} failed: {reason}.")
        else:
            self.finished.emit(model.path)


def start_download(worker: ModelDownloadWorker, parent: QObject | None = None) -> QThread:
    """Move `worker` to a new thread and start it; the thread ends with the download."""
    thread = QThread(parent)
    thread.setObjectName("model-download")
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    for done in (worker.finished, worker.failed, worker.cancelled):  # quit is thread-safe
        done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread
