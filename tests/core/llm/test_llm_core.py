"""The pure LLM pieces: splitting a transcript, SSE framing, error envelopes and headers,
request bodies."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from earmark.core.grounded_prompts import GROUNDING_SYSTEM
from earmark.core.llm import (
    LLMErrorKind,
    SseDecoder,
    analysis_messages,
    chat_body,
    combined_summaries,
    error_from_response,
    estimate_tokens,
    input_budget_chars,
    parse_chunk,
    retry_after_seconds,
    split_text,
)
from earmark.core.prompts import Prompt


def test_split_keeps_every_word_in_order_within_the_limit():
    text = "\n".join(f"Turn {i}. " + "word " * (i * 7) + "end." for i in range(30))
    parts = split_text(text, 200)
    assert all(len(p) <= 200 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert split_text("short", 200) == ["short"] and split_text("  ", 10) == []


def test_split_prefers_turn_then_sentence_boundaries():
    turns = ["A" * 50, "B" * 50, "C" * 50]
    assert split_text("\n".join(turns), 110) == ["\n".join(turns[:2]), turns[2]]
    sentence = "One two three. Four five six. Seven eight nine."
    assert split_text(sentence, 30) == ["One two three. Four five six.", "Seven eight nine."]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # no boundary at all


def test_budget_leaves_room_for_the_answer_and_the_template():
    assert estimate_tokens("abc" * 100) == 100
    assert input_budget_chars(4096, 1000, "x" * 300) == (4096 - 1000 - 100 - 64) * 3
    assert input_budget_chars(100, 1000) == 600  # never below a usable minimum


def test_sse_events_comments_and_done():
    decoder = SseDecoder()
    lines = [b": keep-alive\n", b"\n", b'data: {"model": "m", "choices": [{"index": 0, '
             b'"delta": {"content": "Hel"}, "finish_reason": null}]}\r\n', b"\r\n",
             b'data: {"choices": [{"index": 0, "delta": {"content": "lo"},\n',
             b'data: "finish_reason": "stop"}]}\n', b"\n", b"data: [DONE]\n"]
    events = [e for e in (decoder.feed_line(line) for line in lines) if e is not None]
    events.append(decoder.flush())  # the last event lacks its blank line
    chunks = [parse_chunk(e) for e in events]
    assert [c.text for c in chunks] == ["Hel", "lo", ""]
    assert chunks[0].model == "m" and chunks[1].finish_reason == "stop" and chunks[2].done


def test_an_error_event_and_garbage():
    chunk = parse_chunk('{"error": {"message": "boom", "code": 500}}')
    assert chunk.error == {"message": "boom", "code": 500}
    with pytest.raises(ValueError):
        parse_chunk("not json")


def test_the_two_gateway_envelopes_and_openai_errors():
    business = (b'{"message": "invalid request body", "code": 400, "request_id": "r1", '
                b'"metadata": {"errors": ["model x does not support tools"]}}')
    error = error_from_response(400, {}, business, "x")
    assert error.kind == LLMErrorKind.REJECTED and error.request_id == "r1"
    assert "invalid request body; model x does not support tools" in error.message
    access = (b'{"message": "Your account does not have access to this LLM Gateway model", '
              b'"code": 400, "request_id": "r2"}')
    assert error_from_response(400, {}, access, "gpt-5").kind == LLMErrorKind.ACCESS
    auth = (b'{"error": "Authentication error, API token missing/invalid", '
            b'"status": "error", "request_id": "r3"}')
    error = error_from_response(401, {}, auth)
    assert error.kind == LLMErrorKind.AUTH and error.request_id == "r3"
    openai = b'{"error": {"message": "model not found", "type": "not_found"}}'
    assert "model not found" in error_from_response(404, {}, openai).message
    assert error_from_response(503, {}, b"").kind == LLMErrorKind.SERVER


def test_rate_limit_headers():
    now = 1_800_000_000.0
    assert retry_after_seconds({"Retry-After": "7"}, now) == 7
    assert retry_after_seconds({"retry-after": formatdate(now + 30, usegmt=True)}, now) == 30
    assert retry_after_seconds({"x-ratelimit-reset": str(now + 12)}, now) == 12
    assert retry_after_seconds({"x-ratelimit-reset": "5"}, now) == 5
    assert retry_after_seconds({"x-ratelimit-reset-requests": "1500ms"}, now) == 1.5
    assert retry_after_seconds({}, now) is None
    error = error_from_response(429, {"retry-after": "3", "x-ratelimit-limit": "2"},
                                b'{"message": "rate limited", "code": 429}', "m")
    assert error.kind == LLMErrorKind.RATE_LIMITED and error.retry_after == 3
    assert "limit 2 requests a minute" in error.message and "3 s" in error.message


def test_request_bodies():
    prompt = Prompt(id="p", name="P", turn_template="Q: {{turn}}", system="Be brief.",
                    language="German")
    messages = analysis_messages(prompt, "hello there")
    assert messages == [{"role": "system",
                         "content": f"{GROUNDING_SYSTEM} Be brief. Answer in German."},
                        {"role": "user", "content": "Q: hello there"}]  # derived template
    body = chat_body("m", messages, max_tokens=50, fallbacks=("a", "m", "b", "c", "a"))
    assert body["fallbacks"] == [{"model": "a"}, {"model": "b"}]  # two, not the primary
    assert body["fallback_config"] == {"depth": 2} and body["stream"] is True
    assert "fallbacks" not in chat_body("m", messages, max_tokens=5)
    combined = combined_summaries(["one", "two"])
    assert "[Summary of part 1/2 of the transcript]\none" in combined
