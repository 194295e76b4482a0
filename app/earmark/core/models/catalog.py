"""The catalogue of downloadable models: typed, validated when the module loads, and queried.

`entries(kind)` lists them, `entry(id)` finds one, `machine_class(memory, cores)` says which
class a machine is and `recommended(memory, cores)` what suits it. A catalogue that breaks a
rule (a file without URL, size or SHA-256, an entry without licence, a duplicate id) raises
CatalogError at import, so a bad edit cannot ship.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from .data import CATALOG


class CatalogError(ValueError):
    """The catalogue data breaks one of its rules."""


class Kind(StrEnum):
    ANSWER = "answer"  # a GGUF file for llama.cpp (the per-turn answers)
    SPEECH = "speech"  # a CTranslate2 Whisper folder for faster-whisper


FORMATS = {Kind.ANSWER: "gguf", Kind.SPEECH: "ctranslate2-whisper"}
SPEEDS = ("fast", "medium", "slow")
WHISPER_REQUIRED = ("config.json", "model.bin", "tokenizer.json")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class RemoteFile:
    name: str  # the file's name (in the model's folder for a speech model)
    url: str
    size: int  # bytes
    sha256: str  # lowercase hex; "" only in an entry that is not verified


@dataclass(frozen=True, slots=True)
class MachineClass:
    id: str
    label: str
    min_memory_bytes: int
    min_cores: int

    def admits(self, memory_bytes: int, cores: int) -> bool:
        return memory_bytes >= self.min_memory_bytes and cores >= self.min_cores


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    id: str
    label: str
    kind: Kind
    format: str
    files: tuple[RemoteFile, ...]
    licence: str
    licence_url: str
    source_page: str
    revision: str
    memory_bytes: int  # RAM it needs while it runs (an estimate)
    speed: str  # "fast" | "medium" | "slow", on a 2-core laptop
    recommended: Mapping[str, bool]  # machine class id -> recommended there
    languages: tuple[str, ...]
    verified: bool  # sizes and SHA-256 values come from published metadata
    evidence: str  # where they were found, or why they could not be
    notes: str = ""

    @property
    def size(self) -> int:
        """Bytes to download: every file together."""
        return sum(f.size for f in self.files)

    @property
    def is_folder(self) -> bool:
        """Installed as a folder of files (a speech model) rather than one file."""
        return self.kind is Kind.SPEECH

    @property
    def install_name(self) -> str:
        """The name of what lands in the models folder: the GGUF file, or the folder."""
        return self.id if self.is_folder else self.files[0].name

    @property
    def downloadable(self) -> bool:
        return self.verified and all(f.sha256 and f.size > 0 for f in self.files)


def _require(condition: bool, where: str, message: str) -> None:
    if not condition:
        raise CatalogError(f"{where}: {message}")


def _file(raw: Mapping[str, Any], where: str, verified: bool) -> RemoteFile:
    name = str(raw.get("name") or "")
    _require(bool(name) and "/" not in name and "\\" not in name and name not in (".", ".."),
             where, f"file name {name!r} must be a bare file name")
    url = str(raw.get("url") or "")
    parts = urlsplit(url)
    _require(parts.scheme == "https" and bool(parts.netloc), where, f"{name}: no https URL")
    _require(parts.path.endswith("/" + name), where, f"{name}: the URL names another file")
    size, sha256 = raw.get("size"), str(raw.get("sha256") or "")
    if verified:
        _require(isinstance(size, int) and size > 0, where, f"{name}: no size in bytes")
        _require(bool(_SHA256.match(sha256)), where, f"{name}: no SHA-256 (64 lowercase hex)")
    return RemoteFile(name, url, size if isinstance(size, int) else 0, sha256)


def _check_files(kind: Kind, files: tuple[RemoteFile, ...], where: str) -> None:
    names = [f.name for f in files]
    _require(len(names) == len(set(names)), where, "a file is listed twice")
    if kind is Kind.ANSWER:
        _require(len(files) == 1 and names[0].endswith(".gguf"), where,
                 "an answer model is exactly one .gguf file")
        return
    missing = [n for n in WHISPER_REQUIRED if n not in names]
    _require(not missing, where, f"a Whisper folder needs {', '.join(missing)}")
    _require(any(n.startswith("vocabulary.") for n in names), where,
             "a Whisper folder needs vocabulary.txt or vocabulary.json")


def _entry(raw: Mapping[str, Any], classes: set[str]) -> CatalogEntry:
    model_id = str(raw.get("id") or "")
    where = f"catalogue entry {model_id or '?'}"
    _require(bool(_ID.match(model_id)), where, "id must be lowercase letters, digits, . _ -")
    try:
        kind = Kind(raw.get("kind"))
    except ValueError:
        raise CatalogError(f"{where}: kind must be one of {[k.value for k in Kind]}") from None
    _require(raw.get("format") == FORMATS[kind], where, f"format must be {FORMATS[kind]}")
    verified = raw.get("verified") is True
    evidence = str(raw.get("evidence") or "")
    _require(bool(evidence), where, "evidence must say where sizes and hashes come from (or "
                                    "why they are missing)")
    files = tuple(_file(f, where, verified) for f in raw.get("files") or ())
    _require(bool(files), where, "no files")
    _check_files(kind, files, where)
    for key in ("label", "licence", "licence_url", "source_page", "revision"):
        _require(bool(raw.get(key)), where, f"no {key}")
    _require(raw.get("speed") in SPEEDS, where, f"speed must be one of {SPEEDS}")
    memory = raw.get("memory_bytes")
    _require(isinstance(memory, int) and memory > 0, where, "no memory_bytes")
    recommended = dict(raw.get("recommended") or {})
    _require(set(recommended) <= classes, where, "recommended names an unknown machine class")
    return CatalogEntry(
        id=model_id, label=str(raw["label"]), kind=kind, format=FORMATS[kind], files=files,
        licence=str(raw["licence"]), licence_url=str(raw["licence_url"]),
        source_page=str(raw["source_page"]), revision=str(raw["revision"]),
        memory_bytes=int(memory), speed=str(raw["speed"]),
        recommended={c: bool(recommended.get(c)) for c in classes},
        languages=tuple(raw.get("languages") or ()), verified=verified, evidence=evidence,
        notes=str(raw.get("notes") or ""))


def _machine_classes(raw: list[Mapping[str, Any]]) -> tuple[MachineClass, ...]:
    classes = tuple(MachineClass(str(c["id"]), str(c["label"]), int(c["min_memory_bytes"]),
                                 int(c["min_cores"])) for c in raw)
    _require(bool(classes), "catalogue", "no machine classes")
    _require(classes[0].min_memory_bytes == 0 and classes[0].min_cores <= 1, "catalogue",
             "the first machine class must admit every machine")
    return classes


def load_catalog(data: Mapping[str, Any]) -> tuple[tuple[MachineClass, ...],
                                                   tuple[CatalogEntry, ...]]:
    """The machine classes and entries of `data`; raises CatalogError on any broken rule."""
    classes = _machine_classes(list(data.get("machine_classes") or ()))
    class_ids = {c.id for c in classes}
    entries = tuple(_entry(raw, class_ids) for raw in data.get("models") or ())
    ids = [e.id for e in entries]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    _require(not duplicates, "catalogue", f"duplicate ids: {', '.join(duplicates)}")
    return classes, entries


MACHINE_CLASSES, ENTRIES = load_catalog(CATALOG)


def entries(kind: Kind | str | None = None) -> list[CatalogEntry]:
    """Every entry, or those of one kind, in catalogue order."""
    return [e for e in ENTRIES if kind is None or e.kind == kind]


def entry(model_id: str) -> CatalogEntry:
    """The entry `model_id`; KeyError when the catalogue has none."""
    for candidate in ENTRIES:
        if candidate.id == model_id:
            return candidate
    raise KeyError(model_id)


def machine_class(memory_bytes: int, cores: int) -> MachineClass:
    """The last (largest) class whose minimums the machine meets."""
    admitted = [c for c in MACHINE_CLASSES if c.admits(memory_bytes, cores)]
    return admitted[-1] if admitted else MACHINE_CLASSES[0]


def recommended(memory_bytes: int, cores: int,
                kind: Kind | str | None = None) -> list[CatalogEntry]:
    """The entries recommended for a machine with this much RAM and these cores, that fit."""
    cls = machine_class(memory_bytes, cores).id
    return [e for e in entries(kind) if e.recommended.get(cls) and e.memory_bytes <= memory_bytes]
