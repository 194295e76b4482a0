"""The speech selector: a model whose files are not installed is listed, disabled, with how to
get it; choosing another model restarts the embedded engine with it."""

from __future__ import annotations

import importlib.util

from PySide6.QtCore import Qt

from earmark.core.catalog import SPEECH_MODELS, is_installed
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost


class RecordingHost(EngineHost):
    """The real host, minus the child process: records what the window asks of it."""

    def __init__(self) -> None:
        super().__init__("whisper-tiny.en")
        self.asked: list[str] = []

    def set_speech_model(self, speech_model: str) -> None:
        self.asked.append(speech_model)
        super().set_speech_model(speech_model)


def test_a_model_that_is_not_installed_is_disabled_with_how_to_get_it(qtbot, settings):
    base = next(m for m in SPEECH_MODELS if m.id == "whisper-base")
    assert is_installed(base) == all(importlib.util.find_spec(p) for p in base.requires)
    window = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(window)
    combo = window.speech_combo
    row = combo.findData("whisper-base")
    item = combo.model().item(row)
    if is_installed(base):
        assert item.isEnabled()
    else:
        assert not item.isEnabled()
        assert combo.itemText(row).endswith("not installed")
        assert "pip install" in combo.itemData(row, Qt.ItemDataRole.ToolTipRole)
    assert combo.model().item(combo.findData("whisper-tiny.en")).isEnabled()


def test_choosing_a_speech_model_restarts_the_engine_with_it(qtbot, settings):
    host = RecordingHost()
    window = MainWindow(settings, host)
    qtbot.addWidget(window)
    combo = window.speech_combo
    combo.addItem("Another Whisper", "tiny.en-bundled")  # a name the engine also loads
    combo.setCurrentIndex(combo.findData("tiny.en-bundled"))
    combo.activated.emit(combo.currentIndex())
    assert host.asked == ["tiny.en-bundled"]
    assert host.speech_model == "tiny.en-bundled"
