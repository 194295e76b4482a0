"""session.json: read it (or say why not) and replace it atomically."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from . import fsio
from .errors import DamagedSessionError, StorageError
from .paths import META_FILE, fsync_dir
from .records import SessionMeta

TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Temp file in the same folder + fsync + os.replace + fsync of the folder: a reader sees
    the old file or the new one, never half of one, even after a power cut."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot write to", path.parent) from exc
    try:
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o644)  # mkstemp makes it 0600
            fsio.write_all(fd, payload)
            fsio.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError.from_os_error(exc, "Cannot write", path) from exc
    fsync_dir(path.parent)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_bytes(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode())


def write_meta(folder: Path, meta: SessionMeta) -> None:
    atomic_write_json(folder / META_FILE, meta.to_dict())


def read_meta(folder: Path) -> SessionMeta:
    """The session's metadata; DamagedSessionError says what is wrong with it."""
    path = folder / META_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DamagedSessionError(folder, f"{META_FILE} is missing") from None
    except IsADirectoryError:
        raise DamagedSessionError(folder, f"{META_FILE} is a folder") from None
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot read", path) from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DamagedSessionError(folder, f"{META_FILE} is not valid JSON ({exc})") from None
    try:
        return SessionMeta.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise DamagedSessionError(folder, f"{META_FILE} is invalid: {exc}") from None


def remove_stale_temp_files(folder: Path) -> None:
    """Temp files left by a crash during atomic_write_json."""
    for tmp in folder.glob(f".{META_FILE}.*{TEMP_SUFFIX}"):
        with contextlib.suppress(OSError):
            tmp.unlink()
