"""Edit the custom prompt; `{{turn}}` marks where each turn's text goes."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from ..core.prompts import Prompt, PromptError, custom_prompt


class PromptEditor(QDialog):
    def __init__(self, text: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Custom prompt")
        self.setMinimumSize(520, 300)
        self.prompt: Prompt | None = None
        intro = QLabel("Ask anything about each turn. Write <b>{{turn}}</b> where the turn's "
                       "text should go; without it, the turn is added at the end.", wordWrap=True)
        self.editor = QPlainTextEdit(text)
        self.editor.setPlaceholderText("List any questions asked in this turn.\n\n"
                                       "Transcript: {{turn}}")
        self.error_label = QLabel(objectName="formError", wordWrap=True)
        self.error_label.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def accept(self) -> None:
        try:
            self.prompt = custom_prompt(self.editor.toPlainText())
        except PromptError as exc:
            self.error_label.setText(str(exc))
            self.error_label.show()
            return
        super().accept()
