"""Whole-session analysis as the window offers it: on Stop with the session's prompt and LLM,
and on demand for any saved session with any prompt and model (the UI asks which through
`choice_wanted`). The answer streams from the AnalysisController; it is saved with the
session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from ..analysis_settings import AnalysisSettings
from ..core.prompts import Prompt
from ..core.session import Analysis, SessionError, SessionStatus, SessionStore
from ..core.session.speakers import transcript_lines
from ..workers.engine_host import EngineState
from .analysis import AnalysisController, AnalysisJob
from .connections import ENGINE_SERVICE, GATEWAY_SERVICE, SessionSetupError, analysis_service
from .session_setup import SessionSetup

GATEWAY_ANALYSIS_MAX_TOKENS = 4000
ENGINE_ANALYSIS_MAX_TOKENS = 384  # a local CPU model: brief, and done in seconds

SaveAnalysis = Callable[[Analysis], None]


@dataclass(frozen=True, slots=True)
class AnalyseOffer:
    """What "Analyse…" offers: (label, data) pairs, and what is chosen at first. A model's
    data is "<service>|<model id>"."""

    sessions: list[tuple[str, str]]
    prompts: list[Prompt]
    models: list[tuple[str, str]]
    session: str
    prompt_id: str
    model: str


class AnalysisFlow(QObject):
    message = Signal(str)  # transient, for the status bar
    problem = Signal(str)  # a session that cannot be listed or read
    unavailable = Signal(str, str, str, str)  # title, prompt name, model, why: no service
    choice_wanted = Signal(object)  # AnalyseOffer: the UI asks, then calls analyse_choice

    def __init__(self, analysis: AnalysisController, setup: SessionSetup,
                 store: Callable[[], SessionStore | None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.analysis = analysis
        self.setup = setup
        self.prompts = setup.prompts
        self._store = store

    def start(self, transcript: str, prompt: Prompt, model: str, service_kind: str,
              title: str, save: SaveAnalysis | None) -> bool:
        if not transcript.strip():
            self.message.emit("Nothing to analyse: the transcript is empty.")
            return False
        try:
            service = self.setup.connections.llm_service(service_kind)
        except SessionSetupError as exc:
            self.unavailable.emit(title, prompt.name, model, str(exc))
            return False
        max_tokens = ENGINE_ANALYSIS_MAX_TOKENS if service_kind == ENGINE_SERVICE \
            else GATEWAY_ANALYSIS_MAX_TOKENS
        return self.analysis.start(AnalysisJob(transcript, prompt, model, service, title,
                                               max_tokens, save))

    def analyse_finished_session(self) -> bool:
        """On Stop: the session's prompt on its whole transcript, with the session's LLM, when
        it had one and the settings ask for it."""
        session, prompt = self.setup.session, self.setup.session_prompt
        config = session.last_config
        if config is None or prompt is None or not config.llm_model \
                or not AnalysisSettings.load(self.setup.settings).analyse_on_stop:
            return False
        recorder = session.finished_recorder
        save = None
        if recorder is not None:
            def save(analysis: Analysis) -> None:
                if not recorder.set_analysis(analysis):
                    raise SessionError(recorder.last_error or "the disk refused it")
        transcript = session.assembler.full_text(session.speaker_names)
        return self.start(transcript, prompt, config.llm_model,
                          analysis_service(self.setup.session_engine), "this session", save)

    def choose_and_analyse(self, session: str) -> None:
        """Offer every complete saved session (`session` first), every prompt, the engine's
        models once it is ready and the Gateway's; the current choices first."""
        store = self._store()
        if store is None:
            return
        try:
            summaries = store.list_sessions()
        except OSError as exc:
            self.problem.emit(f"The sessions cannot be listed: {exc}")
            return
        setup = self.setup
        sessions = [(f"{s.title or s.folder.name} — {s.folder.name}", str(s.folder))
                    for s in summaries if s.status == SessionStatus.COMPLETE]
        engine_models = setup.llms.engine_models \
            if setup.engine_host.state == EngineState.READY else []
        models = [(f"{label} — embedded engine", f"{ENGINE_SERVICE}|{model_id}")
                  for label, model_id in engine_models]
        models += [(f"{label} — AssemblyAI LLM Gateway", f"{GATEWAY_SERVICE}|{model_id}")
                   for model_id, label in setup.llms.gateway.choices]
        self.choice_wanted.emit(AnalyseOffer(
            sessions, self.prompts.all(), models, session, setup.prompt_id,
            f"{analysis_service(setup.engine)}|{setup.llm}"))

    def analyse_choice(self, folder: str, prompt_id: str, model: str) -> bool:
        """What the user chose from an AnalyseOffer."""
        service_kind, _, model_id = model.partition("|")
        return self.analyse_folder(folder, self.prompts.get(prompt_id), service_kind, model_id)

    def analyse_folder(self, folder: str, prompt: Prompt | None, service_kind: str,
                       model: str) -> bool:
        store = self._store()
        if store is None or prompt is None:
            return False
        try:
            saved = store.load(folder)
        except (SessionError, OSError) as exc:
            self.problem.emit(f"The session cannot be read: {exc}")
            return False
        transcript = transcript_lines([(t.speaker, t.text) for t in saved.turns],
                                      saved.meta.speakers)
        return self.start(transcript, prompt, model, service_kind,
                          saved.meta.title or saved.folder.name,
                          lambda analysis: store.set_analysis(saved.folder, analysis))
