"""The server-message parser against thousands of malformed messages derived from the v3
reference's examples: fields removed, retyped and pushed to extremes, `type` swapped, words
broken, JSON broken, nested, duplicated, huge, binary. `parse_server_message` either returns a
message every later step can use as it is (assembled into turns, answers read, written to disk
as strict JSON), or raises ProtocolError: never another exception.

`malformed_frames` is also what tests/ui/test_malformed_messages.py sends to the window.
"""

from __future__ import annotations

import contextlib
import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from earmark.core.protocol import (
    Begin,
    Heartbeat,
    LLMGatewayResponse,
    ProtocolError,
    ServerError,
    ServerWarning,
    Silence,
    SpeakerRevision,
    SpeechStarted,
    Termination,
    Timeline,
    Turn,
    UnknownMessage,
    Word,
    parse_client_message,
    parse_server_message,
    to_json,
)
from earmark.core.protocol.messages import MAX_INT, MAX_MESSAGE_CHARS, MAX_TURN_ORDER
from earmark.core.turns import TurnAnswer, TurnAssembler

EXAMPLES: list[dict] = json.loads(
    (Path(__file__).parents[1] / "fixtures/protocol/doc_examples.json").read_text())["server"]

Frame = str | bytes
Path_ = tuple[str | int, ...]


def _nested(depth: int, leaf: Any = 0, kind: type = list) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value] if kind is list else {"a": value}
    return value


WEIRD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 7, MAX_TURN_ORDER, MAX_TURN_ORDER + 1, 2**53, 2**63 - 1, 2**63,
    -(2**63), 2**64, 10**300, -(10**300), 0.5, -0.0, 1.0, 2.5e-320, 1e308, -1e308, "", "0", "x",
    "A" * 100_000, "\ud800", "\udfff x", "\x00", "é€😀", [], {}, [1, 2], [None], {"a": None},
    {"type": "Turn"}, _nested(10), _nested(40), _nested(40, kind=dict), [[]] * 50,
]
TURN_ORDERS: list[Any] = [2**63, 2**63 - 1, -1, -(2**63), 1.0, 1.5, "1", "0", None, True, [0],
                          {"n": 0}, MAX_TURN_ORDER + 1, 2**64, 10**100]
TYPES: list[Any] = [None, 5, 1.5, True, [], ["Turn"], {}, {"Turn": 1}, "", "turn", "Turn ",
                    "TURN", "X" * 10_000, "\ud800", "Begin\x00"]
BAD_WORDS: list[Any] = [None, {}, "we", 5, True, [1], [None], [[]], [{}], [{"text": "a"}],
                        [{"start": 0, "end": 1, "text": 5, "confidence": 1, "word_is_final": 1}]]
CONSTANTS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "nan", "0x10", "01", "1.", "+1"]


# --- mutations of a message, as a Python object ------------------------------------------------

def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield (*prefix, key)
        yield from _paths(item, (*prefix, key))


def _parent(message: dict, path: Path_) -> Any:
    node: Any = message
    for key in path[:-1]:
        node = node[key]
    return node


def _pick(message: dict, rng: random.Random) -> Path_ | None:
    paths = list(_paths(message))
    return rng.choice(paths) if paths else None


def remove_field(message: dict, rng: random.Random) -> None:
    path = _pick(message, rng)
    if path is not None:
        del _parent(message, path)[path[-1]]


def replace_value(message: dict, rng: random.Random) -> None:
    path = _pick(message, rng)
    if path is not None:
        _parent(message, path)[path[-1]] = copy.deepcopy(rng.choice(WEIRD_VALUES))


