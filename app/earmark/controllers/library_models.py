"""Qt models of the session library: the table of saved sessions and the list of search hits.

Both hold only `SessionSummary`/`SearchHit` values (the index's data): no transcript is read
to fill a row, so a library of thousands of sessions lists at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from enum import IntEnum
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from ..core.clock import format_duration
from ..core.session import SearchHit, SessionStatus, SessionSummary

_Index = QModelIndex | QPersistentModelIndex

DAMAGED_COLOR = QColor("#b3261e")
MUTED_COLOR = QColor("#8a91a0")
HIGHLIGHT_COLOR = "#ffe58a"

ENGINE_LABELS = {"embedded": "Embedded", "cloud": "Cloud"}
STATUS_LABELS = {SessionStatus.COMPLETE: "Complete", SessionStatus.RECOVERED: "Recovered",
                 SessionStatus.INCOMPLETE: "Partly transcribed",
                 SessionStatus.RECORDING: "Recording", SessionStatus.DAMAGED: "Damaged"}


class LibraryRole(IntEnum):
    SUMMARY = Qt.ItemDataRole.UserRole + 20  # the row's SessionSummary
    HIT = Qt.ItemDataRole.UserRole + 21  # the row's SearchHit
    HTML = Qt.ItemDataRole.UserRole + 22  # the snippet with its match highlighted
    HEADING = Qt.ItemDataRole.UserRole + 23  # "Weekly sync · Turn 3 · Answer"
    SORT = Qt.ItemDataRole.UserRole + 24


def format_when(when: datetime | None) -> str:
    return "—" if when is None else when.astimezone().strftime("%Y-%m-%d %H:%M")


def display_title(summary: SessionSummary) -> str:
    return summary.title.strip() or "Untitled session"


def engine_label(engine: str) -> str:
    return ENGINE_LABELS.get(engine, engine or "—")


class Column(IntEnum):
    DATE = 0
    TITLE = 1
    DURATION = 2
    TURNS = 3
    ENGINE = 4
    STATUS = 5


HEADERS = {Column.DATE: "Date", Column.TITLE: "Title", Column.DURATION: "Duration",
           Column.TURNS: "Turns", Column.ENGINE: "Engine", Column.STATUS: "Status"}
_NUMERIC = (Column.DURATION, Column.TURNS)


def _cell_text(summary: SessionSummary, column: Column) -> str:
    damaged = summary.status is SessionStatus.DAMAGED
    match column:
        case Column.DATE:
            return format_when(summary.started_at)
        case Column.TITLE:
            if damaged:
                return f"{summary.folder.name} — {summary.problem or 'unreadable'}"
            return display_title(summary)
        case Column.DURATION:
            return "—" if damaged else format_duration(summary.audio_duration_ms)
        case Column.TURNS:
            return "—" if damaged else str(summary.turn_count)
        case Column.ENGINE:
            return "—" if damaged else engine_label(summary.engine)
        case Column.STATUS:
            return STATUS_LABELS.get(summary.status, str(summary.status))
    return ""  # pragma: no cover


def _sort_key(summary: SessionSummary, column: Column) -> Any:
    match column:
        case Column.DATE:
            return summary.started_at.timestamp() if summary.started_at else float("-inf")
        case Column.TITLE:
            return display_title(summary).casefold()
        case Column.DURATION:
            return summary.audio_duration_ms
        case Column.TURNS:
            return summary.turn_count
        case Column.ENGINE:
            return engine_label(summary.engine).casefold()
        case Column.STATUS:
            return STATUS_LABELS.get(summary.status, "")
    return 0  # pragma: no cover


def _tooltip(summary: SessionSummary) -> str:
    if summary.status is SessionStatus.DAMAGED:
        return (f"This session cannot be read: {summary.problem}.\n"
                f"Its files are kept as they are in {summary.folder}")
    parts = [display_title(summary), str(summary.folder)]
    if summary.speech_model:
        parts.append(f"Speech model: {summary.speech_model}")
    if summary.llm_model:
        parts.append(f"LLM: {summary.llm_model}")
    return "\n".join(parts)


class SessionTableModel(QAbstractTableModel):
    """One row per saved session; newest first until the user sorts by another column.

    The title is editable in place: committing an edit calls `rename(folder, title)` (set by
    the controller), which returns the session's folder afterwards, or None when it failed.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[SessionSummary] = []
        self._sort: tuple[Column, Qt.SortOrder] = (Column.DATE, Qt.SortOrder.DescendingOrder)
        self.rename: Callable[[Path, str], Path | None] | None = None

    # --- Qt model API --------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _alignment(Column(section))
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        summary = self._rows[index.row()]
        column = Column(index.column())
        damaged = summary.status is SessionStatus.DAMAGED
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return _cell_text(summary, column)
            case Qt.ItemDataRole.EditRole:
                return summary.title
            case Qt.ItemDataRole.ToolTipRole:
                return _tooltip(summary)
            case Qt.ItemDataRole.TextAlignmentRole:
                return _alignment(column)
            case Qt.ItemDataRole.ForegroundRole:
                if damaged and column in (Column.TITLE, Column.STATUS):
                    return DAMAGED_COLOR
                if column == Column.TITLE and not summary.title.strip():
                    return MUTED_COLOR
                return None
            case Qt.ItemDataRole.FontRole:
                if column == Column.TITLE and (damaged or not summary.title.strip()):
                    font = QFont()
                    font.setItalic(True)
                    return font
                return None
            case LibraryRole.SUMMARY:
                return summary
            case LibraryRole.SORT:
                return _sort_key(summary, column)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and index.column() == Column.TITLE \
                and self._rows[index.row()].status is not SessionStatus.DAMAGED:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.rename is None:
            return False
        summary = self._rows[index.row()]
        title = str(value).strip()
        if title == summary.title:
            return False
        return self.rename(summary.folder, title) is not None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (Column(column), order)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        before = [(self._rows[i.row()].folder, i.column()) for i in persistent]
        self._sort_rows()
        rows = self._row_lookup()
        self.changePersistentIndexList(
            persistent, [self.index(rows[folder], col) for folder, col in before])
        self.layoutChanged.emit()

    # --- for the controller --------------------------------------------------------------

    def set_sessions(self, summaries: Iterable[SessionSummary]) -> None:
        self.beginResetModel()
        self._rows = list(summaries)
        if self._sort != (Column.DATE, Qt.SortOrder.DescendingOrder):
            self._sort_rows()  # the store lists newest first already
        self.endResetModel()

    def summaries(self) -> list[SessionSummary]:
        return list(self._rows)

    def summary(self, row: int) -> SessionSummary:
        return self._rows[row]

    def row_of(self, folder: Path | str) -> int | None:
        return self._row_lookup().get(Path(folder))

    def replace(self, old_folder: Path, **changes: Any) -> SessionSummary | None:
        """Update one session's summary in place (after a rename); the new summary."""
        row = self.row_of(old_folder)
        if row is None:
            return None
        self._rows[row] = dataclasses.replace(self._rows[row], **changes)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
        return self._rows[row]

    def remove(self, folder: Path) -> bool:
        row = self.row_of(folder)
        if row is None:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._rows[row]
        self.endRemoveRows()
        return True

    def _sort_rows(self) -> None:
        column, order = self._sort
        newest = sorted(self._rows, key=lambda s: _sort_key(s, Column.DATE), reverse=True)
        self._rows = sorted(newest, key=lambda s: _sort_key(s, column),
                            reverse=order == Qt.SortOrder.DescendingOrder)

    def _row_lookup(self) -> dict[Path, int]:
        return {s.folder: i for i, s in enumerate(self._rows)}


