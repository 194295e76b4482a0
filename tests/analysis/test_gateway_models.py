"""The cloud LLM selector: what the Gateway's GET /v1/models lists (with the key), grouped by
provider and remembered with its time; offline, the last list; never fetched, the built-in one."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from earmark import credentials
from earmark.core.catalog import CLOUD_ENGINE, GATEWAY_LLM_MODELS
from earmark.settings import Key
from earmark.ui.main_window import MainWindow
from earmark.workers.engine_host import EngineHost
from tests.analysis.gateway_replay import GatewayReplay

KEY = "test-key"


def cloud_window(qtbot, settings, gateway_url: str) -> MainWindow:
    settings.set(Key.ENGINE, CLOUD_ENGINE)
    settings.set(Key.ANALYSIS_GATEWAY_URL, gateway_url)
    window = MainWindow(settings, EngineHost("whisper-tiny.en"))
    qtbot.addWidget(window)
    return window


def entries(combo: QComboBox) -> list[str]:
    """Item texts, "---" for a separator."""
    return [combo.itemText(i) or "---" for i in range(combo.count())]


def test_the_gateway_list_is_shown_grouped_and_remembered(qtbot, settings, memory_keyring):
    credentials.save_api_key(KEY)
    with GatewayReplay(key=KEY) as gateway:
        window = cloud_window(qtbot, settings, gateway.url)
        qtbot.waitUntil(lambda: "gpt-5-mini — OpenAI" in entries(window.llm_combo),
                        timeout=5000)
    shown = entries(window.llm_combo)
    no_provider = shown[:shown.index("---")]  # models the Gateway names no provider for
    assert "tiny-context" in no_provider and no_provider == sorted(no_provider)
    anthropic, openai = shown.index("claude-sonnet-4-6 — Anthropic"), shown.index(
        "gpt-5-mini — OpenAI")
    assert shown[anthropic - 1] == "---" and shown[openai - 1] == "---"  # a group each
    assert shown[-1] == "None (transcript only)"
    assert "as of" in window.llm_combo.toolTip()

    # the next launch, offline: the remembered list, with its time
    offline = cloud_window(qtbot, settings, "http://127.0.0.1:9")
    qtbot.wait(300)
    assert entries(offline.llm_combo) == shown
    assert "as of" in offline.llm_combo.toolTip()


def test_without_a_key_or_a_list_the_built_in_models_are_offered(qtbot, settings,
                                                                 memory_keyring):
    window = cloud_window(qtbot, settings, "http://127.0.0.1:9")
    shown = [t for t in entries(window.llm_combo) if t != "---"]
    assert shown == [*GATEWAY_LLM_MODELS, "None (transcript only)"]
    assert "built-in list" in window.llm_combo.toolTip()
