"""How much of a card's text is laid out: a card longer than ELIDE_AT characters shows its
beginning and a "… show all" link, so a 10 MB turn costs a layout what 4,000 characters do;
shown in full, it is measured in pieces (Laid) and only the pieces on screen are painted. No
Qt here."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate

ELIDE_AT = 4000  # characters a card shows before "… show all"


def is_long(text: str) -> bool:
    return len(text) > ELIDE_AT


def beginning(text: str) -> str:
    """What a collapsed long card shows: up to ELIDE_AT characters, cut at a line break or a
    space in their second half when there is one."""
    if not is_long(text):
        return text
    cut = text.rfind("\n", ELIDE_AT // 2, ELIDE_AT)
    if cut < 0:
        cut = text.rfind(" ", ELIDE_AT // 2, ELIDE_AT)
    return text[: ELIDE_AT if cut < 0 else cut]


@dataclass(frozen=True, slots=True)
class Laid:
    """A text measured in pieces: the (start, end) of each piece in the text, and its top."""

    spans: list[tuple[int, int]]
    tops: list[int]  # len(spans) + 1; the last is the height of the whole
    in_lines: bool = False  # pieces of whole lines (long_text), else one piece for drawText

    @classmethod
    def of(cls, spans: list[tuple[int, int]], heights: list[int], in_lines: bool = False
           ) -> Laid:
        return cls(spans, list(accumulate(heights, initial=0)), in_lines)

    @property
    def height(self) -> int:
        return self.tops[-1]

    def visible(self, top: int, bottom: int) -> range:
        """The pieces that overlap [top, bottom) (y within the text)."""
        first = max(bisect_right(self.tops, top) - 1, 0)
        last = min(bisect_right(self.tops, bottom - 1), len(self.spans))
        return range(first, last)
