"""The height and top of every card in a list, measured only when needed.

A row is measured when it is new or its card changed; nothing is measured until `settle()`,
so any number of changes within one frame cost one pass. After a width change every row is
"rough": its old height stands in until it is measured, right away where it is on screen
(`settle(visible)`), the others a batch at a time (`refine`), so a resize never measures
10,000 cards in one go. The tops are running sums kept in a list, recomputed (in C, by
`itertools.accumulate`) only from the first row whose height changed: appending or updating
the last card costs the same at 10 cards and at 10,000, and finding the row at a y is a
binary search. No Qt here: the view supplies the measuring function."""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Callable, Iterable
from itertools import accumulate

Measure = Callable[[int], int]
REFINE_BATCH = 32  # rough rows measured between two looks at the clock


def _shifted(rows: set[int], first: int, count: int) -> set[int]:
    """`rows` after `count` rows were inserted at `first` (count < 0: removed from there)."""
    gone = range(first, first - count) if count < 0 else range(0)
    return {r + count if r >= first else r for r in rows if r not in gone}


class CardHeights:
    def __init__(self, measure: Measure) -> None:
        self._measure = measure
        self._heights: list[int] = []
        self._tops: list[int] = [0]  # _tops[row] is the row's top; _tops[-1] the total
        self._stale: set[int] = set()  # rows to measure at the next settle
        self._rough: set[int] = set()  # rows measured at another width
        self._tops_from: int | None = None  # the first row whose top may be wrong
        self._dirty_from: int | None = None  # the first row to paint again (take_dirty)
        self.passes = 0  # settle() calls that had something to do
        self.measured = 0  # rows measured, in all

    def __len__(self) -> int:
        return len(self._heights)

    @property
    def pending(self) -> bool:
        return bool(self._stale) or self._tops_from is not None

    @property
    def rough(self) -> bool:
        return bool(self._rough)

    # --- what changed ---------------------------------------------------------------------

    def insert(self, first: int, count: int) -> None:
        if first < len(self._heights):  # not at the end: later rows move down
            self._stale = _shifted(self._stale, first, count)
            self._rough = _shifted(self._rough, first, count)
        self._heights[first:first] = [0] * count
        self._stale.update(range(first, first + count))
        self._tops_changed(first)

    def remove(self, first: int, count: int) -> None:
        del self._heights[first:first + count]
        self._stale = _shifted(self._stale, first, -count)
        self._rough = _shifted(self._rough, first, -count)
        self._tops_changed(first)

    def invalidate(self, first: int, last: int) -> None:
        rows = range(first, min(last, len(self._heights) - 1) + 1)
        self._stale.update(rows)
        self._rough.difference_update(rows)

    def invalidate_all(self) -> None:
        """A new width: every row is rough (and to be painted again)."""
        self._rough = set(range(len(self._heights))) - self._stale
        self._dirty(0)

    def reset(self, count: int) -> None:
        self._heights = [0] * count
        self._tops = [0] * (count + 1)
        self._stale = set(range(count))
        self._rough = set()
        self._tops_from = 0

    def _tops_changed(self, row: int) -> None:
        self._tops_from = row if self._tops_from is None else min(self._tops_from, row)

    def _dirty(self, row: int | None) -> None:
        if row is not None:
            self._dirty_from = row if self._dirty_from is None else min(self._dirty_from, row)

    # --- measuring --------------------------------------------------------------------------

    def settle(self, visible: Iterable[int] = ()) -> bool:
        """Measure the stale rows and the rough ones among `visible`, and bring the tops up
        to date; whether there was anything to do."""
        rows = self._stale | {r for r in visible if r in self._rough}
        if not rows and self._tops_from is None:
            return False
        self.passes += 1
        self._dirty(min(self._stale, default=None))
        self._measure_rows(rows)
        self._stale.clear()
        self._update_tops()
        return True

    def refine(self, more: Callable[[], bool]) -> list[int]:
        """Measure rough rows, first to last, while `more()` says so; the rows measured."""
        done: list[int] = []
        while self._rough and more():
            batch = heapq.nsmallest(REFINE_BATCH, self._rough)
            self._measure_rows(batch)
            done += batch
        self._update_tops()
        return done

    def _measure_rows(self, rows: Iterable[int]) -> None:
        for row in sorted(rows):
            height = self._measure(row)
            self.measured += 1
            self._rough.discard(row)
            if height != self._heights[row]:
                self._heights[row] = height
                self._tops_changed(row)

    def _update_tops(self) -> None:
        if self._tops_from is not None:
            start, self._tops_from = self._tops_from, None
            self._dirty(start)
            self._tops[start:] = accumulate(self._heights[start:], initial=self._tops[start])

    def take_dirty(self) -> int | None:
        """The first row whose look or place changed since the last call (None: no row)."""
        row, self._dirty_from = self._dirty_from, None
        return row

    # --- where things are (as of the last settle) ---------------------------------------------

    def top(self, row: int) -> int:
        return self._tops[row]

    def height(self, row: int) -> int:
        return self._heights[row]

    def total(self) -> int:
        return self._tops[-1]

    def row_at(self, y: int) -> int:
        """The row at y, clamped to the rows there are (-1 when there are none)."""
        if not self._heights:
            return -1
        return min(max(bisect_right(self._tops, y) - 1, 0), len(self._heights) - 1)

    def rows_between(self, top: int, bottom: int) -> range:
        """The rows that overlap [top, bottom)."""
        if not self._heights or bottom <= top:
            return range(0)
        return range(self.row_at(top), self.row_at(bottom - 1) + 1)
