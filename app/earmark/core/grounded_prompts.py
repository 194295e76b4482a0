"""Per-turn and whole-session requests that keep a model to the transcript, and the cards their
answers become.

`turn_request` builds the `llm_gateway` configuration (a dict) for a prompt: a system message
that says to use only the transcript (and to answer "Nothing to note." otherwise), the speakers'
names when the user gave them, the prompt's stop sequences and token limit, greedy sampling,
and, for a prompt with a `response_schema` (the action items), `response_format` json_schema:
llama.cpp turns it into a grammar, the Gateway into structured output. `render_answer` turns
such a JSON answer into lines a person reads ("• Dana: send the slides (due Friday)") and
shows anything else as it came. `checked_answer` renders and checks in one call.

Small local models get a tighter schema (bounded strings, names shaped like names, a due date
that starts with a word, so no "2018-04-30T09:57:56Z") and a lighter repeat penalty than the
engine's default: at 1.3 SmolLM2-135M turned "29" into "39.05%" and "14,500" into "$14.50
million" because copying a number from the turn is a repeat.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from .grounding import (
    NOTHING_TO_NOTE,
    Grounding,
    check_answer,
    content_overlap,
    unsupported_words,
)
from .prompts import TRANSCRIPT, TURN, Prompt, validate_template
from .protocol import SPEAKER_NAMES, ChatMessage, LLMGatewayConfig

GROUNDING_SYSTEM = (
    "You take notes on a meeting transcript. Use only what the transcript says. Do not add "
    "names, numbers or dates that are not in it. If it says nothing relevant, answer "
    f"exactly: {NOTHING_TO_NOTE}")
GROUNDING_SYSTEM_JSON = (
    "You take notes on a meeting transcript. Use only what the transcript says. Do not add "
    "names, numbers or dates that are not in it. Use null when the transcript does not say, "
    "and an empty list when there is nothing.")
LOCAL_MODEL_PREFIXES = ("smollm2-", "gguf:")  # served by llama.cpp inside the engine
LOCAL_REPEAT_PENALTY = 1.1
MAX_STOP_SEQUENCES = 4  # the OpenAI-style limit the Gateway keeps
LOCAL_MAX_ITEMS = 5
LOCAL_MAX_STRING = 120
NAME_PATTERN = r"^[A-Z][A-Za-z'.-]{0,20}( [A-Z][A-Za-z'.-]{0,20}){0,2}$"
DUE_PATTERN = r"^[A-Za-z][A-Za-z0-9 ,:.'-]{0,29}$"

ACTION_ITEMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"items": {"type": "array", "items": {
        "type": "object",
        "properties": {"task": {"type": "string"},
                       "owner": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                       "due": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
        "required": ["task", "owner", "due"],
        "additionalProperties": False}}},
    "required": ["items"],
    "additionalProperties": False,
}

_NULLS = frozenset({"", "null", "none", "n/a", "na", "unknown", "tbd", "not specified",
                    "unspecified", "-", "nobody", "no one", "not mentioned", "not stated"})


@dataclass(frozen=True, slots=True)
class ActionItem:
    task: str
    owner: str | None = None
    due: str | None = None


# --- requests ------------------------------------------------------------------------------


def is_local_model(model: str) -> bool:
    """Whether the embedded engine runs `model` with llama.cpp (SmolLM2, a GGUF file)."""
    return model.startswith(LOCAL_MODEL_PREFIXES)


def speaker_names(speakers: Mapping[str, str] | None) -> list[str]:
    """The names the user gave the speakers (label → name), each once, in order."""
    names = (n.strip() for n in (speakers or {}).values() if isinstance(n, str))
    return list(dict.fromkeys(n for n in names if n))


def system_message(prompt: Prompt, speakers: Mapping[str, str] | None = None) -> str:
    """Grounding (unless the prompt opts out), the prompt's own system text and answer
    language, and who is in the conversation."""
    parts = []
    if prompt.grounded:
        parts.append(GROUNDING_SYSTEM_JSON if prompt.response_schema else GROUNDING_SYSTEM)
    parts.append(prompt.system_text())
    names = speaker_names(speakers)
    if names:
        parts.append(f"People in this conversation: {', '.join(names)}.")
    return " ".join(p for p in parts if p)


def turn_request(prompt: Prompt, model: str, *, max_tokens: int = 4000,
                 speakers: Mapping[str, str] | None = None,
                 local: bool | None = None) -> dict[str, Any]:
    """The `llm_gateway` configuration for `prompt` on every final turn: model, messages with
    `{{turn}}`, max_tokens (the prompt's own limit, never above `max_tokens`), stop,
    temperature and response_format. `local` (default: from the model id) adds llama.cpp's
    settings for small models and leaves the speakers' names out (SmolLM2-135M answered a
    turn with "Dana, Lee, Priya."). Raises PromptError for a template without `{{turn}}`."""
    validate_template(prompt.turn_template, TURN)
    local = is_local_model(model) if local is None else local
    messages = [{"role": "user", "content": prompt.turn_template}]
    system = system_message(prompt, None if local else speakers)
    if system:
        messages.insert(0, {"role": "system", "content": system})
    request: dict[str, Any] = {
        "model": model, "messages": messages,
        "max_tokens": min(prompt.max_tokens or max_tokens, max_tokens),
        "temperature": 0,
    }
    if prompt.stop:
        request["stop"] = list(prompt.stop[:MAX_STOP_SEQUENCES])
    if prompt.response_schema:
        request["response_format"] = response_format(prompt, local=local)
    if local:
        request["repeat_penalty"] = LOCAL_REPEAT_PENALTY
    return request


def turn_llm_gateway(prompt: Prompt, model: str, *, max_tokens: int = 4000,
                     speakers: Mapping[str, str] | None = None,
                     local: bool | None = None) -> LLMGatewayConfig:
    """`turn_request` as the connection parameter (its extras travel in `extra`)."""
    return LLMGatewayConfig.from_dict(
        turn_request(prompt, model, max_tokens=max_tokens, speakers=speakers, local=local))


def with_speaker_names(gateway: LLMGatewayConfig, prompt: Prompt | None,
                       names: Mapping[str, str], *, embedded: bool) -> LLMGatewayConfig:
    """`gateway` telling who is who: the embedded engine prefixes each `{{turn}}` with the
    speaker's name (`speaker_names`: `names`, the user's whole current naming, beside the name
    it had for unlabelled turns, a call's "You"); the service cannot, so its system message
    lists the people (a small local model is not told: it answers with the list)."""
    if embedded:
        known = gateway.extra.get(SPEAKER_NAMES)
        unlabelled = {"": known[""]} if isinstance(known, dict) and known.get("") else {}
        merged = {**unlabelled, **names}
        return replace(gateway, extra={**gateway.extra, SPEAKER_NAMES: merged})
    if prompt is None or is_local_model(gateway.model):
        return gateway
    system = ChatMessage("system", system_message(prompt, names))
    rest = tuple(m for m in gateway.messages if m.role != "system")
    return replace(gateway, messages=(system, *rest))


def response_format(prompt: Prompt, *, local: bool) -> dict[str, Any]:
    """`{type: json_schema, json_schema: {name, schema, strict}}` for the prompt's schema,
    tightened for a small local model."""
    schema = copy.deepcopy(prompt.response_schema or {})
    if local:
        schema = tighten_schema(schema)
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", prompt.id or "answer")[:64] or "answer"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def tighten_schema(schema: Any, key: str = "") -> Any:
    """Bounds a grammar can enforce: at most LOCAL_MAX_ITEMS items, strings of at most
    LOCAL_MAX_STRING characters, an `owner` shaped like a name and a `due` that starts
    with a word. Leaves what the schema already bounds alone."""
    if isinstance(schema, list):
        return [tighten_schema(s, key) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: tighten_schema(v, key) for k, v in schema.items() if k != "properties"}
    if "properties" in schema:
        out["properties"] = {k: tighten_schema(v, k) for k, v in schema["properties"].items()}
    if out.get("type") == "array" and "maxItems" not in out:
        out["maxItems"] = LOCAL_MAX_ITEMS
    if out.get("type") == "string" and not {"pattern", "maxLength", "enum"} & out.keys():
        if key == "owner":
            out["pattern"] = NAME_PATTERN
        elif key == "due":
            out["pattern"] = DUE_PATTERN
        else:
            out["minLength"] = out.get("minLength", 1)
            out["maxLength"] = LOCAL_MAX_STRING
    return out


def session_messages(prompt: Prompt, transcript: str,
                     speakers: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The whole-session request's messages (prose, streamed: no response_format), with the
    same grounding as the per-turn ones. `transcript` is best given as "Dana: …" lines."""
    template = prompt.analysis_template
    validate_template(template, TRANSCRIPT)
    content = template.replace("{{" + TRANSCRIPT + "}}", transcript)
    system = system_message(replace(prompt, response_schema=None), speakers)
    return ([{"role": "system", "content": system}] if system else []) + \
        [{"role": "user", "content": content}]


