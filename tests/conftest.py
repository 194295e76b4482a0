"""Shared fixtures: offscreen Qt, settings in tmp_path, an in-memory keyring, speech files."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SPEECH = FIXTURES / "speech"  # the speech the tests play; licences in its README.md


class MemoryKeyring(KeyringBackend):
    """Stands in for the OS keyring, which a headless test machine does not have."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path_factory):
    """No test reads or writes the user's settings: a QSettings made without a file (as
    `Settings()` makes it) is in a folder of the test's own."""
    folder = tmp_path_factory.mktemp("qsettings")
    for scope in QSettings.Scope.UserScope, QSettings.Scope.SystemScope:
        for fmt in QSettings.Format.NativeFormat, QSettings.Format.IniFormat:
            QSettings.setPath(fmt, scope, str(folder / scope.name))


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def settings(tmp_path):
    from earmark.settings import Settings

    return Settings(QSettings(str(tmp_path / "earmark.ini"), QSettings.Format.IniFormat))


def speech_file(relative: str) -> Path:
    path = SPEECH / relative
    if not path.exists():
        pytest.fail(missing_speech(path))
    return path


def missing_speech(path: Path) -> str:
    return (f"speech fixture missing: {path.relative_to(REPO)} (the tests' speech lives in "
            f"{SPEECH.relative_to(REPO)}/, listed in its manifest.tsv)")
