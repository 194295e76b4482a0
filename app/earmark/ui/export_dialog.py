"""Export a session to a file the user picks: TXT, Markdown, SRT, WebVTT or JSON.

Usable from the library window and from the main window after Stop:

    export_session_dialog(self, controller.saved_folder, store)   # a folder, loaded here
    export_session_dialog(self, saved_session)                    # or SavedSession/SessionData
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..core.session import (
    ExportFormat,
    SavedSession,
    SessionData,
    SessionError,
    SessionStore,
    export,
    folder_name,
)

FILTERS: dict[ExportFormat, str] = {
    ExportFormat.TXT: "Plain text (*.txt)",
    ExportFormat.MARKDOWN: "Markdown (*.md)",
    ExportFormat.SRT: "SubRip subtitles (*.srt)",
    ExportFormat.WEBVTT: "WebVTT subtitles (*.vtt)",
    ExportFormat.JSON: "Earmark JSON (*.json)",
}

# Where and how the user exported last, for the next export in this run of the app.
_last: dict[str, object] = {"dir": None, "format": ExportFormat.MARKDOWN}


def default_export_name(session: SavedSession | SessionData) -> str:
    """The session's folder name (`2026-11-24_1430-Weekly sync`), without a suffix."""
    if isinstance(session, SavedSession):
        return session.folder.name
    return folder_name(session.meta.started_at, session.meta.title)


def format_for(path: str, chosen_filter: str) -> ExportFormat:
    """The format of a typed suffix (`notes.srt`), else of the chosen filter."""
    suffix = Path(path).suffix.lower().lstrip(".")
    for fmt in ExportFormat:
        if fmt.value == suffix:
            return fmt
    for fmt, label in FILTERS.items():
        if label == chosen_filter:
            return fmt
    return ExportFormat.TXT


def _export_dir() -> Path:
    remembered = _last["dir"]
    if isinstance(remembered, Path) and remembered.is_dir():
        return remembered
    documents = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()


def _resolve(parent: QWidget | None, session: SavedSession | SessionData | Path | str,
             store: SessionStore | None) -> SavedSession | SessionData | None:
    if isinstance(session, SavedSession | SessionData):
        return session
    folder = Path(session)
    try:
        return (store or SessionStore(folder.parent)).load(folder)
    except SessionError as exc:
        QMessageBox.warning(parent, "Export failed", f"The session cannot be read.\n\n{exc}")
        return None


def export_session_dialog(parent: QWidget | None,
                          session: SavedSession | SessionData | Path | str,
                          store: SessionStore | None = None,
                          fmt: ExportFormat | None = None) -> Path | None:
    """Ask where to save the export (the file type chooses the format), write it, and say so
    clearly if the disk refuses. The written path, or None if cancelled or failed."""
    data = _resolve(parent, session, store)
    if data is None:
        return None
    fmt = fmt or ExportFormat(str(_last["format"]))
    suggested = _export_dir() / (default_export_name(data) + fmt.suffix)
    path_text, chosen = QFileDialog.getSaveFileName(
        parent, "Export session", str(suggested), ";;".join(FILTERS.values()), FILTERS[fmt])
    if not path_text:
        return None
    fmt = format_for(path_text, chosen)
    path = Path(path_text)
    if path.suffix.lower() != fmt.suffix:
        path = path.with_name(path.name + fmt.suffix)
    try:
        export(data, fmt, path)
    except (SessionError, OSError) as exc:
        QMessageBox.warning(parent, "Export failed",
                            f"The session was not exported to {path}.\n\n{exc}\n\n"
                            "Choose another folder and try again.")
        return None
    _last["dir"], _last["format"] = path.parent, fmt
    return path
