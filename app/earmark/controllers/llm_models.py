"""The LLMs a server offers: `GET /v1/models` (LLM Gateway shape), fetched without blocking the
GUI (QtNetwork), turned into (id, label) choices for the LLM selector."""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

log = logging.getLogger(__name__)

TIMEOUT_MS = 5000


def choices_from_catalog(body: bytes) -> list[tuple[str, str]]:
    """(id, label) for every model in a `{"data": [Model]}` body; raises ValueError if it is
    not one. The label names the provider, so local and remote models are told apart."""
    data = json.loads(body)
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ValueError("not a model list")
    choices = []
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            continue
        label = str(model.get("name") or model["id"])
        providers = model.get("providers") or []
        provider = providers[0].get("name") if providers and isinstance(providers[0], dict) \
            else None
        choices.append((model["id"], f"{label} — {provider}" if provider else label))
    return choices


class ModelCatalog(QObject):
    models_loaded = Signal(list)  # [(id, label)]
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._network = QNetworkAccessManager(self)

    def fetch(self, base_url: str) -> None:
        request = QNetworkRequest(QUrl(f"{base_url.rstrip('/')}/v1/models"))
        request.setTransferTimeout(TIMEOUT_MS)
        reply = self._network.get(request)
        reply.finished.connect(lambda: self._on_finished(reply))

    def _on_finished(self, reply: QNetworkReply) -> None:
        reply.deleteLater()
        if reply.error() != QNetworkReply.NetworkError.NoError:
            log.warning("model list unavailable: %s", reply.errorString())
            self.failed.emit(reply.errorString())
            return
        try:
            choices = choices_from_catalog(bytes(reply.readAll().data()))
        except ValueError as exc:
            log.warning("model list unreadable: %s", exc)
            self.failed.emit(f"The model list could not be read: {exc}")
            return
        self.models_loaded.emit(choices)
