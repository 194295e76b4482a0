"""Settings → Models, the dialog (pytest-qt, offscreen): it opens within a 1366×768 laptop
screen, lists every model, works from the keyboard, registers a GGUF through Add a file… (and
says why a file is refused), removes it, and shows a download's progress with Cancel. A
screenshot is saved to /tmp/models_dialog.png."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from earmark.controllers.models import ModelsController, RowState, available_builtins
from earmark.core.models import ENTRIES
from earmark.resources import resource
from earmark.settings import Key
from earmark.ui.models_dialog import DEFAULT_SIZE, ModelsDialog
from tests.controllers.test_models_controller import (
    FAST,
    FakeEngine,
    answer_entry,
    payload,
    root,  # noqa: F401 (a fixture: EARMARK_MODELS_DIR in tmp_path)
    serve,
    server,  # noqa: F401 (a fixture: a local HTTP server)
)

SCREENSHOT = "/tmp/models_dialog.png"


@pytest.fixture
def styled(qapp):
    """The app's style sheet, as the window has it."""
    previous = qapp.styleSheet()
    style = resource("style.qss").read_text(encoding="utf-8")
    qapp.setStyleSheet(style.replace("@RESOURCES@", resource().as_posix()))
    yield
    qapp.setStyleSheet(previous)


def open_dialog(qtbot, dialog: ModelsDialog) -> ModelsDialog:
    qtbot.addWidget(dialog, before_close_func=lambda d: d.controller.shutdown())
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def choose_file(monkeypatch: pytest.MonkeyPatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *args, **kwargs: (str(path), "")))


def answer(monkeypatch: pytest.MonkeyPatch, button: QMessageBox.StandardButton) -> list[str]:
    asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):
        asked.append(text)
        return button

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_it_fits_a_laptop_screen_and_lists_every_model(qtbot, settings, root):  # noqa: F811
    dialog = open_dialog(qtbot, ModelsDialog(settings, FakeEngine()))
    assert dialog.width() <= 1366 and dialog.height() <= 768
    assert dialog.frameGeometry().width() <= 1366 and dialog.frameGeometry().height() <= 768
    assert DEFAULT_SIZE.width() <= 1366 - 20 and DEFAULT_SIZE.height() <= 768 - 80
    table = dialog.controller.table
    assert table.rowCount() == len(ENTRIES) + len(available_builtins())
    labels = [table.index(i, 0).data() for i in range(table.rowCount())]
    assert "Whisper tiny.en (English)" in labels
    assert any(label.startswith("★ ") for label in labels)
    assert dialog.first_run_label.isVisible()
    assert dialog.first_run_label.text().startswith("To start, Earmark recommends")
    assert "★ marks the models recommended" in dialog.machine_label.text()
    first = dialog.controller.recommended_keys()[0]
    assert dialog.current_key() == first  # a recommended model is selected to start with
    assert "Recommended for this computer" in dialog.details_label.text()
    assert dialog.download_button.isEnabled() and not dialog.use_button.isEnabled()
    assert not dialog.progress_bar.isVisible()


def test_the_keyboard_reaches_every_action(qtbot, settings, root, monkeypatch,  # noqa: F811
                                           tmp_path):
    dialog = open_dialog(qtbot, ModelsDialog(settings, FakeEngine()))
    dialog.table.setFocus()
    before = dialog.current_key()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Down)
    assert dialog.current_key() != before
    for button in (dialog.download_button, dialog.cancel_button, dialog.use_button,
                   dialog.remove_button, dialog.add_file_button, dialog.add_folder_button):
        assert "&" in button.text() and not button.autoDefault()
    gguf = tmp_path / "keys.gguf"
    gguf.write_bytes(b"GGUF" + bytes(64))
    choose_file(monkeypatch, gguf)
    dialog.activateWindow()  # Alt shortcuts go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5_000)
    qtbot.keyClick(dialog, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)  # Add a &file…
    qtbot.waitUntil(lambda: dialog.current_key() == "local-keys", timeout=5_000)
    reached = []  # Tab from the table goes through every enabled action
    dialog.table.setFocus()
    for _ in range(12):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.append(QApplication.focusWidget())
    for widget in (dialog.use_button, dialog.remove_button, dialog.add_file_button,
                   dialog.add_folder_button, dialog.source_edit):
        assert widget in reached


