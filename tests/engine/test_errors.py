"""Auth, chunk-size and message errors: an Error frame, then a close with the same code."""

from __future__ import annotations

import time

import pytest

from earmark.engine.runner import EngineRunner
from tests.engine.engine_support import Session, assert_well_formed, pcm16, silence


def _error_then_close(session: Session, code: int) -> dict:
    assert session.wait_closed(30) == code
    errors = session.of_type("Error")
    assert len(errors) == 1 and errors[0]["error_code"] == code, session.messages
    assert isinstance(errors[0]["error"], str) and errors[0]["error"]
    assert_well_formed(session.messages)
    return errors[0]


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_bad_or_missing_token_is_refused_with_1008(engine: EngineRunner, token: str | None):
    s = Session.open(engine.ws_url, token)
    error = _error_then_close(s, 1008)
    assert error["error"].startswith("Unauthorized Connection:")
    assert not s.of_type("Begin")
    assert engine.token not in error["error"]


@pytest.mark.parametrize("how", ["query", "bearer"])
def test_token_in_query_or_as_bearer_is_accepted(engine: EngineRunner, how: str):
    if how == "query":
        s = Session.open(engine.ws_url, engine.token, header_token=False)
    else:
        s = Session.open(engine.ws_url, f"Bearer {engine.token}")
    s.wait_for(lambda m: m["type"] == "Begin", 5)
    assert s.terminate() == 1000


def test_begin_arrives_within_200_ms(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "speech_model": "x"})
    begin = s.wait_for(lambda m: m["type"] == "Begin", 5)
    assert s.received_at[0] - s.opened_at < 0.2
    assert isinstance(begin["expires_at"], int) and begin["expires_at"] > time.time()
    # what runs, not what was asked (the engine has one speech model loaded)
    assert begin["configuration"]["model"] == engine.resources.speech_model == "whisper-tiny.en"
    assert begin["configuration"]["requested_model"] == "x"
    assert begin["configuration"]["speaker_labels"] is None  # unset, as the service says
    assert s.terminate() == 1000


def test_short_chunk_followed_by_more_audio_closes_3007(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token)
    s.ws.send_binary(silence(10))
    s.ws.send_binary(silence(100))
    error = _error_then_close(s, 3007)
    assert "10 ms" in error["error"]


def test_short_last_chunk_before_terminate_is_accepted(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token)
    s.send_audio(silence(500))
    s.ws.send_binary(silence(20))
    assert s.terminate() == 1000
    assert s.of_type("Termination") and not s.of_type("Error")


def test_chunk_over_one_second_closes_3007(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token)
    s.ws.send_binary(silence(1200))
    _error_then_close(s, 3007)


@pytest.mark.parametrize("text", ["{not json", '["a list"]', '{"type": "Bogus"}', '{"no": 1}'])
def test_bad_json_or_unknown_type_closes_3006(engine: EngineRunner, text: str):
    s = Session.open(engine.ws_url, engine.token)
    s.wait_for(lambda m: m["type"] == "Begin", 5)
    s.send_json(text)
    _error_then_close(s, 3006)


def test_bad_update_value_closes_3006(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token)
    s.send_json({"type": "UpdateConfiguration", "max_turn_silence": "long"})
    _error_then_close(s, 3006)


def test_bad_query_value_and_unsupported_encoding_close_3006(engine: EngineRunner):
    _error_then_close(Session.open(engine.ws_url, engine.token, {"sample_rate": "fast"}), 3006)
    _error_then_close(Session.open(engine.ws_url, engine.token,
                                   {"sample_rate": 16000, "encoding": "opus"}), 3006)


def test_unknown_query_parameters_are_ignored(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000, "brand_new": "1"})
    s.wait_for(lambda m: m["type"] == "Begin", 5)
    assert s.terminate() == 1000


def test_keepalive_and_inactivity_timeout(engine: EngineRunner):
    s = Session.open(engine.ws_url, engine.token, {"sample_rate": 16000,
                                                   "inactivity_timeout": 1})
    for _ in range(3):  # KeepAlive holds the session open past the timeout
        time.sleep(0.5)
        s.send_json({"type": "KeepAlive"})
    assert not s.closed
    assert s.wait_closed(5) == 4031
    assert "idle" in s.close_reason.lower()
    assert [m["type"] for m in s.messages] == ["Begin", "Termination"]
    assert_well_formed(s.messages)


def test_other_paths_and_health(engine: EngineRunner):
    import json
    import urllib.request

    with urllib.request.urlopen(f"{engine.http_url}/v3/ws/health", timeout=5) as r:
        assert json.load(r)["status"] == "ready"
    for path in ("/", "/v3/ws/"):
        s = Session.open(f"ws://127.0.0.1:{engine.port}{path}", engine.token)
        s.wait_for(lambda m: m["type"] == "Begin", 5)
        assert s.terminate() == 1000


def test_audio_before_the_server_reads_it_is_kept(engine: EngineRunner):
    """A burst of a whole file, then Terminate at once: nothing is lost."""
    s = Session.open(engine.ws_url, engine.token)
    s.send_audio(pcm16("cmu_arctic/cmu_arctic_us_aew_a0001.wav"), chunk_ms=200)
    assert s.terminate() == 1000
    assert "danger trail" in s.final_text()