def _retyped(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return rng.choice([int(value), str(value).lower(), None])
    if isinstance(value, int | float):
        return rng.choice([str(value), [value], bool(value), float(value) + 0.5, -value - 1])
    if isinstance(value, str):
        as_hex = value.encode("utf-8", "surrogatepass").hex()
        return rng.choice([len(value), [value], {"text": value}, as_hex, None])
    if isinstance(value, list):
        return rng.choice([dict(enumerate(value)), json.dumps(value), len(value), value[:1] * 3])
    if isinstance(value, dict):
        return rng.choice([list(value.values()), json.dumps(value), [value], None])
    return rng.choice(["null", 0, False])


def retype_field(message: dict, rng: random.Random) -> None:
    path = _pick(message, rng)
    if path is not None:
        parent = _parent(message, path)
        parent[path[-1]] = _retyped(parent[path[-1]], rng)


def add_field(message: dict, rng: random.Random) -> None:
    dicts = [message, *(v for p in _paths(message)
                        if isinstance(v := _parent(message, p)[p[-1]], dict))]
    target = rng.choice(dicts)
    target[rng.choice(["extra", "turn_order", "type", "words", "data", "error", "ü"])] = \
        copy.deepcopy(rng.choice(WEIRD_VALUES))


def swap_type(message: dict, rng: random.Random) -> None:
    if rng.random() < 0.2:
        message.pop("type", None)
    else:
        message["type"] = rng.choice(TYPES)


def extreme_turn_order(message: dict, rng: random.Random) -> None:
    message["turn_order"] = rng.choice(TURN_ORDERS)


def break_words(message: dict, rng: random.Random) -> None:
    words = message.get("words")
    if isinstance(words, list) and words and rng.random() < 0.5:
        words.insert(rng.randrange(len(words) + 1), copy.deepcopy(rng.choice(WEIRD_VALUES)))
    else:
        message["words"] = copy.deepcopy(rng.choice(BAD_WORDS))


def break_llm_data(message: dict, rng: random.Random) -> None:
    data = message.setdefault("data", {})
    if not isinstance(data, dict):
        return
    where = rng.choice(["request", "choices", "usage", "model", "error", "content", "parts"])
    value = copy.deepcopy(rng.choice(WEIRD_VALUES))
    if where == "content":
        data["choices"] = [{"message": {"role": "assistant", "content": value}}]
    elif where == "parts":
        data["choices"] = [{"message": {"content": [{"type": "text", "text": value}, value]}}]
    else:
        data[where] = value


OBJECT_MUTATIONS: list[Callable[[dict, random.Random], None]] = [
    remove_field, replace_value, retype_field, add_field, swap_type, extreme_turn_order,
    break_words, break_llm_data,
]


# --- mutations of the frame's text -------------------------------------------------------------

def _as_frame(message: Any) -> str:
    return json.dumps(message)  # ASCII: a lone surrogate travels as its \\ud800 escape


def truncate(text: str, rng: random.Random) -> Frame:
    return text[:rng.randrange(len(text))]


def put_constant(text: str, rng: random.Random) -> Frame:
    digits = [i for i, c in enumerate(text) if c.isdigit() and not text[i - 1].isalnum()]
    if not digits:
        return text + rng.choice(CONSTANTS)
    at = rng.choice(digits)
    end = at
    while end < len(text) and (text[end].isdigit() or text[end] in ".eE+-"):
        end += 1
    return text[:at] + rng.choice(CONSTANTS) + text[end:]


def duplicate_key(text: str, rng: random.Random) -> Frame:
    key = rng.choice(["type", "turn_order", "words", "data", "transcript", "id"])
    value = json.dumps(copy.deepcopy(rng.choice(WEIRD_VALUES[:30])))
    pair = f'"{key}": {value}'
    return f"{{{pair}, {text[1:]}" if rng.random() < 0.5 else f"{text[:-1]}, {pair}}}"


def not_an_object(text: str, rng: random.Random) -> Frame:
    return rng.choice([f"[{text}]", "123", "-1.5", '"Turn"', "null", "true", "[]", "", " ",
                       json.dumps(text), f"{text}{text}", f"{text} garbage", "{", "}"])


def deep_nesting(text: str, rng: random.Random) -> Frame:
    depth = rng.choice([33, 100, 1000, 5000, 100_000])
    if rng.random() < 0.5:
        nested = "[" * depth + "]" * depth
    else:
        nested = '{"a":' * depth + "1" + "}" * depth
    return rng.choice([nested, f'{text[:-1]}, "deep": {nested}}}'])


def huge(text: str, rng: random.Random) -> Frame:
    size = rng.choice([MAX_MESSAGE_CHARS + 1, 2 * MAX_MESSAGE_CHARS])
    return f'{text[:-1]}, "pad": "{"x" * size}"}}'


def as_bytes(text: str, rng: random.Random) -> Frame:
    return rng.choice([
        text.encode("utf-16"), b"\xef\xbb\xbf" + text.encode(), text.encode()[:-1] + b"\xff",
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))), b"", b"\x00" * 10,
        text.encode("latin-1", "replace").replace(b"e", b"\xe9"),
    ])


