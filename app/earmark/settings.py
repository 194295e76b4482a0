"""Typed settings over QSettings: every key and its default in one place.

API keys are not settings: they live in the OS keyring (see `credentials.py`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from PySide6.QtCore import QSettings

from .core.catalog import (
    DEFAULT_CLOUD_LLM,
    DEFAULT_CLOUD_SPEECH_MODEL,
    DEFAULT_EMBEDDED_LLM,
    DEFAULT_EMBEDDED_SPEECH_MODEL,
    EMBEDDED_ENGINE,
)


class Key(StrEnum):
    ENGINE = "session/engine"
    CLOUD_REGION = "cloud/region"
    CLOUD_CUSTOM_URL = "cloud/custom_url"
    EMBEDDED_SPEECH_MODEL = "embedded/speech_model"
    CLOUD_SPEECH_MODEL = "cloud/speech_model"
    EMBEDDED_LLM = "embedded/answer_model"  # "": none chosen yet (was embedded/llm_model)
    CLOUD_LLM = "cloud/llm_model"
    PROMPT_ID = "session/prompt_id"
    CUSTOM_PROMPT = "session/custom_prompt"
    FORMAT_TURNS = "session/format_turns"
    INPUT_DEVICE = "audio/input_device"
    WINDOW_GEOMETRY = "window/geometry"
    WINDOW_STATE = "window/state"
    SPLITTER_STATE = "window/splitter"
    HINT_DISMISSED = "window/first_run_hint_dismissed"
    SESSIONS_DIR = "sessions/folder"
    ANALYSE_ON_STOP = "analysis/on_stop"
    ANALYSIS_FALLBACKS = "analysis/fallback_models"  # comma-separated, at most two
    ANALYSIS_GATEWAY_URL = "analysis/gateway_url"
    SPEAKER_LABELS = "transcription/speaker_labels"
    MAX_SPEAKERS = "transcription/max_speakers"  # 0: any number
    VOCABULARY = "transcription/vocabulary"  # names and terms, comma-separated
    RECONNECT_FOR_S = "session/reconnect_for_s"  # how long a lost connection is tried again
    GATEWAY_MODELS = "cloud/llm_models"  # the last GET /v1/models, as JSON with its time
    MODEL_MIRROR = "models/mirror"  # download source instead of huggingface.co; "": none


_DEFAULTS: dict[Key, Any] = {
    Key.ENGINE: EMBEDDED_ENGINE,
    Key.CLOUD_REGION: "edge",
    Key.CLOUD_CUSTOM_URL: "",
    Key.EMBEDDED_SPEECH_MODEL: DEFAULT_EMBEDDED_SPEECH_MODEL,
    Key.CLOUD_SPEECH_MODEL: DEFAULT_CLOUD_SPEECH_MODEL,
    Key.EMBEDDED_LLM: DEFAULT_EMBEDDED_LLM,
    Key.CLOUD_LLM: DEFAULT_CLOUD_LLM,
    Key.PROMPT_ID: "summary",
    Key.CUSTOM_PROMPT: "",
    Key.FORMAT_TURNS: True,
    Key.INPUT_DEVICE: "",
    Key.WINDOW_GEOMETRY: None,
    Key.WINDOW_STATE: None,
    Key.SPLITTER_STATE: None,
    Key.HINT_DISMISSED: False,
    Key.SESSIONS_DIR: "",
    Key.ANALYSE_ON_STOP: True,
    Key.ANALYSIS_FALLBACKS: "",
    Key.GATEWAY_MODELS: "",
    Key.RECONNECT_FOR_S: 120,
    Key.SPEAKER_LABELS: False,
    Key.MAX_SPEAKERS: 0,
    Key.VOCABULARY: "",
    Key.ANALYSIS_GATEWAY_URL: "",
    Key.MODEL_MIRROR: "",
}


class Settings:
    """Reads return the stored value converted to the default's type, or the default."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings()

    def get(self, key: Key) -> Any:
        default = _DEFAULTS[key]
        value = self._q.value(key.value, default)
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in {"true", "1"}
        if isinstance(default, str):
            return "" if value is None else str(value)
        return value

    def set(self, key: Key, value: Any) -> None:
        self._q.setValue(key.value, value)

    def sync(self) -> None:
        self._q.sync()
