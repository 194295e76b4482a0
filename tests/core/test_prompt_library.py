"""The prompt library: built-ins plus the user's prompt files; validation with clear reasons."""

from __future__ import annotations

import json

import pytest

from earmark.core.prompt_library import PromptLibrary
from earmark.core.prompts import Prompt, PromptError, validate_prompt
from earmark.resources import resource


@pytest.fixture
def library(tmp_path):
    return PromptLibrary(resource("prompts"), tmp_path / "prompts")


def mine(**changes) -> Prompt:
    fields = {"id": "", "name": "Questions", "turn_template": "List questions: {{turn}}",
              "session_template": "List all questions: {{transcript}}",
              "system": "Be terse.", "language": "French"}
    return Prompt(**{**fields, **changes})


def test_the_four_built_ins_come_first(library):
    assert [p.id for p in library.all()] == ["summary", "analysis", "takeaway", "action_items"]
    assert all(library.is_builtin(p.id) for p in library.all())


def test_add_edit_duplicate_delete(library, tmp_path):
    saved = library.save(mine())
    assert saved.id == "questions"
    path = tmp_path / "prompts" / "questions.json"
    data = json.loads(path.read_text(encoding="utf-8"))  # readable, shareable
    assert data == {"name": "Questions", "turn_template": "List questions: {{turn}}",
                    "session_template": "List all questions: {{transcript}}",
                    "system": "Be terse.", "language": "French"}
    library.save(mine(id="questions", name="Open questions"))
    assert library.get("questions").name == "Open questions"
    copy = library.duplicate("summary")
    assert (copy.id, copy.name) == ("brief-summary-copy", "Brief summary (copy)")
    assert library.get(copy.id).turn_template == library.get("summary").turn_template
    assert [p.name for p in library.user] == ["Brief summary (copy)", "Open questions"]
    library.delete("questions")
    assert not path.exists() and library.get("questions") is None
    # a file dropped in by someone else shows up
    path.write_text(json.dumps(data), encoding="utf-8")
    library.reload()
    assert library.get("questions").name == "Questions"


def test_built_ins_cannot_be_changed_or_deleted(library):
    with pytest.raises(PromptError, match="duplicate"):
        library.save(mine(id="summary"))
    with pytest.raises(PromptError, match="cannot be deleted"):
        library.delete("summary")


@pytest.mark.parametrize(("changes", "reason"), [
    ({"name": " "}, "needs a name"),
    ({"turn_template": "Summarise this."}, "Per-turn template: The template must contain "
                                           "{{turn}}"),
    ({"turn_template": "{{turn}} by {{speaker}}"}, "Unknown placeholder {{speaker}}"),
    ({"session_template": "All of it: {{turn}}"}, "Whole-session template: Unknown "
                                                  "placeholder {{turn}}"),
    ({"session_template": "No placeholder"}, "must contain {{transcript}}"),
    ({"system": "Use {{turn}}"}, "system message cannot hold placeholders"),
])
def test_invalid_prompts_are_refused_with_a_reason(library, changes, reason):
    with pytest.raises(PromptError) as caught:
        library.save(mine(**changes))
    assert reason in str(caught.value)
    assert library.user == []


def test_broken_or_clashing_files_are_skipped_and_named(library, tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(mine().to_dict()), encoding="utf-8")
    (folder / "bad.json").write_text(json.dumps(mine(turn_template="x").to_dict()))
    library.reload()
    assert library.user == []
    assert [p.split(":")[0] for p in library.problems] == ["bad.json", "broken.json",
                                                           "summary.json"]


def test_a_session_template_is_optional():
    prompt = mine(session_template="")
    validate_prompt(prompt)
    assert prompt.analysis_template == "List questions: {{transcript}}"


ESCAPING_NAMES = ["../victim", "..", ".", "", "  ", "/etc/passwd", "/tmp/victim", "a/b",
                  "sub/../../victim", "..\\victim", "C:victim", "C:\\victim", "vic\0tim",
                  "line\nbreak"]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_delete_refuses_a_name_outside_the_prompts_folder(library, tmp_path, name):
    victim = tmp_path / "victim.json"
    victim.write_text("{}", encoding="utf-8")
    library.save(mine())  # the folder exists and holds a prompt
    with pytest.raises(ValueError, match=r"prompt name|needs a name"):
        library.delete(name)
    assert victim.exists()
    assert library.get("questions") is not None


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_save_and_path_of_refuse_a_name_outside_the_prompts_folder(library, tmp_path, name):
    if name.strip():  # an empty id means "a new prompt": it gets one from its name
        with pytest.raises(ValueError):
            library.save(mine(id=name))
    with pytest.raises(ValueError, match=r"prompt name|needs a name"):
        library.path_of(name)
    assert not (tmp_path / "victim.json").exists()
    assert not list(tmp_path.rglob("victim*"))


def test_ordinary_names_stay_inside_the_folder(library, tmp_path):
    for name in ("questions", "My prompt", "notes.v2", "..notes", "déjà-vu"):
        assert library.path_of(name).parent == tmp_path / "prompts"


def test_a_file_whose_name_cannot_be_an_id_is_skipped_and_named(library, tmp_path):
    folder = tmp_path / "prompts"
    folder.mkdir()
    (folder / "odd:name.json").write_text(json.dumps(mine().to_dict()), encoding="utf-8")
    library.reload()
    assert library.user == []
    assert library.problems[0].startswith("odd:name.json: ")
