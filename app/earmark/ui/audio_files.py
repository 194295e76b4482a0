"""Which files the window takes as recordings: the Open dialog's filter and dropped URLs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".oga", ".opus", ".webm",
                  ".mp4")
OPEN_FILTER = ("Recordings (" + " ".join(f"*{s}" for s in AUDIO_SUFFIXES) + ");;All files (*)")


def dropped_file(mime: QMimeData) -> Path | None:
    """The one local file a drag carries, or None (several files, a web link, text).

    Any file is taken, not only known suffixes: one that is not audio gets a clear message
    when it is checked, which tells the user more than a refused drop."""
    urls = [u for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []
    if len(urls) != 1:
        return None
    return Path(urls[0].toLocalFile())
