"""Where a session or an analysis connects: the embedded engine once it is ready, or AssemblyAI
with the key from the OS keyring (streaming by region or a custom URL, the LLM Gateway by
region or the URL set in Settings). A refusal is a SessionSetupError saying what to do."""

from __future__ import annotations

from ..analysis_settings import AnalysisSettings
from ..core.catalog import EMBEDDED_ENGINE
from ..core.protocol import Endpoint, Region, cloud_endpoint
from ..core.protocol.endpoints import LLM_GATEWAY_URLS
from ..credentials import CredentialsUnavailable, load_api_key
from ..settings import Key, Settings
from ..workers.engine_host import EngineHost, EngineState
from .analysis import LLMService

GATEWAY_SERVICE = "gateway"
ENGINE_SERVICE = "engine"


def analysis_service(engine: str) -> str:
    """Where a session on `engine` has its whole-session analysis done."""
    return ENGINE_SERVICE if engine == EMBEDDED_ENGINE else GATEWAY_SERVICE


class SessionSetupError(RuntimeError):
    """A session or an analysis cannot start; the message says what the user should do."""


class Connections:
    def __init__(self, settings: Settings, engine_host: EngineHost) -> None:
        self.settings = settings
        self.engine_host = engine_host

    def streaming(self, engine: str) -> tuple[Endpoint, str]:
        """The v3 endpoint for `engine` and the label a session is saved with."""
        if engine == EMBEDDED_ENGINE:
            return self.engine_endpoint(), "Embedded engine"
        key = self.api_key("to use the cloud, or switch to the embedded engine")
        return cloud_endpoint(key, Region(self.settings.get(Key.CLOUD_REGION)),
                              self.settings.get(Key.CLOUD_CUSTOM_URL) or None), "AssemblyAI cloud"

    def llm_service(self, kind: str) -> LLMService:
        """Where an analysis goes: the embedded engine with its token, or the LLM Gateway with
        the API key and the fallback models from Settings."""
        if kind == ENGINE_SERVICE:
            endpoint = self.engine_endpoint()
            return LLMService(endpoint.llm_base_url, endpoint.credential, "embedded engine")
        key = self.api_key("to analyse with the LLM Gateway, or choose a local model")
        return LLMService(self.gateway_url(), key, "AssemblyAI LLM Gateway",
                          AnalysisSettings.load(self.settings).fallbacks)

    def gateway_url(self) -> str:
        """The LLM Gateway: the URL set in Settings, else the region's."""
        return AnalysisSettings.load(self.settings).gateway_url \
            or LLM_GATEWAY_URLS[Region(self.settings.get(Key.CLOUD_REGION))]

    @staticmethod
    def stored_key() -> str | None:
        """The key if there is one and the keyring answers; never raises."""
        try:
            return load_api_key()
        except CredentialsUnavailable:
            return None

    def engine_endpoint(self) -> Endpoint:
        endpoint = self.engine_host.endpoint()
        if endpoint is None or self.engine_host.state != EngineState.READY:
            raise SessionSetupError(self.engine_host.message
                                    or "The embedded engine is not ready yet.")
        return endpoint

    @staticmethod
    def api_key(purpose: str) -> str:
        """The AssemblyAI key; `purpose` ends the sentence that asks for it when it is missing."""
        try:
            key = load_api_key()
        except CredentialsUnavailable as exc:
            raise SessionSetupError(str(exc)) from None
        if not key:
            raise SessionSetupError(f"Enter your AssemblyAI API key in File → Settings {purpose}.")
        return key
