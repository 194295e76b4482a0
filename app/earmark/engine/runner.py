"""Run the engine in its own thread and event loop, for the desktop app and the CLI.

    runner = EngineRunner(EngineOptions(port=0))
    runner.start()                      # binds at once; the model loads in the background
    runner.wait_listening(5)
    runner.ws_url, runner.token         # give these to any v3 client
    runner.add_ready_callback(lambda error: ...)
    runner.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from .limits import (
    HEARTBEAT_S,
    KEEPALIVE_TIMEOUT_S,
    REQUEST_TIMEOUT_S,
    ConnectionGuard,
    ServerLimits,
    default_max_sessions,
    raise_open_file_limit,
)
from .log_limits import install_rate_limit
from .resources import ReadyCallback, SpeechResources
from .server import build_app
from .speech import DEFAULT_MODEL
from .stream import MAX_SESSION_S, SessionContext

log = logging.getLogger(__name__)


@dataclass
class EngineOptions:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (read it back from `runner.port`)
    token: str | None = None  # None: a random token for this run
    speech_model: str = DEFAULT_MODEL  # whisper-tiny.en | whisper-base | CT2 dir | hub name
    final_speech_model: str | None = None  # finals on this model (None: on speech_model)
    model_dir: str | None = None  # where joined / downloaded models are kept
    allow_download: bool = False  # fetch hub models; off: local files only
    llm_model: str | None = None  # default model of the built-in LLM service
    cpu_threads: int = 0  # CTranslate2 threads per decode; 0: min(4, cores)
    decode_workers: int = 2  # concurrent decodes across all sessions
    # How long Terminate waits for per-turn LLM answers; the SDKs wait 5 s for Termination.
    llm_drain_timeout: float = 3.0
    max_session_s: int = MAX_SESSION_S
    # Hostile or broken clients (limits.py): sessions at once (0: two per core, at least 4),
    # web pages allowed besides none (scheme://host[:port]), websocket ping interval, and how
    # long a connection may wait before its request / between requests.
    max_sessions: int = 0
    allowed_origins: tuple[str, ...] = ()
    heartbeat_s: float = HEARTBEAT_S
    request_timeout_s: float = REQUEST_TIMEOUT_S
    keepalive_timeout_s: float = KEEPALIVE_TIMEOUT_S

    def server_limits(self) -> ServerLimits:
        return ServerLimits(max_sessions=self.max_sessions or default_max_sessions(),
                            allowed_origins=tuple(self.allowed_origins),
                            heartbeat_s=self.heartbeat_s)


def default_llm_service(llm_model: str | None) -> Any | None:
    """The other half of the engine, when it is installed."""
    try:
        from earmark.engine.llm import build_llm_service
    except ImportError as exc:
        log.warning("LLM service unavailable (earmark.engine.llm.build_llm_service: %s); "
                    "per-turn answers will carry an error", exc)
        return None
    from earmark.engine.llm import LLMOptions

    options = LLMOptions(gguf_paths=installed_answer_models())
    if llm_model:
        options = replace(options, default_model=llm_model)
    try:
        return build_llm_service(options)
    except Exception:
        log.exception("could not build the LLM service")
        return None


def installed_answer_models() -> list[Path]:
    """The GGUF files the user downloaded or added (the models folder's index)."""
    try:
        from earmark.core.models import installed_gguf_paths, models_dir

        return installed_gguf_paths(models_dir())
    except Exception as exc:  # an unreadable index costs the downloads, not the engine
        log.warning("installed answer models unavailable: %s", exc)
        return []


class EngineRunner:
    def __init__(self, options: EngineOptions | None = None, llm_service: Any | None = None
                 ) -> None:
        self.options = options or EngineOptions()
        self.token = self.options.token or secrets.token_urlsafe(24)
        self.port: int | None = None
        self._llm_service = llm_service
        self._own_llm = llm_service is None
        self.resources = SpeechResources(
            self.options.speech_model, final_speech_model=self.options.final_speech_model,
            model_dir=self.options.model_dir,
            allow_download=self.options.allow_download, cpu_threads=self.options.cpu_threads,
            decode_workers=self.options.decode_workers)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._listening = threading.Event()
        self._stopped = threading.Event()
        self._stop_requested: asyncio.Event | None = None
        self.start_error: BaseException | None = None

    # --- public API ------------------------------------------------------------------------

    @property
    def ws_url(self) -> str:
        return f"ws://{self._url_host}:{self.port}/v3/ws"

    @property
    def http_url(self) -> str:
        return f"http://{self._url_host}:{self.port}"

    @property
    def _url_host(self) -> str:
        host = self.options.host
        if host in ("0.0.0.0", ""):
            return "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    def start(self) -> None:
        """Start the engine thread. Returns at once; see wait_listening / add_ready_callback."""
        if self._thread is not None:
            raise RuntimeError("the engine was already started")
        self._thread = threading.Thread(target=self._thread_main, name="earmark-engine",
                                        daemon=True)
        self._thread.start()

    def wait_listening(self, timeout: float) -> bool:
        """Whether the port is bound (False on timeout or when binding failed)."""
        return self._listening.wait(timeout) and self.start_error is None

    def is_ready(self) -> bool:
        return self.resources.is_ready()

    def add_ready_callback(self, fn: ReadyCallback) -> None:
        self.resources.add_ready_callback(fn)

    @property
    def llm_service(self) -> Any | None:
        return self._llm_service

    def stop(self, timeout: float = 5.0) -> None:
        loop, event = self._loop, self._stop_requested
        if loop is not None and event is not None and not self._stopped.is_set():
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(event.set)
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("engine thread did not stop within %.1f s", timeout)

    # --- engine thread ---------------------------------------------------------------------

    def _thread_main(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self.start_error = exc
            log.exception("engine stopped with an error")
        finally:
            self._listening.set()  # unblock waiters on failure
            self._stopped.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        raise_open_file_limit()
        install_rate_limit()
        if self._own_llm:
            self._llm_service = default_llm_service(self.options.llm_model)
        ctx = SessionContext(self.resources, self._llm_service,
                             llm_drain_timeout=self.options.llm_drain_timeout,
                             max_session_s=self.options.max_session_s)
        app = build_app(ctx, self.token, self._llm_service, self.options.server_limits())
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=2.0,
                                     access_log=None,  # URLs may carry the token
                                     keepalive_timeout=self.options.keepalive_timeout_s)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.host, self.options.port)
        try:
            await site.start()
        except OSError as exc:
            self.start_error = exc
            log.error("engine could not listen on %s:%s: %s", self.options.host,
                      self.options.port, exc)
            await self._runner.cleanup()
            return
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self.options.port
        log.info("engine listening on %s (speech model %s%s loading)", self.ws_url,
                 self.options.speech_model,
                 f", finals on {self.options.final_speech_model}"
                 if self.options.final_speech_model else "")
        self._listening.set()
        loader = asyncio.create_task(self.resources.load())
        guard = ConnectionGuard(self._runner.server, self.options.request_timeout_s)
        guard.start()
        try:
            await self._stop_requested.wait()
        finally:
            log.info("engine stopping")
            await guard.stop()
            await self._runner.cleanup()
            if not loader.done():
                loader.cancel()
            if self._own_llm and self._llm_service is not None:
                with contextlib.suppress(Exception):
                    await self._llm_service.close()
            self.resources.close()
