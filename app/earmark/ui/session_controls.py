"""The row of session choices above the panes: engine, speech model, LLM, prompt (with the
Prompts… button) and Start. It shows what the SessionSetup decides and tells it every choice
the user makes; it fits a 1366-pixel laptop (the selectors shorten their text, the popups show
it all)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QWidget,
)

from ..controllers.selector_choices import ChoiceList
from ..controllers.session_controls import Controls
from ..controllers.session_setup import SessionSetup
from .eliding_combo import ElidingComboBox


class SessionControls(QWidget):
    def __init__(self, setup: SessionSetup, manage_prompts: Callable[[], None],
                 write_custom_prompt: Callable[[], None], toggle: Callable[[], None]) -> None:
        super().__init__(objectName="controlBar")
        self.engine_combo = ElidingComboBox(min_chars=14, toolTip="Where speech is transcribed")
        self.speech_combo = ElidingComboBox(min_chars=12, toolTip="Speech model")
        self.llm_combo = ElidingComboBox(min_chars=15, toolTip="LLM that answers each turn")
        self.prompt_combo = ElidingComboBox(min_chars=12,
                                            toolTip="What the LLM is asked about each turn")
        self.prompts_button = QToolButton(text="Prompts…",
                                          toolTip="Add, edit, duplicate or delete prompts; the "
                                          "arrow writes a one-off custom prompt")
        self.prompts_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        prompt_menu = QMenu(self.prompts_button)
        prompt_menu.addAction("Manage prompts…", manage_prompts)
        prompt_menu.addAction("Write a custom prompt…", write_custom_prompt)
        self.prompts_button.setMenu(prompt_menu)
        self.prompts_button.clicked.connect(manage_prompts)
        self.start_button = QPushButton("Start", objectName="startButton")
        self.start_button.setToolTip("Start or stop listening (Ctrl+R)")
        self.start_button.setMinimumWidth(120)
        self.start_button.clicked.connect(toggle)
        self._lay_out()
        self._connect(setup)

    def _lay_out(self) -> None:
        row = QHBoxLayout(self)
        row.setContentsMargins(14, 10, 14, 10)
        row.setSpacing(8)
        for label, widget in (("Engine", self.engine_combo), ("Speech", self.speech_combo),
                              ("LLM", self.llm_combo), ("Prompt", self.prompt_combo)):
            caption = QLabel(label, objectName="caption")
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget, 1 if widget in (self.llm_combo, self.prompt_combo) else 0)
        row.addWidget(self.prompts_button)
        row.addSpacing(12)
        row.addWidget(self.start_button)

    def _connect(self, setup: SessionSetup) -> None:
        """Choices the user makes go to `setup` (activated: chosen by the user; an index
        changed: shown); what `setup` decides is shown."""
        engine, speech, llm, prompt = (self.engine_combo, self.speech_combo, self.llm_combo,
                                       self.prompt_combo)
        engine.currentIndexChanged.connect(lambda _i: setup.select_engine(engine.currentData()))
        speech.currentIndexChanged.connect(
            lambda _i: setup.select_speech_model(speech.currentData()))
        speech.activated.connect(lambda _i: setup.choose_speech_model(speech.currentData()))
        llm.currentIndexChanged.connect(lambda _i: setup.select_llm(llm.currentData()))
        llm.activated.connect(lambda _i: setup.choose_llm(llm.currentData()))
        prompt.currentIndexChanged.connect(
            lambda _i: setup.select_prompt(prompt.currentData() or ""))
        prompt.activated.connect(lambda _i: setup.choose_prompt(prompt.currentData() or ""))
        for combo, changed in ((engine, setup.engine_choices_changed),
                               (speech, setup.speech_choices_changed),
                               (llm, setup.llm_choices_changed),
                               (prompt, setup.prompt_choices_changed)):
            changed.connect(lambda choices, c=combo: fill(c, choices))
        setup.controls_changed.connect(self.show_controls)

    def show_controls(self, controls: Controls) -> None:
        button = self.start_button
        button.setText(controls.start_text)
        button.setProperty("live", controls.live)
        button.style().unpolish(button)
        button.style().polish(button)
        button.setEnabled(controls.start_enabled)
        for widget in (self.engine_combo, self.speech_combo, self.llm_combo,
                       self.prompts_button):
            widget.setEnabled(controls.choices_enabled)
        self.prompt_combo.setEnabled(controls.prompt_enabled)


def fill(combo: QComboBox, choices: ChoiceList) -> None:
    """Show `choices` in `combo` (None is a separator) without a change signal: the selection
    is the controller's already."""
    combo.blockSignals(True)
    combo.clear()
    for entry in choices.entries:
        if entry is None:
            combo.insertSeparator(combo.count())
            continue
        combo.addItem(entry.label, entry.data)
        index = combo.count() - 1
        if entry.tooltip:
            combo.setItemData(index, entry.tooltip, Qt.ItemDataRole.ToolTipRole)
        if not entry.enabled:
            combo.model().item(index).setEnabled(False)
    combo.setCurrentIndex(max(0, combo.findData(choices.selected)))
    if choices.tooltip:
        combo.setToolTip(choices.tooltip)
    combo.blockSignals(False)