TEXT_MUTATIONS: list[Callable[[str, random.Random], Frame]] = [
    truncate, put_constant, duplicate_key, not_an_object, deep_nesting, huge, as_bytes,
]


def mutated_frame(rng: random.Random) -> Frame:
    """One message derived from a reference example: most with one to three changes to the
    object, some with a change to its text."""
    message = copy.deepcopy(rng.choice(EXAMPLES))
    if rng.random() < 0.25:
        return rng.choice(TEXT_MUTATIONS)(_as_frame(message), rng)
    for _ in range(rng.choice([1, 1, 2, 3])):
        rng.choice(OBJECT_MUTATIONS)(message, rng)
    return _as_frame(message)


def malformed_frames(seed: int, count: int) -> list[Frame]:
    """`count` frames that parse_server_message rejects, reproducibly."""
    rng, frames = random.Random(seed), []
    while len(frames) < count:
        frame = mutated_frame(rng)
        try:
            parse_server_message(frame)
        except ProtocolError:
            frames.append(frame)
    return frames


# --- what "usable" means -----------------------------------------------------------------------

def _count(value: Any, high: int = MAX_INT) -> None:
    assert type(value) is int and 0 <= value <= high, value


def _number(value: Any) -> None:
    assert type(value) in (int, float) and abs(value) < float("inf"), value


def _opt(check: Callable[[Any], None], value: Any) -> None:
    if value is not None:
        check(value)


def _text(value: Any) -> None:
    assert type(value) is str
    value.encode("utf-8")


def _word(word: Word) -> None:
    assert type(word) is Word
    _count(word.start)
    _count(word.end)
    _text(word.text)
    _number(word.confidence)
    assert type(word.word_is_final) is bool
    _opt(_text, word.speaker)


def _turn(turn: Turn) -> None:
    _count(turn.turn_order, MAX_TURN_ORDER)
    assert type(turn.turn_is_formatted) is bool and type(turn.end_of_turn) is bool
    _text(turn.transcript)
    _text(turn.text)
    _number(turn.end_of_turn_confidence)
    for word in turn.words:
        _word(word)
    _opt(_text, turn.utterance)
    _opt(_text, turn.language_code)
    _opt(_number, turn.language_confidence)
    _opt(_text, turn.speaker_label)
    assembler = TurnAssembler()
    assembler.apply(Timeline(3, 1000).turn(turn))
    assembler.apply(turn)
    assert all(type(t.text) is str for t in assembler.turns)


def _answer(message: LLMGatewayResponse) -> None:
    _count(message.turn_order, MAX_TURN_ORDER)
    _text(message.transcript)
    answer = TurnAnswer.from_message(Timeline(3, 0).answer(message))
    _text(answer.text)
    _opt(_text, answer.error)
    _opt(_text, answer.model)
    assert type(answer.usage) is dict
    json.dumps(answer.usage, allow_nan=False, ensure_ascii=False).encode("utf-8")


def _other(message: Any) -> None:
    match message:
        case Begin():
            _text(message.id)
            _count(message.expires_at)
            assert message.configuration is None or type(message.configuration) is dict
        case SpeakerRevision():
            for revision in message.revisions:
                _count(revision.turn_order, MAX_TURN_ORDER)
                _text(revision.speaker_label)
                for word in revision.words:
                    _word(word)
        case SpeechStarted():
            _count(message.timestamp)
            _opt(_number, message.confidence)
        case Heartbeat():
            _count(message.total_audio_received_ms)
            _count(message.total_duration_ms)
            _number(message.realtime_factor)
            _opt(_number, message.max_speech_probability)
        case Silence():
            _count(message.start_ms)
            _count(message.end_ms)
        case ServerWarning():
            _count(message.warning_code)
            _text(message.warning)
        case ServerError():
            _text(message.error)
            _opt(_count, message.error_code)
        case Termination():
            _opt(_count, message.audio_duration_seconds)
            _opt(_count, message.session_duration_seconds)
        case UnknownMessage():
            _text(message.type)
        case _:
            pytest.fail(f"not a server message: {message!r}")


