"""The few raw file operations the recorder makes, in one place so tests can make them fail."""

from __future__ import annotations

import os


def write_all(fd: int, data: bytes | memoryview, offset: int | None = None) -> None:
    """Write every byte (os.write may write fewer), at `offset` when given (pwrite).

    On failure the bytes already written stay on disk; callers undo them if they must.
    """
    view = memoryview(data)
    while view:
        if offset is None:
            n = os.write(fd, view)
        else:
            n = _pwrite(fd, view, offset)
            offset += n
        if n <= 0:  # pragma: no cover - a POSIX write never returns 0 for a non-empty buffer
            raise OSError("write returned 0")
        view = view[n:]


def _seek_and_write(fd: int, data: memoryview, offset: int) -> int:
    os.lseek(fd, offset, os.SEEK_SET)  # callers serialize writes to one fd with a lock
    return os.write(fd, data)


_pwrite = getattr(os, "pwrite", _seek_and_write)  # Windows has no pwrite


def fsync(fd: int) -> None:
    os.fsync(fd)


def truncate(fd: int, size: int) -> None:
    os.ftruncate(fd, size)
