"""The whole-session analysis flow without a widget: what it analyses on Stop (the session's
prompt and LLM, when there is an LLM and the settings ask for it), what "Analyse…" offers and
the job a choice starts, and what it says when it cannot. The AnalysisController is a stand-in
that records the jobs; the sessions are real ones in a SessionStore in tmp_path."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtCore import QObject

from earmark import credentials
from earmark.analysis_settings import AnalysisSettings
from earmark.controllers.analysis import AnalysisJob
from earmark.controllers.analysis_flow import (
    ENGINE_ANALYSIS_MAX_TOKENS,
    GATEWAY_ANALYSIS_MAX_TOKENS,
    AnalyseOffer,
    AnalysisFlow,
)
from earmark.controllers.selector_choices import NO_LLM
from earmark.controllers.session_setup import SessionSetup
from earmark.core.catalog import CLOUD_ENGINE
from earmark.core.prompt_library import PromptLibrary
from earmark.core.session import Analysis, SessionMeta, SessionStore, TurnRecord
from earmark.core.session_lifecycle import SessionState
from earmark.resources import resource
from earmark.settings import Key
from earmark.workers.engine_host import EngineState
from tests.support.session_fakes import FakeEngineHost, FakeSession

GATEWAY = "http://127.0.0.1:9"  # set in Settings; never asked here


class RecordingAnalysis(QObject):
    """Takes every job, runs none."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: list[AnalysisJob] = []

    def start(self, job: AnalysisJob) -> bool:
        self.jobs.append(job)
        return True


@dataclass
class Rig:
    flow: AnalysisFlow
    setup: SessionSetup
    host: FakeEngineHost
    session: FakeSession
    store: SessionStore
    analysis: RecordingAnalysis
    messages: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unavailable: list[tuple[str, str, str, str]] = field(default_factory=list)
    offers: list[AnalyseOffer] = field(default_factory=list)


@pytest.fixture
def rig(qapp, settings, memory_keyring, tmp_path) -> Rig:
    settings.set(Key.ENGINE, CLOUD_ENGINE)
    AnalysisSettings(True, ("gpt-5-mini",), GATEWAY).save(settings)
    host, session = FakeEngineHost(), FakeSession()
    setup = SessionSetup(settings, host, session,
                         PromptLibrary(resource("prompts"), tmp_path / "prompts"))
    setup.publish()
    store = SessionStore(tmp_path / "sessions", use_trash=False)
    analysis = RecordingAnalysis()
    rig = Rig(AnalysisFlow(analysis, setup, lambda: store), setup, host, session, store,
              analysis)
    rig.flow.message.connect(rig.messages.append)
    rig.flow.problem.connect(rig.problems.append)
    rig.flow.unavailable.connect(lambda *args: rig.unavailable.append(args))
    rig.flow.choice_wanted.connect(rig.offers.append)
    return rig


def record(store: SessionStore, title: str, complete: bool = True) -> Path:
    recorder = store.create(SessionMeta(title=title, engine="embedded"))
    recorder.write_audio(b"\x00\x00" * 16_000 * 4)
    recorder.add_turn(TurnRecord(0, "We ship on Friday.", speaker="A"))
    recorder.add_turn(TurnRecord(1, "Who writes the notes?", speaker="B"))
    recorder.finish(None if complete else 2000)
    return recorder.folder


def run_session(rig: Rig, transcript: str) -> None:
    """A session with the current choices, ended with `transcript`."""
    credentials.save_api_key("test-key")
    rig.setup.start(rig.setup.session_config(lambda: None))
    rig.session.transcript = transcript
    rig.session.become(SessionState.FINISHED)


