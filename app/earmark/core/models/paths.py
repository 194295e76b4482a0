"""Where installed models live, where a download comes from, and what this machine has.

Models live in `<user data dir>/Earmark/models/` (`~/.local/share/Earmark/models` on Linux;
`EARMARK_MODELS_DIR` overrides it): answer models as `gguf/<file>.gguf`, speech models as
`whisper/<id>/`. The catalogue's URLs all start `https://huggingface.co/`; a mirror (a setting,
else `EARMARK_MODEL_MIRROR`, else `HF_ENDPOINT`) replaces that scheme and host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from .catalog import CatalogEntry, Kind

APP_DIR_NAME = "Earmark"
MODELS_DIR_ENV = "EARMARK_MODELS_DIR"
MIRROR_ENV = "EARMARK_MODEL_MIRROR"
HF_ENDPOINT_ENV = "HF_ENDPOINT"
CATALOG_HOST = "https://huggingface.co"
SUBFOLDERS = {Kind.ANSWER: "gguf", Kind.SPEECH: "whisper"}


def models_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The models folder (not created here)."""
    env = os.environ if environ is None else environ
    override = env.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs  # here, not at the top: the engine may read the index without it

    return platformdirs.user_data_path(APP_DIR_NAME, appauthor=False) / "models"


def install_path(entry: CatalogEntry, root: Path | None = None) -> Path:
    """Where `entry` is once installed: its GGUF file, or its Whisper folder."""
    base = models_dir() if root is None else root
    return base / SUBFOLDERS[entry.kind] / entry.install_name


def check_mirror(mirror: str) -> str:
    """`mirror` without a trailing slash; ValueError unless it is an http(s) base URL."""
    parts = urlsplit(mirror.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"{mirror!r} is not a download source: give a base URL such as "
                         "https://hf-mirror.com")
    return mirror.strip().rstrip("/")


def effective_mirror(setting: str | None = None,
                     environ: Mapping[str, str] | None = None) -> str | None:
    """The mirror to use: the setting, else EARMARK_MODEL_MIRROR, else HF_ENDPOINT, else none."""
    env = os.environ if environ is None else environ
    for candidate in (setting, env.get(MIRROR_ENV), env.get(HF_ENDPOINT_ENV)):
        if candidate and candidate.strip():
            return check_mirror(candidate)
    return None


def mirrored(url: str, mirror: str | None) -> str:
    """`url` fetched from `mirror` instead of huggingface.co (other hosts are left alone)."""
    if not mirror or not (url == CATALOG_HOST or url.startswith(CATALOG_HOST + "/")):
        return url
    return check_mirror(mirror) + url[len(CATALOG_HOST):]


def machine_memory_bytes() -> int:
    """Physical RAM in bytes, or 0 when the platform does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return _windows_memory_bytes()


def _windows_memory_bytes() -> int:
    try:
        import ctypes

        class MemoryStatus(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong),
                        ("total_phys", ctypes.c_ulonglong), ("avail_phys", ctypes.c_ulonglong),
                        ("total_page", ctypes.c_ulonglong), ("avail_page", ctypes.c_ulonglong),
                        ("total_virtual", ctypes.c_ulonglong),
                        ("avail_virtual", ctypes.c_ulonglong),
                        ("avail_extended", ctypes.c_ulonglong)]

        status = MemoryStatus()
        status.length = ctypes.sizeof(MemoryStatus)
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        if kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):
            return int(status.total_phys)
    except (AttributeError, OSError):
        pass
    return 0


def machine_cores() -> int:
    """The cores this process may use (a container's or a CPU set's limit, not the host's)."""
    affinity = getattr(os, "sched_getaffinity", None)
    if affinity is not None:
        return len(affinity(0)) or 1
    return os.cpu_count() or 1