def check_usable(message: Any) -> None:
    """Every field as its type says, within its bounds, and every later step works."""
    if isinstance(message, Turn):
        _turn(message)
    elif isinstance(message, LLMGatewayResponse):
        _answer(message)
    else:
        _other(message)
    strict = json.dumps(message.to_dict(), allow_nan=False, ensure_ascii=False)
    strict.encode("utf-8")
    to_json(message)


def _outcome(frame: Frame) -> str:
    try:
        message = parse_server_message(frame)
    except ProtocolError:
        return "rejected"
    except Exception as exc:
        pytest.fail(f"{type(exc).__name__}: {exc} from {frame[:300]!r}")
    try:
        check_usable(message)
    except Exception as exc:
        pytest.fail(f"unusable {message!r:.300} ({type(exc).__name__}: {exc}) "
                    f"from {frame[:300]!r}")
    return "accepted"


# --- the tests ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_thousand_mutated_messages_parse_or_raise_protocol_error(seed):
    rng = random.Random(seed)
    outcomes = [_outcome(mutated_frame(rng)) for _ in range(1000)]
    # the generator is doing its job: mostly malformed, yet some mutations stay valid
    assert outcomes.count("rejected") > 500 and outcomes.count("accepted") > 20


@pytest.mark.parametrize("seed", [4])
def test_the_client_parser_raises_only_protocol_error(seed):
    rng = random.Random(seed)
    for _ in range(1000):
        frame = mutated_frame(rng)
        with contextlib.suppress(ProtocolError):  # anything else fails the test
            parse_client_message(frame)


def test_every_reference_example_is_usable():
    for example in EXAMPLES:
        check_usable(parse_server_message(json.dumps(example)))


def test_malformed_frames_are_reproducible_and_all_rejected():
    frames = malformed_frames(7, 200)
    assert frames == malformed_frames(7, 200)
    assert {type(f) for f in frames} == {str, bytes}


# --- the crashes found, one by one -------------------------------------------------------------

LLM = next(e for e in EXAMPLES if e["type"] == "LLMGatewayResponse")
TURN = next(e for e in EXAMPLES if e["type"] == "Turn")


def _llm(**data: Any) -> LLMGatewayResponse:
    message = parse_server_message(json.dumps({**LLM, "data": {**LLM["data"], **data}}))
    assert isinstance(message, LLMGatewayResponse)
    return message


@pytest.mark.parametrize("request_", ["claude", None, [], ["model"], 5, True])
def test_an_answer_whose_request_is_not_an_object_is_kept_without_a_model(request_):
    answer = TurnAnswer.from_message(_llm(request=request_))
    assert answer.text == "Hello! How can I help?" and answer.model is None


def test_the_model_comes_from_data_or_its_request():
    assert _llm(model="m1", request={"model": "m2"}).model == "m1"
    assert _llm(model=5, request={"model": "m2"}).model == "m2"
    assert _llm(model="", request={"model": 7}).model is None


@pytest.mark.parametrize(("content", "text"), [
    (5, ""), (None, ""), ({"text": "a"}, ""), (["a"], ""), (True, ""),
    ([{"type": "text", "text": "a"}, {"text": 5}, {"text": None}, "b", {"text": "c"}], "ac"),
])
def test_an_answer_whose_content_is_not_a_string(content, text):
    message = _llm(choices=[{"index": 0, "message": {"role": "assistant", "content": content}}])
    assert TurnAnswer.from_message(message).text == text


@pytest.mark.parametrize(("error", "reason"), [
    ("busy", "busy"), ({"message": "busy"}, "busy"), ({"message": {"a": 1}}, '{"a": 1}'),
    ({"code": 5}, '{"code": 5}'), (5, "5"), ([], None), ("", None), (None, None),
])
def test_an_answer_error_is_text(error, reason):
    assert _llm(error=error).error == reason


def test_usage_that_is_not_an_object_is_empty():
    assert _llm(usage=[1, 2]).usage == {} and _llm(usage={"total_tokens": 3}).usage == {
        "total_tokens": 3}


@pytest.mark.parametrize("order", [2**63, 2**64, -1, -(2**63), 1.0, 1.5, "1", None, True,
                                   MAX_TURN_ORDER + 1, 10**100])
