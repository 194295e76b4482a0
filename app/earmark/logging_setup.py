"""Logs go to a rotating file in the platform's log directory, and to stderr."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import platformdirs

from . import APP_NAME

FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"


def log_dir() -> Path:
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Returns the log file, or None when the folder cannot be written (stderr only then)."""
    root = logging.getLogger()
    root.setLevel(level)
    console = logging.StreamHandler()
    console.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(console)
    # websocket-client logs every normal close as an ERROR ("… - goodbye"); the streaming
    # worker logs closes and failures itself, with the code and a sentence.
    logging.getLogger("websocket").setLevel(logging.CRITICAL)
    path = log_dir() / "earmark.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=2_000_000, backupCount=5,
                                                       encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write logs to %s: %s", path, exc)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
