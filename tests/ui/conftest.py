"""The main window against a real websocket server replaying a recorded AssemblyAI session
(the cloud path), with its sessions saved in tmp_path."""

from __future__ import annotations

import pytest

from earmark import credentials
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.session import SessionStore
from earmark.settings import Key
from earmark.ui import export_dialog
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from earmark.workers.file_source import REALTIME, FileSource
from tests.conftest import speech_file
from tests.support.replay_server import ReplayServer, load_scenario

SPEECH = "misc/jfk.wav"


@pytest.fixture(autouse=True)
def fresh_export_memory(monkeypatch):
    """The export dialog remembers the last folder and format for the rest of the app's run;
    each test starts as a new run does (the remembered dict is a copy of the untouched one)."""
    monkeypatch.setattr(export_dialog, "_last", dict(export_dialog._last))


@pytest.fixture
def store(tmp_path):
    return SessionStore(tmp_path / "sessions", use_trash=False)


@pytest.fixture
def window(qtbot, settings, memory_keyring, store):
    def make(scenario: str, key: str = "test-key", realtime: bool = True,
             source=None, then: tuple[str, ...] = ()) -> tuple[MainWindow, ReplayServer]:
        server = ReplayServer(load_scenario(scenario),
                              then=[load_scenario(name) for name in then]).__enter__()
        servers.append(server)
        credentials.save_api_key(key)
        settings.set(Key.ENGINE, CLOUD_ENGINE)
        settings.set(Key.CLOUD_CUSTOM_URL, server.url)
        w = MainWindow(settings, EngineHost("whisper-tiny.en"),
                       make_source=source or (lambda: FileSource(
                           speech_file(SPEECH), speed=REALTIME if realtime else None)),
                       store=store)
        # pytest-qt closes its widgets before fixture teardown: a test that failed mid-session
        # must still end the session, threads included, before the window goes.
        qtbot.addWidget(w, before_close_func=lambda win: win.controller.shutdown())
        w.show()
        return w, server

    servers: list[ReplayServer] = []
    yield make
    for server in servers:
        server.__exit__(None, None, None)
