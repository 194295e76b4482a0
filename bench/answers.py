"""Per-turn answers on fixed meeting turns: do they state the turn's facts, do they invent any,
and how fast do they come.

    .venv/bin/python bench/answers.py [--gguf PATH ...] [--no-smollm2] [--baseline] [--show]

Every turn of tests/fixtures/answers/meeting_turns.json (20 short meeting turns, each with the
facts a summary and an action-item list should state) goes to each model (the bundled
SmolLM2-135M through `build_llm_service`, which runs it in the engine's model process, and
every `--gguf` file) exactly as the engine sends it on a final turn (`LLMRelay.request_for`
on the config `turn_llm_gateway` builds, the app's 256-token cap for the embedded engine),
streamed with `stream_options.include_usage`. The answer is rendered as its card shows it
(`render_answer`) and scored:

- fact recall: the share of expected facts the answers state (case, punctuation, number words
  vs digits, "%" vs "percent", "5 pm" vs "5:00" ignored), over turns that have facts;
- quiet: the share of turns without facts answered "Nothing to note." (or no action item);
- invented: the share of answers in which `check_answer` flags a name, number, date or time
  the turn does not hold; unrelated: the share it marks unrelated to the turn;
- first token (median, ms) and decode speed (tokens after the first / time after it).

For the action items, the line "dropped" scores the same answers after `drop_invented`.
`--baseline` also runs the tutorial's prompts as Earmark sent them before (no system message,
the engine's default sampling) for comparison; `--show` prints every answer and its flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from earmark.controllers.session_params import EMBEDDED_MAX_TOKENS  # the app's per-turn cap
from earmark.core.grounded_prompts import (
    answer_context,
    drop_invented,
    parse_items,
    render_answer,
    render_items,
    turn_llm_gateway,
)
from earmark.core.grounding import check_answer, mentions
from earmark.core.prompts import Prompt, load_prompts
from earmark.core.protocol import LLMGatewayConfig
from earmark.engine.llm import SMOLLM2_ID, LLMOptions, build_llm_service
from earmark.engine.llm.providers.llama_cpp import gguf_model
from earmark.engine.llm_relay import LLMRelay

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "answers" / "meeting_turns.json"
PROMPT_IDS = ("summary", "action_items")
BASELINE = {  # what the built-in prompts were: AssemblyAI's tutorial wording
    "summary": "Provide a brief summary of the transcript.\n\nTranscript: {{turn}}",
    "action_items": "Generate a set of action items from this transcript.\n\nTranscript: {{turn}}",
}


@dataclass(frozen=True)
class Case:
    text: str
    speakers: Mapping[str, str]
    facts: Mapping[str, Sequence[str | Sequence[str]]]  # prompt id -> facts


@dataclass
class Answer:
    text: str
    ttft_s: float
    decode_s: float
    tokens: int


@dataclass
class Score:
    facts: int = 0
    found: int = 0
    quiet: int = 0
    quiet_nothing: int = 0
    invented: int = 0
    unrelated: int = 0
    answers: int = 0
    lines: list[str] = field(default_factory=list)

    def add(self, case: Case, prompt_id: str, shown: str, context: str) -> None:
        facts = case.facts[prompt_id]
        grounding = check_answer(shown, case.text, context)
        self.answers += 1
        self.invented += bool(grounding.invented)
        self.unrelated += grounding.unrelated
        if facts:
            self.facts += len(facts)
            self.found += sum(mentions(shown, f) for f in facts)
        else:
            self.quiet += 1
            self.quiet_nothing += grounding.nothing
        note = grounding.note() or "ok"
        self.lines.append(f"    turn: {case.text[:70]}…\n    card: "
                          f"{shown[:300].replace(chr(10), ' | ')}\n    check: {note}")

    def summary(self) -> str:
        return (f"recall {_pct(self.found, self.facts)}"
                f"  quiet {_pct(self.quiet_nothing, self.quiet)}"
                f"  invented {_pct(self.invented, self.answers)}"
                f"  unrelated {_pct(self.unrelated, self.answers)}")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:3.0f}% ({part}/{whole})" if whole else "  n/a"


def load_cases() -> list[Case]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [Case(t["text"], m["speakers"], {p: t[p] for p in PROMPT_IDS})
            for m in data["meetings"] for t in m["turns"]]


async def ask(service: Any, config: LLMGatewayConfig, turn: str) -> Answer:
    """One streamed answer, timed from the request to the first and last content token."""
    request = {**LLMRelay(None, config, _no_send).request_for(turn), "stream": True,
               "stream_options": {"include_usage": True}}
    started = time.perf_counter()
    first = last = None
    parts: list[str] = []
    tokens = 0
    async for chunk in service.stream(request):
        content = "".join((c.get("delta") or {}).get("content") or ""
                          for c in chunk.get("choices", []))
        if content:
            now = time.perf_counter()
            first, last = first or now, now
            parts.append(content)
        if chunk.get("usage"):
            tokens = chunk["usage"]["completion_tokens"]
    first = first or time.perf_counter()
    return Answer("".join(parts), first - started, (last or first) - first, tokens)


async def _no_send(_message: Any) -> None:  # LLMRelay wants one; request_for never sends
    return None


def configs_for(prompt: Prompt, model: str, speakers: Mapping[str, str],
                baseline: bool) -> LLMGatewayConfig:
    if baseline:
        old = Prompt(prompt.id, prompt.name, BASELINE[prompt.id])
        return old.llm_gateway(model, EMBEDDED_MAX_TOKENS)
    return turn_llm_gateway(prompt, model, max_tokens=EMBEDDED_MAX_TOKENS, speakers=speakers)


async def run_prompt(service: Any, model: str, prompt: Prompt, cases: list[Case],
                     baseline: bool) -> tuple[Score, Score | None, list[Answer]]:
    score = Score()
    dropped = Score() if prompt.response_schema and not baseline else None
    answers = []
    for case in cases:
        config = configs_for(prompt, model, case.speakers, baseline)
        answer = await ask(service, config, case.text)
        answers.append(answer)
        context = "" if baseline else answer_context(prompt, case.speakers)
        score.add(case, prompt.id, render_answer(answer.text), context)
        if dropped is not None:
            items = parse_items(answer.text)
            shown = render_items(drop_invented(items, case.text, context)) \
                if items is not None else render_answer(answer.text)
            dropped.add(case, prompt.id, shown, context)
    return score, dropped, answers


def speed(answers: list[Answer]) -> str:
    ttft = statistics.median(a.ttft_s for a in answers)
    decode_s = sum(a.decode_s for a in answers if a.tokens > 1)
    tokens = sum(a.tokens - 1 for a in answers if a.tokens > 1)
    rate = tokens / decode_s if decode_s > 0 else float("nan")
    mean_tokens = statistics.mean(a.tokens for a in answers)
    return f"first token {ttft * 1000:4.0f} ms  {rate:5.1f} tok/s  {mean_tokens:4.0f} tokens/answer"


async def bench_model(service: Any, model: str, prompts: dict[str, Prompt], cases: list[Case],
                      args: argparse.Namespace) -> None:
    warm = turn_llm_gateway(prompts["summary"], model, max_tokens=2)
    await ask(service, warm, "Warm-up.")  # loads the model
    variants = [False, True] if args.baseline else [False]
    for prompt_id in PROMPT_IDS:
        for baseline in variants:
            score, dropped, answers = await run_prompt(service, model, prompts[prompt_id],
                                                       cases, baseline)
            label = f"{model:<16} {prompt_id:<13} {'baseline' if baseline else 'grounded'}"
            print(f"{label}  {score.summary()}\n{'':<40}{speed(answers)}", flush=True)
            if dropped is not None:
                print(f"{'':<31}dropped  {dropped.summary()}", flush=True)
            if args.show:
                print("\n".join(score.lines), flush=True)


async def main_async(args: argparse.Namespace) -> None:
    prompts = {p.id: p for p in load_prompts(REPO / "resources" / "prompts")}
    cases = load_cases()
    options = LLMOptions(builtin_smollm2=not args.no_smollm2, gguf_paths=args.gguf,
                         probe_openai_servers=False, n_threads=args.threads)
    service = build_llm_service(options)
    models = ([] if args.no_smollm2 else [SMOLLM2_ID]) + \
        [gguf_model(p).model_id for p in args.gguf]
    print(f"{len(cases)} turns, prompts {', '.join(PROMPT_IDS)}, n_threads={args.threads}")
    try:
        for model in models:
            await bench_model(service, model, prompts, cases, args)
    finally:
        await service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, nargs="*", default=[], help="GGUF files to add")
    parser.add_argument("--no-smollm2", action="store_true", help="skip the bundled model")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the tutorial's prompts as sent before")
    parser.add_argument("--show", action="store_true", help="print every answer and its check")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (app: 1)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
