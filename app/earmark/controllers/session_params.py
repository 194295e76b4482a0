"""What a session asks of the server, from the choices: the streaming parameters, with the
per-turn LLM request when answers are on, and the settings keys each engine's choices are
remembered under."""

from __future__ import annotations

from ..core.catalog import EMBEDDED_ENGINE
from ..core.grounded_prompts import turn_llm_gateway
from ..core.prompts import Prompt
from ..core.protocol import LLMGatewayConfig, StreamingParams
from ..settings import Key, Settings
from ..transcription_settings import TranscriptionSettings

# the per-turn answer's length: the tutorial's 4000 tokens suit the Gateway; a local CPU model
# must stay brief to keep up with the turns
CLOUD_MAX_TOKENS = 4000
EMBEDDED_MAX_TOKENS = 256


def speech_key(engine: str) -> Key:
    return Key.EMBEDDED_SPEECH_MODEL if engine == EMBEDDED_ENGINE else Key.CLOUD_SPEECH_MODEL


def llm_key(engine: str) -> Key:
    return Key.EMBEDDED_LLM if engine == EMBEDDED_ENGINE else Key.CLOUD_LLM


def turn_llm(prompt: Prompt, model: str, engine: str,
             speakers: dict[str, str]) -> LLMGatewayConfig:
    """The per-turn LLM request, grounded in the turn (core/grounded_prompts.py)."""
    max_tokens = EMBEDDED_MAX_TOKENS if engine == EMBEDDED_ENGINE else CLOUD_MAX_TOKENS
    return turn_llm_gateway(prompt, model, max_tokens=max_tokens, speakers=speakers)


def streaming_params(settings: Settings, engine: str, speech_model: str, prompt: Prompt,
                     llm: str | None, speakers: dict[str, str]) -> StreamingParams:
    """16 kHz, formatted turns, the LLM request when there is an LLM, and the transcription
    settings (speaker labels, vocabulary)."""
    params = StreamingParams(
        sample_rate=16000, speech_model=speech_model, format_turns=True,
        llm_gateway=turn_llm(prompt, llm, engine, speakers) if llm else None)
    return TranscriptionSettings.load(settings).apply(params)
