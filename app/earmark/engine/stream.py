"""One v3 streaming connection: reads frames, finds turns, decodes, and answers.

Three kinds of work, so the event loop never waits on the model:

* the reader (the websocket handler) checks each frame and queues audio and control messages
  in arrival order; it never blocks;
* the processor takes the queue in order, in batches of at most MAX_BATCH_MS: audio -> 16 kHz
  -> VAD (thread pool) -> `Endpointer` on the stream clock. Turn boundaries therefore depend only
  on the audio, never on how fast it arrives: when a pause needs the decoded text to decide (see
  endpointing.py), the processor waits for that decode while later audio stays queued. It also
  waits, before it takes more audio, while more than MAX_PENDING_FINALS final decodes are
  pending, so that a client sending faster than the engine decodes piles audio up in the queue
  (where it costs nothing) rather than decodes in the pool, and what the processor has passed is
  close to what has been transcribed;
* decodes run in the shared ASR pool (two at once by default): a session's finals one at a time in
  order (a FIFO lock), speculative ones once a pause nears the soonest end of turn, even while a
  partial is decoding; partials only when the session has no decode in flight.

With `session_heartbeat=true` a Heartbeat reports how far the processor has got (`_Progress`):
a client sending a file faster than real time paces itself by it.

Final turns are emitted by a chain of tasks, so they leave in turn order even when a later
turn's partial is decoded first. Because finals decode in order, a final can lean on the one
before it: a turn that follows closely is decoded after the previous turn's last words
(context.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from earmark.core.protocol import (
    Begin,
    CloseCode,
    ForceEndpoint,
    Heartbeat,
    KeepAlive,
    ProtocolError,
    ServerError,
    ServerMessage,
    SpeechStarted,
    StreamingParams,
    Terminate,
    Termination,
    UpdateConfiguration,
    Word,
    parse_client_message,
    to_json,
)

from .audio import AudioDecoder, SampleBuffer, supported_encoding
from .context import left_context
from .endpointing import (
    CandidateNeeded,
    Endpointer,
    Event,
    SpeechResumed,
    TurnEnded,
    TurnSettings,
    TurnStarted,
)
from .llm_relay import LLMRelay
from .param_checks import check_connection, check_update
from .resources import SpeechResources
from .speakers import LiveSpeakers
from .speech import Decoded, SpeechBackend
from .turns import PartialWindow, final_turns, partial_turn, stream_words
from .vad import FRAME_MS, VoiceActivity

log = logging.getLogger(__name__)

API_VERSION = "2025-05-12"
MAX_SESSION_S = 3 * 3600
MIN_CHUNK_MS, MAX_CHUNK_MS = 50.0, 1000.0
PREROLL_MS = 200  # audio kept before the VAD onset (soft first consonants)
FIRST_PARTIAL_MS = 300  # speech needed before the first partial decode
PARTIAL_RETRY_MS = 150  # after a partial that found no words
# The interval follows the decode time, within these. A partial costs ~0.2 s of decoding on
# 2 cores, so the interval sets most of the engine's CPU load (1000 ms instead of 750 saved 15 %
# on the first 90 s of the multispeaker file); 900 ms keeps messages about a second apart.
PARTIAL_INTERVAL_MS = (900, 1000)
# A batch of queued audio the processor takes at once. Larger batches would not save much (a
# VAD call per batch), and a batch longer than the SampleBuffer's 40 s would drop the start of
# the turns it ends before their final decodes read it.
MAX_BATCH_MS = 1000.0
# Final decodes (speculative ones included) a session may have pending before the processor
# waits for the oldest. Live, a turn rarely has more than one; a client sending faster than the
# engine decodes would otherwise pile up decodes without bound (the processor only waits for a
# decode when a pause needs its text).
MAX_PENDING_FINALS = 2
# Heartbeats: one a second of wall time (the service's come every ~5 s; a client pacing a file
# by them wants more), and one after the batch that completes a second of audio since the last.
HEARTBEAT_S = 1.0
HEARTBEAT_AUDIO_MS = 1000.0
# Idle sessions: AssemblyAI does not document what it sends. We flush the turn, send
# Termination and close with 4031, the legacy "Session idle for too long" code that both SDKs
# still map to that sentence (and that core.protocol.closes describes).
INACTIVITY_CLOSE_CODE = 4031
_U3_MODELS = ("u3", "universal-3")


@dataclass
class SessionContext:
    """What sessions share: the speech resources, the LLM service, limits."""

    resources: SpeechResources
    llm_service: Any | None = None
    llm_drain_timeout: float = 3.0
    max_session_s: int = MAX_SESSION_S


@dataclass
class _Turn:
    start_ms: float
    window: PartialWindow
    order: int | None = None
    ended: bool = False
    last_partial_ms: float | None = None
    last_text: str = ""
    candidate: asyncio.Task[Decoded] | None = None
    candidate_offset: float = 0.0
    candidate_until: float = 0.0


@dataclass
class _Idle:
    """Queue item: the inactivity timeout fired."""

    seconds: float


@dataclass
class _Stats:
    audio_ms: float = 0.0
    decodes: dict[str, int] = field(default_factory=lambda: {"partial": 0, "final": 0})
    decode_s: dict[str, float] = field(default_factory=lambda: {"partial": 0.0, "final": 0.0})
    skipped: int = 0  # speculative finals dropped before they ran
    final_waits: int = 0  # times the processor waited for pending finals (MAX_PENDING_FINALS)

    def summary(self) -> str:
        done = ", ".join(f"{self.decodes[k]} {k} decodes ({self.decode_s[k]:.1f} s)"
                         for k in self.decodes)
        return (f"{done}, {self.skipped} speculative finals skipped, "
                f"{self.final_waits} waits for pending finals")


@dataclass
class _Progress:
    """How far the processor has got: what a Heartbeat reports.

    `total_audio_received_ms` is the client audio the processor has taken from its queue and run
    through VAD and endpointing (its stream clock), not the audio read from the socket. A client
    sending a file faster than real time uses it for flow control: it stays a bound ahead of it,
    so the audio waiting in the engine stays bounded and Terminate is answered soon. Counting
    bytes read would tell it nothing, since the reader reads everything at once; and with final
    decodes bounded (MAX_PENDING_FINALS), processed audio is close to transcribed audio. The
    last few ms may wait inside the VAD for a whole 32 ms frame."""

    started: float
    processed_ms: float = 0.0
    max_prob: float = 0.0  # the highest VAD probability since the last Heartbeat
    last_sent: float = 0.0  # when the last Heartbeat went out
    reported_ms: float = 0.0  # the processed_ms it reported
    backlog: bool = False  # audio was left queued after the last batch

    def due_after_batch(self, chunks: int, backlog: bool) -> bool:
        """Whether a batch of `chunks` that left audio queued or not (`backlog`) calls for a
        Heartbeat: it completes HEARTBEAT_AUDIO_MS since the last one (so a client pacing
        itself by them never waits for the clock, however fast the engine runs), or it drains
        a backlog (a client waiting on a smaller bound learns that it can send more)."""
        drained = not backlog and (chunks > 1 or self.backlog)
        self.backlog = backlog
        unreported = self.processed_ms - self.reported_ms
        return unreported >= HEARTBEAT_AUDIO_MS or (drained and unreported > 0)

    def heartbeat(self, now: float) -> Heartbeat:
        """The Heartbeat for now; starts the next interval."""
        wall_ms = max(0.0, (now - self.started) * 1000)
        factor = self.processed_ms / wall_ms if wall_ms > 0 else 0.0
        message = Heartbeat(total_audio_received_ms=int(self.processed_ms),
                            total_duration_ms=int(wall_ms), realtime_factor=round(factor, 4),
                            max_speech_probability=round(self.max_prob, 4))
        self.max_prob = 0.0
        self.last_sent, self.reported_ms = now, self.processed_ms
        return message


class StreamSession:
    def __init__(self, ws: web.WebSocketResponse, params: StreamingParams,
                 ctx: SessionContext) -> None:
        self.ws = ws
        self.params = params
        self.ctx = ctx
        self.id = str(uuid.uuid4())
        self.format_turns = bool(params.format_turns)
        self.keyterms: tuple[str, ...] = tuple(params.keyterms_prompt or ())
        self.endpointer = Endpointer(TurnSettings.from_params(params))
        self.decoder = AudioDecoder(params.sample_rate, params.encoding)
        self.audio = SampleBuffer()
        self.stats = _Stats()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._send_lock = asyncio.Lock()
        self._final_lock = asyncio.Lock()
        self._inflight = 0
        self._frames = 0
        self._turn: _Turn | None = None
        self._next_order = 0
        self._finals: asyncio.Task[None] | None = None
        self._previous: tuple[asyncio.Task[Decoded], float] | None = None  # last final, offset
        self._partial_interval = float(PARTIAL_INTERVAL_MS[0])
        self._short_chunk_ms: float | None = None
        self._terminating = False
        self._closed = False
        self._ended = False  # Termination or an Error is going out: no more Heartbeats
        self._reader_done = False
        self._started = time.monotonic()
        self._last_activity = self._started
        self._progress = _Progress(self._started, last_sent=self._started)
        self._pending_finals: deque[asyncio.Task[Decoded]] = deque()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._llm = (LLMRelay(ctx.llm_service, params.llm_gateway, self._send)
                     if params.llm_gateway is not None else None)
        self._model: SpeechBackend | None = None
        self._vad: VoiceActivity | None = None
        self._speakers = (LiveSpeakers(params, ctx.resources.voice_encoder,
                                       ctx.resources.vad_pool)
                          if params.speaker_labels else None)

    # --- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until it closes. Begin goes out first, at once."""
        expires = int(time.time()) + self.ctx.max_session_s
        await self._send(Begin(self.id, expires, self._configuration()))
        log.info("session %s began (sample_rate=%d, encoding=%s, format_turns=%s, llm=%s)",
                 self.id, self.decoder.sample_rate, self.decoder.encoding, self.format_turns,
                 self._llm is not None)
        processor = self._spawn(self._process(), "processor")
        self._spawn(self._watchdog(), "watchdog")
        if self.params.session_heartbeat:
            self._spawn(self._heartbeats(), "heartbeats")
        try:
            await self._read()
        finally:
            self._reader_done = True
            if not processor.done() and not self._terminating:
                processor.cancel()
            if self._terminating and not processor.done():
                # Terminate was received but the peer went away: finish quietly.
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(asyncio.shield(processor), 2.0)
            await self._cancel_all()
            log.info("session %s ended (%.1f s of audio; %s)", self.id,
                     self.stats.audio_ms / 1000, self.stats.summary())

    def _configuration(self) -> dict[str, Any]:
        """Begin's `configuration`: what runs, not what was asked (a client reads what was
        applied from here). `final_model` when finals decode on a model of their own,
        `llm_model` (the model that answers) when the session asked for per-turn answers."""
        resources = self.ctx.resources
        configuration: dict[str, Any] = {
            "model": resources.speech_model, "requested_model": self.params.speech_model,
            "api_version": API_VERSION,
            "speaker_labels": True if self._speakers is not None else None}
        if resources.final_speech_model:
            configuration["final_model"] = resources.final_speech_model
        answering = getattr(self.ctx.llm_service, "answering_model", None)
        if self.params.llm_gateway is not None and answering is not None:
            configuration["llm_model"] = answering(self.params.llm_gateway.model)
        return configuration

    @property
    def finished(self) -> bool:
        """Closed, or the client has gone: what is left is cleanup, so the session no longer
        counts against the engine's session cap."""
        return self._closed or self._reader_done

    async def shutdown(self) -> None:
        """The engine is stopping."""
        await self._close(CloseCode.GOING_AWAY, "engine stopping")

    def _spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"session-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cancel_all(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in self._tasks if t is not current and not t.done()]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        if self._llm is not None:
            await self._llm.cancel()

    # --- sending ---------------------------------------------------------------------------

    async def _send(self, message: ServerMessage) -> None:
        async with self._send_lock:
            if self.ws.closed or self._closed:
                return
            try:
                await self.ws.send_str(to_json(message))
            except (ConnectionError, RuntimeError) as exc:
                log.debug("session %s: send failed: %s", self.id, exc)

    async def _close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        message = reason.encode()[:123].decode(errors="ignore")
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=message.encode())

    async def fail(self, code: int, message: str) -> None:
        """Send an Error and close with the same code."""
        log.info("session %s: error %d: %s", self.id, code, message)
        self._ended = True
        await self._send(ServerError(error=message, error_code=code))
        await self._close(code, message)

    # --- heartbeats (session_heartbeat=true) ------------------------------------------------

    async def _heartbeats(self) -> None:
        """A Heartbeat whenever HEARTBEAT_S has passed without one, until Termination."""
        while not self._closed and not self._ended:
            due = self._progress.last_sent + HEARTBEAT_S
            await asyncio.sleep(max(0.05, due - time.monotonic()))
            if time.monotonic() >= self._progress.last_sent + HEARTBEAT_S - 0.01:
                await self._send_heartbeat()

    async def _send_heartbeat(self) -> None:
        # No await between the check and the send lock (FIFO): a Heartbeat either goes out
        # before Termination or not at all.
        if self.params.session_heartbeat and not self._ended:
            await self._send(self._progress.heartbeat(time.monotonic()))

    async def _heartbeat_after_batch(self, chunks: int) -> None:
        if (self.params.session_heartbeat
                and self._progress.due_after_batch(chunks, not self._queue.empty())):
            await self._send_heartbeat()

    # --- reader ----------------------------------------------------------------------------

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == WSMsgType.BINARY:
                if not self._terminating and not await self._on_audio(msg.data):
                    return
            elif msg.type == WSMsgType.TEXT:
                if not await self._on_text(msg.data):
                    return
            elif msg.type == WSMsgType.ERROR:
                log.info("session %s: websocket error: %s", self.id, self.ws.exception())
                return

    async def _on_audio(self, data: bytes) -> bool:
        ms = self.decoder.duration_ms(len(data))
        if self._short_chunk_ms is not None:  # a short chunk is fine only as the last one
            await self.fail(CloseCode.INPUT_DURATION, _duration_error(self._short_chunk_ms))
            return False
        if ms > MAX_CHUNK_MS + 1e-6:
            await self.fail(CloseCode.INPUT_DURATION, _duration_error(ms))
            return False
        if ms < MIN_CHUNK_MS - 1e-6:
            self._short_chunk_ms = ms
        self._last_activity = time.monotonic()
        self.stats.audio_ms += ms
        self._queue.put_nowait(data)
        return True

    async def _on_text(self, text: str) -> bool:
        if self._terminating:
            # After Terminate only the last turn and Termination are due; whatever else the
            # client sends (even garbage) must not cost it them.
            log.debug("session %s: ignoring a message after Terminate", self.id)
            return True
        try:
            message = parse_client_message(text)
        except (ProtocolError, RecursionError) as exc:  # RecursionError: [[[[… nested JSON
            await self.fail(CloseCode.INVALID_MESSAGE, _parse_problem(exc, text))
            return False
        if isinstance(message, KeepAlive):
            self._last_activity = time.monotonic()
        elif isinstance(message, UpdateConfiguration):
            problem = _update_problem(self.endpointer.settings, message.fields)
            if problem:
                await self.fail(CloseCode.INVALID_MESSAGE, problem)
                return False
            self._queue.put_nowait(message)
        elif isinstance(message, ForceEndpoint):
            self._queue.put_nowait(message)
        elif isinstance(message, Terminate) and not self._terminating:
            self._terminating = True
            self._queue.put_nowait(message)
        return True

    async def _watchdog(self) -> None:
        timeout = self.params.inactivity_timeout
        deadline = self._started + self.ctx.max_session_s
        while not self._closed:
            await asyncio.sleep(0.2)
            now = time.monotonic()
            if now >= deadline:
                await self.fail(CloseCode.SESSION_EXPIRED,
                                "Session Expired: Maximum session duration exceeded")
                return
            if (timeout and timeout > 0 and not self._terminating
                    and now - self._last_activity >= timeout):
                self._terminating = True
                self._queue.put_nowait(_Idle(timeout))
                return

    # --- processor -------------------------------------------------------------------------

    async def _process(self) -> None:
        try:
            self._model = await self.ctx.resources.wait()
        except RuntimeError as exc:
            await self.fail(CloseCode.SERVER_ERROR, f"Session Cancelled: {exc}")
            return
        self._vad = VoiceActivity()
        held: Any = None
        while True:
            item = held if held is not None else await self._queue.get()
            held = None
            if isinstance(item, bytes):
                await self._wait_for_finals()
                chunks, held = self._take_batch(item)
                await self._process_audio(chunks)
            elif isinstance(item, UpdateConfiguration):
                self._apply_update(item.fields)
            elif isinstance(item, ForceEndpoint):
                ended = self.endpointer.force_end()
                if ended is not None:
                    self._end_turn(ended)
            elif isinstance(item, Terminate):
                await self._finish(CloseCode.NORMAL, "")
                return
            elif isinstance(item, _Idle):
                await self._finish(INACTIVITY_CLOSE_CODE,
                                   f"Session idle for too long: no audio for {item.seconds} s "
                                   "(inactivity_timeout)")
                return

    def _take_batch(self, first: bytes) -> tuple[list[bytes], Any]:
        """`first` and the audio queued after it, up to MAX_BATCH_MS; and the queue item that
        ended the batch (a control message, or audio that would overflow it), or None."""
        chunks, ms = [first], self.decoder.duration_ms(len(first))
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if not isinstance(item, bytes):
                return chunks, item
            ms += self.decoder.duration_ms(len(item))
            if ms > MAX_BATCH_MS:
                return chunks, item
            chunks.append(item)
        return chunks, None

    async def _process_audio(self, chunks: list[bytes]) -> None:
        data = b"".join(chunks)
        await self._ingest(self.decoder.decode(data))
        self._progress.processed_ms += self.decoder.duration_ms(len(data))
        await self._heartbeat_after_batch(len(chunks))

    async def _wait_for_finals(self) -> None:
        """Wait for the oldest final decodes while more than MAX_PENDING_FINALS are pending.
        They wait for nothing but the decode pool, so this always ends."""
        pending = self._pending_finals
        while pending and pending[0].done():
            pending.popleft()
        if len(pending) > MAX_PENDING_FINALS:
            self.stats.final_waits += 1
        while len(pending) > MAX_PENDING_FINALS:
            await asyncio.wait([pending.popleft()])  # not `await`: never cancel the decode
            while pending and pending[0].done():
                pending.popleft()

    def _apply_update(self, fields: dict[str, Any]) -> None:
        self.endpointer.settings = self.endpointer.settings.updated(fields)
        if "format_turns" in fields and fields["format_turns"] is not None:
            self.format_turns = bool(fields["format_turns"])
        if "keyterms_prompt" in fields and fields["keyterms_prompt"] is not None:
            self.keyterms = tuple(fields["keyterms_prompt"])
        log.debug("session %s: configuration now %s", self.id, self.endpointer.settings)

    async def _ingest(self, samples: np.ndarray) -> None:
        if not len(samples):
            return
        self.audio.append(samples)
        loop = asyncio.get_running_loop()
        assert self._vad is not None
        probs = await loop.run_in_executor(self.ctx.resources.vad_pool, self._vad.process,
                                           samples)
        for prob in probs:
            self._frames += 1
            self._progress.max_prob = max(self._progress.max_prob, prob)
            if self.endpointer.awaiting_hint:
                await self._await_hint()
            self._handle(self.endpointer.feed(prob, self._frames * FRAME_MS), prob)
        self._maybe_partial()

    async def _await_hint(self) -> None:
        turn = self._turn
        text = ""
        if turn is not None and turn.candidate is not None:
            with contextlib.suppress(Exception):
                text = (await turn.candidate).text
        self.endpointer.set_hint(text)

    def _handle(self, events: Iterable[Event], prob: float) -> None:
        for ev in events:
            if isinstance(ev, TurnStarted):
                self._turn = _Turn(ev.start_ms, PartialWindow(ev.start_ms))
                if (self.params.speech_model or "").startswith(_U3_MODELS):
                    self._spawn(self._send(SpeechStarted(int(ev.start_ms), round(prob, 6))),
                                "speech-started")
            elif isinstance(ev, CandidateNeeded) and self._turn is not None:
                self._start_candidate(self._turn, ev.until_ms)
            elif isinstance(ev, SpeechResumed) and self._turn is not None:
                self._turn.candidate = None
            elif isinstance(ev, TurnEnded):
                self._end_turn(ev)

    def _start_candidate(self, turn: _Turn, until_ms: float) -> None:
        """Decode the turn up to the pause now: the final if the pause is the end."""
        offset = max(0.0, turn.start_ms - PREROLL_MS)
        turn.candidate_offset, turn.candidate_until = offset, until_ms
        turn.candidate = self._decode(
            offset, until_ms, True,
            wanted=lambda: turn.candidate is not None and turn.candidate_until == until_ms)
        self._spawn(self._candidate_as_partial(turn, turn.candidate, offset, until_ms),
                    "candidate-partial")

    async def _candidate_as_partial(self, turn: _Turn, task: asyncio.Task[Decoded],
                                    offset: float, until_ms: float) -> None:
        """A candidate that is not (yet) the final still holds the newest words: show them.
        No partial decode runs during a pause, so this is how the last words before a pause
        appear when the pause turns out not to end the turn."""
        try:
            decoded = await task
        except Exception:
            return  # the final path reports decode failures
        if turn.ended or turn is not self._turn or not decoded.words:
            return
        turn.last_partial_ms = max(turn.last_partial_ms or 0.0, until_ms)
        await self._send_partial(turn, stream_words(decoded, offset, formatted=False,
                                                    final=False))

    def _end_turn(self, ev: TurnEnded) -> None:
        turn, self._turn = self._turn, None
        if turn is None:
            return
        turn.ended = True
        if turn.candidate is not None and turn.candidate_until >= ev.speech_end_ms:
            task, offset = turn.candidate, turn.candidate_offset
        else:
            offset = max(0.0, turn.start_ms - PREROLL_MS)
            until = self.audio.end_ms if ev.speech_end_ms >= ev.end_ms else ev.end_ms
            task = self._decode(offset, until, True)
        self._previous = (task, offset)
        log.debug("session %s: turn ended (%s) %.0f-%.0f ms", self.id, ev.reason,
                  ev.start_ms, ev.speech_end_ms)
        self._finals = self._spawn(
            self._emit_final(self._finals, turn, task, offset, ev.confidence), "final")

    async def _emit_final(self, previous: asyncio.Task[None] | None, turn: _Turn,
                          task: asyncio.Task[Decoded], offset: float, confidence: float) -> None:
        if previous is not None:
            with contextlib.suppress(Exception):
                await previous
        try:
            decoded = await task
        except Exception:
            log.exception("session %s: final decode failed", self.id)
            decoded = Decoded("", ())
        if not decoded.words and turn.order is None:
            return  # noise: nothing was said and nothing was shown
        order = self._order_of(turn)
        messages = final_turns(order, decoded, offset, confidence, self.format_turns)
        if self._speakers is not None:
            messages = await self._speakers.label(order, messages, self.audio.slice)
        for message in messages:
            await self._send(message)
        if self._speakers is not None and self._speakers.revision_due():
            await self._send_speaker_revision()
        if self._llm is not None:
            self._llm.submit(order, messages[-1].transcript, messages[-1].speaker_label)

    def _order_of(self, turn: _Turn) -> int:
        if turn.order is None:
            turn.order = self._next_order
            self._next_order += 1
        return turn.order

    def _decode(self, offset: float, until: float, final: bool, *,
                wanted: Callable[[], bool] | None = None) -> asyncio.Task[Decoded]:
        """Queue a decode of [offset, until); the words come back timed from `offset`.
        `wanted` is asked when its turn comes: a speculative final whose pause turned out not
        to be the end is dropped before it costs anything."""
        self._inflight += 1
        task = self._spawn(self._run_decode(offset, until, final, wanted), "decode")
        if final:
            self._pending_finals.append(task)
        return task

    async def _run_decode(self, offset: float, until: float, final: bool,
                          wanted: Callable[[], bool] | None) -> Decoded:
        try:
            async with self._final_lock if final else contextlib.nullcontext():
                if wanted is not None and not wanted():
                    self.stats.skipped += 1
                    return Decoded("", ())
                start, prefix = self._left_context(offset, until) if final else (offset, "")
                assert self._model is not None  # _process waited for it
                fn = partial(self._model.decode, self.audio.slice(start, until), final=final,
                             keyterms=self.keyterms, prefix=prefix)
                loop = asyncio.get_running_loop()
                started = time.monotonic()
                result = await loop.run_in_executor(self.ctx.resources.decode_pool, fn)
                kind = "final" if final else "partial"
                self.stats.decodes[kind] += 1
                self.stats.decode_s[kind] += time.monotonic() - started
                return result.shifted((start - offset) / 1000)
        finally:
            self._inflight -= 1

    def _left_context(self, offset: float, until: float) -> tuple[float, str]:
        """The previous turn's end, for a final decode (see context.py). Finals decode in
        turn order, so the previous turn's final is known by the time this one runs."""
        if self._previous is None:
            return offset, ""
        task, previous_offset = self._previous
        if not task.done() or task.cancelled() or task.exception() is not None:
            return offset, ""
        return left_context(task.result(), previous_offset, offset, until, self.audio.start_ms)

    # --- partials --------------------------------------------------------------------------

    def _maybe_partial(self) -> None:
        turn = self._turn
        if turn is None or self._inflight or self._terminating:
            return
        now = self.audio.end_ms
        if now - turn.start_ms < FIRST_PARTIAL_MS:
            return
        if self.endpointer.pause_start is not None:
            return  # a pause: the speculative final will decode the turn (_start_candidate)
        if turn.last_partial_ms is not None and now - turn.last_partial_ms < self._partial_interval:
            return
        turn.last_partial_ms = now
        offset = turn.window.start_ms
        if offset == turn.start_ms:
            offset = max(0.0, offset - PREROLL_MS)
        task = self._decode(offset, now, False)
        self._spawn(self._emit_partial(turn, task, offset, now), "partial")

    async def _emit_partial(self, turn: _Turn, task: asyncio.Task[Decoded], offset: float,
                            now: float) -> None:
        started = time.monotonic()
        try:
            decoded = await task
        except Exception:
            log.exception("session %s: partial decode failed", self.id)
            return
        took = (time.monotonic() - started) * 1000
        low, high = PARTIAL_INTERVAL_MS
        self._partial_interval = min(high, max(low, 2.5 * took))
        if turn.ended or turn is not self._turn:
            return
        words = turn.window.update(decoded, offset, now)
        if not words:
            turn.last_partial_ms = now - self._partial_interval + PARTIAL_RETRY_MS
            return
        await self._send_partial(turn, words)

    async def _send_partial(self, turn: _Turn, words: list[Word]) -> None:
        text = " ".join(w.text for w in words)
        if text == turn.last_text:
            return
        if self._finals is not None and not self._finals.done():
            with contextlib.suppress(Exception):
                await self._finals  # earlier turns' finals go first
        if turn.ended or turn is not self._turn:
            return
        turn.last_text = text
        await self._send(partial_turn(self._order_of(turn), words))

    async def _send_speaker_revision(self) -> None:
        """Turns whose speaker label later evidence changed (speakers/live.py)."""
        assert self._speakers is not None
        revision = await self._speakers.revision()
        if revision is not None:
            await self._send(revision)

    # --- the end ---------------------------------------------------------------------------

    async def _finish(self, code: int, reason: str) -> None:
        """Final turn of any speech left, pending LLM answers (bounded), Termination, close."""
        await self._ingest(self.decoder.flush())
        ended = self.endpointer.force_end("stream_end")
        if ended is not None:
            self._end_turn(ended)
        if self._finals is not None:
            with contextlib.suppress(Exception):
                await self._finals
        if self._speakers is not None:
            await self._send_speaker_revision()
        if self._llm is not None:
            await self._llm.drain(self.ctx.llm_drain_timeout)
        self._ended = True
        await self._send(Termination(
            audio_duration_seconds=round(self.stats.audio_ms / 1000),
            session_duration_seconds=round(time.monotonic() - self._started)))
        await self._close(code, reason)


