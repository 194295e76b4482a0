"""The table of saved sessions: fixed-width columns sized from the font (never measured per row,
so a thousand rows cost nothing), the title stretching, and a hint while it is empty. The
model's text colours (a damaged session, a muted detail) are shown in the current scheme."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

from ..controllers.library import Column, SessionTableModel
from . import theme
from .empty_hint import paint_empty_hint

# Sample texts that size each column (a little wider than the widest usual value).
_SAMPLES = {Column.DATE: "2026-11-24 14:30", Column.DURATION: "Duration",
            Column.TURNS: "Turns", Column.ENGINE: "Embedded", Column.STATUS: "Recovered"}


class ThemedTextDelegate(QStyledItemDelegate):
    """Draws a row's text colour (a light-theme colour, from the model) in the current scheme."""

    def initStyleOption(self, option: QStyleOptionViewItem,
                        index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        if isinstance(foreground, QColor):
            option.palette.setColor(QPalette.ColorRole.Text, theme.color(foreground.name()))


class SessionTable(QTableView):
    def __init__(self, empty_hint: str, parent=None) -> None:
        super().__init__(parent)
        self.empty_hint = empty_hint
        self.setObjectName("sessionTable")
        self.setItemDelegate(ThemedTextDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setSortingEnabled(True)
        rows = self.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 14)

    def setModel(self, model: SessionTableModel) -> None:
        super().setModel(model)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        metrics = self.fontMetrics()
        for column, sample in _SAMPLES.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(column, metrics.horizontalAdvance(sample) + 28)
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(metrics.horizontalAdvance("Turns") + 24)
        self.sortByColumn(Column.DATE, Qt.SortOrder.DescendingOrder)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        paint_empty_hint(self, self.empty_hint)
