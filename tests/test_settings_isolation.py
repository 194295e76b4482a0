"""No test reads or writes the user's real settings: tests/conftest.py points every QSettings
made without a file at a folder of the test's own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from earmark import APP_NAME, ORG_NAME


def test_the_app_settings_are_in_the_test_folder(tmp_path_factory):
    base = tmp_path_factory.getbasetemp()
    for fmt in QSettings.Format.NativeFormat, QSettings.Format.IniFormat:
        path = Path(QSettings(fmt, QSettings.Scope.UserScope, ORG_NAME, APP_NAME).fileName())
        assert base in path.parents, path
