"""SessionStore: the one object the app talks to for sessions on disk."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .errors import (
    SessionBusyError,
    SessionError,
    SessionNotFoundError,
    StorageError,
)
from .jsonl import JsonlContent, read_jsonl
from .library import SessionSummary, list_summaries
from .lock import RecordingLock, is_locked
from .metafile import read_meta, write_meta
from .paths import (
    LLM_FILE,
    TRANSCRIPT_FILE,
    default_sessions_root,
    folder_name,
    fsync_dir,
    make_unique_folder,
    unique_sibling,
)
from .recorder import ErrorCallback, ResolvedCallback, SessionRecorder
from .records import (
    Analysis,
    AnswerRecord,
    SavedSession,
    SessionMeta,
    SessionStatus,
    TurnRecord,
    latest_turns,
)
from .recovery import RecoveryReport, recover_folders
from .search import SearchHit, search_sessions

T = TypeVar("T")
Trash = Callable[[Path], None]


def _default_trash() -> Trash | None:
    try:
        from send2trash import send2trash
    except ImportError:  # pragma: no cover - a dependency; plain removal is the fallback
        return None
    return send2trash


class SessionStore:
    """All sessions under `root` (default: `default_sessions_root()`), one folder each.

    `delete` moves a folder to the system trash (send2trash, or `trash` when given), or removes
    it for good when `use_trash` is False or there is no trash. Nothing is created until the
    first `create`.
    """

    def __init__(self, root: Path | str | None = None, *, use_trash: bool = True,
                 trash: Trash | None = None) -> None:
        self.root = Path(root) if root is not None else default_sessions_root()
        self._trash = (trash or _default_trash()) if use_trash else None

    # --- recording -------------------------------------------------------------------------

    def create(self, meta: SessionMeta, *, on_error: ErrorCallback | None = None,
               on_resolved: ResolvedCallback | None = None) -> SessionRecorder:
        """Make the session folder and start recording into it. `meta.status` is set to
        "recording". Raises StorageError when the folder cannot be made or written."""
        meta = dataclasses.replace(meta, status=SessionStatus.RECORDING, ended_at=None,
                                   audio_duration_ms=0, turn_count=0)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError.from_os_error(
                exc, "Cannot create the sessions folder", self.root,
                "Choose another folder for sessions.") from exc
        try:
            folder = make_unique_folder(self.root, folder_name(meta.started_at, meta.title))
        except OSError as exc:
            raise StorageError.from_os_error(
                exc, "Cannot create a session folder in", self.root,
                "Choose another folder for sessions.") from exc
        lock = RecordingLock(folder)
        try:
            write_meta(folder, meta)
            if not lock.acquire():  # pragma: no cover - the folder was made just now
                raise SessionBusyError(f"{folder} is already being recorded.")
            recorder = SessionRecorder(folder, meta, lock, on_error=on_error,
                                       on_resolved=on_resolved)
        except (OSError, SessionError) as exc:
            lock.release()
            shutil.rmtree(folder, ignore_errors=True)
            if isinstance(exc, OSError):
                raise StorageError.from_os_error(exc, "Cannot write to", folder) from exc
            raise
        fsync_dir(self.root)
        return recorder

    def recover_interrupted(self) -> list[RecoveryReport]:
        """Repair every session left "recording" that nobody records into (a crash, kill -9,
        power cut): call at launch. Returns one report per repaired session, and one with
        `error` set for each that could not be repaired (read-only disk, ...)."""
        candidates = [s.folder for s in self.list_sessions()
                      if s.status is SessionStatus.RECORDING]
        return recover_folders(candidates)

    # --- library ---------------------------------------------------------------------------

    def list_sessions(self) -> list[SessionSummary]:
        """Every session, newest first; damaged ones have status DAMAGED and a `problem`."""
        return list_summaries(self.root)

    def search(self, query: str, *, limit: int = 500) -> list[SearchHit]:
        """Case-insensitive search of every transcript and answer, newest session first."""
        summaries = [s for s in self.list_sessions() if s.status is not SessionStatus.DAMAGED]
        return search_sessions(summaries, query, limit)

    def load(self, folder: Path | str) -> SavedSession:
        """Read a session (any folder, not only under root). Damaged lines are skipped and
        listed in `problems`; raises DamagedSessionError when session.json is unusable."""
        folder = Path(folder)
        if not folder.is_dir():
            raise SessionNotFoundError(f"There is no session folder at {folder}.")
        meta = read_meta(folder)
        problems: list[str] = []
        turns = _parse(read_jsonl(folder / TRANSCRIPT_FILE), TurnRecord.from_dict, problems,
                       TRANSCRIPT_FILE)
        answers = _parse(read_jsonl(folder / LLM_FILE), AnswerRecord.from_dict, problems,
                         LLM_FILE)
        if meta.status is SessionStatus.RECORDING and not is_locked(folder):
            problems.append("This session was interrupted and has not been recovered yet.")
        return SavedSession(folder, meta, latest_turns(turns), tuple(answers), tuple(problems))

    def rename(self, folder: Path | str, title: str, *, rename_folder: bool = True) -> Path:
        """Set the title in session.json and (by default) rename the folder to match; returns
        the session's folder afterwards. If the folder cannot be renamed (a file is open in
        it on Windows, ...) the title is still changed and the old folder returned."""
        folder = self._own_folder(folder)
        self._not_recording(folder)
        meta = read_meta(folder)
        write_meta(folder, dataclasses.replace(meta, title=title))
        if not rename_folder:
            return folder
        target = unique_sibling(folder, folder_name(meta.started_at, title))
        if target == folder:
            return folder
        try:
            os.rename(folder, target)
        except OSError:
            return folder
        fsync_dir(self.root)
        return target

    def set_speakers(self, folder: Path | str, names: dict[str, str]) -> None:
        """Name the speakers of a finished session ("B" -> "Dana")."""
        folder = self._own_folder(folder)
        self._not_recording(folder)
        write_meta(folder, dataclasses.replace(read_meta(folder), speakers=dict(names)))

    def set_analysis(self, folder: Path | str, analysis: Analysis | None) -> None:
        """Store (or clear) the whole-session analysis of a finished session; a live session's
        goes through its recorder."""
        folder = self._own_folder(folder)
        self._not_recording(folder)
        write_meta(folder, dataclasses.replace(read_meta(folder), analysis=analysis))

    def delete(self, folder: Path | str) -> None:
        """Move the session folder to the trash (or remove it where there is no trash)."""
        folder = self._own_folder(folder)
        self._not_recording(folder)
        if self._trash is not None:
            try:
                self._trash(folder)
                return
            except Exception:  # no trash on this system (headless, another filesystem, ...)
                if not folder.exists():
                    return
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise StorageError.from_os_error(exc, "Cannot delete", folder) from exc

    # --- helpers ---------------------------------------------------------------------------

    def _own_folder(self, folder: Path | str) -> Path:
        """`folder` as a session folder directly under root: never touch anything else."""
        path = Path(folder)
        with contextlib.suppress(OSError):
            if path.resolve().parent == self.root.resolve() and path.is_dir():
                return self.root / path.name
        raise SessionNotFoundError(f"{path} is not a session folder in {self.root}.")

    @staticmethod
    def _not_recording(folder: Path) -> None:
        if is_locked(folder):
            raise SessionBusyError(
                f"The session in {folder} is still recording; stop it first.")


def _parse(content: JsonlContent, parse: Callable[[Any], T], problems: list[str],
           name: str) -> list[T]:
    problems.extend(content.problems)
    out: list[T] = []
    for number, record in enumerate(content.records, start=1):
        try:
            out.append(parse(record))
        except (ValueError, TypeError) as exc:
            problems.append(f"{name} record {number} is invalid ({exc}); skipped")
    return out

