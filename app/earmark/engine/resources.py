"""The engine's shared speech resources: the speech backend (loaded once, in the background;
with a final speech model, two: partials on one, finals on the other), the voice encoder for
speaker labels (loaded once, when a session first asks for labels) and the thread pools that
decode and run the VAD off the event loop."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .speakers import VoiceEncoder
from .speech import SpeechBackend, SplitBackend, load_backend
from .threads import limit_blas_threads, limit_openmp_threads
from .vad import warm_up as warm_up_vad

log = logging.getLogger(__name__)

ReadyCallback = Callable[[str | None], None]


class SpeechLoadError(RuntimeError):
    """A model could not load; the message says which one and why."""


class SpeechResources:
    def __init__(self, speech_model: str, *, final_speech_model: str | None = None,
                 model_dir: str | None = None, allow_download: bool = False,
                 cpu_threads: int = 0, decode_workers: int = 2) -> None:
        limit_openmp_threads(cpu_threads)  # before the VAD or Whisper loads ctranslate2
        limit_blas_threads()
        self.speech_model = speech_model
        self.final_speech_model = final_speech_model or None  # None: finals on speech_model
        self._model_dir = model_dir
        self._allow_download = allow_download
        self._cpu_threads = cpu_threads
        self._workers = decode_workers
        self.decode_pool = ThreadPoolExecutor(decode_workers, thread_name_prefix="earmark-asr")
        self.vad_pool = ThreadPoolExecutor(2, thread_name_prefix="earmark-vad")
        self.model: SpeechBackend | None = None
        self.error: str | None = None
        self._done = threading.Event()
        self._loaded: asyncio.Event | None = None
        self._callbacks: list[ReadyCallback] = []
        self._lock = threading.Lock()
        self._voice_encoder: VoiceEncoder | None = None
        self._voice_lock = threading.Lock()

    def voice_encoder(self) -> VoiceEncoder:
        """The speaker-label model, one for all sessions; loads (~0.1 s) on the first call,
        which sessions make in a pool thread."""
        with self._voice_lock:
            if self._voice_encoder is None:
                self._voice_encoder = VoiceEncoder()
            return self._voice_encoder

    def is_ready(self) -> bool:
        return self._done.is_set() and self.model is not None

    def is_done(self) -> bool:
        return self._done.is_set()

    def add_ready_callback(self, fn: ReadyCallback) -> None:
        """`fn(error)` once loading ends (at once, in this thread, if it already has)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(fn)
                return
        fn(self.error)

    async def load(self) -> None:
        """Load and warm up the model in a worker thread; callbacks run on this loop's thread."""
        self._loaded = self._loaded or asyncio.Event()
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        try:
            self.model = await loop.run_in_executor(self.decode_pool, self._load_blocking)
            log.info("speech ready in %.1f s", time.monotonic() - started)
        except Exception as exc:
            self.error = (str(exc) if isinstance(exc, SpeechLoadError) else
                          f"speech model {self.speech_model!r} failed to load: {exc}")
            log.error("%s", self.error)
        with self._lock:
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        self._loaded.set()
        for fn in callbacks:
            try:
                fn(self.error)
            except Exception:
                log.exception("ready callback failed")

    def _load_blocking(self) -> SpeechBackend:
        warm_up_vad()
        model = self._backend(self.speech_model, "speech model")
        final = self.final_speech_model
        if final is not None and final != self.speech_model:
            model = SplitBackend(model, self._backend(final, "final speech model"))
        model.warm_up()
        return model

    def _backend(self, spec: str, role: str) -> SpeechBackend:
        try:
            return load_backend(spec, model_dir=self._model_dir,
                                allow_download=self._allow_download,
                                cpu_threads=self._cpu_threads, workers=self._workers)
        except Exception as exc:
            raise SpeechLoadError(f"{role} {spec!r} failed to load: {exc}") from exc

    async def wait(self) -> SpeechBackend:
        """The model, once loaded. Raises RuntimeError when loading failed."""
        if not self._done.is_set():
            self._loaded = self._loaded or asyncio.Event()
            await self._loaded.wait()
        if self.model is None:
            raise RuntimeError(self.error or "speech model not loaded")
        return self.model

    def close(self) -> None:
        self.decode_pool.shutdown(wait=False, cancel_futures=True)
        self.vad_pool.shutdown(wait=False, cancel_futures=True)
