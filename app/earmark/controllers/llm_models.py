"""The LLMs a server offers: `GET /v1/models` (LLM Gateway shape), fetched without blocking the
GUI (QtNetwork), turned into (id, label) choices for the LLM selector, sorted by provider.

The Gateway's list is remembered with the time it was fetched (`remember` / `remembered`), so
an offline start shows the last list; without one, the built-in list from the reference."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from ..core.catalog import GATEWAY_LLM_MODELS
from ..settings import Key, Settings

log = logging.getLogger(__name__)

TIMEOUT_MS = 5000


def choices_from_catalog(body: bytes) -> list[tuple[str, str]]:
    """(id, label) for every model in a `{"data": [Model]}` body; raises ValueError if it is
    not one. The label names the provider, so local and remote models are told apart."""
    data = json.loads(body)
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise ValueError("not a model list")
    choices: list[tuple[str, str, str]] = []
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            continue
        label = str(model.get("name") or model["id"])
        providers = model.get("providers") or []
        provider = providers[0].get("name") if providers and isinstance(providers[0], dict) \
            else None
        choices.append((str(provider or ""), model["id"],
                        f"{label} — {provider}" if provider else label))
    return [(model_id, label) for _provider, model_id, label in sorted(choices)]


@dataclass(frozen=True, slots=True)
class ModelList:
    choices: list[tuple[str, str]]  # (id, label)
    fetched_at: str  # when the Gateway said so (ISO 8601); "" for the built-in list

    def describe(self) -> str:
        if not self.fetched_at:
            return "the built-in list of LLM Gateway models"
        return f"the LLM Gateway's models as of {self.fetched_at[:16].replace('T', ' ')}"


def remember(settings: Settings, choices: list[tuple[str, str]]) -> ModelList:
    fetched = ModelList(choices, datetime.now().astimezone().isoformat(timespec="seconds"))
    settings.set(Key.GATEWAY_MODELS, json.dumps({"fetched_at": fetched.fetched_at,
                                                 "models": choices}))
    return fetched


def remembered(settings: Settings) -> ModelList:
    """The last list fetched, else the built-in one."""
    try:
        saved = json.loads(settings.get(Key.GATEWAY_MODELS) or "{}")
        choices = [(str(i), str(label)) for i, label in saved["models"]]
        if choices:
            return ModelList(choices, str(saved["fetched_at"]))
    except (ValueError, KeyError, TypeError):
        pass
    return ModelList([(m, m) for m in GATEWAY_LLM_MODELS], "")


class ModelCatalog(QObject):
    models_loaded = Signal(list)  # [(id, label)]
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._network = QNetworkAccessManager(self)

    def fetch(self, base_url: str, api_key: str | None = None) -> None:
        request = QNetworkRequest(QUrl(f"{base_url.rstrip('/')}/v1/models"))
        request.setTransferTimeout(TIMEOUT_MS)
        if api_key:
            request.setRawHeader(b"Authorization", api_key.encode())
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
