"""Exporters. Each takes plain data (meta, turns, answers, analysis), so a session can be
exported from disk (SavedSession) or straight after Stop (SessionRecorder.snapshot())."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from ..errors import ExportFormatError
from ..metafile import atomic_write_bytes
from ..records import Analysis, AnswerRecord, SessionMeta, TurnRecord
from ..speakers import named_turns
from .json import from_json, to_json
from .markdown import to_markdown
from .subtitles import to_srt, to_webvtt
from .text import to_text


class ExportFormat(StrEnum):
    TXT = "txt"
    MARKDOWN = "md"
    SRT = "srt"
    WEBVTT = "vtt"
    JSON = "json"

    @property
    def suffix(self) -> str:
        return f".{self.value}"


class SessionLike(Protocol):
    """SavedSession, SessionData, or anything else with these attributes."""

    @property
    def meta(self) -> SessionMeta: ...
    @property
    def turns(self) -> Sequence[TurnRecord]: ...
    @property
    def answers(self) -> Sequence[AnswerRecord]: ...


def _format(fmt: ExportFormat | str) -> ExportFormat:
    try:
        return ExportFormat(str(fmt).lower().lstrip("."))
    except ValueError:
        known = ", ".join(f.value for f in ExportFormat)
        raise ExportFormatError(f"Unknown export format {fmt!r}; use one of {known}.") from None


def render(fmt: ExportFormat | str, meta: SessionMeta, turns: Sequence[TurnRecord],
           answers: Sequence[AnswerRecord] = (), analysis: Analysis | None = None) -> str:
    """The export as text. `analysis` defaults to `meta.analysis`. Speakers appear by name
    ("Dana", else "Speaker A"); JSON keeps the labels and adds the names beside them."""
    fmt = _format(fmt)
    if fmt is not ExportFormat.JSON:
        turns = named_turns(turns, meta.speakers)
    match fmt:
        case ExportFormat.TXT:
            return to_text(meta, turns, answers, analysis)
        case ExportFormat.MARKDOWN:
            return to_markdown(meta, turns, answers, analysis)
        case ExportFormat.SRT:
            return to_srt(turns)
        case ExportFormat.WEBVTT:
            return to_webvtt(turns)
        case ExportFormat.JSON:
            return to_json(meta, turns, answers, analysis)
    raise AssertionError("unreachable")  # pragma: no cover


def export_text(session: SessionLike, fmt: ExportFormat | str) -> str:
    return render(fmt, session.meta, session.turns, session.answers)


def export(session: SessionLike, fmt: ExportFormat | str, path: Path | str) -> Path:
    """Write the export to `path` (UTF-8, atomically); StorageError when it cannot."""
    path = Path(path)
    text = export_text(session, fmt)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path


__all__ = ["ExportFormat", "ExportFormatError", "SessionLike", "export",
           "export_text", "from_json", "render", "to_json", "to_markdown", "to_srt", "to_text",
           "to_webvtt"]
