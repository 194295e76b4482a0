#!/usr/bin/env bash
# Install llama-cpp-python into a Python environment, built the same portable way everywhere
# (scripts/setup.sh, .ci/run through it, packaging/build-bundle.sh).
#   scripts/install-llama.sh [PYTHON]        default: .venv/bin/python
#
# Why not plain `pip install`: llama.cpp compiles for the build machine's CPU by default
# (GGML_NATIVE), and a wheel built on a machine with AMX or AVX-512 faults on another CPU. And
# pip caches a wheel it built by the source's name, not by the flags it was built with, so a
# native wheel from an earlier install would be reused. This script builds one wheel with fixed
# flags (x86-64 with AVX2, FMA, F16C; no AVX-512, no AMX) into a cache folder named after the
# version and the flags, and installs exactly that wheel. The installed build's key is written
# to <site-packages>/llama_cpp/EARMARK_BUILD so tests and the app can tell a portable build.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${1:-$repo/.venv/bin/python}"

version=$(sed -n 's/.*"llama-cpp-python==\([^"]*\)".*/\1/p' "$repo/pyproject.toml")
[[ -n "$version" ]] || { echo "pyproject.toml pins no llama-cpp-python version" >&2; exit 1; }

arch=$(uname -m)
common="-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF -DLLAMA_CURL=OFF"
case "$arch" in
  x86_64|amd64)
    if ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
      echo "This CPU has no AVX2. Earmark's local LLM (llama.cpp) needs an x86-64 CPU with AVX2" \
           "(Intel since 2013, AMD since 2015)." >&2
      exit 3
    fi
    flags="$common -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
    flags="$flags -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF"
    flags="$flags -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
    flags="$flags -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" ;;
  *) flags="$common" ;;
esac
key="$version-$arch-$(printf '%s' "$flags" | sha256sum | cut -c1-12)"

site=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
if [[ "$(cat "$site/llama_cpp/EARMARK_BUILD" 2>/dev/null)" == "$key" ]]; then
  exit 0  # this exact portable build is installed
fi

cache="${EARMARK_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earmark/wheels}/llama-cpp-python-$key"
wheel=$(ls "$cache"/llama_cpp_python-*.whl 2>/dev/null | head -n1 || true)
if [[ -z "$wheel" ]]; then
  mkdir -p "$cache"
  log="$cache/build.log"
  echo "Building llama-cpp-python $version for any $arch CPU (flags $key): about 10 minutes on 2 cores"
  started=$(date +%s)
  CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" FORCE_CMAKE=1 \
    "$python" -m pip wheel --no-cache-dir --no-deps --no-binary llama-cpp-python \
      --wheel-dir "$cache/partial" "llama-cpp-python==$version" >"$log" 2>&1 &
  builder=$!
  while kill -0 "$builder" 2>/dev/null; do
    sleep 30
    kill -0 "$builder" 2>/dev/null && echo "  still building llama.cpp ($(( $(date +%s) - started )) s)"
  done
  if ! wait "$builder"; then
    echo "Building llama-cpp-python failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  mv "$cache"/partial/llama_cpp_python-*.whl "$cache/"  # only a finished wheel is ever found
  rmdir "$cache/partial"
  wheel=$(ls "$cache"/llama_cpp_python-*.whl | head -n1)
  echo "Built $(basename "$wheel") in $(( $(date +%s) - started )) s"
fi
# Its dependencies (numpy, jinja2, diskcache, typing-extensions) come from the index as usual.
"$python" -m pip install -q --force-reinstall --no-deps "$wheel"
"$python" -m pip install -q "$wheel"
printf '%s\n' "$key" >"$site/llama_cpp/EARMARK_BUILD"
