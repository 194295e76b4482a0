"""The session library's controller: lists, searches, opens, renames, deletes and exports saved
sessions through a SessionStore, and keeps the Qt models the library window shows.

Listing and loading are quick (the store keeps an index; one session is a few files) and run on
the GUI thread. Search reads every transcript, which takes 100 ms and more with a thousand
sessions, so it runs on a worker thread and only the newest query's results are shown.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, QRunnable, QThreadPool, Signal

from ..core.catalog import is_demo_model
from ..core.clock import format_clock, format_duration
from ..core.grounding import check_answer
from ..core.session import (
    AnswerRecord,
    ExportFormat,
    SavedSession,
    SearchHit,
    SessionError,
    SessionStore,
    SessionSummary,
    export,
)
from ..core.session.export import SessionLike
from ..core.session.speakers import named_turns, speaker_name
from .card_model import Card, CardListModel, CardState
from .library_models import (
    Column,
    LibraryRole,
    SearchResultsModel,
    SessionTableModel,
    display_title,
    engine_label,
    format_when,
)

log = logging.getLogger(__name__)

SEARCH_LIMIT = 500

__all__ = ["SEARCH_LIMIT", "Column", "LibraryController", "LibraryRole", "SearchResultsModel",
           "SessionCardModel", "SessionTableModel", "answer_cards", "display_title",
           "engine_label", "format_duration", "format_when", "session_details",
           "transcript_cards"]


# --- a saved session as cards ----------------------------------------------------------------

class SessionCardModel(CardListModel):
    """A CardListModel filled in one go (a saved session is read-only): one reset instead of a
    row insertion per card, which keeps sessions with thousands of turns quick to open."""

    def set_cards(self, cards: Iterable[Card]) -> None:
        self.beginResetModel()
        self._cards = sorted(cards, key=lambda c: c.order)
        self._reindex()
        self.endResetModel()


def transcript_cards(session: SavedSession) -> list[Card]:
    """A card per turn, numbered as they stand (a call's hidden echo turns leave no gap) and
    named as the user named the speakers."""
    cards = []
    for number, turn in enumerate(session.turns, 1):
        title = f"Turn {number}"
        name = speaker_name(turn.speaker, session.meta.speakers)
        if name:
            title += f" · {name}"
        cards.append(Card(turn.turn_order, title, turn.text.strip() or "(no words)",
                          CardState.FINAL, format_clock(turn.start_ms)))
    return cards


def answer_cards(session: SavedSession) -> list[Card]:
    """One card per turn; a turn answered more than once (a retry) shows every answer. Each
    answer is checked against the turns it answered, as the live card was: what they do not
    back is flagged, and the demo model's answers are marked."""
    by_turn: dict[int, list] = {}
    for answer in session.answers:
        by_turn.setdefault(answer.turn_order, []).append(answer)
    answered = _answered_text(session, sorted(by_turn))
    numbers = {turn.turn_order: n for n, turn in enumerate(session.turns, 1)}
    context = " ".join(session.meta.speakers.values())
    cards = []
    for order, answers in by_turn.items():
        bodies = [_checked_body(a, answered.get(order, ""), context) for a in answers]
        models = list(dict.fromkeys(a.model for a in answers if a.model))
        meta = ", ".join(f"{m} · demo model: may be invented" if is_demo_model(m) else m
                         for m in models)
        state = CardState.ERROR if all(a.error for a in answers) else CardState.FINAL
        cards.append(Card(order, f"Turn {numbers.get(order, order + 1)}", "\n\n".join(bodies),
                          state, meta))
    return cards


def _answered_text(session: SavedSession, orders: list[int]) -> dict[int, str]:
    """The text each answer was asked about: its turn, and the turns before it since the
    previous answer (a server that falls behind answers them together)."""
    named = named_turns(session.turns, session.meta.speakers)
    out: dict[int, str] = {}
    turns = iter(sorted(named, key=lambda t: t.turn_order))
    pending: list[str] = []
    for order in orders:
        for turn in turns:
            pending.append(f"{turn.speaker}: {turn.text}" if turn.speaker else turn.text)
            if turn.turn_order >= order:
                break
        out[order] = " ".join(pending)
        pending = []
    return out


def _checked_body(answer: AnswerRecord, turn_text: str, context: str) -> str:
    if answer.error:
        return f"No answer: {answer.error}"
    body = answer.answer.strip() or "(empty answer)"
    note = check_answer(body, turn_text, context).note() if turn_text else ""
    return f"{body}\n\n⚠ {note}" if note else body


def session_details(session: SavedSession) -> str:
    """The line under a session's title: `2026-11-24 14:30 · 12:05 · 14 turns · Embedded …`."""
    meta = session.meta
    turns = len(session.turns)
    parts = [format_when(meta.started_at), format_duration(meta.audio_duration_ms),
             f"{turns} turn{'s' * (turns != 1)}", engine_label(meta.engine)]
    parts += [m for m in (meta.speech_model, meta.llm_model) if m]
    return " · ".join(parts)


# --- search on a worker thread ---------------------------------------------------------------

class _SearchRelay(QObject):
    done = Signal(int, str, object, str)  # generation, query, hits, error


class _SearchTask(QRunnable):
    def __init__(self, store: SessionStore, query: str, generation: int,
                 current: Callable[[], int], relay: _SearchRelay) -> None:
        super().__init__()
        self._store, self._query, self._generation = store, query, generation
        self._current, self._relay = current, relay

    def run(self) -> None:
        if self._current() != self._generation:
            return  # a newer query was typed while this one waited
        hits: list[SearchHit] = []
        error = ""
        try:
            hits = self._store.search(self._query, limit=SEARCH_LIMIT)
        except Exception as exc:  # a disk error must reach the user, not kill the thread
            log.warning("search for %r failed: %s", self._query, exc)
            error = str(exc) or type(exc).__name__
        with contextlib.suppress(RuntimeError):  # the library window was closed meanwhile
            self._relay.done.emit(self._generation, self._query, hits, error)


# --- the controller --------------------------------------------------------------------------

class LibraryController(QObject):
    sessions_changed = Signal()  # the list was re-read, or a session renamed or deleted
    session_renamed = Signal(object, object)  # old folder (Path), new SessionSummary
    session_deleted = Signal(object)  # folder (Path)
    search_started = Signal(str)
    search_finished = Signal(str, int)  # query, number of hits ("" and 0 when cleared)
    problem = Signal(str)  # a sentence for the user

    def __init__(self, store: SessionStore, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.sessions = SessionTableModel(self)
        self.sessions.rename = self.rename
        self.results = SearchResultsModel(self)
        self._generation = 0
        self._searching = False
        self._pool = QThreadPool()
        self._pool.setMaxThreadCount(1)
        self._relay = _SearchRelay(self)
        self._relay.done.connect(self._on_search_done)

    @property
    def moves_to_trash(self) -> bool:
        """Whether delete goes to the system trash (False: the files are removed for good)."""
        return getattr(self.store, "_trash", None) is not None

    @property
    def searching(self) -> bool:
        return self._searching

    # --- listing -----------------------------------------------------------------------------

    def refresh(self) -> None:
        try:
            summaries = self.store.list_sessions()
        except (SessionError, OSError) as exc:
            self.problem.emit(f"The session library cannot be read: {exc}")
            summaries = []
        self.sessions.set_sessions(summaries)
        self.sessions_changed.emit()

    def summary(self, folder: Path | str) -> SessionSummary | None:
        row = self.sessions.row_of(folder)
        return None if row is None else self.sessions.summary(row)

    def summary_at(self, index: QModelIndex) -> SessionSummary | None:
        return index.data(LibraryRole.SUMMARY) if index.isValid() else None

    # --- search ------------------------------------------------------------------------------

    def search(self, query: str) -> None:
        """Start searching every transcript and answer; `search_finished` says when done. An
        empty query clears the results at once."""
        query = query.strip()
        self._generation += 1
        self._pool.clear()  # queries still waiting are stale now
        if not query:
            self._searching = False
            self.results.set_hits("", [])
            self.search_finished.emit("", 0)
            return
        self._searching = True
        self.search_started.emit(query)
        self._pool.start(_SearchTask(self.store, query, self._generation,
                                     lambda: self._generation, self._relay))

    def _on_search_done(self, generation: int, query: str, hits: list[SearchHit],
                        error: str) -> None:
        if generation != self._generation:
            return
        self._searching = False
        if error:
            self.problem.emit(f"Search failed: {error}")
        self.results.set_hits(query, hits)
        self.search_finished.emit(query, len(hits))

    def wait_for_search(self, msecs: int = -1) -> bool:
        return self._pool.waitForDone(msecs)

    def shutdown(self) -> None:
        """Drop pending searches and wait for a running one (call before the window goes)."""
        self._generation += 1
        self._pool.clear()
        self._pool.waitForDone(5000)

    # --- one session -------------------------------------------------------------------------

    def load(self, folder: Path | str) -> SavedSession:
        """Read a whole session; raises SessionError (damaged, gone, unreadable)."""
        return self.store.load(folder)

    def rename(self, folder: Path | str, title: str) -> Path | None:
        """Retitle a session (its folder follows); the folder afterwards, None on failure."""
        folder = Path(folder)
        title = title.strip()
        try:
            new_folder = self.store.rename(folder, title)
        except (SessionError, OSError) as exc:
            self.problem.emit(f"The session could not be renamed: {exc}")
            return None
        summary = self.sessions.replace(folder, title=title, folder=new_folder)
        if summary is not None:
            self.results.retitle(folder, summary)
            self.session_renamed.emit(folder, summary)
            self.sessions_changed.emit()
        return new_folder

    def delete(self, folder: Path | str) -> bool:
        folder = Path(folder)
        try:
            self.store.delete(folder)
        except (SessionError, OSError) as exc:
            self.problem.emit(f"The session could not be deleted: {exc}")
            return False
        self.sessions.remove(folder)
        self.results.forget(folder)
        self.session_deleted.emit(folder)
        self.sessions_changed.emit()
        return True

    @staticmethod
    def export(session: SessionLike, fmt: ExportFormat | str, path: Path | str) -> Path:
        """Write an export; raises SessionError (StorageError says why the disk refused)."""
        return export(session, fmt, path)
