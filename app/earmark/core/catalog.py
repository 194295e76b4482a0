"""The speech and LLM models Earmark offers before any server has been asked."""

from __future__ import annotations

from dataclasses import dataclass

EMBEDDED_ENGINE = "embedded"
CLOUD_ENGINE = "cloud"


@dataclass(frozen=True, slots=True)
class ModelChoice:
    id: str
    label: str
    engine: str  # EMBEDDED_ENGINE or CLOUD_ENGINE


SPEECH_MODELS: tuple[ModelChoice, ...] = (
    ModelChoice("whisper-tiny.en", "Whisper tiny.en (offline)", EMBEDDED_ENGINE),
    ModelChoice("whisper-base", "Whisper base (offline, optional)", EMBEDDED_ENGINE),
    ModelChoice("u3-rt-pro", "Universal-3 Pro", CLOUD_ENGINE),
    ModelChoice("universal-streaming-english", "Universal-Streaming English", CLOUD_ENGINE),
    ModelChoice("universal-streaming-multilingual", "Universal-Streaming Multilingual",
                CLOUD_ENGINE),
    ModelChoice("whisper-rt", "Whisper streaming", CLOUD_ENGINE),
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

DEFAULT_CLOUD_SPEECH_MODEL = "u3-rt-pro"
DEFAULT_EMBEDDED_SPEECH_MODEL = "whisper-tiny.en"
DEFAULT_CLOUD_LLM = "claude-sonnet-4-6"
DEFAULT_EMBEDDED_LLM = "smollm2-135m"


def speech_models_for(engine: str) -> list[ModelChoice]:
    return [m for m in SPEECH_MODELS if m.engine == engine]
