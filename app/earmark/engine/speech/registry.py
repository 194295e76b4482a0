"""Which speech backend runs a model spec, and loading it.

A spec is what `--speech-model` takes: a catalog name (`whisper-tiny.en`, `whisper-base`), a
path to a model folder, a hub name (`base.en`), or `KIND:SPEC` to name the backend outright
(`faster-whisper:base.en`). A folder goes to the backend whose marker file it holds
(`model.bin`: a CTranslate2 Whisper model); any other spec to faster-whisper, which knows the
catalog names and the hub (and refuses a path that does not exist).

Adding a backend: a module with a class that implements `SpeechBackend`, and one entry in
BACKENDS whose factory imports it (lazily: a backend's libraries load only when it is used).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

from .backend import SpeechBackend
from .model_files import BUNDLED_NAMES, DEFAULT_MODEL, ModelNotFound

log = logging.getLogger(__name__)


class LoadOptions(TypedDict, total=False):
    """What every backend takes besides the spec."""

    model_dir: str | None  # where joined or downloaded model files are kept
    allow_download: bool  # fetch a hub model that is not cached
    cpu_threads: int  # threads per decode; 0: automatic
    workers: int  # decodes that may run at once


BackendFactory = Callable[..., SpeechBackend]  # (spec, **LoadOptions) -> a loaded backend


@dataclass(frozen=True, slots=True)
class BackendKind:
    load: BackendFactory
    marker: str  # the file that makes a folder one of this backend's models


def _faster_whisper(spec: str, **opts: Unpack[LoadOptions]) -> SpeechBackend:
    from .faster_whisper import FasterWhisperBackend

    return FasterWhisperBackend(spec, **opts)


BACKENDS: dict[str, BackendKind] = {
    "faster-whisper": BackendKind(_faster_whisper, marker="model.bin"),
}
DEFAULT_KIND = "faster-whisper"
_KIND_PREFIX = re.compile(r"([a-z][a-z0-9_-]+):(.+)")  # two letters at least: not `C:\...`


class UnknownBackend(ValueError):
    pass


def choose_backend(spec: str) -> tuple[str, str]:
    """(backend kind, the spec that backend gets) for a spec. Raises UnknownBackend for a
    `KIND:` nobody registered, ModelNotFound for a folder that holds no model we know."""
    spec = spec or DEFAULT_MODEL
    if spec in BUNDLED_NAMES:
        return DEFAULT_KIND, spec
    path = Path(spec).expanduser()
    if path.is_dir():
        for kind, backend in BACKENDS.items():
            if (path / backend.marker).is_file():
                return kind, spec
        known = ", ".join(f"{b.marker} ({k})" for k, b in BACKENDS.items())
        raise ModelNotFound(f"{path} holds no speech model this engine can run (looked for "
                            f"{known})")
    match = _KIND_PREFIX.fullmatch(spec)
    if match and not path.exists():
        kind, rest = match.groups()
        if kind not in BACKENDS:
            raise UnknownBackend(f"unknown speech backend {kind!r} in {spec!r} "
                                 f"(known: {', '.join(BACKENDS)})")
        return kind, rest
    return DEFAULT_KIND, spec


def load_backend(spec: str, **opts: Unpack[LoadOptions]) -> SpeechBackend:
    """The backend for `spec`, loaded (not warmed up). Raises with a message that names
    what is missing when the spec cannot be served."""
    kind, model = choose_backend(spec)
    log.info("speech model %s: %s backend", spec, kind)
    return BACKENDS[kind].load(model, **opts)
