"""The whole product offline: the main window, the in-process embedded engine, and real speech
played into the virtual microphone. Checks what a user sees: the engine becomes ready, the LLM
selector lists the engine's models, words appear, turns are finalised, answers arrive."""

from __future__ import annotations

import re

import jiwer
import pytest
from PySide6.QtCore import Qt

from earmark.controllers.card_model import CardState
from earmark.core.session import SessionStore
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost, EngineState
from tests.conftest import speech_file
from tests.support.virtual_mic import play, start_virtual_mic

SPEECH = "misc/jfk.wav"  # "... ask not what your country can do for you, ask what you can do ..."


@pytest.fixture(scope="module")
def virtual_mic():
    start_virtual_mic()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def test_a_spoken_session_with_the_embedded_engine(qtbot, virtual_mic, settings, tmp_path):
    engine = EngineHost("whisper-tiny.en")
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    window = MainWindow(settings, engine, store=store)  # the default microphone
    qtbot.addWidget(window)
    window.show()
    engine.start()
    assert window.start_button.text() == "Loading…" and not window.start_button.isEnabled()
    qtbot.waitUntil(lambda: engine.state == EngineState.READY, timeout=60_000)
    assert window.start_button.text() == "Start" and window.start_button.isEnabled()
    # the LLM selector shows what the engine's GET /v1/models lists; with only the demo model
    # installed, answers are off until the user picks it
    combo = window.llm_combo
    qtbot.waitUntil(lambda: combo.findData("smollm2-135m") >= 0
                    and "tiny experimental" in combo.itemText(combo.findData("smollm2-135m")),
                    timeout=5000)
    assert combo.currentText() == "None (transcript only)"
    combo.setCurrentIndex(combo.findData("smollm2-135m"))

    with qtbot.waitSignal(window.controller.level_changed, timeout=10_000):  # capture runs
        qtbot.mouseClick(window.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.state == "live", timeout=10_000)
    player = play(speech_file(SPEECH))
    seen_provisional = []
    window.controller.transcript.dataChanged.connect(lambda *_: seen_provisional.append(
        any(c.state == CardState.PROVISIONAL for c in window.controller.transcript.cards())))
    qtbot.waitUntil(lambda: player.poll() is not None, timeout=30_000)
    qtbot.wait(1500)  # the last turn ends after a pause
    with qtbot.waitSignal(window.controller.session_ended, timeout=15_000):
        window.controller.stop_session()
    engine.stop()

    transcript = window.controller.transcript.cards()
    heard = words(" ".join(c.body for c in transcript))
    assert all(c.state == CardState.FINAL for c in transcript)
    assert any(seen_provisional)  # words appeared before their turn was final
    reference = words(speech_file(SPEECH).with_suffix(".txt").read_text())
    error_rate = jiwer.wer(" ".join(reference), " ".join(heard))
    assert error_rate < 0.2, f"WER {error_rate:.2f}: {' '.join(heard)}"
    assert transcript[0].title == "Turn 1" and re.fullmatch(r"\d\d:\d\d", transcript[0].meta)
    answers = window.controller.answers.cards()
    assert answers and all(a.state == CardState.FINAL and a.body for a in answers)
    assert all("demo model: may be invented" in a.meta for a in answers)
    assert "all transcribed" in window.status.currentMessage()
    saved = store.load(window.controller.saved_folder)
    assert [t.text for t in saved.turns] == [c.body for c in transcript]
