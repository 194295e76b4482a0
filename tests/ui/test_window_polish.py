"""The window on a small screen and the session's details a user reads: every window opens
within the screen, status messages never run into the labels beside them, a recording's clock
is its position, and sessions take their first words as their title."""

from __future__ import annotations

from PySide6.QtCore import QRect

from earmark.core.session.speakers import title_from_words
from earmark.ui.library_window import LibraryWindow
from earmark.ui.main_window import MainWindow
from earmark.ui.prompt_manager import PromptManager
from earmark.workers.engine_host import EngineHost


def within(window, area: QRect) -> bool:
    frame = window.geometry()
    return frame.width() <= area.width() and frame.height() <= area.height()


def test_every_window_opens_within_the_screen(qtbot, settings, store):
    main = MainWindow(settings, EngineHost("whisper-tiny.en"), store=store)
    qtbot.addWidget(main)
    area = main.screen().availableGeometry()
    assert area.width() < 1180  # the offscreen screen is narrower than the window would like
    assert within(main, area)
    library = LibraryWindow(store)
    qtbot.addWidget(library)
    assert within(library, area)
    manager = PromptManager(main.prompt_library, parent=main)
    qtbot.addWidget(manager)
    assert within(manager, area)


def test_a_long_status_message_is_shortened_and_whole_in_its_tooltip(qtbot, settings):
    main = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(main)
    main.show()
    text = "Session ended: 3 s of audio, 1 turn, all transcribed. Saved in " + "/tmp/x" * 60
    main.status.showMessage(text)
    label = main.status.message_label
    assert main.status.currentMessage() == text and label.toolTip() == text
    assert label.text().endswith("…") and len(label.text()) < len(text)
    assert label.geometry().right() < main.status.engine_label.mapTo(
        main.status, main.status.engine_label.rect().topLeft()).x()


def test_a_session_is_titled_after_its_first_words():
    assert title_from_words("We need to ship the release Friday.") == \
        "We need to ship the release Friday"
    assert title_from_words("We need to ship the release Friday and then go home.") == \
        "We need to ship the release Friday…"
    assert title_from_words("Hi.") == "Hi"
