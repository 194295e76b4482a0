"""The session library: every saved session in a table, a search across all transcripts and
answers, and the chosen session read-only on the right, with Rename, Export, Reveal folder and
Delete. A separate, non-modal window; it talks to the disk only through LibraryController."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStatusBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..controllers.library import SEARCH_LIMIT, LibraryController, LibraryRole, display_title
from ..controllers.playback import AudioOutput
from ..core.session import SearchHit, SessionError, SessionStatus, SessionStore, SessionSummary
from . import theme
from .export_dialog import export_session_dialog
from .geometry import fit_to_screen
from .message_banner import MessageBanner
from .search_results import SearchResultsView
from .session_table import SessionTable
from .session_view import SessionView

SEARCH_DELAY_MS = 250  # wait for a pause in typing before searching every file

# Only what the app style sheet (resources/style.qss) does not already cover.
STYLE = """
QWidget#libraryBar { background: #ffffff; border-bottom: 1px solid #dfe3ea; }
QLineEdit#librarySearch { padding: 5px 10px; border: 1px solid #cfd5df; border-radius: 6px;
                          background: #fff; min-height: 20px; }
QLineEdit#librarySearch:focus { border-color: #3866f2; }
QToolButton:disabled { color: #9aa1ad; background: #f4f6f9; border-color: #e1e5eb; }
QToolButton#deleteButton:enabled { color: #b3261e; }
QTableView#sessionTable, QListView#searchResults { background: #ffffff;
    alternate-background-color: #f8f9fb; selection-background-color: #dfe8ff;
    selection-color: #1d2230; border: none; }
QTableView#sessionTable::item { padding: 0 8px; border: none; }
QHeaderView::section { background: #f4f6f9; color: #5b6270; font-weight: 600; border: none;
                       border-bottom: 1px solid #dfe3ea; padding: 6px 11px; }
QWidget#listPane { background: #ffffff; border-right: 1px solid #dfe3ea; }
QLabel#rootLabel { color: #6b7280; padding: 0 8px; }
QLabel#listTitle { color: #5b6270; font-weight: 600; padding: 8px 14px 6px 14px; }
QWidget#sessionHeader { background: #ffffff; border-bottom: 1px solid #dfe3ea; }
QLabel#sessionTitle { color: #1d2230; font-size: 17px; font-weight: 700; }
QLabel#sessionDetails { color: #5b6270; }
QLabel#placeholder { color: #8a91a0; font-size: 14px; background: #f4f6f9; }
QTextBrowser#analysis { background: #ffffff; border: 1px solid #dfe3ea; border-radius: 8px;
                        padding: 6px; }
"""


class LibraryWindow(QMainWindow):
    """`show_session(folder)` opens one session; `refresh()` re-reads the list (after a new
    recording). Closing just hides it, so the main window can keep one and show it again."""

    # a partly transcribed session's audio.wav, where its words stop (ms), its title
    transcribe_rest_requested = Signal(str, int, str)

    def __init__(self, store: SessionStore, parent: QWidget | None = None,
                 audio_output: AudioOutput | None = None) -> None:
        super().__init__(parent)
        self._audio_output = audio_output  # where a session's audio plays (tests: a fake)
        self.controller = LibraryController(store, self)
        self.current: SessionSummary | None = None  # the session the actions apply to
        self._selecting = False
        self._hidden = False
        self.setWindowTitle("Session library")
        theme.style(self, STYLE)  # light or dark, and switched with the app
        fit_to_screen(self, QSize(1400, 840))
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)
        self._build()
        self._build_actions()
        self._connect()
        self.refresh()
        self._update_actions()

    # --- construction --------------------------------------------------------------------

    def _build(self) -> None:
        self.search_box = QLineEdit(objectName="librarySearch")
        self.search_box.setPlaceholderText("Search every transcript and answer (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.rename_button = QToolButton(
            text="Rename…", toolTip="Change the title (or press F2 in the list)")
        self.export_button = QToolButton(
            text="Export…", toolTip="Save as text, Markdown, subtitles or JSON (Ctrl+E)")
        self.reveal_button = QToolButton(text="Show folder",
                                         toolTip="Open the session's folder in the file manager")
        self.delete_button = QToolButton(text="Delete…", objectName="deleteButton",
                                         toolTip="Move the session to the trash (Del)")
        self.rest_button = QToolButton(
            text="Transcribe the rest", toolTip="Transcribe the saved audio this partly "
            "transcribed session has no words for, as a new session")
        bar = QWidget(objectName="libraryBar")
        row = QHBoxLayout(bar)
        row.setContentsMargins(14, 10, 14, 10)
        row.setSpacing(8)
        row.addWidget(self.search_box, 1)
        row.addSpacing(12)
        for button in (self.rest_button, self.rename_button, self.export_button,
                       self.reveal_button, self.delete_button):
            row.addWidget(button)

        self.banner = MessageBanner()
        self.table = SessionTable("No saved sessions yet.\nEvery session you record is saved "
                                  "here, with its audio, transcript and answers.")
        self.table.setModel(self.controller.sessions)
        self.results_view = SearchResultsView()
        self.results_view.setModel(self.controller.results)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.results_view)
        self.list_title = QLabel(objectName="listTitle")
        left = QWidget(objectName="listPane")
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(0)
        left_layout.addWidget(self.list_title)
        left_layout.addWidget(self.list_stack, 1)

        self.session_view = SessionView(audio_output=self._audio_output)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.session_view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([700, 700])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.setStatusBar(QStatusBar())
        self.root_label = QLabel(objectName="rootLabel")
        self.statusBar().addWidget(self.root_label, 1)
        self._show_list()

    def _build_actions(self) -> None:
        def action(text: str, shortcut, slot) -> QAction:
            act = QAction(text, self, shortcut=QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            self.addAction(act)
            return act

        action("Find", QKeySequence.StandardKey.Find, self._focus_search)
        action("Refresh", QKeySequence.StandardKey.Refresh, self.refresh)
        action("Close", QKeySequence.StandardKey.Close, self.close)
        self.export_action = action("Export…", "Ctrl+E", self.export_current)
        self.delete_action = action("Delete…", QKeySequence.StandardKey.Delete,
                                    self.delete_current)
        self.rename_button.clicked.connect(self.rename_current)
        self.export_button.clicked.connect(self.export_current)
        self.reveal_button.clicked.connect(self.reveal_current)
        self.delete_button.clicked.connect(self.delete_current)
        self.rest_button.clicked.connect(self.transcribe_rest)
        # Space plays or pauses anywhere in the window but where text is typed
        self.addAction(self.session_view.turn_playback.space)

    def _connect(self) -> None:
        c = self.controller
        c.problem.connect(lambda text: self.banner.show_message(text, "error"))
        c.sessions_changed.connect(self._update_status)
        c.session_renamed.connect(self._on_renamed)
        c.search_started.connect(self._on_search_started)
        c.search_finished.connect(self._on_search_finished)
        self.search_box.textChanged.connect(self._on_search_text)
        self.search_box.returnPressed.connect(self._run_search)
        self.table.selectionModel().currentRowChanged.connect(self._on_table_row)
        self.results_view.selectionModel().currentChanged.connect(self._on_hit)
        self.results_view.clicked.connect(self._on_hit)  # re-choosing the current hit

    # --- public --------------------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the list of sessions, keeping the chosen one chosen."""
        keep = self.current.folder if self.current else None
        self.controller.refresh()
        if keep is not None:
            row = self.controller.sessions.row_of(keep)
            if row is None:
                self._set_current(None)
                self.session_view.show_message("This session is no longer in the library.")
            else:
                self._select_row(row)
                self.current = self.controller.sessions.summary(row)
                self._update_actions()

    def show_session(self, folder: Path | str, turn_order: int | None = None,
                     source: str = "transcript") -> None:
        """Open a session (refreshing the list first if it is new) and raise the window."""
        folder = Path(folder)
        summary = self.controller.summary(folder)
        if summary is None:
            self.controller.refresh()
            summary = self.controller.summary(folder)
        if summary is None:  # not under this store's root: show it anyway, read-only
            try:
                summary = SessionSummary.from_meta(folder, self.controller.load(folder).meta)
            except SessionError as exc:
                self.banner.show_message(str(exc), "error")
                return
        self._open(summary, turn_order, source)
        self.show()
        self.raise_()
        self.activateWindow()

    # --- intents -------------------------------------------------------------------------

    def rename_current(self) -> None:
        session = self.current
        if session is None or session.status is SessionStatus.DAMAGED:
            return
        title, ok = QInputDialog.getText(self, "Rename session", "Title:",
                                         QLineEdit.EchoMode.Normal, session.title)
        if ok and title.strip() != session.title:
            self.session_view.playback.pause()  # its folder is renamed: no file open in it
            self.controller.rename(session.folder, title)

    def delete_current(self) -> None:
        session = self.current
        if session is None:
            return
        name = display_title(session) if session.status is not SessionStatus.DAMAGED \
            else session.folder.name
        where = ("It is moved to the trash, from where you can restore it."
                 if self.controller.moves_to_trash
                 else "It is deleted for good: there is no trash on this system.")
        answer = QMessageBox.question(
            self, "Delete session",
            f"Delete “{name}”?\n\nIts audio, transcript and answers go with it. {where}",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        row = self.controller.sessions.row_of(session.folder)
        self.session_view.playback.close()  # no file open in a folder that goes to the trash
        self._selecting = True  # the table moves its current row by itself: not an intent
        try:
            deleted = self.controller.delete(session.folder)
        finally:
            self._selecting = False
        if not deleted:
            if self.session_view.session is not None:
                self.session_view.playback.open(self.session_view.session)
            return
        self.statusBar().showMessage(f"Deleted “{name}”.", 6000)
        count = self.controller.sessions.rowCount()
        if row is not None and count and self.list_stack.currentWidget() is self.table:
            self._open(self.controller.sessions.summary(min(row, count - 1)))
        else:
            self._set_current(None)
            self.session_view.show_message("The session was deleted.")

    def transcribe_rest(self) -> None:
        session = self.session_view.session
        if session is None or session.meta.status is not SessionStatus.INCOMPLETE:
            return
        self.transcribe_rest_requested.emit(str(session.audio_path),
                                            session.meta.transcribed_until_ms or 0,
                                            display_title(self.current))

    def export_current(self) -> None:
        session = self.session_view.session
        if session is not None:
            path = export_session_dialog(self, session, self.controller.store)
            if path is not None:
                self.statusBar().showMessage(f"Exported to {path}", 10_000)

    def reveal_current(self) -> None:
        if self.current is None:
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.current.folder))):
            self.banner.show_message(f"The folder could not be opened: {self.current.folder}",
                                     "error")

    # --- reactions -----------------------------------------------------------------------

    def _open(self, summary: SessionSummary, turn_order: int | None = None,
              source: str = "transcript") -> None:
        self._set_current(summary)
        row = self.controller.sessions.row_of(summary.folder)
        if row is not None:
            self._select_row(row)
        if summary.status is SessionStatus.DAMAGED:
            self.session_view.show_message(
                f"It cannot be read: {summary.problem}.\n\nIts files are left as they are in "
                f"{summary.folder}", "This session is damaged")
            self._update_actions()
            return
        try:
            saved = self.controller.load(summary.folder)
        except SessionError as exc:
            self.session_view.show_message(str(exc), "This session cannot be opened")
            self._update_actions()
            return
        self.session_view.show_session(saved, turn_order, source)
        self._update_actions()

    def _on_table_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._selecting:
            return
        summary = self.controller.summary_at(current)
        if summary is not None:
            self._open(summary)

    def _on_hit(self, index: QModelIndex) -> None:
        hit: SearchHit | None = index.data(LibraryRole.HIT) if index.isValid() else None
        if hit is None:
            return
        summary = self.controller.summary(hit.session.folder) or hit.session
        if self.current is not None and self.current.folder == summary.folder \
                and self.session_view.session is not None:
            self.session_view.go_to_turn(hit.turn_order, hit.source)
        else:
            self._open(summary, hit.turn_order, hit.source)

    def _on_renamed(self, old_folder: Path, summary: SessionSummary) -> None:
        if self.current is not None and self.current.folder == old_folder:
            self.current = summary
            saved = self.session_view.session
            if saved is not None:
                try:
                    self.session_view.show_session(self.controller.load(summary.folder))
                except SessionError:
                    self.session_view.set_title(summary.title)
        self.statusBar().showMessage(f"Renamed to “{display_title(summary)}”.", 6000)

    def _on_search_text(self, text: str) -> None:
        if text.strip():
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self.controller.search("")
            self._show_list()

    def _run_search(self) -> None:
        self._search_timer.stop()
        query = self.search_box.text().strip()
        if query:
            self.controller.search(query)

    def _on_search_started(self, query: str) -> None:
        self.list_stack.setCurrentWidget(self.results_view)
        self.list_title.setText(f"Searching for “{query}”…")
        self.results_view.set_empty_hint("Searching…")
        self.statusBar().showMessage("Searching…")

    def _on_search_finished(self, query: str, count: int) -> None:
        if not query:
            return
        sessions = self.controller.results.session_count()
        more = "+" if count >= SEARCH_LIMIT else ""  # the store stops at the limit
        if count:
            self.list_title.setText(
                f"{count}{more} match{'es' * (count != 1)} in {sessions} "
                f"session{'s' * (sessions != 1)}")
        else:
            self.list_title.setText("No matches")
        self.results_view.set_empty_hint(
            f"No transcript or answer contains “{query}”.")
        self.statusBar().clearMessage()

    # --- helpers -------------------------------------------------------------------------

    def _focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def _show_list(self) -> None:
        self.list_stack.setCurrentWidget(self.table)
        self._update_status()

    def _update_status(self) -> None:
        if self.list_stack.currentWidget() is not self.table:
            return
        count = self.controller.sessions.rowCount()
        self.list_title.setText(f"{count} session{'s' * (count != 1)}" if count else "Sessions")
        if self.current is None:
            self.session_view.show_message(
                "Choose a session to read its transcript and answers." if count else "")
        self.root_label.setText(f"Sessions are kept in {self.controller.store.root}")

    def _select_row(self, row: int) -> None:
        """Make `row` the table's current row without opening it again."""
        index = self.controller.sessions.index(row, 0)
        self._selecting = True
        try:
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        finally:
            self._selecting = False
        self.table.scrollTo(index)

    def _set_current(self, summary: SessionSummary | None) -> None:
        self.current = summary
        if summary is None:
            self.table.clearSelection()
        self._update_actions()

    def _update_actions(self) -> None:
        chosen = self.current is not None
        readable = chosen and self.session_view.session is not None
        renamable = chosen and self.current.status is not SessionStatus.DAMAGED
        self.rename_button.setEnabled(bool(renamable))
        for widget in (self.export_button, self.export_action):
            widget.setEnabled(bool(readable))
        for widget in (self.reveal_button, self.delete_button, self.delete_action):
            widget.setEnabled(chosen)
        self.rest_button.setVisible(bool(chosen) and self.current.status is
                                    SessionStatus.INCOMPLETE)
        self.rest_button.setEnabled(bool(readable))

    # --- window events -------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        if self._hidden:  # it may have been hidden while sessions were recorded
            self._hidden = False
            self.refresh()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._hidden = True
        self.session_view.playback.pause()  # a closed library is not heard
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.controller.shutdown()
        super().closeEvent(event)
