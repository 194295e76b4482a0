"""Server-sent events of a streamed chat completion (§11.3): `data: {chunk}` lines, a blank line
between events, `data: [DONE]` at the end. The embedded engine sends a failure after the 200 as
`data: {"error": {...}}`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

DONE = "[DONE]"


class SseDecoder:
    """Feed lines (bytes or str, with or without their line ending); get each event's data."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed_line(self, line: bytes | str) -> str | None:
        """The event's data when `line` ends an event (a blank line), else None."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        line = line.rstrip("\r\n")
        if not line:
            return self.flush()
        if line.startswith(":"):  # a comment / keep-alive
            return None
        field, _, value = line.partition(":")
        if field == "data":
            self._data.append(value[1:] if value.startswith(" ") else value)
        return None

    def flush(self) -> str | None:
        """The pending event's data (at the end of the stream, an event may lack its blank
        line)."""
        if not self._data:
            return None
        data, self._data = "\n".join(self._data), []
        return data


@dataclass(frozen=True, slots=True)
class StreamChunk:
    text: str = ""
    model: str = ""
    finish_reason: str | None = None
    error: Any = None  # the error envelope when the server reports a failure mid-stream
    done: bool = False


def parse_chunk(data: str) -> StreamChunk:
    """One event's data as text, the model that wrote it, and how it ended.
    Raises ValueError for data that is not a chunk."""
    if data.strip() == DONE:
        return StreamChunk(done=True)
    payload = json.loads(data)
    if not isinstance(payload, dict):
        raise ValueError("a stream event is not a JSON object")
    if "error" in payload and "choices" not in payload:
        return StreamChunk(error=payload["error"])
    text, finish = "", None
    for choice in payload.get("choices") or []:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta") or choice.get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            text += content
        elif isinstance(content, list):  # [{type: "text", text}]
            text += "".join(p.get("text", "") for p in content if isinstance(p, dict))
        finish = choice.get("finish_reason") or finish
    return StreamChunk(text=text, model=str(payload.get("model") or ""), finish_reason=finish)
