"""Where sessions live and how their folders are named."""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime
from pathlib import Path

import platformdirs

APP_DIR_NAME = "Earmark"
AUDIO_FILE = "audio.wav"
SYSTEM_AUDIO_FILE = "system.wav"  # a call: what the speakers played (the other side)
TRANSCRIPT_FILE = "transcript.jsonl"
LLM_FILE = "llm.jsonl"
META_FILE = "session.json"
LOCK_FILE = "recording.lock"
SESSION_FILES = (META_FILE, AUDIO_FILE, TRANSCRIPT_FILE, LLM_FILE)

MAX_TITLE_CHARS = 60
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_SPACES = re.compile(r"\s+")


def default_sessions_root() -> Path:
    """The default root: `<user data dir>/Earmark/sessions` (not created here)."""
    return platformdirs.user_data_path(APP_DIR_NAME, appauthor=False) / "sessions"


def safe_title(title: str) -> str:
    """The title as it may appear in a folder name on Windows, macOS and Linux."""
    text = unicodedata.normalize("NFC", title)
    text = _UNSAFE.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    text = text[:MAX_TITLE_CHARS].strip()
    # Windows drops trailing dots and spaces, so a name ending in one would not round-trip.
    return text.rstrip(". ")


def folder_name(started_at: datetime, title: str) -> str:
    """`2026-11-24_1430-Weekly sync`: local start time, then the filesystem-safe title."""
    stamp = started_at.astimezone().strftime("%Y-%m-%d_%H%M")
    title_part = safe_title(title)
    return f"{stamp}-{title_part}" if title_part else stamp


def make_unique_folder(root: Path, name: str) -> Path:
    """Create and return `root/name`, or `root/name (2)`, ... if taken (atomic via mkdir)."""
    for n in range(1, 10_000):
        candidate = root / (name if n == 1 else f"{name} ({n})")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"too many sessions named {name!r} in {root}")


def unique_sibling(folder: Path, name: str) -> Path:
    """A free path next to `folder` for renaming it to `name` (not created)."""
    for n in range(1, 10_000):
        candidate = folder.parent / (name if n == 1 else f"{name} ({n})")
        if candidate == folder or not os.path.lexists(candidate):
            return candidate
    raise FileExistsError(f"too many sessions named {name!r} in {folder.parent}")


def fsync_dir(path: Path) -> None:
    """Make a create/rename inside `path` durable; a no-op where directories cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
