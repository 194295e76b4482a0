"""An OS lock held while a session records, so recovery can tell a live session from a crashed
one. The OS drops the lock when the process dies, even on kill -9."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .paths import LOCK_FILE

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        elif msvcrt is not None:  # pragma: no cover - Windows
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


class RecordingLock:
    """Held by the recorder from `acquire` to `release` (flock: per open file, so a second
    open in the same process is refused too)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd = -1

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self, *, remove: bool = True) -> None:
        if self._fd < 0:
            return
        if remove:
            # Before closing. Windows cannot delete an open file: there it is left, unlocked.
            with contextlib.suppress(OSError):
                os.unlink(self.path)
        os.close(self._fd)
        self._fd = -1


def is_locked(folder: Path) -> bool:
    """True when some process is recording into `folder` right now."""
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False  # no lock file: nobody records here (or we cannot tell: treat as free)
    try:
        return not _try_lock(fd)  # closing the fd below releases our probe lock
    finally:
        os.close(fd)