def _alignment(column: Column) -> Qt.AlignmentFlag:
    horizontal = Qt.AlignmentFlag.AlignRight if column in _NUMERIC else Qt.AlignmentFlag.AlignLeft
    return horizontal | Qt.AlignmentFlag.AlignVCenter


def hit_heading(hit: SearchHit) -> str:
    source = "Answer" if hit.source == "answer" else "Transcript"
    return (f"{display_title(hit.session)} · {format_when(hit.session.started_at)} · "
            f"Turn {hit.turn_order + 1} · {source}")


def hit_html(hit: SearchHit) -> str:
    """The snippet as rich text, the matched part highlighted."""
    s, a, b = hit.snippet, hit.match_start, hit.match_end
    return (f"{escape(s[:a])}<span style='background:{HIGHLIGHT_COLOR}; font-weight:600'>"
            f"{escape(s[a:b])}</span>{escape(s[b:])}")


class SearchResultsModel(QAbstractListModel):
    """The hits of the last search, in the store's order (newest session first, then turn)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._hits: list[SearchHit] = []
        self.query = ""

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        match role:
            case Qt.ItemDataRole.DisplayRole:
                return hit.snippet
            case Qt.ItemDataRole.ToolTipRole:
                return f"{hit_heading(hit)}\n{hit.session.folder}"
            case LibraryRole.HIT:
                return hit
            case LibraryRole.HTML:
                return hit_html(hit)
            case LibraryRole.HEADING:
                return hit_heading(hit)
            case LibraryRole.SUMMARY:
                return hit.session
        return None

    def set_hits(self, query: str, hits: Iterable[SearchHit]) -> None:
        self.beginResetModel()
        self.query = query
        self._hits = list(hits)
        self.endResetModel()

    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def hit(self, row: int) -> SearchHit:
        return self._hits[row]

    def session_count(self) -> int:
        return len({h.session.folder for h in self._hits})

    def forget(self, folder: Path) -> None:
        """Drop the hits of a deleted session."""
        kept = [h for h in self._hits if h.session.folder != folder]
        if len(kept) != len(self._hits):
            self.set_hits(self.query, kept)

    def retitle(self, folder: Path, summary: SessionSummary) -> None:
        """Point the hits of a renamed session at its new summary (title and folder)."""
        if any(h.session.folder == folder for h in self._hits):
            self.set_hits(self.query, [dataclasses.replace(h, session=summary)
                                       if h.session.folder == folder else h
                                       for h in self._hits])
