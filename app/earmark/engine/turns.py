"""Building `Turn` messages from decoded words: stream-clock times, the unformatted form, and
the bounded window that keeps partial decodes cheap in long turns. Pure logic."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from earmark.core.protocol import Turn, Word

from .speech import Decoded

# Partials decode the turn from `window_start`: once the window is longer than this, the words
# that ended more than PARTIAL_KEEP_MS ago are frozen and the window moves past them.
PARTIAL_WINDOW_MS = 5000
PARTIAL_KEEP_MS = 2500

_STRIP = re.compile(r"[^\w\s']|(?<!\w)'|'(?!\w)")


def unformat(text: str) -> str:
    """Lower case, no punctuation (apostrophes inside words kept), single spaces."""
    return " ".join(_STRIP.sub(" ", text.lower()).split())


def stream_words(decoded: Decoded, offset_ms: float, *, formatted: bool,
                 final: bool) -> list[Word]:
    """The decoded words on the stream clock (`offset_ms` is where the clip starts)."""
    words = []
    for w in decoded.words:
        text = w.text if formatted else unformat(w.text)
        if not text:
            continue
        start = round(offset_ms + w.start * 1000)
        end = max(start, round(offset_ms + w.end * 1000))
        words.append(Word(start=start, end=end, text=text,
                          confidence=round(w.probability, 6), word_is_final=final))
    return words


def partial_turn(turn_order: int, words: list[Word]) -> Turn:
    return Turn(turn_order=turn_order, turn_is_formatted=False, end_of_turn=False,
                transcript=" ".join(w.text for w in words), end_of_turn_confidence=0.0,
                words=tuple(words))


def final_turns(turn_order: int, decoded: Decoded, offset_ms: float, confidence: float,
                format_turns: bool) -> list[Turn]:
    """The end-of-turn message, and with `format_turns` the formatted one after it."""
    turns = []
    for formatted in (False, True) if format_turns else (False,):
        words = stream_words(decoded, offset_ms, formatted=formatted, final=True)
        text = " ".join(w.text for w in words)
        turns.append(Turn(turn_order=turn_order, turn_is_formatted=formatted, end_of_turn=True,
                          transcript=text, end_of_turn_confidence=round(confidence, 6),
                          words=tuple(words), utterance=text))
    return turns


@dataclass
class PartialWindow:
    """Which audio the next partial decodes, and the words frozen before it."""

    turn_start_ms: float
    frozen: list[Word] = field(default_factory=list)
    frozen_until_ms: float | None = None

    @property
    def start_ms(self) -> float:
        return self.turn_start_ms if self.frozen_until_ms is None else self.frozen_until_ms

    def update(self, decoded: Decoded, offset_ms: float, now_ms: float) -> list[Word]:
        """Words of the whole turn so far after a partial decode of [offset_ms, now_ms]."""
        new = stream_words(decoded, offset_ms, formatted=False, final=False)
        if now_ms - self.start_ms > PARTIAL_WINDOW_MS and len(new) > 2:
            cut = now_ms - PARTIAL_KEEP_MS
            keep_from = len(new) - 2
            for i, w in enumerate(new[:-2]):
                if w.end > cut:
                    keep_from = i
                    break
            if keep_from > 0:
                self.frozen.extend(new[:keep_from])
                gap_end = new[keep_from].start
                self.frozen_until_ms = (new[keep_from - 1].end + gap_end) / 2
                new = new[keep_from:]
        return self.frozen + new
