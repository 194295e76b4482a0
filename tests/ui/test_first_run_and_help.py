"""What a first-time user meets, and the Help menu: the offline-ready hint until dismissed, the
log folder, and the About box with versions and every model's license."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QToolButton

from earmark import __version__
from earmark.logging_setup import log_dir
from earmark.settings import Key
from earmark.ui.about_dialog import AboutDialog, RunningModels
from earmark.ui.main_window import WELCOME_TOPIC, MainWindow
from earmark.workers.engine_host import EngineHost


def make_window(qtbot, settings) -> MainWindow:
    window = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(window)
    window.show()
    return window


def test_the_first_run_hint_says_it_works_offline_until_dismissed(qtbot, settings):
    window = make_window(qtbot, settings)
    assert window.engine_combo.currentText() == "Embedded (offline)"
    assert "works offline" in window.banner.text and "File → Settings" in window.banner.text
    window.banner.findChild(QToolButton).click()  # ✕
    assert not window.banner.isVisible()
    assert settings.get(Key.HINT_DISMISSED)
    assert make_window(qtbot, settings).banner.text == ""  # next launch: gone for good


def test_a_problem_replaces_the_hint_and_closing_it_does_not_dismiss_the_hint(qtbot, settings):
    window = make_window(qtbot, settings)
    window.banner.show_message("No microphone found.", "error")
    window.banner.findChild(QToolButton).click()
    assert not settings.get(Key.HINT_DISMISSED)
    assert make_window(qtbot, settings).banner.topic == WELCOME_TOPIC


def test_help_opens_the_log_folder(qtbot, settings, monkeypatch):
    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl",
                        staticmethod(lambda url: opened.append(url) or True))
    window = make_window(qtbot, settings)
    window.log_folder_action.trigger()
    assert [u.toLocalFile() for u in opened] == [str(log_dir())]


def test_about_names_the_version_the_running_models_and_their_licenses(qtbot):
    dialog = AboutDialog(RunningModels("Embedded: ready", "Whisper tiny.en (offline)",
                                       "SmolLM2 135M (tiny, experimental, offline)"))
    qtbot.addWidget(dialog)
    text = dialog.browser.toPlainText()
    assert f"Earmark {__version__}" in text and "MIT license" in text
    assert "Engine: Embedded: ready" in text and "Speech model: Whisper tiny.en" in text
    notices = text[text.index("Models"):].splitlines()
    for model, license_ in (("Whisper tiny.en", "MIT"), ("Silero VAD", "MIT"),
                            ("SmolLM2-135M-Instruct", "Apache-2.0")):
        at = next(i for i, line in enumerate(notices) if model in line)
        assert any(license_ in line for line in notices[at:at + 3]), notices[at:at + 3]
    assert "PySide6" not in text or "LGPL-3.0" in text
    assert "faster-whisper 1." in text  # installed versions are shown
