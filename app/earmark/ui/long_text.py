"""A card's text shown in full however long it is: cut into pieces of whole lines, about PIECE
characters each, measured once at a width; a frame lays out and paints only the pieces on
screen. Each piece ends where a line starts, so the pieces wrap exactly as the whole would."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect
from PySide6.QtGui import QFont, QPainter, QTextLayout, QTextOption

from .card_text import Laid

PIECE = 4000  # characters laid out at once
LINE_BREAK = "\u2028"  # what QTextLayout breaks a line at (drawText turns "\n" into it)


def wrap(text: str, font: QFont, width: int) -> tuple[QTextLayout, list[int]]:
    """`text` laid out in lines of `width`; the top of each line and, last, the bottom."""
    layout = QTextLayout(text.replace("\n", LINE_BREAK), font)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    tops = [0]
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        line.setPosition(QPointF(0, tops[-1]))
        tops.append(tops[-1] + math.ceil(line.height()))
    layout.endLayout()
    return layout, tops


def measure(text: str, font: QFont, width: int) -> Laid:
    spans: list[tuple[int, int]] = []
    heights: list[int] = []
    start, n = 0, len(text)
    while start < n:
        limit = min(n, start + PIECE)
        layout, tops = wrap(text[start:limit], font, width)
        lines = len(tops) - 1
        if limit < n and lines > 1:  # the last line may go on past the piece: it starts the next
            lines -= 1
            end = start + layout.lineAt(lines).textStart()
        else:
            end = limit
        spans.append((start, end))
        heights.append(tops[lines])
        start = end
    return Laid.of(spans, heights, in_lines=True)


def paint(painter: QPainter, rect: QRect, text: str, font: QFont, laid: Laid, clip: QRect
          ) -> None:
    """The pieces of `text` (measured at rect's width) that `clip` shows, from rect's top."""
    for i in laid.visible(clip.top() - rect.top(), clip.bottom() + 1 - rect.top()):
        start, end = laid.spans[i]
        layout, _ = wrap(text[start:end], font, rect.width())
        layout.draw(painter, QPointF(rect.left(), rect.top() + laid.tops[i]))