def _duration_error(ms: float) -> str:
    return (f"Input duration violation: {ms:.0f} ms. "
            f"Expected between {MIN_CHUNK_MS:.0f} and {MAX_CHUNK_MS:.0f} ms")


def _check_update(fields: dict[str, Any]) -> None:
    terms = fields.get("keyterms_prompt")
    if terms is not None and not (isinstance(terms, list)
                                  and all(isinstance(t, str) for t in terms)):
        raise ValueError("keyterms_prompt must be a list of strings")
    fmt = fields.get("format_turns")
    if fmt is not None and not isinstance(fmt, bool):
        raise ValueError("format_turns must be a boolean")


def _parse_problem(exc: Exception, text: str) -> str:
    """The close reason for a text frame that is not a client message, worded as the service
    words them (§8.1): `Invalid JSON: …`, `Invalid Message Type: …` or `Invalid Message: …`."""
    reason = str(exc) if isinstance(exc, ProtocolError) else "not JSON: nested too deeply"
    if reason.startswith("not JSON") or "not a JSON object" in reason:
        return f"Invalid JSON: {text[:60]}"
    return reason if reason.startswith("Invalid") else f"Invalid Message: {reason}"


def _update_problem(settings: TurnSettings, fields: dict[str, Any]) -> str | None:
    """Why an UpdateConfiguration cannot be applied (kinds, then the reference's ranges), or
    None. Checked on arrival, applied in order with the audio."""
    problem = check_update(fields)
    if problem:
        return problem
    try:
        settings.updated(fields)
        _check_update(fields)
    except (ValueError, OverflowError) as exc:
        return f"Invalid Message: {exc}"
    return None


def check_params(params: StreamingParams) -> str | None:
    """Why the connection parameters cannot be served, or None."""
    if params.sample_rate <= 0:
        return "Invalid Message: sample_rate must be a positive integer"
    problem = check_connection(params)
    if problem:
        return problem
    if not supported_encoding(params.encoding):
        return (f"Invalid Message: encoding {params.encoding!r} is not supported by this "
                "engine (use pcm_s16le or pcm_mulaw)")
    try:
        TurnSettings.from_params(params)
    except (ValueError, OverflowError) as exc:
        return f"Invalid Message: {exc}"
    return None
