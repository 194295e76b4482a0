"""Help → About: the version, what the engine is running, and every license Earmark ships under,
the third-party models' first (their weights are redistributed in the bundle)."""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from importlib import metadata

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from .. import APP_NAME, __version__
from ..resources import resource

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunningModels:
    engine: str  # "Embedded: ready", "AssemblyAI cloud"
    speech_model: str
    llm_model: str


def _version(package: str | None) -> str:
    if not package:
        return ""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def about_html(running: RunningModels) -> str:
    try:
        notices = json.loads(resource("third_party.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("third-party notices unavailable: %s", exc)
        notices = {"models": [], "software": []}

    def rows(items: list[dict]) -> str:
        def by(item: dict) -> str:
            return f"<br><small>{html.escape(item['by'])}</small>" if item.get("by") else ""

        return "".join(
            f"<tr><td><a href='{html.escape(i['url'])}'>{html.escape(i['name'])}</a> "
            f"{html.escape(_version(i.get('package')))}{by(i)}</td>"
            f"<td>{html.escape(i['license'])}</td></tr>" for i in items)

    return (
        f"<h2>{APP_NAME} {__version__}</h2>"
        "<p>A live transcript of a conversation and an LLM's reading of every turn.<br>"
        f"{APP_NAME} is free software under the MIT license.</p>"
        f"<p><b>Engine:</b> {html.escape(running.engine)}<br>"
        f"<b>Speech model:</b> {html.escape(running.speech_model)}<br>"
        f"<b>LLM:</b> {html.escape(running.llm_model or 'none')}</p>"
        "<h3>Models</h3><table cellpadding='3'>" + rows(notices["models"]) + "</table>"
        "<h3>Software</h3><table cellpadding='3'>" + rows(notices["software"]) + "</table>")


class AboutDialog(QDialog):
    def __init__(self, running: RunningModels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(560, 600)
        self.browser = QTextBrowser(openExternalLinks=True)
        self.browser.setHtml(about_html(running))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
