#!/usr/bin/env bash
# Cross-checks `medledger hcc score` against hccinfhir 0.4.0 (PyPI).
# Usage: scripts/hcc-compare/run.sh [--patients N] [--seed S] [--models v28,v24]
# Env: MEDLEDGER_BIN (default: target/release/medledger, built if missing),
#      MEDLEDGER_SHARED (default: /work/shared), HCC_VENV (default: target/hcc-compare-venv),
#      PYTHON (default: python3.11, else python3).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
shared="${MEDLEDGER_SHARED:-$root/../shared}"
tables="$shared/codesets/hcc/hccinfhir-0.4.0"
[ -d "$tables" ] || { echo "HCC tables not found: $tables (set MEDLEDGER_SHARED)" >&2; exit 2; }
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${MEDLEDGER_BIN:-$target/release/medledger}"
if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release -p medledger-cli)
fi
py="${PYTHON:-$(command -v python3.11 || command -v python3)}"
venv="${HCC_VENV:-$target/hcc-compare-venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import importlib.metadata as m; assert m.version("hccinfhir") == "0.4.0"' 2>/dev/null; then
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hccinfhir==0.4.0"
fi
# Fixed hash seed: hccinfhir iterates Python sets, so its quirks must be reproducible.
export PYTHONHASHSEED=0
exec "$venv/bin/python" "$root/scripts/hcc-compare/compare.py" --medledger "$bin" --tables "$tables" "$@"