def test_on_stop_the_sessions_prompt_and_llm_read_the_whole_transcript(rig):
    run_session(rig, "A: We ship on Friday.\nB: Who writes the notes?")
    rig.setup.choose_prompt("action_items")  # not live: the finished session keeps its own
    assert rig.flow.analyse_finished_session()
    [job] = rig.analysis.jobs
    assert job.transcript == "A: We ship on Friday.\nB: Who writes the notes?"
    assert job.prompt == rig.setup.session_prompt and job.prompt.id == "summary"
    assert (job.model, job.title, job.save) == (rig.setup.llm, "this session", None)
    assert (job.service.base_url, job.service.credential) == (GATEWAY, "test-key")
    assert job.service.fallbacks == ("gpt-5-mini",)
    assert job.max_tokens == GATEWAY_ANALYSIS_MAX_TOKENS

    AnalysisSettings(False, (), GATEWAY).save(rig.setup.settings)
    assert not rig.flow.analyse_finished_session()
    assert len(rig.analysis.jobs) == 1


def test_no_analysis_without_an_llm_or_words(rig):
    rig.setup.choose_llm(NO_LLM)
    run_session(rig, "A: We ship on Friday.")
    assert not rig.flow.analyse_finished_session()
    rig.setup.choose_llm("gpt-5-mini")
    run_session(rig, "  ")
    assert not rig.flow.analyse_finished_session()
    assert rig.messages == ["Nothing to analyse: the transcript is empty."]
    assert not rig.analysis.jobs


def test_without_a_service_the_reason_goes_to_the_panel(rig):
    folder = record(rig.store, "Weekly sync")
    assert not rig.flow.analyse_choice(str(folder), "summary", "gateway|gpt-5")
    [(title, prompt_name, model, why)] = rig.unavailable
    assert (title, prompt_name, model) == ("Weekly sync", "Brief summary", "gpt-5")
    assert "API key" in why
    assert not rig.analysis.jobs


def test_analyse_offers_complete_sessions_every_prompt_and_the_models_it_can_reach(rig):
    weekly = record(rig.store, "Weekly sync")
    record(rig.store, "Cut short", complete=False)
    rig.flow.choose_and_analyse(str(weekly))
    [offer] = rig.offers
    assert offer.sessions == [(f"Weekly sync — {weekly.name}", str(weekly))]
    assert [p.id for p in offer.prompts] == [p.id for p in rig.setup.prompts.all()]
    assert all(data.startswith("gateway|") for _label, data in offer.models)  # engine not ready
    assert (offer.session, offer.prompt_id, offer.model) == (
        str(weekly), "summary", f"gateway|{rig.setup.llm}")

    rig.host.become(EngineState.READY)
    rig.flow.choose_and_analyse("")
    models = rig.offers[-1].models
    assert models[0] == ("SmolLM2 135M (tiny, experimental, offline) — embedded engine",
                         "engine|smollm2-135m")
    assert ("gpt-5 — AssemblyAI LLM Gateway", "gateway|gpt-5") in models


def test_a_chosen_session_is_analysed_and_the_result_saved_with_it(rig):
    folder = record(rig.store, "Weekly sync")
    rig.host.become(EngineState.READY)
    assert rig.flow.analyse_choice(str(folder), "action_items", "engine|smollm2-135m")
    [job] = rig.analysis.jobs
    assert job.transcript == "Speaker A: We ship on Friday.\nSpeaker B: Who writes the notes?"
    assert (job.prompt.id, job.model, job.title) == ("action_items", "smollm2-135m",
                                                     "Weekly sync")
    assert job.service.label == "embedded engine"
    assert job.max_tokens == ENGINE_ANALYSIS_MAX_TOKENS
    job.save(Analysis("Ship Friday.", "smollm2-135m", "Action items"))
    assert rig.store.load(folder).analysis.text == "Ship Friday."


def test_a_session_that_cannot_be_read_is_a_problem(rig, tmp_path):
    assert not rig.flow.analyse_folder(str(tmp_path / "sessions" / "gone"),
                                       rig.setup.prompts.get("summary"), "gateway", "gpt-5")
    [problem] = rig.problems
    assert problem.startswith("The session cannot be read:")
