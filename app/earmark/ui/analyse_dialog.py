"""“Analyse…”: pick a saved session, a prompt and a model for a whole-session analysis."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout

from ..core.prompts import Prompt


class AnalyseDialog(QDialog):
    """`sessions` and `models` are (label, data) pairs; a model's data is (service, model id)."""

    def __init__(self, sessions: list[tuple[str, str]], prompts: list[Prompt],
                 models: list[tuple[str, Any]], *, session: str = "", prompt_id: str = "",
                 model: Any = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Analyse a session")
        self.setMinimumWidth(520)
        self.session_combo = QComboBox()
        for label, folder in sessions:
            self.session_combo.addItem(label, folder)
        self.prompt_combo = QComboBox()
        for prompt in prompts:
            self.prompt_combo.addItem(prompt.name, prompt.id)
        self.model_combo = QComboBox()
        for label, data in models:
            self.model_combo.addItem(label, data)
        for combo, value in ((self.session_combo, session), (self.prompt_combo, prompt_id),
                             (self.model_combo, model)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        form = QFormLayout()
        form.addRow("Session", self.session_combo)
        form.addRow("Prompt", self.prompt_combo)
        form.addRow("Model", self.model_combo)
        note = QLabel("The whole transcript is sent with the prompt's whole-session question. "
                      "The result replaces the session's saved analysis.", objectName="hint",
                      wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Analyse")
        buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            bool(sessions) and bool(prompts) and bool(models))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, str, Any]:
        """(session folder, prompt id, model data)."""
        return (self.session_combo.currentData(), self.prompt_combo.currentData(),
                self.model_combo.currentData())
