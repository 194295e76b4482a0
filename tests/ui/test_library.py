"""The session library window, driven like a user drives it, over a real SessionStore whose
sessions were recorded through the store's recorder (audio, turns, answers, analysis)."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox

from earmark.controllers.card_model import CardRole, CardState
from earmark.controllers.library import (
    Column,
    LibraryController,
    LibraryRole,
    format_duration,
)
from earmark.core.session import (
    Analysis,
    AnswerRecord,
    ExportFormat,
    SessionMeta,
    SessionStatus,
    SessionStore,
    TurnRecord,
    WordRecord,
    folder_name,
)
from earmark.core.session.metafile import read_meta, write_meta
from earmark.core.session.paths import make_unique_folder
from earmark.ui import export_dialog
from earmark.ui.export_dialog import FILTERS, export_session_dialog
from earmark.ui.library_window import LibraryWindow

START = datetime(2026, 3, 2, 9, 30).astimezone()

WEEKLY = [("We need to ship the release Friday.", "Confirm the release checklist with QA."),
          ("Marketing wants the landing page first.", "Ask marketing for the final copy."),
          ("Budget review moved to Tuesday.", None)]  # None: the LLM call failed
INTERVIEW = [("Tell me about a system you scaled.", "Ask what broke first."),
             ("We sharded the database by customer.", "Ask about cross-shard queries.")]
# A long session, so the turn a search finds is far below the first screen.
LONG = [(f"Point number {n} about the roadmap and the hiring plan for the next quarter.",
         f"Noted point {n}.") for n in range(40)]
LONG[33] = ("Remember the zebra crossing permit for the new office.", "File it by the 15th.")


def record(store: SessionStore, title: str, started_at: datetime,
           turns: list[tuple[str, str | None]], seconds: int = 40,
           analysis: str | None = None, engine: str = "embedded",
           transcribed_until_ms: int | None = None) -> Path:
    """Record a session through the real recorder: audio, timed words, answers, finish."""
    recorder = store.create(SessionMeta(title=title, engine=engine,
                                        speech_model="whisper-tiny.en", llm_model="smollm2-135m",
                                        prompt="Answer briefly.", started_at=started_at))
    recorder.write_audio(b"\x00\x00" * 16_000 * seconds)
    at = 320
    for order, (text, answer) in enumerate(turns):
        words = []
        for word in text.split():
            words.append(WordRecord(word, at, at + 280, 0.9))
            at += 320
        recorder.add_turn(TurnRecord(order, text, words=tuple(words),
                                     speaker="A" if order % 2 == 0 else "B"))
        recorder.add_answer(AnswerRecord(order, "Answer briefly.", "smollm2-135m", answer or "",
                                         error=None if answer else "the model timed out"))
        at += 1000
    if analysis:
        recorder.set_analysis(Analysis(analysis, "smollm2-135m", "Summarise the session."))
    recorder.finish(transcribed_until_ms)
    return recorder.folder


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions", use_trash=False)


@pytest.fixture
def sessions(store) -> dict[str, Path]:
    return {
        "weekly": record(store, "Weekly sync", START, WEEKLY, seconds=40,
                         analysis="**Summary.** Ship on Friday; budget review on Tuesday."),
        "interview": record(store, "Interview", START + timedelta(days=1), INTERVIEW,
                            seconds=110, engine="cloud"),
        "long": record(store, "", START + timedelta(days=2), LONG, seconds=95),
    }


@pytest.fixture
def make_window(qtbot):
    windows: list[LibraryWindow] = []

    def make(store: SessionStore) -> LibraryWindow:
        window = LibraryWindow(store)
        qtbot.addWidget(window)
        window.resize(1400, 840)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()


def cell(window: LibraryWindow, row: int, column: Column) -> str:
    return window.controller.sessions.index(row, column).data()


def table_texts(window: LibraryWindow, column: Column) -> list[str]:
    return [cell(window, r, column) for r in range(window.controller.sessions.rowCount())]


def click_row(qtbot, window: LibraryWindow, row: int) -> None:
    index = window.controller.sessions.index(row, Column.TITLE)
    window.table.scrollTo(index)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.table.visualRect(index).center())


def row_of(window: LibraryWindow, folder: Path) -> int:
    row = window.controller.sessions.row_of(folder)
    assert row is not None
    return row


def bodies(model) -> list[str]:
    return [c.body for c in model.cards()]


def search(qtbot, window: LibraryWindow, text: str) -> None:
    window.search_box.clear()
    qtbot.keyClicks(window.search_box, text)
    qtbot.waitUntil(lambda: window.controller.results.query == text
                    and not window.controller.searching, timeout=5000)


def click_hit(qtbot, window: LibraryWindow, row: int) -> None:
    index = window.controller.results.index(row)
    qtbot.mouseClick(window.results_view.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.results_view.visualRect(index).center())


def on_screen(view, order: int) -> bool:
    index = view.model().index(view.model().row_of(order))
    return view.viewport().rect().intersects(view.visualRect(index))


# --- listing --------------------------------------------------------------------------------

def test_sessions_are_listed_newest_first_with_their_details(make_window, store, sessions):
    w = make_window(store)
    headers = [w.controller.sessions.headerData(c, Qt.Orientation.Horizontal) for c in Column]
    assert headers == ["Date", "Title", "Duration", "Turns", "Engine", "Status"]
    assert table_texts(w, Column.TITLE) == ["Untitled session", "Interview", "Weekly sync"]
    assert table_texts(w, Column.DATE) == ["2026-03-04 09:30", "2026-03-03 09:30",
                                           "2026-03-02 09:30"]
    assert table_texts(w, Column.DURATION) == ["1:35", "1:50", "0:40"]
    assert format_duration(3_725_000) == "1:02:05"  # hours when there are any
    assert table_texts(w, Column.TURNS) == ["40", "2", "3"]
    assert table_texts(w, Column.ENGINE) == ["Embedded", "Cloud", "Embedded"]
    assert table_texts(w, Column.STATUS) == ["Complete"] * 3
    assert w.list_title.text() == "3 sessions"
    assert str(store.root) in w.root_label.text()
    # nothing chosen yet: a hint, and the actions that need a session are off
    assert w.session_view.stack.currentIndex() == 0
    assert "Choose a session" in w.session_view.placeholder.text()
    assert not w.export_button.isEnabled() and not w.delete_button.isEnabled()


def test_sorting_by_a_column_and_back(make_window, store, sessions):
    w = make_window(store)
    w.table.sortByColumn(Column.TITLE, Qt.SortOrder.AscendingOrder)
    assert table_texts(w, Column.TITLE) == ["Interview", "Untitled session", "Weekly sync"]
    w.table.sortByColumn(Column.DATE, Qt.SortOrder.DescendingOrder)
    assert table_texts(w, Column.TITLE) == ["Untitled session", "Interview", "Weekly sync"]


def test_an_empty_library_says_so(make_window, tmp_path):
    w = make_window(SessionStore(tmp_path / "nothing-yet", use_trash=False))
    assert w.controller.sessions.rowCount() == 0
    assert "No saved sessions yet" in w.table.empty_hint
    assert w.list_title.text() == "Sessions"


def test_a_damaged_session_is_listed_as_damaged_with_the_reason(make_window, store, sessions,
                                                                qtbot):
    broken = store.root / "2026-02-27_1100-Broken"
    broken.mkdir()
    (broken / "session.json").write_text("{not json", encoding="utf-8")
    w = make_window(store)
    assert w.controller.sessions.rowCount() == 4
    assert table_texts(w, Column.TITLE)[:3] == ["Untitled session", "Interview", "Weekly sync"]
    row = row_of(w, broken)
    assert cell(w, row, Column.STATUS) == "Damaged"
    assert "not valid JSON" in cell(w, row, Column.TITLE)
    tooltip = w.controller.sessions.index(row, Column.DATE).data(Qt.ItemDataRole.ToolTipRole)
    assert "cannot be read" in tooltip and "not valid JSON" in tooltip

    click_row(qtbot, w, row)
    assert "This session is damaged" in w.session_view.placeholder.text()
    assert "not valid JSON" in w.session_view.placeholder.text()
    assert not w.export_button.isEnabled() and not w.rename_button.isEnabled()
    assert w.delete_button.isEnabled() and w.reveal_button.isEnabled()
    click_row(qtbot, w, row_of(w, sessions["weekly"]))  # the others still open
    assert w.session_view.session is not None
    assert w.session_view.session.meta.title == "Weekly sync"


# --- opening --------------------------------------------------------------------------------

def test_opening_a_session_shows_transcript_answers_and_analysis(make_window, store, sessions,
                                                                 qtbot):
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    view = w.session_view
    assert view.stack.currentIndex() == 1
    assert view.title_label.text() == "Weekly sync"
    assert view.details_label.text().startswith("2026-03-02 09:30 · 0:40 · 3 turns · Embedded")
    assert bodies(view.transcript) == [t for t, _ in WEEKLY]
    assert [c.title for c in view.transcript.cards()] == ["Turn 1 · Speaker A",
                                                          "Turn 2 · Speaker B",
                                                          "Turn 3 · Speaker A"]
    answers = view.answers.cards()
    # checked against their turns as the live cards were: "QA" is in no turn
    assert [a.body for a in answers[:2]] == [
        "Confirm the release checklist with QA.\n\n⚠ May be invented: “QA”.", WEEKLY[1][1]]
    assert (answers[2].state, answers[2].body) == (CardState.ERROR,
                                                   "No answer: the model timed out")
    assert view.analysis_pane.isVisible()
    assert "Ship on Friday" in view.analysis_view.toPlainText()
    assert w.export_button.isEnabled() and w.rename_button.isEnabled()

    # selecting a turn selects its answer next to it
    view.transcript_view.select_order(1)
    assert view.answer_view.currentIndex().data(CardRole.ORDER) == 1

    click_row(qtbot, w, row_of(w, sessions["interview"]))
    assert bodies(view.transcript) == [t for t, _ in INTERVIEW]
    assert not view.analysis_pane.isVisible()  # this one has no analysis


def test_show_session_picks_up_a_session_recorded_after_the_window_opened(make_window, store,
                                                                          sessions):
    w = make_window(store)
    new = record(store, "Just recorded", START + timedelta(days=5), INTERVIEW)
    w.show_session(new)
    assert w.session_view.title_label.text() == "Just recorded"
    assert table_texts(w, Column.TITLE)[0] == "Just recorded"
    assert w.table.currentIndex().row() == 0
    w.show_session(sessions["long"], turn_order=33)
    assert w.session_view.transcript_view.currentIndex().data(CardRole.ORDER) == 33


# --- search ---------------------------------------------------------------------------------

def test_search_finds_a_word_from_an_answer_and_opens_that_turn(make_window, store, sessions,
                                                                qtbot):
    w = make_window(store)
    search(qtbot, w, "checklist")
    assert w.list_stack.currentWidget() is w.results_view
    hits = w.controller.results.hits()
    assert [(h.session.folder, h.turn_order, h.source) for h in hits] == [
        (sessions["weekly"], 0, "answer")]
    index = w.controller.results.index(0)
    assert index.data(LibraryRole.HEADING).endswith("Turn 1 · Answer")
    assert ">checklist</span>" in index.data(LibraryRole.HTML)  # the match is highlighted
    assert w.list_title.text() == "1 match in 1 session"

    click_hit(qtbot, w, 0)
    view = w.session_view
    assert view.session is not None and view.session.folder == sessions["weekly"]
    assert view.answer_view.currentIndex().data(CardRole.ORDER) == 0
    assert view.transcript_view.currentIndex().data(CardRole.ORDER) == 0
    assert w.current is not None and w.current.folder == sessions["weekly"]


def test_search_finds_a_transcript_word_and_scrolls_to_that_turn(make_window, store, sessions,
                                                                 qtbot):
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["long"]))  # open it first: its top is on screen
    transcript = w.session_view.transcript_view
    assert not on_screen(transcript, 33)
    search(qtbot, w, "ZEBRA")  # case does not matter
    hits = w.controller.results.hits()
    assert [(h.turn_order, h.source) for h in hits] == [(33, "transcript")]
    click_hit(qtbot, w, 0)
    qtbot.wait(50)  # the second scroll waits for the layout
    assert transcript.currentIndex().data(CardRole.ORDER) == 33
    assert on_screen(transcript, 33)


def test_search_without_matches_and_clearing_it(make_window, store, sessions, qtbot):
    w = make_window(store)
    search(qtbot, w, "platypus")
    assert w.controller.results.rowCount() == 0
    assert w.list_title.text() == "No matches"
    assert "platypus" in w.results_view.empty_hint
    search(qtbot, w, "ask")  # many hits, across sessions
    assert w.controller.results.session_count() == 2
    assert w.list_title.text().endswith("in 2 sessions")
    w.search_box.clear()
    assert w.list_stack.currentWidget() is w.table
    assert w.list_title.text() == "3 sessions"


def test_a_newer_query_wins_over_a_slower_older_one(store, sessions, qtbot):
    controller = LibraryController(store)
    controller.search("release")
    controller.search("sharded")
    with qtbot.waitSignal(controller.search_finished, timeout=5000) as finished:
        pass
    controller.shutdown()
    assert finished.args == ["sharded", 1]
    assert controller.results.query == "sharded"


# --- rename, delete, reveal -----------------------------------------------------------------

def test_rename_changes_the_title_on_disk_and_in_the_list(make_window, store, sessions, qtbot,
                                                          monkeypatch):
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    asked = {}

    def get_text(parent, title, label, mode, text):
        asked["text"] = text
        return "Quarterly planning", True

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(get_text))
    qtbot.mouseClick(w.rename_button, Qt.MouseButton.LeftButton)
    assert asked["text"] == "Weekly sync"
    assert not sessions["weekly"].exists()
    new_folder = w.current.folder
    assert new_folder.name == folder_name(START, "Quarterly planning")
    assert read_meta(new_folder).title == "Quarterly planning"
    assert cell(w, row_of(w, new_folder), Column.TITLE) == "Quarterly planning"
    assert w.session_view.title_label.text() == "Quarterly planning"
    # the renamed session still opens, and its turns are all there
    assert bodies(w.session_view.transcript) == [t for t, _ in WEEKLY]


def test_rename_in_place_in_the_table(make_window, store, sessions, qtbot):
    w = make_window(store)
    row = row_of(w, sessions["interview"])
    click_row(qtbot, w, row)
    w.table.setCurrentIndex(w.controller.sessions.index(row, Column.TITLE))
    qtbot.keyClick(w.table, Qt.Key.Key_F2)
    editor = w.table.viewport().findChild(QLineEdit)
    assert isinstance(editor, QLineEdit) and editor.text() == "Interview"
    editor.selectAll()
    qtbot.keyClicks(editor, "Backend interview")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Backend interview" in table_texts(w, Column.TITLE))
    assert read_meta(w.current.folder).title == "Backend interview"


def test_delete_asks_first_and_cancel_keeps_the_session(make_window, tmp_path, qtbot,
                                                        monkeypatch):
    trash = tmp_path / "trash"
    trash.mkdir()
    store = SessionStore(tmp_path / "sessions",
                         trash=lambda folder: shutil.move(folder, trash / folder.name))
    weekly = record(store, "Weekly sync", START, WEEKLY)
    interview = record(store, "Interview", START + timedelta(days=1), INTERVIEW)
    w = make_window(store)
    click_row(qtbot, w, row_of(w, interview))
    questions = []

    def answer_with(button):
        def question(parent, title, text, buttons, default):
            questions.append(text)
            return button
        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer_with(QMessageBox.StandardButton.Cancel))
    qtbot.mouseClick(w.delete_button, Qt.MouseButton.LeftButton)
    assert "“Interview”" in questions[0] and "trash" in questions[0]
    assert interview.exists() and w.controller.sessions.rowCount() == 2

    monkeypatch.setattr(QMessageBox, "question", answer_with(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(w.delete_button, Qt.MouseButton.LeftButton)
    assert not interview.exists()
    assert (trash / interview.name / "session.json").exists()  # in the trash, not gone
    assert table_texts(w, Column.TITLE) == ["Weekly sync"]
    # the next session is chosen, so the user can go on
    assert w.current is not None and w.current.folder == weekly
    assert w.session_view.title_label.text() == "Weekly sync"


def test_delete_without_a_trash_says_it_is_for_good(make_window, store, sessions, qtbot,
                                                    monkeypatch):
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    questions = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *args: questions.append(args[2]) or QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(w.delete_button, Qt.MouseButton.LeftButton)
    assert "deleted for good" in questions[0]
    assert not sessions["weekly"].exists()
    assert w.controller.sessions.rowCount() == 2


def test_the_delete_key_deletes_from_the_list_but_edits_in_the_search_box(
        make_window, store, sessions, qtbot, monkeypatch):
    w = make_window(store)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    questions = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda *args: questions.append(args[2]) or QMessageBox.StandardButton.Cancel))
    w.search_box.setFocus()
    w.search_box.setText("abc")
    w.search_box.setCursorPosition(0)
    qtbot.keyClick(w.search_box, Qt.Key.Key_Delete)
    assert w.search_box.text() == "bc" and questions == []
    w.search_box.clear()
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_Delete)
    assert len(questions) == 1 and "“Weekly sync”" in questions[0]


def test_reveal_folder_opens_it_in_the_file_manager(make_window, store, sessions, qtbot,
                                                    monkeypatch):
    from PySide6.QtGui import QDesktopServices

    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["interview"]))
    qtbot.mouseClick(w.reveal_button, Qt.MouseButton.LeftButton)
    assert [Path(u.toLocalFile()) for u in opened] == [sessions["interview"]]


# --- export ---------------------------------------------------------------------------------

@pytest.fixture
def save_as(monkeypatch):
    """Stands in for the save dialog: answers with `answer`, remembers what it was asked."""
    class SaveAs:
        answer: tuple[str, str] = ("", "")
        asked: list[tuple[str, str]] = []  # noqa: RUF012 - one per test

        def __call__(self, parent, caption, directory, filters, selected):
            self.asked.append((directory, selected))
            return self.answer

    dialog = SaveAs()
    dialog.asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(dialog))
    monkeypatch.setitem(export_dialog._last, "dir", None)
    return dialog


def test_export_writes_every_format(make_window, store, sessions, qtbot, tmp_path, save_as):
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    out = tmp_path / "exports"
    out.mkdir()
    written = {}
    for fmt in ExportFormat:
        save_as.answer = (str(out / "weekly"), FILTERS[fmt])  # no suffix typed: added
        qtbot.mouseClick(w.export_button, Qt.MouseButton.LeftButton)
        written[fmt] = out / f"weekly{fmt.suffix}"
        assert written[fmt].exists(), fmt
        assert str(written[fmt]) in w.statusBar().currentMessage()

    suggested, _ = save_as.asked[0]
    assert Path(suggested).name == sessions["weekly"].name + ".md"  # the folder's name
    assert Path(save_as.asked[1][0]).parent == out  # the last folder is remembered

    text = written[ExportFormat.TXT].read_text(encoding="utf-8")
    assert "We need to ship the release Friday." in text
    assert "Confirm the release checklist with QA." in text
    md = written[ExportFormat.MARKDOWN].read_text(encoding="utf-8")
    assert md.startswith("# Weekly sync\n")
    assert "> **Answer** (smollm2-135m):" in md and "## Analysis" in md
    srt = written[ExportFormat.SRT].read_text(encoding="utf-8")
    assert srt.startswith("1\n00:00:00,320 --> 00:00:02,520\nSpeaker A: We need to ship the "
                          "release Friday.\n")
    vtt = written[ExportFormat.WEBVTT].read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n00:00:00.320 --> 00:00:02.520\n<v Speaker A>We need to ship")
    document = json.loads(written[ExportFormat.JSON].read_text(encoding="utf-8"))
    assert document["format"] == "earmark-session"
    assert [t["text"] for t in document["turns"]] == [t for t, _ in WEEKLY]
    assert len(document["answers"]) == 3


def test_a_typed_suffix_chooses_the_format(store, sessions, tmp_path, save_as):
    save_as.answer = (str(tmp_path / "subtitles.srt"), FILTERS[ExportFormat.TXT])
    path = export_session_dialog(None, sessions["interview"], store)
    assert path == tmp_path / "subtitles.srt"
    assert path.read_text(encoding="utf-8").startswith("1\n00:00:00,320 --> ")


def test_export_to_an_unwritable_place_says_why(make_window, store, sessions, qtbot, tmp_path,
                                                save_as, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning",
                        staticmethod(lambda parent, title, text: warnings.append((title, text))))
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "notes.md"
    save_as.answer = (str(target), FILTERS[ExportFormat.MARKDOWN])
    w = make_window(store)
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    qtbot.mouseClick(w.export_button, Qt.MouseButton.LeftButton)
    assert len(warnings) == 1
    title, text = warnings[0]
    assert title == "Export failed"
    assert str(target) in text and "a part of the path is a file, not a folder" in text
    assert not target.exists()
    assert w.isVisible() and w.session_view.session is not None  # nothing else broke


def test_export_from_the_main_window_after_stop(store, sessions, tmp_path, save_as):
    """The main window passes `controller.saved_folder` (a str) and its store."""
    save_as.answer = (str(tmp_path / "after-stop.json"), FILTERS[ExportFormat.JSON])
    path = export_session_dialog(None, str(sessions["interview"]), store)
    assert path is not None
    assert json.loads(path.read_text(encoding="utf-8"))["session"]["title"] == "Interview"


def test_cancelling_the_save_dialog_writes_nothing(store, sessions, tmp_path, save_as):
    save_as.answer = ("", "")
    assert export_session_dialog(None, store.load(sessions["weekly"])) is None
    assert list(tmp_path.glob("*.md")) == []


# --- many sessions --------------------------------------------------------------------------

def make_many(store: SessionStore, count: int) -> None:
    """Sessions with only session.json (cheap), as the index sees them."""
    store.root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        meta = SessionMeta(title=f"Meeting {i}", engine="embedded",
                           started_at=START + timedelta(hours=i))
        meta = dataclasses.replace(meta, status=SessionStatus.COMPLETE, turn_count=i % 50,
                                   audio_duration_ms=i * 1000)
        write_meta(make_unique_folder(store.root, folder_name(meta.started_at, meta.title)), meta)


def test_the_library_handles_a_thousand_sessions(make_window, store, qtbot):
    make_many(store, 1000)
    controller = LibraryController(store)
    controller.refresh()
    assert controller.sessions.rowCount() == 1000
    assert controller.sessions.index(0, Column.TITLE).data() == "Meeting 999"
    assert controller.sessions.index(999, Column.TITLE).data() == "Meeting 0"
    w = make_window(store)
    assert w.list_title.text() == "1000 sessions"
    w.table.scrollToBottom()
    click_row(qtbot, w, 999)
    assert w.session_view.title_label.text() == "Meeting 0"



def test_a_partly_transcribed_session_offers_to_transcribe_the_rest(make_window, store,
                                                                    sessions, qtbot):
    cut = record(store, "Cut off", START + timedelta(days=3), WEEKLY[:1], seconds=30,
                 transcribed_until_ms=4200)
    w = make_window(store)
    status = w.controller.sessions.index(row_of(w, cut), Column.STATUS).data()
    assert status == "Partly transcribed"
    click_row(qtbot, w, row_of(w, sessions["weekly"]))
    assert not w.rest_button.isVisible()  # complete sessions have nothing left
    click_row(qtbot, w, row_of(w, cut))
    assert w.rest_button.isVisible() and w.rest_button.isEnabled()
    with qtbot.waitSignal(w.transcribe_rest_requested) as asked:
        qtbot.mouseClick(w.rest_button, Qt.MouseButton.LeftButton)
    assert asked.args == [str(cut / "audio.wav"), 4200, "Cut off"]
