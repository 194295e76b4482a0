"""Fitting a transcript into a model's context window: a token estimate and a splitter that
cuts at turn, then sentence, then word boundaries."""

from __future__ import annotations

import math
import re

# English averages about four characters a token; three is on the safe side for names,
# numbers and other languages, so an estimate rarely undershoots.
CHARS_PER_TOKEN = 3.0
# When /v1/models does not say: small enough for every Gateway model and a local llama.cpp.
DEFAULT_CONTEXT_TOKENS = 4096
SAFETY_TOKENS = 64  # chat template, role markers
MIN_BUDGET_CHARS = 600

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def input_budget_chars(context_tokens: int, max_tokens: int, overhead: str = "") -> int:
    """How many transcript characters fit beside `overhead` (system message, template) and
    the `max_tokens` the answer may take."""
    tokens = context_tokens - max_tokens - estimate_tokens(overhead) - SAFETY_TOKENS
    return max(MIN_BUDGET_CHARS, int(tokens * CHARS_PER_TOKEN))


def split_text(text: str, max_chars: int) -> list[str]:
    """Consecutive parts of at most `max_chars` characters, each as large as possible, cut at
    line breaks (turns) where it can, else at sentence ends, else between words."""
    text = text.strip()
    if len(text) <= max_chars:
        return [text] if text else []
    pieces: list[str] = []
    for line in text.splitlines():
        pieces.extend(_fit(line.strip(), max_chars))
    return _pack([p for p in pieces if p], max_chars, "\n")


def _fit(line: str, max_chars: int) -> list[str]:
    """One line as pieces no longer than `max_chars` (sentences, then words, then a hard cut)."""
    if len(line) <= max_chars:
        return [line]
    out: list[str] = []
    for sentence in _SENTENCE_END.split(line):
        if len(sentence) <= max_chars:
            out.append(sentence)
            continue
        cuts = [word[i:i + max_chars] for word in sentence.split(" ")
                for i in range(0, len(word), max_chars)]  # a "word" longer than a part: cut
        out.extend(_pack(cuts, max_chars, " "))
    return _pack(out, max_chars, " ")


def _pack(pieces: list[str], max_chars: int, separator: str) -> list[str]:
    """Glue neighbouring pieces together (with `separator`) while they fit in `max_chars`."""
    out: list[str] = []
    for piece in pieces:
        if out and len(out[-1]) + len(separator) + len(piece) <= max_chars:
            out[-1] = f"{out[-1]}{separator}{piece}"
        else:
            out.append(piece)
    return out
