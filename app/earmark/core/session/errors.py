"""Exceptions of the session store, with messages meant to be shown to a person."""

from __future__ import annotations

import errno
from pathlib import Path

_REASONS: dict[int, str] = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the disk is read-only",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ENOENT: "the folder does not exist (was the disk removed?)",
    errno.EIO: "input/output error (the disk may be failing or was removed)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EEXIST: "something with that name already exists",
    errno.EISDIR: "it is a folder, not a file",
    errno.EMFILE: "too many files are open",
}


def describe_os_error(exc: BaseException) -> str:
    """A short, plain-words reason for an OSError ("the disk is full")."""
    if isinstance(exc, OSError):
        if exc.errno in _REASONS:
            return _REASONS[exc.errno]
        if exc.strerror:
            return exc.strerror.lower()
    return str(exc) or type(exc).__name__


class SessionError(Exception):
    """Base class of every error raised by earmark.core.session."""


class StorageError(SessionError):
    """The disk refused a read or a write (full, read-only, removed, no permission)."""

    def __init__(self, message: str, *, path: Path | None = None,
                 errno_: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.errno = errno_

    @classmethod
    def from_os_error(cls, exc: OSError, action: str, path: Path, hint: str = "") -> StorageError:
        """`action` reads like "Cannot write to"; the message ends with `hint` when given."""
        message = f"{action} {path}: {describe_os_error(exc)}."
        if hint:
            message = f"{message} {hint}"
        return cls(message, path=path, errno_=exc.errno)


class DamagedSessionError(SessionError):
    """A session folder whose session.json is missing, unreadable or not what Earmark wrote."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"The session in {folder} is damaged: {reason}.")
        self.folder = folder
        self.reason = reason


class SessionNotFoundError(SessionError):
    """No session folder at that path, or it is not inside the store's root."""


class SessionBusyError(SessionError):
    """The session is still being recorded (by this or another Earmark window)."""


class ExportFormatError(SessionError, ValueError):
    """An export format Earmark does not know."""
