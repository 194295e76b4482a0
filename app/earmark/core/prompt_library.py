"""The prompt library: the built-in prompts (read-only, shipped in `resources/prompts/`) and the
user's own, one readable JSON file per prompt in `<config dir>/prompts/`, so a prompt can be
shared by copying its file. A user prompt's id is its file name (without `.json`)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import tempfile
from pathlib import Path

import platformdirs

from .prompts import Prompt, PromptError, load_prompts, validate_prompt

RESERVED_IDS = frozenset({"custom"})  # the main window's one-off custom prompt


def default_user_prompts_dir() -> Path:
    return platformdirs.user_config_path("Earmark") / "prompts"


def check_prompt_id(prompt_id: object) -> str:
    """`prompt_id` if it names a file inside the prompts folder; PromptError (a ValueError)
    for anything that would leave it or is not a plain name: empty, ".", "..", a path
    separator (either kind), a drive (":"), a NUL or another control character."""
    if not isinstance(prompt_id, str) or not prompt_id.strip():
        raise PromptError("A prompt needs a name to be stored under.")
    bad = [c for c in prompt_id if c in "/\\:" or ord(c) < 32]
    if bad or prompt_id in (".", "..") or Path(prompt_id).name != prompt_id:
        raise PromptError(f"{prompt_id!r} is not a prompt name: it would leave the prompts "
                          "folder or cannot be a file name there.")
    return prompt_id


def slug(name: str) -> str:
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return text[:48].strip("-") or "prompt"


class PromptLibrary:
    """Built-ins first (in file order), then the user's prompts sorted by name."""

    def __init__(self, builtin_dir: Path, user_dir: Path | None = None) -> None:
        self.builtin_dir = builtin_dir
        self.user_dir = user_dir if user_dir is not None else default_user_prompts_dir()
        self.builtins: list[Prompt] = []
        self.user: list[Prompt] = []
        self.problems: list[str] = []  # user files that could not be read, in words
        self.reload()

    # --- reading -------------------------------------------------------------------------

    def reload(self) -> None:
        self.builtins = load_prompts(self.builtin_dir)
        self.user, self.problems = [], []
        builtin_ids = {p.id for p in self.builtins} | RESERVED_IDS
        paths = sorted(self.user_dir.glob("*.json")) if self.user_dir.is_dir() else []
        for path in paths:
            if path.stem in builtin_ids:
                self.problems.append(f"{path.name}: the name is taken by a built-in prompt.")
                continue
            try:
                check_prompt_id(path.stem)  # every prompt listed can be saved and deleted
                data = json.loads(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise PromptError("not a JSON object")
                prompt = Prompt.from_dict({**data, "id": path.stem})
                validate_prompt(prompt)
            except (OSError, ValueError) as exc:
                self.problems.append(f"{path.name}: {exc}")
                continue
            self.user.append(prompt)
        self.user.sort(key=lambda p: p.name.lower())

    def all(self) -> list[Prompt]:
        return [*self.builtins, *self.user]

    def get(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.all() if p.id == prompt_id), None)

    def is_builtin(self, prompt_id: str) -> bool:
        return any(p.id == prompt_id for p in self.builtins)

    def path_of(self, prompt_id: str) -> Path:
        """The file of a user prompt. Raises PromptError (a ValueError) for an id that would
        point outside the prompts folder ("../x", "/etc/x", "a/b", "", NUL)."""
        return self.user_dir / f"{check_prompt_id(prompt_id)}.json"

    # --- changes -------------------------------------------------------------------------

    def new_id(self, name: str) -> str:
        """A file-safe id derived from `name` that no prompt (or built-in) has yet."""
        taken = {p.id for p in self.all()} | RESERVED_IDS
        base = slug(name)
        candidate, n = base, 2
        while candidate in taken or self.path_of(candidate).exists():
            candidate, n = f"{base}-{n}", n + 1
        return candidate

    def save(self, prompt: Prompt) -> Prompt:
        """Write a user prompt (a new one when its id is empty). Built-ins cannot be
        overwritten: duplicate them first. Raises PromptError (invalid) or OSError (disk)."""
        if self.is_builtin(prompt.id) or prompt.id in RESERVED_IDS:
            raise PromptError("Built-in prompts cannot be changed; duplicate it and edit the copy.")
        validate_prompt(prompt)
        if not prompt.id:
            prompt = dataclasses.replace(prompt, id=self.new_id(prompt.name))
        elif slug(prompt.id) != prompt.id:
            raise PromptError(f"“{prompt.id}” cannot be a file name.")
        self.user_dir.mkdir(parents=True, exist_ok=True)
        data = {k: v for k, v in prompt.to_dict().items() if k != "id"}
        _atomic_write(self.path_of(prompt.id),
                      json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        self.reload()
        return prompt

    def duplicate(self, prompt_id: str) -> Prompt:
        source = self.get(prompt_id)
        if source is None:
            raise PromptError(f"There is no prompt “{prompt_id}”.")
        name = f"{source.name} (copy)"
        return self.save(dataclasses.replace(source, id=self.new_id(name), name=name))

    def delete(self, prompt_id: str) -> None:
        path = self.path_of(prompt_id)  # refuses a name outside the folder, first
        if self.is_builtin(prompt_id):
            raise PromptError("Built-in prompts cannot be deleted.")
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self.reload()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
