#!/usr/bin/env bash
# Creates the Python venvs the tests use, one per toolset (target SDK pins conflict), under
# ${SFGEN_VENVS:-~/.cache/sfgen/venvs}/<name>. A venv is rebuilt only when its requirements
# file changes, so repeated runs are cheap.
#
# Usage: scripts/setup-venvs.sh [NAME...]   (default: every scripts/venvs/*.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${SFGEN_VENVS:-$HOME/.cache/sfgen/venvs}
python=${SFGEN_PYTHON:-python3}
mkdir -p "$root"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in "$here"/venvs/*.txt; do names+=("$(basename "$f" .txt)"); done
fi
for name in "${names[@]}"; do
  req="$here/venvs/$name.txt"
  [ -f "$req" ] || { echo "no requirements file $req" >&2; exit 2; }
  venv="$root/$name"
  stamp="$venv/.sfgen-requirements"
  if [ -f "$stamp" ] && cmp -s "$req" "$stamp"; then
    echo "venv $name: up to date ($venv)"
    continue
  fi
  echo "venv $name: installing $(grep -cv '^#' "$req") packages into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$stamp"
done
