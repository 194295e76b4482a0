"""Speech backends: which one a model spec picks, how a spec that cannot run is refused (by the
registry, /health and the CLI), and an engine whose finals decode on a model of their own."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from earmark.engine.runner import EngineOptions, EngineRunner
from earmark.engine.speech import (
    ModelNotFound,
    SpeechBackend,
    SplitBackend,
    UnknownBackend,
    choose_backend,
    load_backend,
)
from earmark.engine.speech.faster_whisper import FasterWhisperBackend
from earmark.engine.speech.model_files import resolve_model
from tests.engine.engine_support import EchoLLM, Session, pcm16, reference, silence, wer
from tests.support.engines import running_engine

APP = Path(__file__).resolve().parents[2] / "app"
JFK = "misc/jfk.wav"


def tiny_folder() -> str:
    """The bundled tiny.en model's CTranslate2 folder: a second copy of it, loaded by path."""
    return resolve_model("whisper-tiny.en")


def health(runner: EngineRunner, token: str | None) -> dict[str, Any]:
    headers = {"Authorization": token} if token else {}
    request = urllib.request.Request(f"{runner.http_url}/health", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


# --- the registry ---------------------------------------------------------------------------


def test_catalog_names_hub_names_and_model_folders_go_to_faster_whisper():
    assert choose_backend("whisper-tiny.en") == ("faster-whisper", "whisper-tiny.en")
    assert choose_backend("whisper-base") == ("faster-whisper", "whisper-base")
    assert choose_backend("base.en") == ("faster-whisper", "base.en")
    assert choose_backend("faster-whisper:base.en") == ("faster-whisper", "base.en")
    assert choose_backend(tiny_folder()) == ("faster-whisper", tiny_folder())


def test_a_ct2_folder_loads_as_a_faster_whisper_backend():
    backend = load_backend(tiny_folder(), workers=1)
    assert isinstance(backend, FasterWhisperBackend) and isinstance(backend, SpeechBackend)
    assert backend.name == tiny_folder()


def test_specs_that_cannot_run_are_refused_with_the_reason(tmp_path: Path):
    with pytest.raises(UnknownBackend, match=r"backend 'nosuch'.*\(known: faster-whisper\)"):
        load_backend("nosuch:model")
    with pytest.raises(ModelNotFound, match=r"holds no speech model.*model\.bin"):
        load_backend(str(tmp_path))  # a folder, but not a model's
    missing = tmp_path / "missing" / "model"
    with pytest.raises(ModelNotFound, match=re.escape(f"{missing} does not exist")):
        load_backend(str(missing))
    with pytest.raises(RuntimeError, match="'no-such-model' is not available locally"):
        load_backend("no-such-model")  # not in the catalog, not cached, downloads off


# --- refusals as the engine reports them ----------------------------------------------------


def test_a_final_model_that_cannot_load_is_an_error_in_health(echo_llm: EchoLLM):
    missing = "/nonexistent/final-model"
    runner = EngineRunner(EngineOptions(port=0, final_speech_model=missing), llm_service=echo_llm)
    runner.start()
    try:
        assert runner.wait_listening(10), runner.start_error
        errors: list[str | None] = []
        done = threading.Event()
        runner.add_ready_callback(lambda error: (errors.append(error), done.set()))
        assert done.wait(60)
        assert errors[0] is not None and "final speech model" in errors[0]
        assert f"{missing} does not exist" in errors[0]
        assert health(runner, None) == {"status": "error"}  # no local paths without the token
        body = health(runner, runner.token)
        assert body["status"] == "error" and body["error"] == errors[0]
        assert body["final_speech_model"] == missing
    finally:
        runner.stop()


def test_the_cli_prints_why_the_speech_model_failed():
    env = {**os.environ, "PYTHONPATH": str(APP)}
    process = subprocess.Popen(
        [sys.executable, "-m", "earmark.engine", "--port", "0", "--exit-with-stdin",
         "--speech-model", "nosuch:model"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=env)
    try:
        assert process.stdout is not None
        speech = next(line for line in process.stdout if line.startswith("speech:"))
        assert speech.strip() == ("speech: FAILED: speech model 'nosuch:model' failed to load: "
                                  "unknown speech backend 'nosuch' in 'nosuch:model' "
                                  "(known: faster-whisper)")
    finally:
        assert process.stdin is not None
        process.stdin.close()  # --exit-with-stdin: the engine stops
        assert process.wait(30) == 0


# --- finals on a model of their own ---------------------------------------------------------


@pytest.fixture(scope="module")
def split_engine() -> Iterator[EngineRunner]:
    """Partials on whisper-tiny.en, finals on the same model loaded again by its folder (CI
    has no larger model; the bench compares tiny with base), and the app's LLM service."""
    with running_engine(final_speech_model=tiny_folder()) as runner:
        yield runner


def counting(calls: list[bool], decode: Callable[..., Any]) -> Callable[..., Any]:
    def counted(audio: Any, *, final: bool, **kwargs: Any) -> Any:
        calls.append(final)
        return decode(audio, final=final, **kwargs)

    return counted


def test_finals_decode_on_the_final_model_and_both_are_reported(
        split_engine: EngineRunner, monkeypatch: pytest.MonkeyPatch):
    model = split_engine.resources.model
    assert isinstance(model, SplitBackend) and model.partials is not model.finals
    on_partials: list[bool] = []
    on_finals: list[bool] = []
    monkeypatch.setattr(model.partials, "decode", counting(on_partials, model.partials.decode))
    monkeypatch.setattr(model.finals, "decode", counting(on_finals, model.finals.decode))

    gateway = {"model": "claude-sonnet-4-6", "max_tokens": 4,
               "messages": [{"role": "user", "content": "Repeat: {{turn}}"}]}
    s = Session.open(split_engine.ws_url, split_engine.token,
                     {"sample_rate": 16000, "format_turns": "true",
                      "llm_gateway": json.dumps(gateway)})
    begin = s.wait_for(lambda m: m["type"] == "Begin", 5)["configuration"]
    assert begin["model"] == "whisper-tiny.en"
    assert begin["final_model"] == tiny_folder()
    assert begin["llm_model"] == "smollm2-135m"  # no Gateway key: the local model answers
    s.send_audio(pcm16(JFK) + silence(1500), pace=4)
    assert s.terminate(60) == 1000

    assert wer(reference(JFK), s.final_text(True)) < 0.2
    assert on_finals and all(on_finals)  # every final on the final model ...
    assert on_partials and not any(on_partials)  # ... and only partials on the other
    body = health(split_engine, split_engine.token)
    assert body["speech_model"] == "whisper-tiny.en"
    assert body["final_speech_model"] == tiny_folder()
    assert body["llm_default_model"] == "smollm2-135m"
    assert "smollm2-135m" in body["llm_models"]


def test_without_a_final_model_begin_and_health_say_so(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token)
    configuration = s.wait_for(lambda m: m["type"] == "Begin", 5)["configuration"]
    assert configuration["model"] == "whisper-tiny.en" and "final_model" not in configuration
    assert "llm_model" not in configuration  # no per-turn answers asked for
    assert s.terminate() == 1000
    body = health(engine, engine.token)
    assert body["final_speech_model"] is None
    assert body["llm_default_model"] is None and body["llm_models"] == []  # the echo service
