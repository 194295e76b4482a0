"""The LLMs the selector can offer: the embedded engine's (its GET /v1/models once it is
ready: local GGUF files, Ollama, …) and the LLM Gateway's (fetched once a run with the key;
until then the last list fetched, remembered, or the built-in one)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..core.catalog import EMBEDDED_LLM_MODELS
from ..core.protocol import Endpoint
from ..settings import Settings
from .connections import Connections
from .llm_models import ModelCatalog, ModelList, remember, remembered


class LLMLists(QObject):
    engine_models_changed = Signal()
    gateway_models_changed = Signal()

    def __init__(self, settings: Settings, connections: Connections,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._connections = connections
        self.engine_models = [(m.label, m.id) for m in EMBEDDED_LLM_MODELS]  # (label, id)
        self.gateway: ModelList = remembered(settings)
        self._gateway_fetched = False
        self.engine_catalog = ModelCatalog(self)
        self.engine_catalog.models_loaded.connect(self._on_engine_models)
        self.gateway_catalog = ModelCatalog(self)  # the LLM Gateway's, with the key
        self.gateway_catalog.models_loaded.connect(self._on_gateway_models)

    def engine_model_ids(self) -> list[str]:
        return [model_id for _label, model_id in self.engine_models]

    def fetch_engine_models(self, endpoint: Endpoint) -> None:
        self.engine_catalog.fetch(endpoint.llm_base_url, endpoint.credential)

    def fetch_gateway_models(self) -> None:
        """Once a run, and only with a key (the last list stays until it answers)."""
        if self._gateway_fetched:
            return
        key = self._connections.stored_key()
        if key:
            self._gateway_fetched = True
            self.gateway_catalog.fetch(self._connections.gateway_url(), key)

    def _on_engine_models(self, choices: list[tuple[str, str]]) -> None:
        if choices:
            self.engine_models = [(label, model_id) for model_id, label in choices]
            self.engine_models_changed.emit()

    def _on_gateway_models(self, choices: list[tuple[str, str]]) -> None:
        if choices:
            self.gateway = remember(self._settings, choices)
            self.gateway_models_changed.emit()
