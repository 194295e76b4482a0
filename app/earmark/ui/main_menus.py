"""The main window's actions and its File, Session and Help menus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from .. import APP_NAME

if TYPE_CHECKING:
    from .main_window import MainWindow


class MainMenus:
    def __init__(self, window: MainWindow) -> None:
        has_store = window.store is not None
        self.toggle_action = QAction("&Start", window, shortcut=QKeySequence("Ctrl+R"))
        self.toggle_action.triggered.connect(window.toggle_session)
        self.open_file_action = QAction("&Open a recording…", window,
                                        shortcut=QKeySequence.StandardKey.Open)
        self.open_file_action.setToolTip("Transcribe a WAV, FLAC, MP3, M4A or OGG file")
        self.open_file_action.triggered.connect(window.choose_file)
        self.library_action = QAction("Session &library…", window,
                                      shortcut=QKeySequence("Ctrl+L"), enabled=has_store)
        self.library_action.triggered.connect(window.open_library)
        self.export_action = QAction("&Export this session…", window,
                                     shortcut=QKeySequence("Ctrl+E"), enabled=False)
        self.export_action.triggered.connect(window.export_session)
        self.analyse_action = QAction("&Analyse a session…", window,
                                      shortcut=QKeySequence("Ctrl+Shift+A"), enabled=has_store)
        self.analyse_action.triggered.connect(window.analyse_saved_session)
        self.cancel_analysis_action = QAction("&Cancel the analysis", window, enabled=False)
        self.log_folder_action = QAction("Open &log folder", window)
        self.log_folder_action.triggered.connect(window.open_log_folder)
        self._fill_menu_bar(window)

    def _fill_menu_bar(self, window: MainWindow) -> None:
        settings_action = QAction("&Settings…", window,
                                  shortcut=QKeySequence.StandardKey.Preferences)
        settings_action.triggered.connect(window.open_settings)
        models_action = QAction("&Models…", window, triggered=window.open_models)
        quit_action = QAction("&Quit", window, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(window.close)
        prompts_action = QAction("&Prompts…", window)
        prompts_action.triggered.connect(window.manage_prompts)
        about_action = QAction(f"&About {APP_NAME}", window)
        about_action.triggered.connect(window.show_about)
        bar = window.menuBar()
        _add(bar.addMenu("&File"), (self.open_file_action, self.library_action,
                                    self.export_action, None, settings_action, models_action,
                                    None, quit_action))
        _add(bar.addMenu("&Session"), (self.toggle_action, None, self.analyse_action,
                                       self.cancel_analysis_action, prompts_action))
        _add(bar.addMenu("&Help"), (self.log_folder_action, None, about_action))


def _add(menu: QMenu, actions: tuple[QAction | None, ...]) -> None:
    """`actions` in order; None is a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
