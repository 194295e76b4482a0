"""Right-click menus of the live transcript and answer panes: copy everything, copy one card,
and give a speaker a name."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QInputDialog, QMenu, QWidget

from ..controllers.card_model import CardListModel, CardRole
from ..controllers.live_session import LiveSessionController
from ..core.session.speakers import speaker_name


def copy_text(text: str) -> None:
    QGuiApplication.clipboard().setText(text)


def cards_text(model: CardListModel) -> str:
    """Every card as `Turn 3 · Dana` followed by its text, a blank line between cards."""
    return "\n\n".join(f"{card.title}\n{card.body}" for card in model.cards())


def install_menus(transcript: QAbstractItemView, answers: QAbstractItemView,
                  controller: LiveSessionController, parent: QWidget) -> None:
    for view, is_transcript in ((transcript, True), (answers, False)):
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(
            lambda pos, v=view, t=is_transcript: _menu(v.indexAt(pos), t, controller,
                                                       parent).exec(v.viewport().mapToGlobal(pos)))


def _menu(index: QModelIndex, is_transcript: bool, controller: LiveSessionController,
          parent: QWidget) -> QMenu:
    menu = QMenu(parent)
    if index.isValid():
        menu.addAction("Copy this card", lambda: copy_text(
            f"{index.data(CardRole.TITLE)}\n{index.data()}"))
    if is_transcript:
        menu.addAction("Copy transcript", lambda: copy_text(
            controller.assembler.full_text(controller.speaker_names)))
        _add_rename(menu, index, controller, parent)
    else:
        menu.addAction("Copy answers", lambda: copy_text(cards_text(controller.answers)))
    return menu


def _add_rename(menu: QMenu, index: QModelIndex, controller: LiveSessionController,
                parent: QWidget) -> None:
    label = _speaker_at(index, controller)
    if label is None:
        return
    name = speaker_name(label, controller.speaker_names)
    menu.addSeparator()
    menu.addAction(f"Rename {name}…", lambda: rename_speaker(controller, label, parent))


def _speaker_at(index: QModelIndex, controller: LiveSessionController) -> str | None:
    if not index.isValid():
        return None
    order = index.data(CardRole.ORDER)
    turn = next((t for t in controller.assembler.turns if t.order == order), None)
    return turn.speaker if turn is not None else None


def rename_speaker(controller: LiveSessionController, label: str, parent: QWidget) -> None:
    current = controller.speaker_names.get(label, "")
    name, ok = QInputDialog.getText(parent, "Rename speaker",
                                    f"Name for {speaker_name(label, {})} in this session:",
                                    text=current)
    if ok:
        controller.rename_speaker(label, name)
