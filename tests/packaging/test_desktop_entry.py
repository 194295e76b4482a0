"""The Linux launcher: installed per user, it starts this checkout's app with the icon."""

from __future__ import annotations

import configparser
import os
import subprocess

from tests.conftest import REPO

SCRIPT = REPO / "packaging" / "linux" / "install-desktop-entry.sh"


def test_install_and_remove_the_launcher(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    subprocess.run([str(SCRIPT)], check=True, env=env, capture_output=True)
    entry = tmp_path / "applications" / "earmark.desktop"
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(entry)
    desktop = parser["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Name"] == "Earmark"
    executable = desktop["Exec"].split('"')[1]
    assert executable == str(REPO / ".venv" / "bin" / "earmark")
    assert os.access(executable, os.X_OK)
    assert desktop["Icon"] == "earmark"
    assert (tmp_path / "icons/hicolor/scalable/apps/earmark.svg").read_text().startswith("<svg")
    subprocess.run([str(SCRIPT), "--remove"], check=True, env=env, capture_output=True)
    assert not entry.exists()
