"""Settings: the AssemblyAI API key (stored in the OS keyring), the region or a self-hosted URL."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
)

from .. import credentials
from ..analysis_settings import AnalysisSettings, normalise_http_url
from ..core.catalog import GATEWAY_LLM_MODELS
from ..core.protocol.endpoints import Region, normalise_ws_url
from ..core.session import default_sessions_root
from ..settings import Key, Settings
from ..transcription_settings import MAX_SPEAKERS, TranscriptionSettings, parse_vocabulary

REGION_LABELS = {Region.EDGE: "Nearest (edge routing)", Region.US: "United States",
                 Region.EU: "European Union"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
        self._settings = settings
        self.key_edit = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Paste your AssemblyAI API key")
        self.region_combo = QComboBox()
        for region, label in REGION_LABELS.items():
            self.region_combo.addItem(label, region.value)
        self.url_edit = QLineEdit(settings.get(Key.CLOUD_CUSTOM_URL))
        self.folder_edit = QLineEdit(settings.get(Key.SESSIONS_DIR)
                                     or str(default_sessions_root()))
        browse = QToolButton(text="Choose…")
        browse.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        self.url_edit.setPlaceholderText("Optional: ws://host:8080 of a self-hosted stack")
        self.error_label = QLabel(objectName="formError", wordWrap=True)
        self.error_label.hide()
        index = self.region_combo.findData(settings.get(Key.CLOUD_REGION))
        self.region_combo.setCurrentIndex(max(0, index))
        self._stored_key = ""
        try:
            self._stored_key = credentials.load_api_key() or ""
        except credentials.CredentialsUnavailable as exc:
            self._show_error(str(exc))
        if self._stored_key:
            self.key_edit.setPlaceholderText(
                f"Stored in the system keyring ({credentials.mask(self._stored_key)}); "
                "type to replace")
        form = QFormLayout()
        form.addRow("AssemblyAI API key", self.key_edit)
        form.addRow("Region", self.region_combo)
        form.addRow("Custom streaming URL", self.url_edit)
        form.addRow("Sessions folder", folder_row)
        analysis = self._build_analysis_section(AnalysisSettings.load(settings))
        transcription = self._build_transcription_section(TranscriptionSettings.load(settings))
        note = QLabel("The key is kept in your system keyring, never in a file. Without a key, "
                      "Earmark transcribes offline with its embedded engine.", wordWrap=True)
        note.setObjectName("hint")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(transcription)
        layout.addWidget(analysis)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _build_transcription_section(self, prefs: TranscriptionSettings) -> QGroupBox:
        """Speaker labels (and at most how many) and the vocabulary sent with every session."""
        self.speaker_labels_check = QCheckBox("Label speakers (who said what)",
                                              checked=prefs.speaker_labels)
        self.max_speakers_spin = QSpinBox(minimum=0, maximum=MAX_SPEAKERS,
                                          value=prefs.max_speakers, specialValueText="Any")
        self.max_speakers_spin.setEnabled(prefs.speaker_labels)
        self.speaker_labels_check.toggled.connect(self.max_speakers_spin.setEnabled)
        self.vocabulary_edit = QLineEdit(", ".join(prefs.vocabulary))
        self.vocabulary_edit.setPlaceholderText("Names and terms to spell right: Dana, Kubernetes")
        box = QGroupBox("Transcription")
        form = QFormLayout(box)
        form.addRow(self.speaker_labels_check)
        form.addRow("At most this many speakers", self.max_speakers_spin)
        form.addRow("Vocabulary", self.vocabulary_edit)
        return box

    def _build_analysis_section(self, prefs: AnalysisSettings) -> QGroupBox:
        """Whole-session analysis: on Stop or not, and the Gateway's fallback models."""
        self.analyse_on_stop_check = QCheckBox("Analyse each session when it stops",
                                               checked=prefs.analyse_on_stop)
        self.fallback_combos: list[QComboBox] = []
        for i in range(2):
            combo = QComboBox(toolTip="Tried by the LLM Gateway when the chosen model fails")
            combo.addItem("None", "")
            for model in GATEWAY_LLM_MODELS:
                combo.addItem(model, model)
            current = prefs.fallbacks[i] if i < len(prefs.fallbacks) else ""
            if current and combo.findData(current) < 0:
                combo.addItem(current, current)  # a model the catalogue here does not list
            combo.setCurrentIndex(max(0, combo.findData(current)))
            self.fallback_combos.append(combo)
        self.gateway_url_edit = QLineEdit(prefs.gateway_url)
        self.gateway_url_edit.setPlaceholderText("Optional: https://proxy.example:8443 "
                                                 "(default: by region)")
        box = QGroupBox("Session analysis")
        form = QFormLayout(box)
        form.addRow(self.analyse_on_stop_check)
        form.addRow("First fallback model", self.fallback_combos[0])
        form.addRow("Second fallback model", self.fallback_combos[1])
        form.addRow("LLM Gateway URL", self.gateway_url_edit)
        return box

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Sessions folder",
                                                  self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def accept(self) -> None:
        url = self.url_edit.text().strip()
        try:
            if url:
                url = normalise_ws_url(url)
        except ValueError as exc:
            self._show_error(f"The custom URL is not a websocket address: {exc}")
            return
        folder = Path(self.folder_edit.text().strip()).expanduser()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".earmark-write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            self._show_error(f"Sessions cannot be saved in {folder}: "
                             f"{exc.strerror or exc}. Choose another folder.")
            return
        try:
            gateway_url = normalise_http_url(self.gateway_url_edit.text())
        except ValueError as exc:
            self._show_error(f"The LLM Gateway URL is not usable: {exc}")
            return
        new_key = self.key_edit.text().strip()
        if new_key:
            try:
                credentials.save_api_key(new_key)
            except credentials.CredentialsUnavailable as exc:
                self._show_error(str(exc))
                return
        self._settings.set(Key.CLOUD_REGION, self.region_combo.currentData())
        self._settings.set(Key.CLOUD_CUSTOM_URL, url)
        default = default_sessions_root()
        self._settings.set(Key.SESSIONS_DIR, "" if folder == default else str(folder))
        fallbacks = tuple(dict.fromkeys(c.currentData() for c in self.fallback_combos
                                        if c.currentData()))
        AnalysisSettings(self.analyse_on_stop_check.isChecked(), fallbacks,
                         gateway_url).save(self._settings)
        TranscriptionSettings(self.speaker_labels_check.isChecked(),
                              self.max_speakers_spin.value(),
                              parse_vocabulary(self.vocabulary_edit.text())).save(self._settings)
        super().accept()
