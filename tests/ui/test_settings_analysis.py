"""Settings → Session analysis: analyse on Stop, up to two fallback models, a Gateway URL."""

from __future__ import annotations

from earmark.analysis_settings import AnalysisSettings
from earmark.ui.settings_dialog import SettingsDialog


def test_fallback_models_and_gateway_url_are_kept(qtbot, settings, memory_keyring, tmp_path):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    assert dialog.analyse_on_stop_check.isChecked()
    dialog.folder_edit.setText(str(tmp_path / "sessions"))
    first, second = dialog.fallback_combos
    first.setCurrentIndex(first.findData("gpt-5-mini"))
    second.setCurrentIndex(second.findData("gemini-2.5-flash"))
    dialog.analyse_on_stop_check.setChecked(False)
    dialog.gateway_url_edit.setText("gateway.internal:8443/v1/")
    dialog.accept()
    assert dialog.result() == 1
    prefs = AnalysisSettings.load(settings)
    assert prefs == AnalysisSettings(False, ("gpt-5-mini", "gemini-2.5-flash"),
                                     "https://gateway.internal:8443")
    again = SettingsDialog(settings)
    qtbot.addWidget(again)
    assert [c.currentData() for c in again.fallback_combos] == ["gpt-5-mini",
                                                                "gemini-2.5-flash"]


def test_a_bad_gateway_url_is_refused(qtbot, settings, memory_keyring, tmp_path):
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText(str(tmp_path / "sessions"))
    dialog.gateway_url_edit.setText("ftp://nope")
    dialog.accept()
    assert dialog.result() == 0 and "LLM Gateway URL" in dialog.error_label.text()
