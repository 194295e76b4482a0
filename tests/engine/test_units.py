"""Pure parts: audio decoding, turn messages, partial windows, the LLM relay, model names."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from earmark.core.protocol import LLMGatewayConfig, StreamingParams
from earmark.engine.audio import AudioDecoder, SampleBuffer
from earmark.engine.cli import build_parser
from earmark.engine.llm_relay import LLMRelay
from earmark.engine.speech.model_files import ModelNotFound, resolve_model
from earmark.engine.turns import PartialWindow, final_turns, unformat
from tests.engine.engine_support import decoded


def test_s16le_decoding_keeps_an_odd_byte_for_the_next_frame():
    d = AudioDecoder(16000)
    pcm = np.array([0, 16384, -16384], dtype="<i2").tobytes()
    first = d.decode(pcm[:3])
    second = d.decode(pcm[3:])
    assert list(np.concatenate([first, second])) == [0.0, 0.5, -0.5]
    assert d.duration_ms(3200) == 100 and d.position_ms == pytest.approx(3 / 16)


def test_mulaw_and_resampling():
    d = AudioDecoder(8000, "pcm_mulaw")
    out = d.decode(bytes([0xFF, 0x7F, 0x80, 0x00]))  # +0, -0, max, min
    out = np.concatenate([out, d.flush()])
    assert d.duration_ms(400) == 50
    assert 6 <= len(out) <= 10  # 4 samples at 8 kHz are about 8 at 16 kHz
    table = AudioDecoder(16000, "pcm_mulaw").decode(bytes([0xFF, 0x80, 0x00]))
    assert table[0] == 0 and table[1] > 0.95 and table[2] < -0.95
    with pytest.raises(ValueError):
        AudioDecoder(16000, "opus")


def test_sample_buffer_slices_by_stream_time_after_trimming():
    b = SampleBuffer(keep_ms=2000)
    for i in range(5):
        b.append(np.full(16000, i, np.float32))
    assert b.end_ms == 5000
    assert set(b.slice(4000, 4500)) == {4.0}
    assert len(b.slice(0, 1000)) == 0  # trimmed
    assert b.start_ms == 2000


def test_unformat_and_final_turns():
    assert unformat("Hello, World! It's 5 o'clock.") == "hello world it's 5 o'clock"
    d = decoded(("Hello,", 0.0, 0.4), ("world.", 0.5, 0.9))
    plain, formatted = final_turns(3, d, 1000, 0.8, format_turns=True)
    assert plain.transcript == "hello world" and not plain.turn_is_formatted
    assert formatted.transcript == "Hello, world." and formatted.turn_is_formatted
    assert [(w.start, w.end) for w in plain.words] == [(1000, 1400), (1500, 1900)]
    assert plain.end_of_turn and all(w.word_is_final for w in plain.words)
    assert final_turns(0, d, 0, 1.0, format_turns=False)[0].turn_order == 0


def test_partial_window_freezes_old_words_in_long_turns():
    w = PartialWindow(turn_start_ms=0)
    d = decoded(*[(f"w{i}", i * 1.0, i * 1.0 + 0.5) for i in range(9)])
    words = w.update(d, 0, 9000)
    assert [x.text for x in words] == [f"w{i}" for i in range(9)]
    assert w.frozen and w.frozen_until_ms is not None and 5000 < w.frozen_until_ms < 7000
    later = decoded(("w6", 0.0, 0.4), ("w7", 1.0, 1.4), ("new", 3.0, 3.5))
    words = w.update(later, w.start_ms, 10_000)
    assert [x.text for x in words][-3:] == ["w6", "w7", "new"]


class SlowLLM:
    def __init__(self) -> None:
        self.prompts: list[str] = []

    async def complete(self, request):
        self.prompts.append(request["messages"][0]["content"])
        await asyncio.sleep(0.05)
        return {"choices": [{"message": {"content": "ok"}}]}


def test_llm_relay_merges_a_backlog_and_keeps_turn_order():
    async def scenario():
        sent = []

        async def send(msg):
            sent.append(msg)

        config = LLMGatewayConfig.from_dict({"model": "m", "messages": [
            {"role": "user", "content": "T: {{turn}}"}], "max_tokens": 5, "tools": []})
        llm = SlowLLM()
        relay = LLMRelay(llm, config, send)
        assert relay.request_for("x") == {"model": "m", "max_tokens": 5, "tools": [],
                                          "messages": [{"role": "user", "content": "T: x"}]}
        relay.submit(0, "one")
        await asyncio.sleep(0)  # the first request is in flight
        relay.submit(1, "two")
        relay.submit(2, "three")
        relay.submit(3, "  ")  # empty turns are not sent
        await relay.drain(2)
        return llm.prompts, [(m.turn_order, m.transcript) for m in sent]

    prompts, sent = asyncio.run(scenario())
    assert prompts == ["T: one", "T: two three"]
    assert sent == [(0, "one"), (2, "two three")]


def test_llm_relay_says_who_said_each_turn():
    """{{turn}} reads "Dana: …" for a named speaker, "Speaker B: …" for one not named yet,
    and the name of unlabelled turns when the client gave one (a call's "You"); the names
    never reach the LLM request as a parameter."""
    async def scenario():
        sent = []

        async def send(msg):
            sent.append(msg)

        config = LLMGatewayConfig.from_dict({"model": "m", "messages": [
            {"role": "user", "content": "{{turn}}"}], "max_tokens": 5,
            "speaker_names": {"A": "Dana", "": "You", "C": 7}})
        llm = SlowLLM()
        relay = LLMRelay(llm, config, send)
        assert "speaker_names" not in relay.request_for("x")
        relay.submit(0, "We ship Friday.", "A")
        await asyncio.sleep(0)
        relay.submit(1, "Fine.", "B")
        relay.submit(2, "Agreed.", None)
        relay.submit(3, "Hm.", "UNKNOWN")
        await relay.drain(2)
        return llm.prompts, [m.transcript for m in sent]

    prompts, transcripts = asyncio.run(scenario())
    assert prompts == ["Dana: We ship Friday.", "Speaker B: Fine.\nYou: Agreed.\nHm."]
    assert transcripts == prompts


def test_llm_relay_without_service_answers_with_an_error():
    async def scenario():
        sent = []

        async def send(msg):
            sent.append(msg)

        config = StreamingParams.from_query({"llm_gateway": '{"model":"m","messages":'
                                             '[{"role":"user","content":"{{turn}}"}]}'})
        relay = LLMRelay(None, config.llm_gateway, send)
        relay.submit(0, "hi")
        await relay.drain(1)
        return sent

    (msg,) = asyncio.run(scenario())
    assert msg.data["error"]["code"] == 503
    assert [c["message"]["content"] for c in msg.data["choices"]] == [""]


def test_model_names(tmp_path):
    assert resolve_model("whisper-tiny.en").endswith("model")
    assert resolve_model(str(tmp_path / "nope" / "x"), allow_download=True)  # a hub name
    with pytest.raises(ModelNotFound):
        resolve_model(str(tmp_path))  # exists but holds no model.bin
    with pytest.raises(ModelNotFound):
        resolve_model(str(tmp_path / "missing") + "/")
    assert resolve_model("base.en") == "base.en"  # left to faster-whisper's cache


def test_cli_help_documents_every_option(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--token", "--speech-model", "--final-speech-model",
                   "--allow-download", "--llm-model", "--log-level", "--model-dir",
                   "whisper-base"):
        assert option in out
    args = build_parser().parse_args(["--port", "0", "--speech-model", "whisper-base"])
    assert args.port == 0 and args.speech_model == "whisper-base" and not args.allow_download
    assert args.final_speech_model is None
    args = build_parser().parse_args(["--final-speech-model", "whisper-base"])
    assert args.speech_model == "whisper-tiny.en" and args.final_speech_model == "whisper-base"
    assert build_parser().parse_args(["--cpu-threads", "1"]).cpu_threads == 1
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--cpu-threads", "-1"])
    assert "--cpu-threads: must be 0 (automatic)" in capsys.readouterr().err
