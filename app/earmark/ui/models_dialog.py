"""Settings → Models: the speech and answer models (built in, downloaded, added, available),
what each needs, and Download / Use / Remove / Add. Renders `ModelsController` and forwards
clicks to it; every decision is the controller's."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..controllers.models import COLUMNS, KEY_ROLE, EngineControl, ModelsController
from ..settings import Settings

DEFAULT_SIZE = QSize(1180, 660)  # fits a 1366×768 laptop screen with the window's frame
LICENCE_COLUMN = COLUMNS.index("Licence")
LICENCE_MIN_WIDTH = 60
PROGRESS_STEPS = 1000


def _button(text: str, handler: Callable[[], object]) -> QPushButton:
    """A button Enter never presses by surprise (no auto-default): only its own click or its
    Alt shortcut."""
    button = QPushButton(text, autoDefault=False)
    button.clicked.connect(lambda: handler())
    return button


def _repolish(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class ModelsDialog(QDialog):
    def __init__(self, settings: Settings, engine_host: EngineControl, parent=None, *,
                 served_answer_models: Callable[[], Iterable[str]] | None = None,
                 controller: ModelsController | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.controller = controller or ModelsController(
            settings, engine_host, served_answer_models=served_answer_models, parent=self)
        self._reselect = ""
        self._build()
        self._connect()
        self._select(self._initial_key())
        self._render()
        self.resize(DEFAULT_SIZE.boundedTo(self._available_size()))

    # --- building ------------------------------------------------------------------------

    def _build(self) -> None:
        c = self.controller
        self.machine_label = QLabel(c.machine_line(), objectName="hint", wordWrap=True)
        self.first_run_label = QLabel(c.first_run_line(), wordWrap=True)
        self.table = self._build_table()
        self.details_label = QLabel(wordWrap=True, openExternalLinks=True,
                                    textFormat=Qt.TextFormat.RichText)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 4)
        self.details_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.progress_bar = QProgressBar(minimum=0, maximum=PROGRESS_STEPS)
        self.progress_label = QLabel()
        self.message_label = QLabel(wordWrap=True, objectName="hint")
        self.message_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.machine_label)
        layout.addWidget(self.first_run_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details_label)
        layout.addLayout(self._progress_row())
        layout.addWidget(self.message_label)
        layout.addLayout(self._actions_row())
        layout.addLayout(self._source_row())
        layout.addWidget(self._close_box())

    def _build_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.controller.table)
        table.setAccessibleName("Models")
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        table.setWordWrap(False)
        table.setAlternatingRowColors(True)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().hide()
        table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 10)
        header = table.horizontalHeader()
        # names, sizes and sources in full; the licence takes what is left (elided, its
        # tooltip and the details below say it all) so a narrow screen keeps the names
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(LICENCE_COLUMN, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(LICENCE_MIN_WIDTH)
        return table

    def _progress_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.progress_bar, 1)
        row.addWidget(self.progress_label, 2)
        return row

    def _actions_row(self) -> QHBoxLayout:
        c = self.controller
        self.download_button = _button("&Download", lambda: c.download(self.current_key()))
        self.cancel_button = _button("Cance&l download", c.cancel_download)
        self.use_button = _button("&Use", lambda: c.use(self.current_key()))
        self.remove_button = _button("&Remove…", self.remove_current)
        self.add_file_button = _button("Add a &file…", self.add_file)
        self.add_file_button.setToolTip("Register a GGUF answer model you already have "
                                        "(it stays where it is)")
        self.add_folder_button = _button("Add a f&older…", self.add_folder)
        self.add_folder_button.setToolTip("Register a CTranslate2 Whisper folder you already "
                                          "have (it stays where it is)")
        row = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.use_button,
                       self.remove_button):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(self.add_file_button)
        row.addWidget(self.add_folder_button)
        return row

    def _source_row(self) -> QHBoxLayout:
        self.source_edit = QLineEdit(self.controller.mirror)
        self.source_edit.setPlaceholderText(
            f"{self.controller.mirror_hint()} — or a mirror such as https://hf-mirror.com")
        self.source_edit.setToolTip("Where downloads come from: a base URL that replaces "
                                    "https://huggingface.co (as HF_ENDPOINT does)")
        self.source_edit.editingFinished.connect(
            lambda: self.controller.set_mirror(self.source_edit.text()))
        label = QLabel("Download &source")
        label.setBuddy(self.source_edit)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.source_edit, 1)
        return row

    def _close_box(self) -> QDialogButtonBox:
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        for button in box.buttons():
            button.setAutoDefault(False)
        return box

    def _connect(self) -> None:
        self.controller.state_changed.connect(self._render)
        model = self.controller.table
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.modelReset.connect(lambda: self._select(self._reselect))
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._render())

    def _available_size(self) -> QSize:
        screen = self.screen()
        return screen.availableGeometry().size() if screen is not None else DEFAULT_SIZE

    # --- selection -----------------------------------------------------------------------

    def current_key(self) -> str:
        index = self.table.currentIndex()
        return index.data(KEY_ROLE) or "" if index.isValid() else ""

    def _initial_key(self) -> str:
        recommended = self.controller.recommended_keys()
        return recommended[0] if recommended else ""

    def _remember_selection(self) -> None:
        self._reselect = self.current_key()

    def _select(self, key: str) -> None:
        row = max(0, self.controller.table.row_of(key)) if key else 0
        if row >= self.controller.table.rowCount():
            return
        index: QModelIndex = self.controller.table.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    # --- rendering -----------------------------------------------------------------------

    def _render(self) -> None:
        c = self.controller
        key = self.current_key()
        actions = c.actions(key)
        self.download_button.setText("&" + actions.download_text)
        self.download_button.setEnabled(actions.download)
        self.cancel_button.setEnabled(actions.cancel)
        self.use_button.setEnabled(actions.use)
        self.remove_button.setEnabled(actions.remove)
        self.download_button.setToolTip("" if actions.download else actions.download_why)
        self.remove_button.setToolTip("" if actions.remove else actions.remove_why)
        self.details_label.setText(c.details(key))
        first_run = c.first_run_line()
        self.first_run_label.setText(first_run)
        self.first_run_label.setVisible(bool(first_run))
        self._render_progress()
        self._render_message()

    def _render_progress(self) -> None:
        c = self.controller
        self.progress_bar.setVisible(c.downloading)
        self.progress_label.setVisible(c.downloading)
        self.progress_bar.setValue(round(c.progress_fraction() * PROGRESS_STEPS))
        self.progress_label.setText(c.progress_text())

    def _render_message(self) -> None:
        c = self.controller
        name = "formError" if c.message_is_error else "hint"
        if self.message_label.objectName() != name:
            self.message_label.setObjectName(name)
            _repolish(self.message_label)
        self.message_label.setText(c.message)
        self.message_label.setVisible(bool(c.message))

    # --- intents -------------------------------------------------------------------------

    def add_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Add a GGUF answer model", str(Path.home()),
            "GGUF models (*.gguf);;All files (*)")
        if path:
            self._select(self.controller.add_file(path) or self.current_key())

    def add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a CTranslate2 Whisper folder",
                                                str(Path.home()))
        if path:
            self._select(self.controller.add_folder(path) or self.current_key())

    def remove_current(self) -> None:
        key = self.current_key()
        plan = self.controller.removal_plan(key)
        if plan is None:
            return
        answer = QMessageBox.question(self, "Remove model", plan.question)
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.remove(key)

    def done(self, result: int) -> None:
        """Closing stops a running download (after asking); what arrived is kept."""
        if self.controller.downloading:
            answer = QMessageBox.question(
                self, "Stop the download?",
                "A download is running. Stop it and close? What arrived is kept, and Resume "
                "download continues it later.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.controller.shutdown()
        super().done(result)
