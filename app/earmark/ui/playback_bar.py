"""Hearing a session: a small player bar (play/pause, a position slider, `00:12 / 03:40`, and
why the audio cannot be played when it cannot), and `TurnPlayback`, which ties a
PlaybackController to the card lists: double-click a turn (or its answer) to hear it, a click
while playing jumps there, Space plays or pauses, and the turn being heard is selected."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from ..controllers.card_model import CardRole
from ..controllers.playback import PlaybackController, PlaybackState
from ..core.clock import format_clock
from . import theme
from .card_list_view import CardListView

STYLE = """
QLabel#playbackTime { color: #5b6270; }
QLabel#playbackProblem { color: #b3261e; }
"""


class PlaybackBar(QWidget):
    """Renders a PlaybackController; its button and slider send intents only."""

    def __init__(self, controller: PlaybackController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("playbackBar")
        theme.style(self, STYLE)
        self.play_button = QToolButton(objectName="playButton", autoRaise=True)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space belongs to the cards
        self.slider = QSlider(Qt.Orientation.Horizontal, objectName="playbackSlider")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.time_label = QLabel(objectName="playbackTime")
        self.problem_label = QLabel(objectName="playbackProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.play_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time_label)
        layout.addWidget(self.problem_label, 1)
        self.play_button.clicked.connect(controller.toggle)
        self.slider.sliderReleased.connect(self._seek_to_slider)
        self.slider.actionTriggered.connect(self._on_slider_action)
        self.slider.sliderMoved.connect(self._show_time)
        controller.state_changed.connect(self._render)
        controller.position_changed.connect(self._on_position)
        controller.problem.connect(self._render)
        theme.on_change(self._render)  # the play/pause glyph in the scheme's text colour
        self._render()

    @property
    def time_text(self) -> str:
        return self.time_label.text()

    @property
    def problem_text(self) -> str:
        return self.problem_label.text() if not self.problem_label.isHidden() else ""

    # --- rendering -------------------------------------------------------------------------

    def _render(self, *_args: object) -> None:
        c = self.controller
        playing = c.state is PlaybackState.PLAYING
        available = c.state is not PlaybackState.NO_AUDIO
        icon = (QStyle.StandardPixmap.SP_MediaPause if playing
                else QStyle.StandardPixmap.SP_MediaPlay)
        self.play_button.setIcon(theme.glyph(self.style().standardIcon(icon)))
        self.play_button.setToolTip("Pause (Space)" if playing else
                                    "Play (Space; double-click a turn to hear it)")
        self.play_button.setAccessibleName("Pause" if playing else "Play")
        self.play_button.setEnabled(available)
        self.slider.setEnabled(available)
        self.slider.setVisible(available)
        self.time_label.setVisible(available)
        self.problem_label.setText(c.problem_text)
        self.problem_label.setToolTip(c.problem_text)
        self.problem_label.setVisible(bool(c.problem_text))
        self._on_position(c.position_ms, c.duration_ms)

    def _on_position(self, position_ms: int, duration_ms: int) -> None:
        if self.slider.maximum() != duration_ms:
            self.slider.setRange(0, duration_ms)
            self.slider.setPageStep(max(1000, duration_ms // 20))
            self.slider.setSingleStep(5000)
        if not self.slider.isSliderDown():
            blocked = self.slider.blockSignals(True)
            self.slider.setValue(position_ms)
            self.slider.blockSignals(blocked)
            self._show_time(position_ms)

    def _show_time(self, position_ms: int) -> None:
        total = self.controller.duration_ms
        self.time_label.setText(f"{format_clock(position_ms)} / {format_clock(total)}")

    # --- intents ---------------------------------------------------------------------------

    def _seek_to_slider(self) -> None:
        self.controller.seek(self.slider.sliderPosition())

    def _on_slider_action(self, action: int) -> None:
        if action != QSlider.SliderAction.SliderMove.value:  # a click on the groove, a key
            self.controller.seek(self.slider.sliderPosition())


class TurnPlayback(QObject):
    """Double-click a card to hear its turn (a click while playing jumps there); Space (within
    `scope`) plays or pauses, and plays the selected turn when another one was chosen while
    paused; the turn being heard is selected in `follow` (linked views follow it)."""

    def __init__(self, controller: PlaybackController, views: Sequence[CardListView],
                 follow: CardListView, scope: QWidget) -> None:
        super().__init__(scope)
        self.controller = controller
        self.follow = follow
        for view in views:
            view.doubleClicked.connect(self._play_index)
            view.clicked.connect(self._jump_if_playing)
        controller.turn_started.connect(self._highlight)
        self.space = QAction("Play or pause", scope, shortcut=QKeySequence(Qt.Key.Key_Space))
        self.space.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.space.triggered.connect(self.play_or_pause)
        scope.addAction(self.space)

    def play_or_pause(self) -> None:
        c = self.controller
        chosen = self._selected_order()
        if c.state is not PlaybackState.PLAYING and chosen is not None \
                and chosen != c.current_order and c.can_play(chosen):
            c.play_turn(chosen)
        else:
            c.toggle()

    def _play_index(self, index: QModelIndex) -> None:
        order = index.data(CardRole.ORDER) if index.isValid() else None
        if order is not None:
            self.controller.play_turn(order)

    def _jump_if_playing(self, index: QModelIndex) -> None:
        if self.controller.state is PlaybackState.PLAYING:
            self._play_index(index)

    def _highlight(self, order: int) -> None:
        if self._selected_order() != order:
            self.follow.select_order(order)

    def _selected_order(self) -> int | None:
        selected = self.follow.selectionModel().selectedIndexes()
        return selected[0].data(CardRole.ORDER) if selected else None
