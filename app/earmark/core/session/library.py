"""The list of saved sessions, fast with thousands of them.

Each session's summary comes from its session.json. A small cache file in the root
(`.library-index.json`) keeps the summaries keyed by session.json's inode, mtime and size, so a
listing reads one file and stats the rest; the cache is never the truth, just a shortcut, and
is rebuilt silently when missing, stale or damaged (or skipped when the root is read-only).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import SessionError, StorageError
from .metafile import atomic_write_json, read_meta
from .paths import META_FILE, SESSION_FILES
from .records import SessionMeta, SessionStatus, format_time, parse_time

INDEX_FILE = ".library-index.json"
INDEX_VERSION = 2  # 2: speakers' names


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One row of the library. A damaged session has status DAMAGED, `problem` says why, and
    only `folder` (and maybe `title`) is meaningful."""

    folder: Path
    title: str
    started_at: datetime | None
    ended_at: datetime | None
    audio_duration_ms: int
    turn_count: int
    engine: str
    speech_model: str
    llm_model: str
    status: SessionStatus
    id: str = ""
    has_analysis: bool = False
    problem: str | None = None
    speakers: tuple[tuple[str, str], ...] = ()  # (label, name) the user gave, for search

    @classmethod
    def from_meta(cls, folder: Path, meta: SessionMeta) -> SessionSummary:
        return cls(folder=folder, title=meta.title, started_at=meta.started_at,
                   ended_at=meta.ended_at, audio_duration_ms=meta.audio_duration_ms,
                   turn_count=meta.turn_count, engine=meta.engine,
                   speech_model=meta.speech_model, llm_model=meta.llm_model,
                   status=meta.status, id=meta.id, has_analysis=meta.analysis is not None,
                   speakers=tuple(meta.speakers.items()))

    @classmethod
    def damaged(cls, folder: Path, problem: str) -> SessionSummary:
        return cls(folder=folder, title=folder.name, started_at=None, ended_at=None,
                   audio_duration_ms=0, turn_count=0, engine="", speech_model="", llm_model="",
                   status=SessionStatus.DAMAGED, problem=problem)

    def _to_index(self) -> dict[str, Any]:
        assert self.started_at is not None
        return {"title": self.title, "started_at": format_time(self.started_at),
                "ended_at": None if self.ended_at is None else format_time(self.ended_at),
                "audio_duration_ms": self.audio_duration_ms, "turn_count": self.turn_count,
                "engine": self.engine, "speech_model": self.speech_model,
                "llm_model": self.llm_model, "status": str(self.status), "id": self.id,
                "has_analysis": self.has_analysis, "speakers": dict(self.speakers)}

    @classmethod
    def _from_index(cls, folder: Path, d: dict[str, Any]) -> SessionSummary:
        ended = d["ended_at"]
        return cls(folder=folder, title=d["title"],
                   started_at=parse_time(d["started_at"], "started_at"),
                   ended_at=None if ended is None else parse_time(ended, "ended_at"),
                   audio_duration_ms=int(d["audio_duration_ms"]), turn_count=int(d["turn_count"]),
                   engine=d["engine"], speech_model=d["speech_model"], llm_model=d["llm_model"],
                   status=SessionStatus(d["status"]), id=d["id"],
                   has_analysis=bool(d["has_analysis"]),
                   speakers=tuple((str(k), str(v)) for k, v in d["speakers"].items()))


def _stamp(st: os.stat_result) -> list[int]:
    # os.replace makes a new inode, so an atomic rewrite is seen even within one mtime tick.
    return [st.st_ino, st.st_mtime_ns, st.st_size]


def _read_index(root: Path) -> dict[str, Any]:
    try:
        data = json.loads((root / INDEX_FILE).read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != INDEX_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _is_session_like(folder: Path) -> bool:
    return any(os.path.lexists(folder / name) for name in SESSION_FILES)


def list_summaries(root: Path) -> list[SessionSummary]:
    """Every session folder under `root`, newest first; damaged ones are marked, folders that
    hold none of the session files (and hidden ones) are ignored."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StorageError.from_os_error(exc, "Cannot read the sessions folder", root) from exc
    old_index = _read_index(root)
    new_index: dict[str, Any] = {}
    summaries: list[SessionSummary] = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        summary = _summary(entry, old_index.get(entry.name), new_index)
        if summary is not None:
            summaries.append(summary)
    if new_index != old_index:
        with contextlib.suppress(SessionError):  # a read-only root still lists, just slower
            atomic_write_json(root / INDEX_FILE, {"version": INDEX_VERSION, "entries": new_index})
    return sorted(summaries, key=_newest_first)


def _summary(entry: os.DirEntry[str], cached: Any,
             new_index: dict[str, Any]) -> SessionSummary | None:
    folder = Path(entry.path)
    try:
        st = os.stat(os.path.join(entry.path, META_FILE))  # str paths: 1,000 of these add up
    except OSError:
        st = None
    if st is not None and isinstance(cached, dict) and cached.get("stamp") == _stamp(st):
        try:
            summary = SessionSummary._from_index(folder, cached["summary"])
        except (KeyError, TypeError, ValueError):
            pass  # a damaged cache entry: read session.json below
        else:
            new_index[entry.name] = cached
            return summary
    if st is None and not _is_session_like(folder):
        return None
    try:
        meta = read_meta(folder)
    except SessionError as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        return SessionSummary.damaged(folder, reason)
    summary = SessionSummary.from_meta(folder, meta)
    if st is not None:
        new_index[entry.name] = {"stamp": _stamp(st), "summary": summary._to_index()}
    return summary


def _newest_first(summary: SessionSummary) -> tuple[float, str]:
    when = summary.started_at.timestamp() if summary.started_at is not None else float("-inf")
    return (-when, summary.folder.name)
