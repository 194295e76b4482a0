"""The protocol models against every JSON example in the v3 reference, and against bad input."""

import json
from pathlib import Path

import pytest

from earmark.core.protocol import (
    Begin,
    LLMGatewayResponse,
    ProtocolError,
    ServerError,
    Termination,
    Turn,
    UnknownMessage,
    parse_client_message,
    parse_server_message,
    to_json,
)

EXAMPLES = json.loads(
    (Path(__file__).parents[1] / "fixtures/protocol/doc_examples.json").read_text()
)


@pytest.mark.parametrize("example", EXAMPLES["server"], ids=lambda e: e["type"])
def test_every_server_example_round_trips(example):
    message = parse_server_message(json.dumps(example))
    assert not isinstance(message, UnknownMessage)
    assert message.to_dict() == example
    assert json.loads(to_json(message)) == example


@pytest.mark.parametrize("example", EXAMPLES["client"], ids=lambda e: e["type"])
def test_every_client_example_round_trips(example):
    message = parse_client_message(json.dumps(example))
    assert message.to_dict() == example


def test_all_message_types_are_covered_by_the_examples():
    server = {e["type"] for e in EXAMPLES["server"]}
    assert server == {"Begin", "Turn", "SpeechStarted", "LLMGatewayResponse", "SpeakerRevision",
                      "Heartbeat", "Silence", "Warning", "Error", "Termination"}
    assert {e["type"] for e in EXAMPLES["client"]} == {
        "UpdateConfiguration", "ForceEndpoint", "KeepAlive", "Terminate"}


def test_turn_fields_are_typed():
    turn = parse_server_message(json.dumps(next(e for e in EXAMPLES["server"]
                                                if e["type"] == "Turn")))
    assert isinstance(turn, Turn)
    assert turn.end_of_turn and turn.turn_order == 0
    assert turn.words[0].text == "Hi," and turn.words[0].start == 2160


def test_partial_text_includes_the_last_non_final_word():
    turn = parse_server_message(json.dumps({
        "type": "Turn", "turn_order": 0, "turn_is_formatted": False, "end_of_turn": False,
        "transcript": "hello", "end_of_turn_confidence": 0.0, "words": [
            {"start": 0, "end": 100, "text": "hello", "confidence": 0.9, "word_is_final": True},
            {"start": 100, "end": 200, "text": "wor", "confidence": 0.5, "word_is_final": False},
        ]}))
    assert turn.transcript == "hello"
    assert turn.text == "hello wor"


def test_llm_response_content():
    example = next(e for e in EXAMPLES["server"] if e["type"] == "LLMGatewayResponse")
    message = parse_server_message(json.dumps(example))
    assert isinstance(message, LLMGatewayResponse)
    assert message.content == "Hello! How can I help?"


def test_legacy_untyped_error_is_an_error():
    message = parse_server_message('{"error": "bad key"}')
    assert isinstance(message, ServerError) and message.error == "bad key"


def test_unknown_type_is_kept_not_raised():
    message = parse_server_message('{"type": "FutureThing", "x": 1}')
    assert isinstance(message, UnknownMessage) and message.type == "FutureThing"


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", '{"no_type": 1}', '{"type": "Begin"}',
    '{"type": "Begin", "id": "x", "expires_at": "soon"}',
    '{"type": "Turn", "turn_order": true, "turn_is_formatted": false, "end_of_turn": false,'
    ' "transcript": "", "end_of_turn_confidence": 0, "words": []}',
    '{"type": "Turn", "turn_order": 0, "turn_is_formatted": false, "end_of_turn": false,'
    ' "transcript": "", "end_of_turn_confidence": 0, "words": [{"text": "a"}]}',
    '{"type": "Termination", "audio_duration_seconds": 7.5}',
    b"\xff\xfe\x00",
])
def test_malformed_messages_raise_protocol_error(text):
    with pytest.raises(ProtocolError):
        parse_server_message(text)


def test_termination_durations_must_be_integers_for_the_sdk():
    assert parse_server_message('{"type":"Termination","audio_duration_seconds":7,'
                                '"session_duration_seconds":8}') == Termination(7, 8)


def test_begin_without_configuration():
    assert parse_server_message('{"type":"Begin","id":"a","expires_at":1}') == Begin("a", 1)


@pytest.mark.parametrize("text", ['{"type": "Nope"}', '{"kind": 1}', "{bad"])
def test_bad_client_messages_raise(text):
    with pytest.raises(ProtocolError):
        parse_client_message(text)
