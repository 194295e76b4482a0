"""The installed-models index (`installed.json` in the models folder) and adding models the
user already has: any GGUF file (checked by its `GGUF` magic) and any CTranslate2 Whisper folder
(model.bin, config.json, tokenizer.json, a vocabulary file). Local models are registered where
they are, never copied.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .catalog import CatalogEntry, Kind

log = logging.getLogger(__name__)

INDEX_FILE = "installed.json"
INDEX_VERSION = 1
GGUF_MAGIC = b"GGUF"
VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")
SOURCE_CATALOG = "catalog"
SOURCE_LOCAL = "local"
_lock = threading.Lock()  # one read-modify-write of the index at a time in this process


class LocalModelError(ValueError):
    """A file or folder the user picked is not a model Earmark can run."""


@dataclass(frozen=True, slots=True)
class InstalledModel:
    id: str  # the catalogue id, or `local-<name>` for a model the user added
    kind: Kind
    path: str  # absolute: the GGUF file or the Whisper folder
    label: str
    source: str  # SOURCE_CATALOG | SOURCE_LOCAL
    size: int  # bytes on disk
    sha256: str = ""  # a catalogue GGUF's verified digest; "" for folders and local files
    added: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def engine_model_id(self) -> str:
        """The id the engine serves an answer model under (`gguf:<file stem>`); "" for speech."""
        return f"gguf:{Path(self.path).stem}" if self.kind is Kind.ANSWER else ""

    def exists(self) -> bool:
        path = Path(self.path)
        return path.is_dir() if self.kind is Kind.SPEECH else path.is_file()


def index_path(root: Path) -> Path:
    return root / INDEX_FILE


def _from_json(raw: dict[str, Any]) -> InstalledModel | None:
    try:
        return InstalledModel(id=str(raw["id"]), kind=Kind(raw["kind"]), path=str(raw["path"]),
                              label=str(raw.get("label") or raw["id"]),
                              source=str(raw.get("source") or SOURCE_LOCAL),
                              size=int(raw.get("size") or 0), sha256=str(raw.get("sha256") or ""),
                              added=str(raw.get("added") or ""))
    except (KeyError, TypeError, ValueError):
        return None


def read_index(root: Path) -> list[InstalledModel]:
    """Every model in the index; a missing or unreadable index is an empty one (logged)."""
    path = index_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        log.warning("the installed-models index %s cannot be read (%s); starting empty", path,
                    exc)
        return []
    rows = data.get("models") if isinstance(data, dict) else None
    models = [_from_json(r) for r in rows or () if isinstance(r, dict)]
    return [m for m in models if m is not None]


def _write_index(root: Path, models: list[InstalledModel]) -> None:
    """Replace the index atomically (a crash leaves the old one or the new one, never half)."""
    root.mkdir(parents=True, exist_ok=True)
    rows = [{**asdict(m), "kind": m.kind.value} for m in models]
    text = json.dumps({"version": INDEX_VERSION, "models": rows}, indent=2, ensure_ascii=False)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".installed.", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, index_path(root))
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def register(root: Path, model: InstalledModel) -> InstalledModel:
    """Add `model` to the index, replacing an entry with its id or its path."""
    with _lock:
        kept = [m for m in read_index(root) if m.id != model.id and m.path != model.path]
        _write_index(root, [*kept, model])
    return model


def unregister(root: Path, model_id: str) -> bool:
    """Drop `model_id` from the index (its files stay); whether it was there."""
    with _lock:
        models = read_index(root)
        kept = [m for m in models if m.id != model_id]
        if len(kept) != len(models):
            _write_index(root, kept)
    return len(kept) != len(models)


def installed(root: Path, kind: Kind | str | None = None) -> list[InstalledModel]:
    """The indexed models of `kind` whose files are still there."""
    return [m for m in read_index(root) if (kind is None or m.kind == kind) and m.exists()]


def installed_gguf_paths(root: Path) -> list[Path]:
    """Every installed answer model's file: what the engine's `LLMOptions.gguf_paths` takes."""
    return [Path(m.path) for m in installed(root, Kind.ANSWER)]


def catalog_record(entry: CatalogEntry, path: Path) -> InstalledModel:
    """The index row of a verified download of `entry` at `path`."""
    sha256 = "" if entry.is_folder else entry.files[0].sha256
    return InstalledModel(id=entry.id, kind=entry.kind, path=str(path.absolute()),
                          label=entry.label, source=SOURCE_CATALOG, size=entry.size,
                          sha256=sha256)


def check_gguf(path: Path) -> None:
    """LocalModelError unless `path` is a file that starts with the GGUF magic."""
    if not path.is_file():
        raise LocalModelError(f"{path} is not a file.")
    with path.open("rb") as f:
        if f.read(4) != GGUF_MAGIC:
            raise LocalModelError(f"{path.name} is not a GGUF model: it does not start with "
                                  "'GGUF'.")


def check_whisper_folder(path: Path) -> None:
    """LocalModelError unless `path` is a CTranslate2 Whisper folder faster-whisper can load
    offline."""
    if not path.is_dir():
        raise LocalModelError(f"{path} is not a folder.")
    model_bin = path / "model.bin"
    if not model_bin.is_file() or model_bin.stat().st_size == 0:
        raise LocalModelError(f"{path.name} is not a CTranslate2 Whisper model: it has no "
                              "model.bin.")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        config = None
    if not isinstance(config, dict):
        raise LocalModelError(f"{path.name} is not a CTranslate2 Whisper model: its "
                              "config.json is missing or not JSON.")
    if not (path / "tokenizer.json").is_file():
        raise LocalModelError(f"{path.name} has no tokenizer.json; without it faster-whisper "
                              "would fetch one from the internet.")
    if not any((path / name).is_file() for name in VOCABULARY_FILES):
        raise LocalModelError(f"{path.name} is not a CTranslate2 Whisper model: it has no "
                              "vocabulary.txt or vocabulary.json.")


def _local_id(root: Path, path: Path) -> str:
    """`local-<name>`, with a number when another indexed model already has that id."""
    name = path.stem if path.is_file() else path.name
    base = "local-" + (re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "model")
    taken = {m.id for m in read_index(root) if m.path != str(path)}
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def add_local_gguf(root: Path, path: Path | str) -> InstalledModel:
    """Register a GGUF file the user has (checked, not copied); LocalModelError otherwise."""
    path = Path(path).expanduser().absolute()
    check_gguf(path)
    model = InstalledModel(id=_local_id(root, path), kind=Kind.ANSWER, path=str(path),
                           label=path.stem, source=SOURCE_LOCAL, size=path.stat().st_size)
    return register(root, model)


def add_local_whisper(root: Path, path: Path | str) -> InstalledModel:
    """Register a CTranslate2 Whisper folder the user has; LocalModelError otherwise."""
    path = Path(path).expanduser().absolute()
    check_whisper_folder(path)
    model = InstalledModel(id=_local_id(root, path), kind=Kind.SPEECH, path=str(path),
                           label=path.name, source=SOURCE_LOCAL, size=_folder_size(path))
    return register(root, model)
