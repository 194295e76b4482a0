"""The window's inputs as a user meets them: the device picker (remembered, refreshed, an
unplugged device refused), a silent input warned about, and recordings opened, dropped or passed
on the command line, transcribed by the embedded engine with a progress bar and saved."""

from __future__ import annotations

import re
import wave

import jiwer
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from earmark import credentials
from earmark.app import parse_args
from earmark.controllers.audio_devices import AudioDevices
from earmark.core.audio import FRAME_BYTES
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.session import SessionStatus, SessionStore
from earmark.settings import Key
from earmark.ui.main_window import MainWindow
from earmark.workers.audio_inputs import AudioInput, InputKind
from earmark.workers.engine_host import EngineHost, EngineState
from earmark.workers.file_source import FileSource
from tests.conftest import speech_file

MIC = AudioInput("pa:ALSA:USB Mic", "USB Mic", InputKind.DEVICE, False, "USB Mic", "ALSA")
BUILT_IN = AudioInput("pa:ALSA:Built-in", "Built-in", InputKind.DEVICE, True, "Built-in", "ALSA")
MONITOR = AudioInput("pulse:speakers.monitor", "System audio (Speakers)", InputKind.SYSTEM_AUDIO,
                     pulse_source="speakers.monitor")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


class FakeDevices:
    """What the audio system reports; tests plug and unplug."""

    def __init__(self, *inputs: AudioInput) -> None:
        self.inputs = list(inputs)

    def __call__(self) -> list[AudioInput]:
        return list(self.inputs)


def choose(window: MainWindow, label: str) -> None:
    index = window.input_picker.findText(label)
    assert index >= 0, [window.input_picker.itemText(i)
                        for i in range(window.input_picker.count())]
    window.input_picker.setCurrentIndex(index)
    window.input_picker.activated.emit(index)


def test_the_device_picker_lists_remembers_and_refuses_an_unplugged_device(qtbot, settings):
    present = FakeDevices(BUILT_IN, MIC, MONITOR)
    devices = AudioDevices(lister=present, fingerprint=lambda: None)
    w = MainWindow(settings, EngineHost("whisper-tiny.en"), devices=devices)
    qtbot.addWidget(w)
    w.show()
    devices.refresh()
    items = [w.input_picker.itemText(i) for i in range(w.input_picker.count())]
    assert items == ["Default input (Built-in)", "Built-in (default)", "USB Mic",
                     "System audio (Speakers)", "Call: microphone + System audio (Speakers)"]

    choose(w, "USB Mic")
    assert settings.get(Key.INPUT_DEVICE) == MIC.key
    assert w._microphone().device == MIC  # the session records from the chosen device

    present.inputs = [BUILT_IN, MONITOR]  # unplugged
    devices.refresh()
    assert w.input_picker.currentText() == "USB Mic (not connected)"
    w.start_session()
    assert not w.controller.active
    assert "USB Mic (not connected): plug it in, or choose another input" in w.banner.text

    present.inputs = [BUILT_IN, MIC, MONITOR]  # plugged back in: chosen again
    devices.refresh()
    assert w.input_picker.currentText() == "USB Mic"

    # a new window (the next launch) starts with the remembered choice
    again = MainWindow(settings, EngineHost("whisper-tiny.en"),
                       devices=AudioDevices(lister=present, fingerprint=lambda: None))
    qtbot.addWidget(again)
    again.devices.refresh()
    assert again.input_picker.currentText() == "USB Mic"


def test_a_call_records_the_microphone_and_the_chosen_output_as_two_sources(
        qtbot, settings, memory_keyring):
    credentials.save_api_key("test-key")
    settings.set(Key.ENGINE, CLOUD_ENGINE)  # ready at once; the embedded engine is not started
    devices = AudioDevices(lister=FakeDevices(BUILT_IN, MIC, MONITOR), fingerprint=lambda: None)
    w = MainWindow(settings, EngineHost("whisper-tiny.en"), devices=devices)
    qtbot.addWidget(w)
    devices.refresh()
    started = []
    w.setup.start = started.append  # the configuration a Start builds, not the session
    choose(w, "Call: microphone + System audio (Speakers)")
    w.start_session()
    (config,) = started
    assert config.make_source().device == BUILT_IN  # "You": the default microphone
    assert config.system_source().device == MONITOR  # the other side
    choose(w, "USB Mic")
    w.start_session()
    assert started[-1].system_source is None


