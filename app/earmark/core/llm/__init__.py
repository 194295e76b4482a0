"""Pure pieces of talking to a chat-completions API (the LLM Gateway, §11, or the embedded
engine): request bodies, transcript chunking, SSE parsing and error envelopes. No I/O here."""

from .chunking import DEFAULT_CONTEXT_TOKENS, estimate_tokens, input_budget_chars, split_text
from .errors import LLMCallError, LLMErrorKind, error_from_response, retry_after_seconds
from .requests import (
    analysis_messages,
    chat_body,
    combined_summaries,
    part_summary_messages,
)
from .sse import SseDecoder, StreamChunk, parse_chunk

__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "LLMCallError",
    "LLMErrorKind",
    "SseDecoder",
    "StreamChunk",
    "analysis_messages",
    "chat_body",
    "combined_summaries",
    "error_from_response",
    "estimate_tokens",
    "input_budget_chars",
    "parse_chunk",
    "part_summary_messages",
    "retry_after_seconds",
    "split_text",
]
