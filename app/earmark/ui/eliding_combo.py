"""A combo box that shortens its shown text with "…" instead of cutting it off, so the window
fits a laptop screen while the popup still lists whole names."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter


class ElidingComboBox(QComboBox):
    def __init__(self, parent=None, *, min_chars: int = 12, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(min_chars)
        self._tooltip = self.toolTip()
        self.currentIndexChanged.connect(self._update_tooltip)

    def setToolTip(self, text: str) -> None:
        self._tooltip = text
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        """The whole choice in the tooltip, in case the box shows it shortened."""
        current = self.currentText()
        super().setToolTip(f"{self._tooltip}: {current}" if current and self._tooltip
                           else self._tooltip or current)

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, field.width() - 4)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
