"""Append-only JSON Lines files: durable appends that survive a full disk, tolerant reads."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import fsio
from .errors import StorageError


def encode_line(record: dict[str, Any]) -> bytes:
    # ensure_ascii=False keeps the text greppable; JSON escapes any newline inside strings.
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


class JsonlAppender:
    """Appends one line per record, flushed and fsynced before `append` returns.

    The file is opened per append (turns and answers are a few per minute), so nothing stays
    open after the session ends and a late answer can still be added. A record that cannot be
    written (disk full, ...) stays queued in memory, in order, and is written by the next
    `append` or `retry`; a half-written line is cut off first, so the file only ever grows by
    whole lines. Thread-safe.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._good_size: int | None = None  # file size after the last whole line written
        self._dirty_tail = False

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def append(self, record: dict[str, Any]) -> None:
        """Queue `record` and write everything queued; StorageError if anything is left."""
        with self._lock:
            self._pending.append(encode_line(record))
            self._write_pending()

    def queue(self, record: dict[str, Any]) -> None:
        """Queue `record` for the next `retry` (or `append`), without touching the disk."""
        with self._lock:
            self._pending.append(encode_line(record))

    def retry(self) -> None:
        """Write what earlier failures left queued; StorageError if it still fails."""
        with self._lock:
            if self._pending:
                self._write_pending()

    def _write_pending(self) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _BINARY, 0o644)
        except OSError as exc:
            raise self._error(exc) from exc
        try:
            size = os.fstat(fd).st_size
            if not (self._dirty_tail and self._good_size is not None
                    and size > self._good_size):
                # Trust the file as it is now (it may have been replaced behind our back);
                # only a half line of our own, which we failed to cut off, is cut below.
                self._good_size = size
                self._dirty_tail = False
            while self._pending:
                line = self._pending[0]
                try:
                    if self._dirty_tail:
                        fsio.truncate(fd, self._good_size)
                        self._dirty_tail = False
                    self._dirty_tail = True
                    fsio.write_all(fd, line)
                    fsio.fsync(fd)
                except OSError as exc:
                    self._undo_partial_line(fd)
                    raise self._error(exc) from exc
                self._dirty_tail = False
                self._good_size += len(line)
                self._pending.pop(0)
        finally:
            os.close(fd)

    def _undo_partial_line(self, fd: int) -> None:
        assert self._good_size is not None
        try:
            fsio.truncate(fd, self._good_size)
            self._dirty_tail = False
        except OSError:
            self._dirty_tail = True  # cut it off before the next write instead

    def _error(self, exc: OSError) -> StorageError:
        return StorageError.from_os_error(
            exc, "Cannot write to", self.path,
            f"{len(self._pending)} line(s) are kept in memory and will be written when the "
            "disk accepts them again.")


_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(slots=True)
class JsonlContent:
    """The records of a JSONL file and what was wrong with the rest of it."""

    records: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_jsonl(path: Path) -> JsonlContent:
    """Every line that is a JSON object; garbage lines and a cut-off last line are skipped and
    reported in `problems`. A missing file reads as empty."""
    content = JsonlContent()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return content
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot read", path) from exc
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        if not line.strip(b" \t\r\x00"):
            continue
        last = number == len(lines)  # no newline after it: the write was cut off
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            what = "is cut off" if last else "is not valid JSON"
            content.problems.append(f"{path.name} line {number} {what}; skipped")
            continue
        if not isinstance(record, dict):
            content.problems.append(f"{path.name} line {number} is not a JSON object; skipped")
            continue
        content.records.append(record)
    return content


def repair_tail(path: Path) -> int:
    """Cut the file after its last complete, valid line; returns the bytes dropped.

    A crash leaves at most a half-written last line (or, after a power cut, a run of zero
    bytes); lines damaged in the middle are left alone for the reader to skip.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return 0
    end = len(raw)
    keep = end
    while keep > 0:
        start = raw.rfind(b"\n", 0, keep - 1) + 1
        line = raw[start:keep]
        if line.endswith(b"\n") and _is_json_object(line):
            break
        keep = start
    if keep == end:
        return 0
    try:
        with open(path, "r+b") as f:
            f.truncate(keep)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot repair", path) from exc
    return end - keep


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line.decode("utf-8")), dict)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
