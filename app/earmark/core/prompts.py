"""Prompt templates: what the LLM is asked about each turn (`{{turn}}`) and about the whole
session (`{{transcript}}`). A prompt is a small JSON file; the built-in ones ship in
`resources/prompts/`."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .protocol import ChatMessage, LLMGatewayConfig

TURN = "turn"
TRANSCRIPT = "transcript"
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


class PromptError(ValueError):
    """A prompt that cannot be used, with a sentence saying why."""


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    name: str
    turn_template: str
    session_template: str = ""
    system: str = ""
    language: str = ""
    # Per-turn answers (see core/grounded_prompts.py): a JSON schema the answer must follow
    # (a list such as action items; None for prose), stop sequences, a token limit (0: the
    # app's), and whether the "use only the transcript" system message is added.
    response_schema: dict[str, Any] | None = field(default=None, hash=False)
    stop: tuple[str, ...] = ()
    max_tokens: int = 0
    grounded: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Every field; the per-turn answer fields only when they differ from their defaults,
        so a plain prompt's file stays as short as it was."""
        data = asdict(self)
        defaults = {"response_schema": None, "stop": (), "max_tokens": 0, "grounded": True}
        for key, default in defaults.items():
            if data[key] == default:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, d: dict) -> Prompt:
        try:
            prompt = cls(**{k: str(d.get(k, "")) for k in
                            ("id", "name", "turn_template", "session_template", "system",
                             "language")})
        except TypeError as exc:  # pragma: no cover - all fields are given above
            raise PromptError(str(exc)) from None
        if not prompt.id or not prompt.name:
            raise PromptError("A prompt needs an id and a name.")
        return _with_answer_fields(prompt, d)

    def llm_gateway(self, model: str, max_tokens: int = 4000) -> LLMGatewayConfig:
        """The `llm_gateway` connection parameter that runs this prompt on every final turn."""
        validate_template(self.turn_template, TURN)
        messages = []
        system = self.system_text()
        if system:
            messages.append(ChatMessage("system", system))
        messages.append(ChatMessage("user", self.turn_template))
        return LLMGatewayConfig(model=model, messages=tuple(messages), max_tokens=max_tokens)

    @property
    def analysis_template(self) -> str:
        """The whole-session template; a prompt without one asks its per-turn question of
        the whole transcript."""
        if self.session_template.strip():
            return self.session_template
        return self.turn_template.replace("{{" + TURN + "}}", "{{" + TRANSCRIPT + "}}")

    def system_text(self) -> str:
        """The system message: the prompt's own, plus the answer language when one is set."""
        parts = [self.system.strip()]
        if self.language.strip():
            parts.append(f"Answer in {self.language.strip()}.")
        return " ".join(p for p in parts if p)


def _with_answer_fields(prompt: Prompt, d: dict) -> Prompt:
    """The optional per-turn answer fields of a prompt file; a wrong kind is a PromptError."""
    schema, stop = d.get("response_schema"), d.get("stop", [])
    max_tokens, grounded = d.get("max_tokens", 0), d.get("grounded", True)
    if schema is not None and not isinstance(schema, dict):
        raise PromptError("response_schema must be a JSON schema object.")
    if isinstance(stop, str):
        stop = [stop]
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise PromptError("stop must be a list of strings.")
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 0:
        raise PromptError("max_tokens must be a whole number (0: the app's limit).")
    if not isinstance(grounded, bool):
        raise PromptError("grounded must be true or false.")
    return replace(prompt, response_schema=schema, stop=tuple(stop), max_tokens=max_tokens,
                   grounded=grounded)


def validate_template(template: str, placeholder: str) -> None:
    """Refuse a template without its placeholder or with one Earmark cannot fill."""
    names = {m.group(1) for m in _PLACEHOLDER.finditer(template)}
    unknown = sorted(names - {placeholder})
    if unknown:
        raise PromptError(
            f"Unknown placeholder {{{{{unknown[0]}}}}}: this template can only use "
            f"{{{{{placeholder}}}}}.")
    if "{{" + placeholder + "}}" not in template:
        raise PromptError(f"The template must contain {{{{{placeholder}}}}}, where the "
                          f"{'turn' if placeholder == TURN else 'transcript'} goes.")


def validate_prompt(prompt: Prompt) -> None:
    """Everything a saved prompt must satisfy; PromptError names the field at fault."""
    if not prompt.name.strip():
        raise PromptError("The prompt needs a name.")
    if not prompt.turn_template.strip():
        raise PromptError("The per-turn template is empty; write it with {{turn}}.")
    try:
        validate_template(prompt.turn_template, TURN)
    except PromptError as exc:
        raise PromptError(f"Per-turn template: {exc}") from None
    if prompt.session_template.strip():
        try:
            validate_template(prompt.session_template, TRANSCRIPT)
        except PromptError as exc:
            raise PromptError(f"Whole-session template: {exc}") from None
    if "{{" in prompt.system or "}}" in prompt.system:
        raise PromptError("The system message cannot hold placeholders; put {{turn}} or "
                          "{{transcript}} in the templates.")


def custom_prompt(text: str) -> Prompt:
    """A prompt the user typed. Text without `{{turn}}` gets the transcript appended, as the
    built-in prompts do, so a plain question works."""
    text = text.strip()
    if not text:
        raise PromptError("The custom prompt is empty.")
    if "{{" + TURN + "}}" not in text:
        text = f"{text}\n\nTranscript: {{{{{TURN}}}}}"
    validate_template(text, TURN)
    session = text.replace("{{" + TURN + "}}", "{{" + TRANSCRIPT + "}}")
    return Prompt(id="custom", name="Custom prompt", turn_template=text, session_template=session)


def load_prompts(folder: Path) -> list[Prompt]:
    """Every valid prompt file in `folder`, in file-name order; broken files are skipped."""
    prompts = []
    for path in sorted(folder.glob("*.json")):
        try:
            prompts.append(Prompt.from_dict(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return prompts
