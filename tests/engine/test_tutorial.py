"""The tutorial's raw websocket-client sample, URL changed, a file instead of the microphone:
with the echo LLM, with an LLM that fails, and with the engine's own LLM service as the app
runs it, where the tutorial's `claude-sonnet-4-6` is answered by the local default model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from earmark.engine.runner import EngineRunner
from tests.engine import tutorial_client
from tests.engine.engine_support import reference, speech, wer
from tests.support.engines import running_engine

TUTORIAL_HANDLER_FAILED = ("Error handling message", "Error decoding")


def test_tutorial_raw_websocket_sample(engine: EngineRunner, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the sample saves the audio it sent next to it
    wav = speech("misc/jfk.wav")
    tutorial_client.run(engine.ws_url, engine.token, str(wav), pace=3.0)
    out = capsys.readouterr().out

    assert re.search(r"Session started: [0-9a-f-]{36}", out), out
    transcripts = re.findall(r"\nTranscript:\n(.*)\n", out)
    assert transcripts, out
    assert wer(reference("misc/jfk.wav"), " ".join(transcripts[1::2])) < 0.25, transcripts
    answers = re.findall(r"LLM Response:\necho: Provide a brief summary of the transcript.\n\n"
                         r"Transcript: (.*)\n", out)
    assert answers, out
    assert re.search(r"Session terminated: 1[01] seconds of audio processed", out), out
    assert "WebSocket Disconnected: Status=1000" in out
    assert "Error handling message" not in out and "Error decoding" not in out
    # websocket-client reports the server's normal close through on_error; nothing else.
    assert re.findall(r"WebSocket Error: (.*)", out) in ([], ["Connection closed normally "
                                                              "(code 1000)"]), out
    assert list(tmp_path.glob("recorded_audio_*.wav"))


def record_messages(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every message the sample's handler gets, parsed; the handler itself still runs."""
    received: list[dict[str, Any]] = []
    handler: Callable[[Any, str], None] = tutorial_client.on_message

    def on_message(ws: Any, message: str) -> None:
        received.append(json.loads(message))
        handler(ws, message)

    monkeypatch.setattr(tutorial_client, "on_message", on_message)
    return received


def llm_data(received: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["data"] for m in received if m.get("type") == "LLMGatewayResponse"]


def test_tutorial_sample_when_the_llm_call_fails(engine: EngineRunner, capsys, tmp_path,
                                                  monkeypatch):
    """The error answer carries one empty choice: the sample prints an empty answer and its
    handler does not fail on `choices[0]`."""
    monkeypatch.chdir(tmp_path)
    config = {**tutorial_client.LLM_GATEWAY_CONFIG,
              "messages": [{"role": "user", "content": "[fail] {{turn}}"}]}
    monkeypatch.setitem(tutorial_client.CONNECTION_PARAMS, "llm_gateway", json.dumps(config))
    received = record_messages(monkeypatch)
    tutorial_client.run(engine.ws_url, engine.token, str(speech("misc/jfk.wav")), pace=3.0)
    out = capsys.readouterr().out

    answers = llm_data(received)
    assert answers, out
    for data in answers:
        assert data["error"]["code"] == 503 and len(data["choices"]) == 1
        assert data.get("choices", [{}])[0].get("message", {}).get("content", "") == ""
    assert out.count("LLM Response:\n\n") == len(answers)
    assert not any(failure in out for failure in TUTORIAL_HANDLER_FAILED), out


@pytest.fixture(scope="module")
def engine_as_the_app_runs_it() -> Iterator[EngineRunner]:
    """An engine with its own LLM service, built as the app and `earmark-engine` build it."""
    with running_engine() as runner:
        yield runner


def test_tutorial_sample_with_claude_answered_by_the_local_model(
        engine_as_the_app_runs_it: EngineRunner, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    received = record_messages(monkeypatch)
    engine = engine_as_the_app_runs_it
    # Real time, as from a microphone: the answers come while the sample still streams.
    tutorial_client.run(engine.ws_url, engine.token, str(speech("misc/jfk.wav")), pace=1.0)
    out = capsys.readouterr().out

    assert tutorial_client.LLM_GATEWAY_CONFIG["model"] == "claude-sonnet-4-6"
    answers = llm_data(received)
    assert answers, out
    for data in answers:
        assert "error" not in data, data
        assert data["model"] == "smollm2-135m"  # the model that really answered
        assert data["request"]["model"] == "claude-sonnet-4-6"
        # The tutorial's handler, verbatim, reads the local model's text.
        assert data.get("choices", [{}])[0].get("message", {}).get("content", "").strip()
    assert out.count("LLM Response:\n") == len(answers), out
    assert not any(failure in out for failure in TUTORIAL_HANDLER_FAILED), out
