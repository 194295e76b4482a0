"""The analysis in the main window: on Stop the session's prompt is asked of the whole
transcript, the answer streams into the analysis panel and is saved with the session;
"Analyse…" does the same for a saved session with any prompt and model; failures are shown
on the panel while the window goes on working. The streaming session is the replay server of
tests/ui (the cloud path); the LLM Gateway is the replay server of this package."""

from __future__ import annotations

import pytest

from earmark import credentials
from earmark.analysis_settings import AnalysisSettings
from earmark.controllers.connections import GATEWAY_SERVICE
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.prompt_library import PromptLibrary
from earmark.core.session import SessionStore
from earmark.resources import resource
from earmark.settings import Key
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from earmark.workers.file_source import FileSource
from tests.analysis.gateway_replay import GatewayReplay
from tests.conftest import speech_file
from tests.support.replay_server import ReplayServer, load_scenario

KEY = "test-key"  # what the streaming replay server accepts


@pytest.fixture
def llm_gateway():
    with GatewayReplay(key=KEY) as server:
        yield server


@pytest.fixture
def window(qtbot, qloop, settings, memory_keyring, tmp_path, llm_gateway):
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    server = ReplayServer(load_scenario("normal")).__enter__()
    credentials.save_api_key(KEY)
    settings.set(Key.ENGINE, CLOUD_ENGINE)
    settings.set(Key.CLOUD_CUSTOM_URL, server.url)
    AnalysisSettings(True, ("gpt-5-mini",), llm_gateway.url).save(settings)
    library = PromptLibrary(resource("prompts"), tmp_path / "prompts")
    w = MainWindow(settings, EngineHost("whisper-tiny.en"),
                   make_source=lambda: FileSource(speech_file("misc/jfk.wav"), speed=None),
                   store=store, prompt_library=library)
    qtbot.addWidget(w)
    w.resize(1180, 860)
    w.show()
    yield w
    w.controller.shutdown()
    w.analysis.cancel()
    server.__exit__(None, None, None)


def run_session(qtbot, w: MainWindow) -> None:
    with qtbot.waitSignal(w.controller.session_ended, timeout=15_000):
        w.start_session()


def test_stop_streams_the_analysis_into_the_panel_and_saves_it(qtbot, window, llm_gateway):
    w = window
    pieces: list[str] = []
    w.analysis.delta.connect(pieces.append)
    with qtbot.waitSignal(w.analysis.finished, timeout=15_000):
        run_session(qtbot, w)
    assert len(pieces) == 6  # streamed, piece by piece
    body, auth = llm_gateway.requests[-1]
    assert auth == KEY and body["model"] == "claude-sonnet-4-6" and body["stream"] is True
    assert body["fallbacks"] == [{"model": "gpt-5-mini"}]
    question = body["messages"][-1]["content"]
    assert question.startswith("Provide a brief summary of the transcript.")
    assert "We need to ship the release Friday.\nWho owns the release notes?" in question
    panel = w.analysis_panel
    assert panel.isVisible() and not panel.cancel_button.isVisible()
    assert "Decisions: ship on Friday." in panel.text_view.toPlainText()
    assert "Brief summary · claude-sonnet-4-6" in panel.meta_label.text()
    saved = w.store.load(w.controller.saved_folder)
    assert saved.analysis.text == "Decisions: ship on Friday. Owner: Dana."
    assert (saved.analysis.model, saved.analysis.prompt) == ("claude-sonnet-4-6",
                                                             "Brief summary")
    w.grab().save("/tmp/analysis.png")


def test_analyse_a_saved_session_with_another_prompt_and_model(qtbot, window, llm_gateway):
    w = window
    AnalysisSettings(False, (), llm_gateway.url).save(w.settings)  # not on Stop
    run_session(qtbot, w)
    assert not llm_gateway.requests and not w.analysis_panel.isVisible()
    folder = w.controller.saved_folder
    prompt = w.prompt_library.get("action_items")
    with qtbot.waitSignal(w.analysis.finished, timeout=10_000):
        assert w.analysis_flow.analyse_folder(folder, prompt, GATEWAY_SERVICE, "gpt-5-mini")
    body = llm_gateway.bodies[-1]
    assert body["model"] == "gpt-5-mini"
    assert body["messages"][-1]["content"].startswith("Generate a set of action items")
    analysis = w.store.load(folder).analysis
    assert (analysis.model, analysis.prompt) == ("gpt-5-mini", "Action items")


@pytest.mark.parametrize(("model", "words"), [
    ("no-access", "Your account cannot use “no-access”"),
    ("drops", "dropped before the answer was complete"),
])
def test_a_failed_analysis_is_explained_on_the_panel(qtbot, window, llm_gateway, model, words):
    w = window
    AnalysisSettings(False, (), llm_gateway.url).save(w.settings)
    run_session(qtbot, w)
    prompt = w.prompt_library.get("summary")
    with qtbot.waitSignal(w.analysis.failed, timeout=10_000):
        w.analysis_flow.analyse_folder(w.controller.saved_folder, prompt, GATEWAY_SERVICE, model)
    assert words in w.analysis_panel.status
    assert w.store.load(w.controller.saved_folder).analysis is None
    if model == "drops":  # what arrived stays readable
        assert "Decisions: ship on" in w.analysis_panel.text_view.toPlainText()
    assert w.start_button.isEnabled()  # the app goes on


def test_cancel_button_stops_the_analysis(qtbot, window, llm_gateway):
    w = window
    AnalysisSettings(False, (), llm_gateway.url).save(w.settings)
    run_session(qtbot, w)
    with qtbot.waitSignal(w.analysis.started, timeout=5000):
        w.analysis_flow.analyse_folder(w.controller.saved_folder, w.prompt_library.get("summary"),
                         GATEWAY_SERVICE, "slow")
    assert w.analysis_panel.cancel_button.isVisible()
    with qtbot.waitSignal(w.analysis.cancelled, timeout=5000):
        w.analysis_panel.cancel_button.click()
    assert "Cancelled" in w.analysis_panel.status
    assert w.store.load(w.controller.saved_folder).analysis is None
