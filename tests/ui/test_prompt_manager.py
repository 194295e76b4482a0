"""The prompt manager dialog and the main window's prompt dropdown."""

from __future__ import annotations

from earmark.core.prompt_library import PromptLibrary
from earmark.resources import resource
from earmark.ui.main_window import MainWindow
from earmark.ui.prompt_manager import PromptManager
from earmark.workers.engine_host import EngineHost


def test_add_refuse_duplicate_delete_in_the_dialog(qtbot, tmp_path):
    library = PromptLibrary(resource("prompts"), tmp_path / "prompts")
    dialog = PromptManager(library)
    qtbot.addWidget(dialog)
    assert dialog.list.count() == 4 and "(built-in)" in dialog.list.item(0).text()
    assert not dialog.save_button.isEnabled() and dialog.turn_edit.isReadOnly()

    dialog.new_prompt()
    dialog.name_edit.setText("Questions")
    dialog.turn_edit.setPlainText("List the questions.")  # no {{turn}}
    assert not dialog.save_prompt()
    assert "must contain {{turn}}" in dialog.error_label.text()
    dialog.turn_edit.setPlainText("List the questions: {{turn}} {{speaker}}")
    assert not dialog.save_prompt()
    assert "Unknown placeholder {{speaker}}" in dialog.error_label.text()
    dialog.turn_edit.setPlainText("List the questions: {{turn}}")
    dialog.language_edit.setText("Spanish")
    with qtbot.waitSignal(dialog.prompts_changed):
        assert dialog.save_prompt()
    assert (tmp_path / "prompts" / "questions.json").is_file()
    assert dialog.current_id() == "questions" and dialog.delete_button.isEnabled()

    dialog.list.setCurrentRow(0)  # a built-in: duplicate it to change it
    dialog.duplicate_prompt()
    assert dialog.current_id() == "brief-summary-copy" and not dialog.turn_edit.isReadOnly()
    dialog.delete_prompt(confirm=False)
    assert library.get("brief-summary-copy") is None
    assert [p.id for p in library.user] == ["questions"]


def test_the_dropdown_lists_built_ins_and_user_prompts(qtbot, settings, tmp_path):
    library = PromptLibrary(resource("prompts"), tmp_path / "prompts")
    library.save(library.duplicate("takeaway"))
    window = MainWindow(settings, EngineHost("whisper-tiny.en"), prompt_library=library)
    qtbot.addWidget(window)
    ids = [window.prompt_combo.itemData(i) for i in range(window.prompt_combo.count())]
    assert [i for i in ids if i] == ["summary", "analysis", "takeaway", "action_items",
                                     "main-take-away-copy", "custom"]
    window.prompt_combo.setCurrentIndex(ids.index("main-take-away-copy"))
    assert window.current_prompt().name == "Main take-away (copy)"
