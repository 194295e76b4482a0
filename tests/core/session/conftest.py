"""Fixtures for the session store tests (real files under tmp_path)."""

from __future__ import annotations

import pytest

from earmark.core.session import SessionStore


@pytest.fixture
def store(tmp_path) -> SessionStore:
    return SessionStore(tmp_path / "sessions", use_trash=False)
