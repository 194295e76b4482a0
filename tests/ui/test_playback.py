"""Hearing a saved session in the library window: double-click a turn to play it from its
start, the turn being heard is selected (and its answer) as the position moves, Space plays and
pauses, and an audio.wav that is missing or damaged, or no sound output, is a message in the
window. Sessions are recorded through the real recorder; the sound goes to a fake output whose
position the test moves (tests/controllers/test_playback.py plays real sound)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from earmark.controllers.card_model import CardRole
from earmark.controllers.playback import LEAD_IN_MS, PlaybackState
from earmark.core.session import SessionStore
from earmark.ui.card_list_view import CardListView
from earmark.ui.library_window import LibraryWindow
from tests.controllers.test_playback import FakeOutput
from tests.ui.test_library import START, WEEKLY, click_row, record, row_of

# The turns `record` writes for WEEKLY: words of 280 ms every 320 ms from 320 ms, a second
# between turns.
TURN_STARTS = {0: 320, 1: 3560, 2: 6480}


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions", use_trash=False)


@pytest.fixture
def weekly(store) -> Path:
    return record(store, "Weekly sync", START, WEEKLY, seconds=40)


@pytest.fixture
def make_window(qtbot):
    windows: list[LibraryWindow] = []

    def make(store: SessionStore, output: FakeOutput) -> LibraryWindow:
        window = LibraryWindow(store, audio_output=output)
        qtbot.addWidget(window)
        window.resize(1400, 840)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.controller.shutdown()


@pytest.fixture
def output() -> FakeOutput:
    return FakeOutput()


def open_session(qtbot, window: LibraryWindow, folder: Path) -> None:
    click_row(qtbot, window, row_of(window, folder))
    assert window.session_view.session is not None


def card_center(view: CardListView, order: int):
    index = view.model().index(view.model().row_of(order))
    view.scrollTo(index)
    return view.visualRect(index).center()


def double_click(qtbot, view: CardListView, order: int) -> None:
    """A press and a release, then the double-click (QTest's mouseDClick alone is a lone
    MouseButtonDblClick, which an item view takes as a press when nothing was pressed first)."""
    pos = card_center(view, order)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def click(qtbot, view: CardListView, order: int) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=card_center(view, order))


def selected(view: CardListView) -> list[int]:
    return [i.data(CardRole.ORDER) for i in view.selectionModel().selectedIndexes()]


def play_for(window: LibraryWindow, output: FakeOutput, ms: int, step: int = 40) -> None:
    for _ in range(ms // step):
        output.advance(step)
        window.session_view.playback.tick()


def space(qtbot, window: LibraryWindow) -> None:
    qtbot.keyClick(window.session_view.transcript_view, Qt.Key.Key_Space)


def test_double_clicking_a_turn_plays_it_from_its_start_and_highlights_it(
        make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    assert output.loaded == weekly / "audio.wav"
    assert view.playback_bar.time_text == "00:00 / 00:40"
    assert view.playback_bar.problem_text == ""

    double_click(qtbot, view.transcript_view, 1)

    assert output.playing
    assert output.position == TURN_STARTS[1] - LEAD_IN_MS
    assert view.playback.state is PlaybackState.PLAYING
    assert selected(view.transcript_view) == [1]
    assert selected(view.answer_view) == [1]  # its answer, through the selection link
    assert view.playback_bar.time_text == "00:03 / 00:40"
    assert view.playback_bar.play_button.accessibleName() == "Pause"


def test_the_highlight_moves_from_turn_to_turn_as_it_plays(make_window, store, weekly, output,
                                                          qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    double_click(qtbot, view.answer_view, 0)  # an answer plays its turn too
    assert selected(view.transcript_view) == [0]
    play_for(w, output, 3000)  # 3070 ms: the silence after turn 0
    assert selected(view.transcript_view) == [0]
    play_for(w, output, 600)  # 3670 ms: turn 1
    assert selected(view.transcript_view) == [1] and selected(view.answer_view) == [1]
    play_for(w, output, 2920)  # 6590 ms: turn 2
    assert selected(view.transcript_view) == [2] and selected(view.answer_view) == [2]
    assert view.playback_bar.time_text == "00:06 / 00:40"
    assert view.playback_bar.slider.value() == output.position


def test_the_timer_follows_the_position_by_itself(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    double_click(qtbot, view.transcript_view, 0)
    output.advance(3500)
    qtbot.waitUntil(lambda: selected(view.transcript_view) == [1], timeout=2000)


def test_space_pauses_and_plays_on(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    double_click(qtbot, view.transcript_view, 1)
    play_for(w, output, 400)
    at = output.position
    space(qtbot, w)
    assert view.playback.state is PlaybackState.PAUSED and not output.playing
    assert view.playback_bar.play_button.accessibleName() == "Play"
    space(qtbot, w)
    assert output.playing and output.position == at  # on from where it paused


def test_space_works_from_the_session_list_but_types_in_the_search_box(
        make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    w.table.setFocus()
    qtbot.keyClick(w.table, Qt.Key.Key_Space)
    assert output.playing
    w.search_box.setFocus()
    qtbot.keyClicks(w.search_box, "ship it")
    assert w.search_box.text() == "ship it"
    assert output.playing


def test_space_plays_the_turn_chosen_while_paused(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    click(qtbot, view.transcript_view, 2)  # a click only selects while nothing plays
    assert not output.playing
    space(qtbot, w)
    assert output.playing and output.position == TURN_STARTS[2] - LEAD_IN_MS


def test_a_click_while_playing_jumps_to_that_turn(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    double_click(qtbot, view.transcript_view, 0)
    play_for(w, output, 200)
    click(qtbot, view.transcript_view, 2)
    assert output.playing and output.position == TURN_STARTS[2] - LEAD_IN_MS
    assert selected(view.transcript_view) == [2]


def test_the_play_button_and_the_slider(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    bar = w.session_view.playback_bar
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert output.playing and output.position == 0
    bar.slider.setSliderPosition(3000)  # a page on (2 s): 5000 ms, in turn 1
    bar.slider.triggerAction(bar.slider.SliderAction.SliderPageStepAdd)
    assert output.position == bar.slider.sliderPosition() == 5000
    assert selected(w.session_view.transcript_view) == [1]


def test_hiding_the_library_pauses(make_window, store, weekly, output, qtbot):
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    double_click(qtbot, w.session_view.transcript_view, 1)
    w.close()
    assert not output.playing
    assert w.session_view.playback.state is PlaybackState.PAUSED


def test_choosing_another_session_stops_the_first(make_window, store, weekly, output, qtbot):
    other = record(store, "Other", START.replace(day=5), WEEKLY[:1], seconds=5)
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    double_click(qtbot, w.session_view.transcript_view, 1)
    open_session(qtbot, w, other)
    assert not output.playing and output.loaded == other / "audio.wav"
    assert w.session_view.playback_bar.time_text == "00:00 / 00:05"


@pytest.mark.parametrize(("damage", "says"), [
    (lambda path: path.unlink(), "This session's audio (audio.wav) is missing"),
    (lambda path: path.write_bytes(b"garbage" * 100), "audio.wav is damaged"),
])
def test_a_missing_or_damaged_audio_file_is_a_message(make_window, store, weekly, output, qtbot,
                                                       damage, says):
    damage(weekly / "audio.wav")
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    view = w.session_view
    assert says in view.playback_bar.problem_text
    assert view.playback_bar.problem_label.isVisible()
    assert not view.playback_bar.play_button.isEnabled()
    assert view.transcript.rowCount() == 3  # the transcript is still there to read
    double_click(qtbot, view.transcript_view, 1)
    space(qtbot, w)
    assert not output.playing and view.playback.state is PlaybackState.NO_AUDIO
    assert selected(view.transcript_view) == [1]  # selecting still links to the answer
    assert selected(view.answer_view) == [1]


def test_no_sound_output_is_a_message_in_the_window(make_window, store, weekly, qtbot):
    output = FakeOutput(play_error="No sound output is available on this computer "
                                   "(no default output device).")
    w = make_window(store, output)
    open_session(qtbot, w, weekly)
    bar = w.session_view.playback_bar
    double_click(qtbot, w.session_view.transcript_view, 1)
    assert bar.problem_text.startswith("No sound output is available")
    assert bar.play_button.isEnabled()  # it can be tried again
    output.play_error = None
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert output.playing and bar.problem_text == ""