class SilentThenSpeech(FileSource):
    """A live input that is digitally silent for 4 s, then carries speech."""

    live = True

    def __init__(self) -> None:
        super().__init__(speech_file("misc/jfk.wav"), speed=None)
        self.description = "USB Mic"
        self.silent_frames = 80

    def read(self) -> bytes | None:
        if self.silent_frames:
            self.silent_frames -= 1
            return bytes(FRAME_BYTES)
        return super().read()


def test_a_silent_input_is_warned_about_and_the_warning_goes_when_sound_comes(qtbot, window):
    w, _server = window("normal", source=SilentThenSpeech)
    shown: list[str] = []
    w.controller.input_warning.connect(lambda _text: shown.append(w.banner.text))
    with qtbot.waitSignal(w.controller.input_recovered, timeout=10_000):
        w.start_session()
    assert shown == ["No sound from USB Mic: check the input or its mute switch."]
    qtbot.waitUntil(lambda: not w.banner.text, timeout=2000)
    qtbot.waitSignal(w.controller.session_ended, timeout=15_000).wait()


def test_an_unreadable_file_gets_a_clear_message_and_no_session(qtbot, settings, tmp_path):
    w = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(w)
    w.show()
    notes = tmp_path / "notes.mp3"
    notes.write_text("these are meeting notes, not a recording")
    assert not w.open_file(notes)
    assert "notes.mp3 is not an audio file Earmark can read" in w.banner.text
    assert not w.controller.active
    assert not w.open_file(tmp_path / "gone.wav")
    assert "gone.wav could not be found" in w.banner.text


def dropped(mime: QMimeData, path) -> QDropEvent:
    """A drop of `path`; the caller keeps `mime` alive (the event does not own it)."""
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)


@pytest.fixture
def engine():
    host = EngineHost("whisper-tiny.en")
    yield host
    host.stop()


def test_a_dropped_recording_is_transcribed_by_the_embedded_engine_and_saved(
        qtbot, settings, tmp_path, engine):
    # `earmark FILE` asks before the engine is ready; the file starts once it is
    assert parse_args(["earmark", "meeting.flac"]).file == "meeting.flac"
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    w = MainWindow(settings, engine, store=store)
    qtbot.addWidget(w, before_close_func=lambda win: win.controller.shutdown())
    w.show()
    recording = speech_file("misc/jfk.wav")
    w.open_file_when_ready(recording)
    assert not w.controller.active
    progress: list[tuple[int, int]] = []
    w.controller.progress.connect(lambda pos, total: progress.append((pos, total)))
    engine.start()
    qtbot.waitUntil(lambda: w.controller.active, timeout=60_000)
    assert engine.state == EngineState.READY
    assert not w.open_file_action.isEnabled() and not w.input_picker.isEnabled()
    qtbot.waitUntil(lambda: w.status.progress.isVisible(), timeout=10_000)
    assert re.search(r"\d+% · (starting…|\d+:\d\d left)", w.status.progress.text())
    with qtbot.waitSignal(w.controller.session_ended, timeout=60_000):
        pass
    assert not w.status.progress.isVisible()
    assert progress[-1][0] >= progress[-1][1] - 100 and progress[-1][1] > 10_000

    heard = " ".join(c.body for c in w.controller.transcript.cards())
    reference = words(recording.with_suffix(".txt").read_text())
    error_rate = jiwer.wer(" ".join(reference), " ".join(words(heard)))
    assert error_rate < 0.25, heard
    saved = store.load(w.controller.saved_folder)
    assert saved.meta.title == "jfk" and saved.meta.status == SessionStatus.COMPLETE
    assert [t.text for t in saved.turns] == [c.body for c in w.controller.transcript.cards()]
    with wave.open(str(saved.audio_path)) as wav, wave.open(str(recording)) as original:
        assert abs(wav.getnframes() - original.getnframes()) < 16000 * 0.1
        kept = np.frombuffer(wav.readframes(wav.getnframes()), np.int16)
        assert np.abs(kept).max() > 1000  # the audio itself, not silence

    # a second recording, dropped on the window, starts the next session
    mime = QMimeData()
    w.dropEvent(dropped(mime, recording))
    assert w.controller.active
    w.controller.stop_session()  # Stop works at any point
    qtbot.waitSignal(w.controller.session_ended, timeout=15_000).wait()
    assert len(store.list_sessions()) == 2
