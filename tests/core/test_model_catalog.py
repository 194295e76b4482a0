"""The model catalogue: valid (every file pinned by URL, size and SHA-256, every entry with a
licence, no duplicate ids), queried by kind and by machine, where models live and come from,
the installed-models index, and adding models the user already has."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from earmark.core.models import (
    ENTRIES,
    CatalogError,
    Kind,
    LocalModelError,
    add_local_gguf,
    add_local_whisper,
    catalog_record,
    effective_mirror,
    entries,
    entry,
    install_path,
    installed,
    installed_gguf_paths,
    load_catalog,
    machine_class,
    mirrored,
    models_dir,
    read_index,
    recommended,
    unregister,
)
from earmark.core.models.data import CATALOG
from earmark.engine.llm.providers.llama_cpp import gguf_model

GB = 1_000_000_000
SHA256 = re.compile(r"^[0-9a-f]{64}$")


# --- the catalogue is valid ---------------------------------------------------------------------


def test_every_entry_is_pinned_and_licensed() -> None:
    assert ENTRIES, "the catalogue is empty"
    for e in ENTRIES:
        assert e.verified and e.downloadable, e.id
        assert e.licence and e.licence_url.startswith("https://"), e.id
        assert e.source_page.startswith("https://huggingface.co/"), e.id
        assert e.memory_bytes > 0 and e.speed in ("fast", "medium", "slow"), e.id
        for f in e.files:
            assert f.url.startswith("https://huggingface.co/"), (e.id, f.name)
            assert f.url.endswith("/" + f.name), (e.id, f.name)
            assert f"/resolve/{e.revision}/" in f.url, (e.id, f.name)
            assert f.size > 0, (e.id, f.name)
            assert SHA256.match(f.sha256), (e.id, f.name)


def test_no_duplicate_ids_and_no_clash_with_the_built_in_choices() -> None:
    ids = [raw["id"] for raw in CATALOG["models"]]
    assert len(ids) == len(set(ids))
    from earmark.core.catalog import EMBEDDED_LLM_MODELS, SPEECH_MODELS

    assert not set(ids) & {m.id for m in (*SPEECH_MODELS, *EMBEDDED_LLM_MODELS)}


def test_the_kinds_the_issue_asks_for() -> None:
    answer = {e.id for e in entries(Kind.ANSWER)}
    speech = {e.id for e in entries(Kind.SPEECH)}
    assert answer == {"qwen2.5-0.5b-instruct-q4_k_m", "qwen2.5-1.5b-instruct-q4_k_m",
                      "qwen2.5-3b-instruct-q4_k_m", "llama-3.2-1b-instruct-q4_k_m",
                      "llama-3.2-3b-instruct-q4_k_m", "smollm2-1.7b-instruct-q4_k_m"}
    assert speech == {"faster-whisper-base", "faster-whisper-base.en", "faster-whisper-small",
                      "faster-whisper-small.en", "faster-distil-whisper-large-v3"}
    for e in entries(Kind.ANSWER):
        assert e.format == "gguf" and len(e.files) == 1 and not e.is_folder
    for e in entries(Kind.SPEECH):
        names = {f.name for f in e.files}
        assert {"config.json", "model.bin", "tokenizer.json"} <= names and e.is_folder
        assert names & {"vocabulary.txt", "vocabulary.json"}
    assert entry("faster-whisper-base.en").size == 147_769_510  # the sum of its four files


def _broken(change) -> dict:
    data = copy.deepcopy(CATALOG)
    change(data["models"])
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda models: models.append(copy.deepcopy(models[0])), "duplicate ids"),
    (lambda models: models[0]["files"][0].update(sha256=""), "SHA-256"),
    (lambda models: models[0]["files"][0].update(size=0), "size"),
    (lambda models: models[0]["files"][0].update(url="http://example.com/x.gguf"), "URL"),
    (lambda models: models[0].update(licence=""), "licence"),
    (lambda models: models[0].update(recommended={"huge": True}), "machine class"),
    (lambda models: models[-1]["files"].pop(1), "model.bin"),
])
def test_a_broken_catalogue_is_refused(change, message: str) -> None:
    with pytest.raises(CatalogError, match=message):
        load_catalog(_broken(change))


def test_an_entry_without_a_known_hash_must_say_why_and_cannot_be_downloaded() -> None:
    def unverify(models: list) -> None:
        models[0].update(verified=False, evidence="")
        models[0]["files"][0]["sha256"] = ""

    with pytest.raises(CatalogError, match="evidence"):
        load_catalog(_broken(unverify))

    def explain(models: list) -> None:
        unverify(models)
        models[0]["evidence"] = "No published SHA-256 could be found."

    _, loaded = load_catalog(_broken(explain))
    assert not loaded[0].downloadable and loaded[1].downloadable


# --- by machine ---------------------------------------------------------------------------------


def test_machine_classes() -> None:
    assert machine_class(4 * GB, 2).id == "low"
    assert machine_class(32 * GB, 2).id == "low"  # two cores: whatever the memory
    assert machine_class(8 * GB, 4).id == "mid"
    assert machine_class(16 * GB, 8).id == "high"


def test_recommended_suits_the_machine() -> None:
    small = {e.id for e in recommended(4 * GB, 2)}
    assert {"qwen2.5-0.5b-instruct-q4_k_m", "faster-whisper-base.en"} <= small
    assert not {"qwen2.5-3b-instruct-q4_k_m", "llama-3.2-3b-instruct-q4_k_m"} & small
    big = {e.id for e in recommended(32 * GB, 16, Kind.ANSWER)}
    assert "llama-3.2-3b-instruct-q4_k_m" in big
    assert all(e.kind is Kind.ANSWER for e in recommended(32 * GB, 16, Kind.ANSWER))
    assert "faster-distil-whisper-large-v3" in {e.id for e in recommended(32 * GB, 16)}
    for memory, cores in ((2 * GB, 1), (8 * GB, 4), (16 * GB, 8)):
        picks = recommended(memory, cores)
        assert picks, (memory, cores)
        assert all(e.memory_bytes <= memory for e in picks)
    assert recommended(GB // 4, 1) == []  # nothing fits in a quarter of a gigabyte


# --- where models live and come from -------------------------------------------------------------


def test_models_folder_and_layout(tmp_path: Path) -> None:
    assert models_dir({"EARMARK_MODELS_DIR": str(tmp_path)}) == tmp_path
    assert models_dir({}).parts[-2:] == ("Earmark", "models")
    gguf = entry("qwen2.5-1.5b-instruct-q4_k_m")
    assert install_path(gguf, tmp_path) == tmp_path / "gguf" / "qwen2.5-1.5b-instruct-q4_k_m.gguf"
    speech = entry("faster-whisper-small.en")
    assert install_path(speech, tmp_path) == tmp_path / "whisper" / "faster-whisper-small.en"


def test_a_mirror_replaces_the_host() -> None:
    url = entry("faster-whisper-base").files[1].url
    assert mirrored(url, None) == url
    assert mirrored(url, "https://hf-mirror.com/") == url.replace(
        "https://huggingface.co", "https://hf-mirror.com")
    assert mirrored(url, "http://127.0.0.1:9/hf").startswith(
        "http://127.0.0.1:9/hf/Systran/faster-whisper-base/resolve/")
    assert mirrored("https://example.com/x.bin", "https://hf-mirror.com") == (
        "https://example.com/x.bin")
    with pytest.raises(ValueError, match="not a download source"):
        mirrored(url, "hf-mirror.com")


def test_where_the_mirror_comes_from() -> None:
    both = {"EARMARK_MODEL_MIRROR": "https://a.example", "HF_ENDPOINT": "https://b.example"}
    assert effective_mirror("https://setting.example/", both) == "https://setting.example"
    assert effective_mirror("", both) == "https://a.example"
    assert effective_mirror(None, {"HF_ENDPOINT": "https://b.example"}) == "https://b.example"
    assert effective_mirror(None, {}) is None


# --- the installed-models index and local models ----------------------------------------------


def _gguf_file(path: Path) -> Path:
    path.write_bytes(b"GGUF" + bytes(60))
    return path


def _whisper_folder(path: Path) -> Path:
    path.mkdir()
    (path / "model.bin").write_bytes(b"\x01" * 64)
    (path / "config.json").write_text(json.dumps({"alignment_heads": []}))
    (path / "tokenizer.json").write_text("{}")
    (path / "vocabulary.txt").write_text("a\nb\n")
    return path


def test_a_local_gguf_is_added_where_it_is(tmp_path: Path) -> None:
    root = tmp_path / "models"
    gguf = _gguf_file(tmp_path / "My Model.Q4.gguf")
    model = add_local_gguf(root, gguf)
    assert model.kind is Kind.ANSWER and model.source == "local" and model.id == "local-my-model.q4"
    assert model.path == str(gguf) and model.size == 64
    assert model.engine_model_id == "gguf:My Model.Q4" == gguf_model(model.path).model_id
    assert installed_gguf_paths(root) == [gguf]
    assert read_index(root) == [model]
    add_local_gguf(root, gguf)  # again: still one entry
    assert len(read_index(root)) == 1


def test_two_local_files_with_one_name_get_two_ids(tmp_path: Path) -> None:
    root = tmp_path / "models"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = add_local_gguf(root, _gguf_file(tmp_path / "a" / "model.gguf"))
    second = add_local_gguf(root, _gguf_file(tmp_path / "b" / "model.gguf"))
    assert (first.id, second.id) == ("local-model", "local-model-2")
    assert len(installed(root)) == 2


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.gguf"
    text.write_text("hello")
    with pytest.raises(LocalModelError, match="does not start with 'GGUF'"):
        add_local_gguf(tmp_path / "models", text)
    with pytest.raises(LocalModelError, match="not a file"):
        add_local_gguf(tmp_path / "models", tmp_path / "missing.gguf")
    assert read_index(tmp_path / "models") == []


def test_a_local_whisper_folder_is_added(tmp_path: Path) -> None:
    root = tmp_path / "models"
    folder = _whisper_folder(tmp_path / "my-whisper")
    model = add_local_whisper(root, folder)
    assert model.kind is Kind.SPEECH and model.path == str(folder) and model.size > 0
    assert model.engine_model_id == ""
    assert installed(root, Kind.SPEECH) == [model] and installed(root, Kind.ANSWER) == []


@pytest.mark.parametrize(("remove", "message"), [
    ("model.bin", "no model.bin"),
    ("config.json", "config.json"),
    ("tokenizer.json", "tokenizer.json"),
    ("vocabulary.txt", "vocabulary"),
])
def test_an_incomplete_whisper_folder_is_refused(tmp_path: Path, remove: str,
                                                 message: str) -> None:
    folder = _whisper_folder(tmp_path / "broken")
    (folder / remove).unlink()
    with pytest.raises(LocalModelError, match=message):
        add_local_whisper(tmp_path / "models", folder)


def test_the_index_survives_damage_and_forgets_missing_files(tmp_path: Path) -> None:
    root = tmp_path / "models"
    root.mkdir()
    (root / "installed.json").write_text("{not json")
    assert read_index(root) == []
    gguf = _gguf_file(tmp_path / "x.gguf")
    model = add_local_gguf(root, gguf)
    record = catalog_record(entry("faster-whisper-base.en"), root / "whisper" / "missing")
    from earmark.core.models import register

    register(root, record)
    assert {m.id for m in read_index(root)} == {model.id, "faster-whisper-base.en"}
    assert installed(root) == [model]  # the folder is not there: not installed
    assert unregister(root, model.id) and not unregister(root, model.id)
    assert [m.id for m in read_index(root)] == ["faster-whisper-base.en"]
