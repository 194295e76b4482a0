"""The prompt library: built-in prompts (read-only; duplicate to change) and the user's own,
which can be added, edited, duplicated and deleted. Each user prompt is a JSON file in the
folder shown at the bottom."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.prompt_library import PromptLibrary
from ..core.prompts import Prompt, PromptError
from .geometry import fit_to_screen

ID_ROLE = Qt.ItemDataRole.UserRole


class PromptManager(QDialog):
    prompts_changed = Signal()

    def __init__(self, library: PromptLibrary, selected_id: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Prompts")
        fit_to_screen(self, QSize(860, 560))
        self.library = library
        self.list = QListWidget()
        self.list.setMinimumWidth(230)
        self.new_button = QPushButton("New")
        self.duplicate_button = QPushButton("Duplicate")
        self.delete_button = QPushButton("Delete")
        self.save_button = QPushButton("Save", default=True)
        self.name_edit = QLineEdit()
        self.system_edit = QPlainTextEdit()
        self.system_edit.setPlaceholderText("Optional, e.g. You are a concise meeting assistant.")
        self.turn_edit = QPlainTextEdit()
        self.turn_edit.setPlaceholderText("List any questions asked.\n\nTranscript: {{turn}}")
        self.session_edit = QPlainTextEdit()
        self.session_edit.setPlaceholderText(
            "Optional: asked of the whole session on Stop.\n\nTranscript: {{transcript}}")
        self.language_edit = QLineEdit(placeholderText="Optional, e.g. French")
        for edit in (self.system_edit, self.turn_edit, self.session_edit):
            edit.setTabChangesFocus(True)
        self.system_edit.setMaximumHeight(70)
        self.readonly_label = QLabel(
            "A built-in prompt: duplicate it to make your own version.", objectName="hint")
        self.error_label = QLabel(objectName="formError", wordWrap=True)
        self.error_label.hide()
        where = QLabel(f"Your prompts are saved in {library.user_dir}", objectName="hint",
                       wordWrap=True)
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        form.addRow("System message", self.system_edit)
        form.addRow("Each turn ({{turn}})", self.turn_edit)
        form.addRow("Whole session ({{transcript}})", self.session_edit)
        form.addRow("Answer language", self.language_edit)
        editor = QWidget()
        right = QVBoxLayout(editor)
        right.setContentsMargins(0, 0, 0, 0)
        right.addWidget(self.readonly_label)
        right.addLayout(form, 1)
        right.addWidget(self.error_label)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        right.addLayout(save_row)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        buttons_row = QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.delete_button):
            buttons_row.addWidget(button)
        left.addLayout(buttons_row)
        body = QHBoxLayout()
        body.addLayout(left)
        body.addWidget(editor, 1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(where)
        if library.problems:
            problems = QLabel("Skipped: " + "; ".join(library.problems), objectName="formError",
                              wordWrap=True)
            layout.addWidget(problems)
        layout.addWidget(close)

        self._editing_new = False
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        self.new_button.clicked.connect(self.new_prompt)
        self.duplicate_button.clicked.connect(self.duplicate_prompt)
        self.delete_button.clicked.connect(self.delete_prompt)
        self.save_button.clicked.connect(self.save_prompt)
        self._fill(selected_id)

    # --- list ----------------------------------------------------------------------------

    def _fill(self, selected_id: str = "") -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for prompt in self.library.all():
            builtin = self.library.is_builtin(prompt.id)
            item = QListWidgetItem(f"{prompt.name}  (built-in)" if builtin else prompt.name)
            item.setData(ID_ROLE, prompt.id)
            self.list.addItem(item)
        self.list.blockSignals(False)
        ids = [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())]
        self.list.setCurrentRow(ids.index(selected_id) if selected_id in ids else 0)
        self._show_current()

    def current_id(self) -> str:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None and not self._editing_new else ""

    def _show_current(self) -> None:
        self._editing_new = False
        prompt = self.library.get(self.current_id())
        self._show(prompt or Prompt(id="", name="", turn_template=""))

    def _show(self, prompt: Prompt) -> None:
        builtin = self.library.is_builtin(prompt.id)
        self.name_edit.setText(prompt.name)
        self.system_edit.setPlainText(prompt.system)
        self.turn_edit.setPlainText(prompt.turn_template)
        self.session_edit.setPlainText(prompt.session_template)
        self.language_edit.setText(prompt.language)
        for widget in (self.name_edit, self.language_edit):
            widget.setReadOnly(builtin)
        for widget in (self.system_edit, self.turn_edit, self.session_edit):
            widget.setReadOnly(builtin)
        self.readonly_label.setVisible(builtin)
        self.save_button.setEnabled(not builtin)
        self.delete_button.setEnabled(bool(prompt.id) and not builtin)
        self.duplicate_button.setEnabled(bool(prompt.id))
        self.error_label.hide()

    def _form_prompt(self) -> Prompt:
        """The edited prompt; what the form does not show (a JSON schema for list answers,
        stop sequences, a token limit) is kept from the prompt it started from."""
        base = self.library.get(self.current_id()) or Prompt(id="", name="", turn_template="")
        return dataclasses.replace(
            base, id=self.current_id(), name=self.name_edit.text().strip(),
            turn_template=self.turn_edit.toPlainText().strip(),
            session_template=self.session_edit.toPlainText().strip(),
            system=self.system_edit.toPlainText().strip(),
            language=self.language_edit.text().strip())

    def _error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    # --- actions -------------------------------------------------------------------------

    def new_prompt(self) -> None:
        self.list.clearSelection()
        self._editing_new = True
        self._show(Prompt(id="", name="", turn_template="", session_template=""))
        self.delete_button.setEnabled(False)
        self.duplicate_button.setEnabled(False)
        self.name_edit.setFocus()

    def save_prompt(self) -> bool:
        """Validate and save the form; False (and the reason shown) when it is refused."""
        try:
            prompt = self.library.save(self._form_prompt())
        except PromptError as exc:
            self._error(str(exc))
            return False
        except OSError as exc:
            self._error(f"The prompt could not be saved: {exc.strerror or exc}")
            return False
        self._fill(prompt.id)
        self.prompts_changed.emit()
        return True

    def duplicate_prompt(self) -> None:
        prompt_id = self.current_id()
        if not prompt_id:
            return
        try:
            copy = self.library.duplicate(prompt_id)
        except (PromptError, OSError) as exc:
            self._error(str(exc))
            return
        self._fill(copy.id)
        self.prompts_changed.emit()
        self.name_edit.setFocus()
        self.name_edit.selectAll()

    def delete_prompt(self, confirm: bool = True) -> None:
        prompt = self.library.get(self.current_id())
        if prompt is None or self.library.is_builtin(prompt.id):
            return
        if confirm and QMessageBox.question(
                self, "Delete prompt", f"Delete the prompt “{prompt.name}”?") \
                != QMessageBox.StandardButton.Yes:
            return
        try:
            self.library.delete(prompt.id)
        except (PromptError, OSError) as exc:
            self._error(str(exc))
            return
        self._fill()
        self.prompts_changed.emit()

    def selected_prompt(self) -> Prompt | None:
        return self.library.get(self.current_id())
