"""Per-turn LLM calls of one session (`llm_gateway`), off the transcription path.

Final turns are queued; one worker task answers them in order. When turns end faster than
answers come back, the backlog is merged into one request: the transcripts are joined with
spaces and fill `{{turn}}` together, and the answer is sent with the `turn_order` of the *last*
turn in the backlog (the newest one it covers) and the joined text as `transcript`. So every
final turn is covered by exactly one answer, and answers never go back in turn order.

When the session labels speakers (or the client names them, `speaker_names`, an Earmark
extension), each turn fills `{{turn}}` as "Dana: …" or "Speaker A: …", so an answer can say
who committed to what.

Every answer carries at least one choice: clients index `choices[0]` without checking
(AssemblyAI's tutorial does `data.get("choices", [{}])[0]`), so a failed call answers with one
empty choice (`finish_reason` "error") beside `error`, which is what Earmark's app shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from earmark.core.protocol import SPEAKER_NAMES, LLMGatewayConfig, LLMGatewayResponse

log = logging.getLogger(__name__)

UNATTRIBUTED = frozenset({"UNKNOWN", "PENDING"})  # labels of turns too short to tell

Send = Callable[[LLMGatewayResponse], Awaitable[None]]


def error_data(message: str, code: int | str) -> dict[str, Any]:
    """`data` of an LLMGatewayResponse for a failed call: the app reads `data.error`; a client
    reading `choices[0].message.content` gets ''."""
    return {"error": {"message": message, "code": code}, "choices": [error_choice()]}


def error_choice() -> dict[str, Any]:
    return {"index": 0, "message": {"role": "assistant", "content": ""}, "finish_reason": "error"}


def has_a_choice(data: dict[str, Any]) -> bool:
    choices = data.get("choices")
    return isinstance(choices, list) and bool(choices) and isinstance(choices[0], dict)


class LLMRelay:
    def __init__(self, service: Any, config: LLMGatewayConfig, send: Send) -> None:
        self._service = service
        self._config = config
        self._send = send
        self._pending: list[tuple[int, str, bool]] = []  # order, text, said by someone named
        self._worker: asyncio.Task[None] | None = None
        self._substitutes_seen: set[str] = set()
        self._names = _names(config.extra.get(SPEAKER_NAMES))
        self._extra = {k: v for k, v in config.extra.items() if k != SPEAKER_NAMES}

    def submit(self, turn_order: int, transcript: str, speaker: str | None = None) -> None:
        if not transcript.strip():
            return
        text = self._said_by(transcript, speaker)
        self._pending.append((turn_order, text, text is not transcript))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._run(), name="llm-relay")

    def request_for(self, transcript: str) -> dict[str, Any]:
        return {**self._extra, "model": self._config.model,
                "messages": self._config.render(transcript),
                "max_tokens": self._config.max_tokens}

    async def _run(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            turn_order = batch[-1][0]
            named = any(said_by for _, _, said_by in batch)
            transcript = ("\n" if named else " ").join(text for _, text, _ in batch)
            if len(batch) > 1:
                log.info("merging %d final turns into one LLM request (turn_order %d)",
                         len(batch), turn_order)
            data = await self._answer(transcript)
            try:
                await self._send(LLMGatewayResponse(turn_order, transcript, data))
            except ConnectionError:
                return

    def _said_by(self, text: str, speaker: str | None) -> str:
        if speaker and speaker not in UNATTRIBUTED:
            return f"{self._names.get(speaker) or f'Speaker {speaker}'}: {text}"
        name = self._names.get("") if not speaker else None
        return f"{name}: {text}" if name else text

    async def _answer(self, transcript: str) -> dict[str, Any]:
        if self._service is None:
            return error_data("no LLM service is available in this engine", 503)
        try:
            data = await self._service.complete(self.request_for(transcript))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            status = getattr(exc, "status", 500)
            message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log.warning("per-turn LLM call failed (%s): %s", status, message)
            return error_data(message, status)
        if not isinstance(data, dict):
            return error_data("the LLM service returned no response object", 500)
        if not has_a_choice(data):
            return {**data, **error_data("the LLM service returned no choices", 502)}
        self._note_substitute(data)
        return data

    def _note_substitute(self, data: dict[str, Any]) -> None:
        """Log once per session and model when another model answered than was asked for
        (the engine's default model answers cloud ids offline)."""
        model = data.get("model")
        if not isinstance(model, str) or model in ("", self._config.model):
            return
        if model not in self._substitutes_seen:
            self._substitutes_seen.add(model)
            log.info("per-turn answers of this session: %s is not available offline; "
                     "answered by %s", self._config.model, model)

    async def drain(self, timeout: float) -> None:
        """Wait for the answers still due (bounded); drop the rest."""
        if self._worker is None or self._worker.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), timeout)
        except TimeoutError:
            log.warning("per-turn LLM answers still pending after %.1f s: dropped", timeout)
            await self.cancel()

    async def cancel(self) -> None:
        self._pending.clear()
        if self._worker is not None and not self._worker.done():
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker


def _names(value: Any) -> dict[str, str]:
    """`speaker_names` as sent; anything that is not a label -> name string pair is dropped."""
    if not isinstance(value, dict):
        return {}
    return {k: " ".join(v.split())[:80] for k, v in value.items()
            if isinstance(k, str) and isinstance(v, str) and v.strip()}