def answer_context(prompt: Prompt, speakers: Mapping[str, str] | None = None) -> str:
    """What an answer may repeat without the turn saying it: the prompt's own words and the
    speakers' names (the `context_text` of `check_answer`)."""
    return "\n".join([system_message(prompt, speakers), prompt.turn_template.replace(
        "{{" + TURN + "}}", ""), *speaker_names(speakers)])


# --- answers -------------------------------------------------------------------------------


def parse_items(text: str) -> list[ActionItem] | None:
    """The items of a structured answer (`{"items": [...]}` or a bare list, in a code fence or
    not, cut short or not), or None when `text` holds none."""
    data = _leading_json(_unfenced(text))
    if data is None:
        return _salvage_objects(text) or None
    if isinstance(data, dict):
        data = next((v for k, v in data.items() if k.lower() in ("items", "action_items",
                                                                 "actions", "tasks")), None)
    if not isinstance(data, list):
        return None
    return [item for raw in data if (item := _item(raw)) is not None]


def render_items(items: list[ActionItem]) -> str:
    """ "• Dana: send the slides (due Friday)" lines, repeats dropped; "Nothing to note." for
    no items."""
    lines = []
    for item in items:
        line = f"{item.owner}: {item.task}" if item.owner else item.task
        lines.append(f"• {line} (due {item.due})" if item.due else f"• {line}")
    lines = list(dict.fromkeys(lines))
    return "\n".join(lines) if lines else NOTHING_TO_NOTE


