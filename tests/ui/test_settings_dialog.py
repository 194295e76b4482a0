"""Settings: the API key goes to the keyring only; region, URL and sessions folder are kept."""

from __future__ import annotations

from earmark import credentials
from earmark.settings import Key
from earmark.ui.settings_dialog import SettingsDialog


def test_the_key_goes_to_the_keyring_and_nowhere_else(qtbot, settings, memory_keyring, tmp_path):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.key_edit.setText("  sk-test-123456  ")
    dialog.region_combo.setCurrentIndex(dialog.region_combo.findData("eu"))
    dialog.url_edit.setText("https://stt.example.internal:8080/")
    dialog.folder_edit.setText(str(tmp_path / "my sessions"))
    dialog.accept()
    settings.sync()
    assert credentials.load_api_key() == "sk-test-123456"
    assert "sk-test" not in (tmp_path / "earmark.ini").read_text()
    assert settings.get(Key.CLOUD_REGION) == "eu"
    assert settings.get(Key.CLOUD_CUSTOM_URL) == "wss://stt.example.internal:8080"
    assert settings.get(Key.SESSIONS_DIR) == str(tmp_path / "my sessions")
    assert (tmp_path / "my sessions").is_dir()

    again = SettingsDialog(settings)
    qtbot.addWidget(again)
    assert again.key_edit.text() == ""  # never shown again, only masked in the placeholder
    assert "…3456" in again.key_edit.placeholderText()


def test_an_unusable_folder_or_url_is_refused_with_a_reason(qtbot, settings, memory_keyring,
                                                             tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(blocker / "sessions"))
    dialog.accept()
    assert dialog.result() == 0
    assert "cannot be saved" in dialog.error_label.text()
    dialog.folder_edit.setText(str(tmp_path / "ok"))
    dialog.url_edit.setText("ftp://nowhere")
    dialog.accept()
    assert "not a websocket address" in dialog.error_label.text()