def test_add_a_file_registers_a_gguf_that_can_be_used_and_removed(
        qtbot, settings, root, monkeypatch, tmp_path, styled):  # noqa: F811
    engine = FakeEngine()
    dialog = open_dialog(qtbot, ModelsDialog(settings, engine))
    refused = tmp_path / "notes.gguf"
    refused.write_text("not a model")
    choose_file(monkeypatch, refused)
    qtbot.mouseClick(dialog.add_file_button, Qt.MouseButton.LeftButton)
    assert dialog.message_label.isVisible() and dialog.message_label.objectName() == "formError"
    assert "is not a GGUF model" in dialog.message_label.text()

    gguf = tmp_path / "downloads" / "tiny-chat.gguf"
    gguf.parent.mkdir()
    gguf.write_bytes(b"GGUF" + bytes(4096))
    choose_file(monkeypatch, gguf)
    qtbot.mouseClick(dialog.add_file_button, Qt.MouseButton.LeftButton)
    assert dialog.current_key() == "local-tiny-chat"
    assert dialog.message_label.objectName() == "hint"
    assert "Added tiny-chat" in dialog.message_label.text()
    assert dialog.use_button.isEnabled() and dialog.remove_button.isEnabled()
    assert not dialog.first_run_label.isVisible()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert settings.get(Key.EMBEDDED_LLM) == "gguf:tiny-chat" and engine.reloads == 1
    assert dialog.controller.row("local-tiny-chat").state is RowState.IN_USE
    assert not dialog.use_button.isEnabled() and not dialog.remove_button.isEnabled()

    dialog.resize(DEFAULT_SIZE)  # what a 1366×768 screen shows (the offscreen one is 800 wide)
    QApplication.processEvents()
    assert dialog.grab().save(SCREENSHOT)

    settings.set(Key.EMBEDDED_LLM, "")
    dialog.controller.refresh()
    asked = answer(monkeypatch, QMessageBox.StandardButton.Yes)
    qtbot.mouseClick(dialog.remove_button, Qt.MouseButton.LeftButton)
    assert asked and "stay in" in asked[0]
    assert dialog.controller.row("local-tiny-chat") is None and gguf.exists()


def test_a_download_shows_progress_and_closing_asks_before_stopping_it(
        qtbot, settings, root, server, monkeypatch, styled):  # noqa: F811
    content = payload()
    e = answer_entry("tiny-answers", content)
    serve(server, e, content)
    server.delay_s = 0.05  # about 3 s for the file
    settings.set(Key.MODEL_MIRROR, server.url)
    controller = ModelsController(settings, FakeEngine(), catalog=[e, *ENTRIES], builtins=(),
                                  download_options=FAST)
    dialog = open_dialog(qtbot, ModelsDialog(settings, FakeEngine(), controller=controller))
    assert dialog.source_edit.text() == server.url
    dialog._select("tiny-answers")
    qtbot.mouseClick(dialog.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.progress_fraction() > 0.2, timeout=20_000)
    assert dialog.progress_bar.isVisible() and dialog.progress_bar.value() > 0
    assert " of 1.0 MB" in dialog.progress_label.text()
    assert dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
    dialog.resize(DEFAULT_SIZE)
    QApplication.processEvents()
    dialog.grab().save("/tmp/models_dialog_downloading.png")

    asked = answer(monkeypatch, QMessageBox.StandardButton.No)
    dialog.reject()
    assert asked and dialog.isVisible() and controller.downloading
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not controller.downloading, timeout=20_000)
    assert dialog.download_button.text() == "&Resume download"
    assert not dialog.progress_bar.isVisible() and "cancelled" in dialog.message_label.text()
