"""What the session controls say and allow in each state: the Start button ("Loading…" while
the embedded engine starts, "Stopping…" while the last turn is finished), which choices can
change now; the engine's label in the status bar, and what the banner says about it."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.catalog import CLOUD_ENGINE, EMBEDDED_ENGINE
from ..workers.engine_host import EngineState
from .live_session import LiveSessionController, SessionState

ENGINE_BUSY = (EngineState.LOADING, EngineState.STOPPED, EngineState.RESTARTING)


@dataclass(frozen=True, slots=True)
class Controls:
    start_text: str  # "Start", "Loading…", "Stop", "Stopping…"
    live: bool  # a session runs: the button stops it
    start_enabled: bool
    choices_enabled: bool  # engine, models, input, a file: only between sessions
    prompt_enabled: bool  # also while live with an LLM (it answers from the next turn)
    can_export: bool  # the last session, once it has ended


def session_controls(session: LiveSessionController, engine: str,
                     engine_state: EngineState) -> Controls:
    state, idle = session.state, not session.active
    loading = engine == EMBEDDED_ENGINE and engine_state in ENGINE_BUSY
    if idle:
        text = "Loading…" if loading else "Start"
    else:
        text = "Stopping…" if state == SessionState.STOPPING else "Stop"
    config = session.last_config
    answering = config is not None and bool(config.llm_model)
    return Controls(text, live=not idle,
                    start_enabled=not loading and state != SessionState.STOPPING,
                    choices_enabled=idle,
                    prompt_enabled=idle or (state == SessionState.LIVE and answering),
                    can_export=idle and bool(session.saved_folder))


def engine_label(engine: str, engine_state: EngineState) -> str:
    if engine == CLOUD_ENGINE:
        return "AssemblyAI cloud"
    return f"Embedded: {engine_state.value}"


def engine_notice(state: EngineState, message: str) -> tuple[str, str] | None:
    """(text, kind) for the banner when the embedded engine failed, restarts or restarted."""
    if state in (EngineState.MISSING, EngineState.FAILED):
        return message, "error"
    if state == EngineState.RESTARTING:
        return message, "warning"
    return (message, "info") if "restarted" in message else None