@pytest.mark.parametrize("example", [TURN, LLM], ids=["Turn", "LLMGatewayResponse"])
def test_turn_order_out_of_bounds_is_rejected(example, order):
    with pytest.raises(ProtocolError, match="turn_order"):
        parse_server_message(json.dumps({**example, "turn_order": order}))


def test_the_largest_turn_order_is_accepted():
    assert parse_server_message(json.dumps({**TURN, "turn_order": MAX_TURN_ORDER})).turn_order \
        == MAX_TURN_ORDER


@pytest.mark.parametrize("frame", [
    "[" * 100_000 + "]" * 100_000,
    '{"type": "Turn", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"type": "Turn", "x": ' + '{"a":' * 5000 + "1" + "}" * 5000 + "}",
    json.dumps({**LLM, "data": {**LLM["data"], "usage": _nested(40, kind=dict)}}),
])
def test_deep_nesting_is_rejected(frame):
    with pytest.raises(ProtocolError, match="nested"):
        parse_server_message(frame)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_numbers_json_cannot_carry_are_rejected(number):
    frame = json.dumps(TURN).replace('"end_of_turn_confidence": 0.429525',
                                     f'"end_of_turn_confidence": {number}')
    assert number in frame
    with pytest.raises(ProtocolError):
        parse_server_message(frame)
    with pytest.raises(ProtocolError):  # anywhere, not only in the fields the app reads
        parse_server_message(json.dumps(LLM)[:-1] + f', "extra": [{number}]}}')


def test_a_lone_surrogate_is_rejected():
    with pytest.raises(ProtocolError, match="Unicode"):
        parse_server_message(json.dumps({**TURN, "transcript": "a \ud800 b"}))


@pytest.mark.parametrize("frame", [None, 5, 1.5, [], {}, object()])
def test_a_frame_that_is_not_text(frame):
    with pytest.raises(ProtocolError):
        parse_server_message(frame)


def test_a_huge_message_is_rejected_before_parsing():
    with pytest.raises(ProtocolError, match="too large"):
        parse_server_message(json.dumps({**TURN, "transcript": "x" * MAX_MESSAGE_CHARS}))


@pytest.mark.parametrize("frame", [b"\xff\xfe\x00", b"\x00" * 8, bytes(range(256))])
def test_binary_garbage_is_rejected(frame):
    with pytest.raises(ProtocolError):
        parse_server_message(frame)


def test_a_duplicated_key_counts_once_the_last():
    frame = '{"type": "Nope", ' + json.dumps(TURN)[1:]
    assert isinstance(parse_server_message(frame), Turn)
    frame = json.dumps(TURN)[:-1] + ', "turn_order": 5}'
    assert parse_server_message(frame).turn_order == 5


@pytest.mark.parametrize(("example", "field", "value"), [
    ("Begin", "expires_at", -1), ("Begin", "expires_at", 2**63), ("Begin", "id", 5),
    ("Begin", "configuration", []), ("SpeechStarted", "timestamp", -5),
    ("Heartbeat", "realtime_factor", "1"), ("Silence", "end_ms", 2**64),
    ("Warning", "warning_code", -1), ("Error", "error_code", 2**63), ("Error", "error", None),
    ("Termination", "audio_duration_seconds", -1), ("Termination", "audio_duration_seconds", 1.5),
    ("SpeakerRevision", "revisions", [{"turn_order": 2**63, "speaker_label": "A", "words": []}]),
    ("SpeakerRevision", "revisions", {"a": 1}), ("SpeakerRevision", "revisions", [5]),
])
def test_every_message_type_checks_its_fields(example, field, value):
    message = {**next(e for e in EXAMPLES if e["type"] == example), field: value}
    with pytest.raises(ProtocolError):
        parse_server_message(json.dumps(message))


def test_an_error_message_preview_is_short():
    with pytest.raises(ProtocolError) as raised:
        parse_server_message(json.dumps({**TURN, "transcript": ["x" * 100_000]}))
    assert len(str(raised.value)) < 200
    with pytest.raises(ProtocolError) as raised:
        parse_server_message(json.dumps({**TURN, "turn_order": "9" * 100_000}))
    assert len(str(raised.value)) < 200
