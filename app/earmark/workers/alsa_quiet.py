"""Keep ALSA's and JACK's probing messages off the terminal: PortAudio's device enumeration makes
libasound print ~70 "ALSA lib pcm.c:…: Unknown PCM cards.pcm.rear" lines and libjack ~15 "jack
server is not running" lines on every PyAudio() (every device poll), none of them a problem.

`install()` hands both libraries a handler that logs each distinct message once, at DEBUG, and
tells libjack not to start a JACK server of its own. The handlers are process-wide C callbacks:
they are installed once, kept alive here, and removed at interpreter exit (a C library calling
into a finalised interpreter would crash it). Only libraries already in the process (loaded with
PortAudio) are touched; without them, or off Linux, `install()` does nothing."""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import sys
from typing import Any

log = logging.getLogger(__name__)

ALSA_LIBRARY = "libasound.so.2"
JACK_LIBRARY = "libjack.so.0"
MAX_REMEMBERED = 512  # distinct messages logged; past this, the rest are dropped

# void (*snd_lib_error_handler_t)(const char *file, int line, const char *function, int err,
#                                 const char *fmt, ...): the variadic part is not read (ctypes
# cannot take a va_list), so the format is logged as it is, e.g. "Unknown PCM %s".
ALSA_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                ctypes.c_int, ctypes.c_char_p)
JACK_HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_char_p)  # void (*)(const char *msg)

_seen: set[str] = set()
_installed: dict[str, Any] = {}  # library name -> (library, callback): keeps callbacks alive


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _log_once(source: str, message: str) -> None:
    if message in _seen or len(_seen) >= MAX_REMEMBERED:
        return
    _seen.add(message)
    log.debug("%s: %s", source, message)


def _on_alsa(file: bytes | None, line: int, function: bytes | None, err: int,
             fmt: bytes | None) -> None:
    detail = f" ({os.strerror(-err)})" if err < 0 else ""
    _log_once("ALSA", f"{_text(file)}:{line} {_text(function)}: {_text(fmt)}{detail}")


def _on_jack_error(message: bytes | None) -> None:
    _log_once("JACK", _text(message))


def _on_jack_info(message: bytes | None) -> None:
    _log_once("JACK info", _text(message))


def loaded_library(name: str) -> ctypes.CDLL | None:
    """`name` if the process has already loaded it (never loads it), else None."""
    try:
        return ctypes.CDLL(name, mode=os.RTLD_NOLOAD)
    except (OSError, AttributeError):  # not loaded; no RTLD_NOLOAD off Linux/macOS
        return None


def load_portaudio() -> bool:
    """Import PyAudio's extension, which loads PortAudio and with it libasound and libjack."""
    try:
        import pyaudio  # noqa: F401
    except ImportError as exc:
        log.debug("no PyAudio, nothing to quieten: %s", exc)
        return False
    return True


def _install_alsa(lib: ctypes.CDLL) -> None:
    callback = ALSA_HANDLER(_on_alsa)
    lib.snd_lib_error_set_handler.argtypes = [ALSA_HANDLER]
    lib.snd_lib_error_set_handler(callback)
    _installed[ALSA_LIBRARY] = (lib, callback)


def _install_jack(lib: ctypes.CDLL) -> None:
    on_error, on_info = JACK_HANDLER(_on_jack_error), JACK_HANDLER(_on_jack_info)
    lib.jack_set_error_function.argtypes = [JACK_HANDLER]
    lib.jack_set_info_function.argtypes = [JACK_HANDLER]
    lib.jack_set_error_function(on_error)
    lib.jack_set_info_function(on_info)
    _installed[JACK_LIBRARY] = (lib, on_error, on_info)


def install() -> list[str]:
    """Route ALSA's and JACK's messages to the log; returns the libraries handled. Call once,
    before the first PyAudio() (calling again does nothing)."""
    if _installed or not sys.platform.startswith("linux"):
        return sorted(_installed)
    os.environ.setdefault("JACK_NO_START_SERVER", "1")  # never spawn jackd just to probe it
    if not load_portaudio():
        return []
    for name, install_one in ((ALSA_LIBRARY, _install_alsa), (JACK_LIBRARY, _install_jack)):
        lib = loaded_library(name)
        if lib is None:
            continue
        try:
            install_one(lib)
        except AttributeError as exc:  # a library without the function (an old or odd build)
            log.debug("%s: %s", name, exc)
    if _installed:
        atexit.register(uninstall)
    log.debug("ALSA/JACK messages go to the log: %s", ", ".join(sorted(_installed)) or "none")
    return sorted(_installed)


def uninstall() -> None:
    """Give the libraries their default (printing) handlers back; safe to call twice."""
    alsa = _installed.pop(ALSA_LIBRARY, None)
    if alsa is not None:
        alsa[0].snd_lib_error_set_handler(ctypes.cast(None, ALSA_HANDLER))
    jack = _installed.pop(JACK_LIBRARY, None)
    if jack is not None:  # JACK 2: NULL restores the default; PipeWire's libjack ignores both
        jack[0].jack_set_error_function(ctypes.cast(None, JACK_HANDLER))
        jack[0].jack_set_info_function(ctypes.cast(None, JACK_HANDLER))
