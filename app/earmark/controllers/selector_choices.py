"""What the session selectors list, as plain data the window renders: the engines, the speech
models (one not installed stays listed, disabled, saying how to get it), the LLMs (the
Gateway's grouped by provider, then "None") and the prompts (built-ins, the user's, a custom
one); and what the answer pane says while it is empty."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.catalog import (
    CLOUD_ENGINE,
    EMBEDDED_ENGINE,
    is_demo_model,
    is_installed,
    speech_models_for,
)
from ..core.prompt_library import PromptLibrary
from .llm_models import ModelList

NO_LLM = ""
CUSTOM_PROMPT_ID = "custom"
ENGINES = ((EMBEDDED_ENGINE, "Embedded (offline)"), (CLOUD_ENGINE, "AssemblyAI cloud"))


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    data: str
    enabled: bool = True
    tooltip: str = ""


Entry = Choice | None  # None: a separator


@dataclass(frozen=True, slots=True)
class ChoiceList:
    entries: tuple[Entry, ...]
    selected: str  # the data of the entry shown as chosen
    tooltip: str = ""  # the selector's own, when it depends on the list


def choice_list(entries: list[Entry], wanted: str | None, tooltip: str = "") -> ChoiceList:
    """`wanted` if it is listed, else the first entry (a remembered model may be gone)."""
    data = [entry.data for entry in entries if entry is not None]
    selected = wanted if wanted in data else (data[0] if data else "")
    return ChoiceList(tuple(entries), selected or "", tooltip)


def engine_choices(wanted: str) -> ChoiceList:
    return choice_list([Choice(label, engine) for engine, label in ENGINES], wanted)


def speech_choices(engine: str, downloaded: list[tuple[str, str]], wanted: str) -> ChoiceList:
    """The engine's built-in models, then the Whisper folders downloaded (label, folder)."""
    entries: list[Entry] = [
        Choice(m.label, m.id) if is_installed(m)
        else Choice(f"{m.label}: not installed", m.id, enabled=False, tooltip=m.install_hint)
        for m in speech_models_for(engine)]
    entries += [Choice(label, folder) for label, folder in downloaded]
    return choice_list(entries, wanted)


def llm_choices(engine: str, engine_models: list[tuple[str, str]], gateway: ModelList,
                wanted: str) -> ChoiceList:
    """The engine's models (label, id), or the Gateway's grouped by provider; then "None"."""
    if engine == EMBEDDED_ENGINE:
        entries: list[Entry] = [Choice(label, model_id) for label, model_id in engine_models]
        source = "the embedded engine's models"
    else:
        entries = grouped([Choice(label, model_id) for model_id, label in gateway.choices])
        source = gateway.describe()
    entries += [None, Choice("None (transcript only)", NO_LLM)]
    return choice_list(entries, wanted, f"LLM that answers each turn; from {source}")


def prompt_choices(library: PromptLibrary, wanted: str | None) -> ChoiceList:
    """Built-in prompts, the user's, then a one-off custom prompt; each shows its template."""
    entries: list[Entry] = []
    for group in (library.builtins, library.user):
        if group and entries:
            entries.append(None)
        entries += [Choice(p.name, p.id, tooltip=p.turn_template) for p in group]
    entries += [None, Choice("Custom prompt…", CUSTOM_PROMPT_ID)]
    return choice_list(entries, wanted)


def grouped(choices: list[Choice]) -> list[Entry]:
    """A separator wherever the provider named after the label's " — " changes."""
    def provider(label: str) -> str:
        return label.rpartition(" — ")[2] if " — " in label else ""

    out: list[Entry] = []
    for choice in choices:
        last = out[-1] if out else None
        if last is not None and provider(last.label) != provider(choice.label):
            out.append(None)
        out.append(choice)
    return out


def answer_pane_hint(model: str, engine: str) -> str:
    """What the empty answer pane says: what it will show, or how to get answers."""
    if not model:
        where = ("choose a model you downloaded or added, run Ollama or LM Studio (listed "
                 "automatically), or use the AssemblyAI cloud"
                 if engine == EMBEDDED_ENGINE else "choose an LLM Gateway model")
        return ("Answers are off: the transcript only.\nFor an answer beside every turn, "
                f"{where} in the LLM selector above.")
    if is_demo_model(model):
        return ("SmolLM2-135M is a tiny demo model: its answers are often invented.\nFor real "
                "answers choose a downloaded model, Ollama, LM Studio or the cloud.")
    return "The LLM's answer to each finished turn appears here, next to its turn."
