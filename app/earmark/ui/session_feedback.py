"""What a session tells the user as it runs: in the status bar its connection, id, clock,
level, a recording's progress and what the server applied; in the banner its problems, input
warnings and reconnections (each cleared when it is over)."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from ..controllers.live_session import LiveSessionController, SessionState
from .message_banner import MessageBanner
from .session_status_bar import SessionStatusBar

CONNECTION_TOPIC = "connection"
STATE_PHRASES = {SessionState.IDLE: "Not connected", SessionState.CONNECTING: "Connecting…",
                 SessionState.LIVE: "Live", SessionState.RECONNECTING: "Reconnecting…",
                 SessionState.STOPPING: "Finishing…", SessionState.FINISHED: "Not connected",
                 SessionState.FAILED: "Not connected"}


class SessionFeedback(QObject):
    def __init__(self, controller: LiveSessionController, status: SessionStatusBar,
                 banner: MessageBanner, parent: QObject) -> None:
        super().__init__(parent)
        self._controller = controller
        self._status = status
        self._banner = banner
        self._elapsed_timer = QTimer(self, interval=500)
        self._elapsed_timer.timeout.connect(
            lambda: status.set_elapsed(controller.elapsed_seconds()))
        c = controller
        c.state_changed.connect(self._on_state)
        c.connection_changed.connect(
            lambda text: status.set_connection(controller.state.value, text))
        c.session_id_changed.connect(status.set_session_id)
        c.level_changed.connect(status.level_meter.set_level)
        c.problem.connect(lambda text: banner.show_message(text, "error"))
        c.storage_problem.connect(lambda text: banner.show_message(text, "error", "storage"))
        c.storage_recovered.connect(lambda: banner.clear("storage"))
        c.notice.connect(lambda text: status.showMessage(text, 8000))
        c.input_warning.connect(lambda text: banner.show_message(text, "warning", "input"))
        c.input_recovered.connect(lambda: banner.clear("input"))
        c.progress.connect(status.set_progress)
        c.configuration_applied.connect(
            lambda text: status.engine_label.setToolTip(f"The server applied: {text}"))
        c.link_notice.connect(lambda kind, text: banner.show_message(
            text, kind, CONNECTION_TOPIC))

    def _on_state(self, state: str) -> None:
        self._status.set_connection(state, STATE_PHRASES[SessionState(state)])
        if self._controller.active:
            self._elapsed_timer.start()
            return
        self._banner.clear(CONNECTION_TOPIC)
        self._elapsed_timer.stop()
        self._status.level_meter.reset()
        self._status.clear_progress()
        self._banner.clear("input")
