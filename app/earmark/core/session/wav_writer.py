"""A WAV file that is valid on disk while it grows, written from the audio thread."""

from __future__ import annotations

import contextlib
import os
import struct
import threading
from pathlib import Path

from . import fsio
from .errors import StorageError
from .records import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

HEADER_SIZE = 44
# The RIFF size field is 32 bits: 4 GiB, about 37 hours of 16 kHz mono PCM16.
MAX_DATA_BYTES = 0xFFFFFFFF - (HEADER_SIZE - 8)
_RETRY_CHUNK = 256 * 1024


def wav_header(data_bytes: int, sample_rate: int = SAMPLE_RATE, channels: int = CHANNELS,
               sample_width: int = SAMPLE_WIDTH) -> bytes:
    """The canonical 44-byte PCM header for `data_bytes` bytes of samples."""
    block_align = channels * sample_width
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", HEADER_SIZE - 8 + data_bytes, b"WAVE",
        b"fmt ", 16, 1, channels, sample_rate, sample_rate * block_align, block_align,
        sample_width * 8,
        b"data", data_bytes,
    )


def bytes_to_ms(data_bytes: int, sample_rate: int = SAMPLE_RATE,
                block_align: int = CHANNELS * SAMPLE_WIDTH) -> int:
    return (data_bytes // block_align) * 1000 // sample_rate


class WavWriter:
    """Appends PCM and rewrites the header after every write, so the file on disk always is a
    valid WAV holding all audio written so far (data first, then the header: the declared size
    never exceeds what is there). `sync()` makes it survive a power cut; the recorder calls it
    about once a second from its own thread, so the audio thread never waits for the disk.

    When a write fails (disk full, disk removed) the audio is kept in memory, up to
    `max_pending_bytes`, and `write_pending()` retries; `write()` then only buffers.
    """

    def __init__(self, path: Path, *, max_pending_bytes: int = 2 * 3600 * SAMPLE_RATE * 2,
                 sample_rate: int = SAMPLE_RATE, channels: int = CHANNELS,
                 sample_width: int = SAMPLE_WIDTH) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.sample_width = sample_width
        self.max_pending_bytes = max_pending_bytes
        self._lock = threading.Lock()
        self._pending = bytearray()
        self._written = 0  # bytes of samples on disk after the header
        self._dirty = False
        self._dropped = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                           0o644)
        try:
            fsio.write_all(self._fd, self._header(), 0)
            fsio.fsync(self._fd)
        except OSError:
            os.close(self._fd)
            raise

    @property
    def data_bytes(self) -> int:
        """Bytes of audio on disk (not counting what is pending in memory)."""
        return self._written

    @property
    def pending_bytes(self) -> int:
        return len(self._pending)

    @property
    def dropped_bytes(self) -> int:
        """Audio thrown away because the in-memory buffer was full."""
        return self._dropped

    @property
    def duration_ms(self) -> int:
        return bytes_to_ms(self._written + len(self._pending), self.sample_rate,
                           self.channels * self.sample_width)

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def write(self, pcm: bytes) -> None:
        """Append PCM; StorageError if it could not go to disk (it is then kept in memory)."""
        with self._lock:
            if self._fd < 0:
                raise StorageError(f"{self.path} is already closed", path=self.path)
            if self._pending:
                self._buffer(pcm)  # keep order: the retry path writes the backlog first
                return
            try:
                self._append(pcm)
            except OSError as exc:
                self._buffer(pcm)
                raise self._error(exc) from exc

    def write_pending(self) -> None:
        """Retry writing the in-memory backlog, in chunks so `write` never waits long."""
        while True:
            with self._lock:
                if not self._pending or self._fd < 0:
                    return
                chunk = bytes(self._pending[:_RETRY_CHUNK])
                try:
                    self._append(chunk)
                except OSError as exc:
                    raise self._error(exc) from exc
                del self._pending[:len(chunk)]

    def sync(self) -> None:
        """fsync if anything changed since the last sync. Not concurrently with `close`."""
        with self._lock:
            if self._fd < 0 or not self._dirty:
                return
            fd = self._fd
            self._dirty = False
        try:
            fsio.fsync(fd)  # outside the lock: the audio thread keeps appending meanwhile
        except OSError as exc:
            with self._lock:
                self._dirty = True
            raise self._error(exc) from exc

    def close(self) -> None:
        """Write the backlog, the final header, fsync and close. On StorageError the file stays
        open and the backlog in memory, so `close` can be called again."""
        self.write_pending()
        with self._lock:
            if self._fd < 0:
                return
            try:
                fsio.write_all(self._fd, self._header(), 0)
                fsio.fsync(self._fd)
            except OSError as exc:
                raise self._error(exc) from exc
            os.close(self._fd)
            self._fd = -1

    def abandon(self) -> None:
        """Close without writing anything more (the backlog is lost)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    # --- under self._lock ----------------------------------------------------------------

    def _append(self, pcm: bytes) -> None:
        room = MAX_DATA_BYTES - self._written
        if len(pcm) > room:
            self._dropped += len(pcm) - room
            pcm = pcm[:room]
            if not pcm:
                return
        # On failure part of it may be on disk past the declared size; a retry overwrites it.
        fsio.write_all(self._fd, pcm, HEADER_SIZE + self._written)
        self._written += len(pcm)
        self._dirty = True
        # The samples are on disk: if the header fails, the next write or recovery fixes it.
        with contextlib.suppress(OSError):
            fsio.write_all(self._fd, self._header(), 0)

    def _buffer(self, pcm: bytes) -> None:
        room = self.max_pending_bytes - len(self._pending)
        if room <= 0:
            self._dropped += len(pcm)
            return
        self._pending += pcm[:room]
        self._dropped += max(0, len(pcm) - room)

    def _header(self) -> bytes:
        block_align = self.channels * self.sample_width
        whole = self._written - self._written % block_align
        return wav_header(whole, self.sample_rate, self.channels, self.sample_width)

    def _error(self, exc: OSError) -> StorageError:
        kept = bytes_to_ms(len(self._pending), self.sample_rate, self.channels * self.sample_width)
        hint = (f"Recording continues in memory ({kept / 1000:.0f} s of audio waiting); free "
                "some space and it will be saved.")
        if self._dropped:
            hint += f" {bytes_to_ms(self._dropped) / 1000:.0f} s of audio could not be kept."
        return StorageError.from_os_error(exc, "Cannot write to", self.path, hint)