def render_answer(text: str) -> str:
    """A card's text: a structured answer as readable lines, anything else (prose, or JSON
    that cannot be read) as it came."""
    items = parse_items(text)
    return render_items(items) if items is not None else text.strip()


def checked_answer(text: str, turn_text: str, prompt: Prompt,
                   speakers: Mapping[str, str] | None = None,
                   tidy: bool = False) -> tuple[str, Grounding]:
    """What a card shows for one answer, and what `check_answer` makes of it. `tidy` (meant
    for small local models) first passes a structured answer's items through
    `drop_invented`."""
    context = answer_context(prompt, speakers)
    items = parse_items(text) if tidy else None
    shown = render_items(drop_invented(items, turn_text, context)) if items is not None \
        else render_answer(text)
    return shown, check_answer(shown, turn_text, context)


def drop_invented(items: list[ActionItem], turn_text: str,
                  context_text: str = "") -> list[ActionItem]:
    """The items with any owner or due date the turn does not back set to None, and items
    whose task shares no word with the turn or invents a name or number left out (an
    optional step before `render_items` for small models)."""
    kept = []
    for item in items:
        task = check_answer(item.task, turn_text, context_text)
        overlap, words = content_overlap(item.task, turn_text, context_text)
        if task.invented or task.unrelated or (words and not overlap):
            continue
        owner = item.owner if _backed(item.owner, turn_text, context_text) else None
        due = item.due if _backed(item.due, turn_text, context_text, every_word=True) else None
        kept.append(ActionItem(item.task, owner, due))
    return kept


def _backed(value: str | None, turn_text: str, context_text: str,
            every_word: bool = False) -> bool:
    """Whether the turn (or context) backs a short field such as "Dana" or "Friday 5 pm":
    no name, number or date of it is invented and, with `every_word`, each of its words
    occurs."""
    if not value:
        return False
    if check_answer(f"It is {value}.", turn_text, context_text).invented:
        return False
    return not (every_word and unsupported_words(value, f"{turn_text}\n{context_text}"))


def _unfenced(text: str) -> str:
    match = re.search(r"```(?:json)?\s*(.*?)(?:```|$)", text, re.DOTALL)
    return (match.group(1) if match else text).strip()


def _leading_json(text: str) -> Any:
    """The JSON value an answer starts with, whatever a small model wrote after it."""
    match = re.match(r"\s*[\[{]", text)
    if match is None:
        return None
    try:
        return json.JSONDecoder().raw_decode(text, match.end() - 1)[0]
    except ValueError:
        return None


def _salvage_objects(text: str) -> list[ActionItem]:
    """Whole `{...}` items of an answer cut short or malformed further on."""
    decoder, items, index = json.JSONDecoder(), [], text.find("{")
    while index != -1:
        try:
            raw, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        if (item := _item(raw)) is not None:
            items.append(item)
        index = text.find("{", end)
    return items


def _item(raw: Any) -> ActionItem | None:
    if isinstance(raw, str):
        return ActionItem(raw.strip()) if raw.strip() else None
    if not isinstance(raw, dict):
        return None
    fields = {str(k).lower(): v for k, v in raw.items()}
    task = _field(fields, "task", "action", "title", "description", "item")
    if task is None:
        return None
    return ActionItem(task, _field(fields, "owner", "assignee", "who"),
                      _field(fields, "due", "deadline", "when", "due_date"))


def _field(fields: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            text = " ".join(str(value).split()).strip()
            if text.lower().strip(".") not in _NULLS:
                return text
    return None
