#!/usr/bin/env bash
# End-to-end tests of the review UI against the real `medledger serve`.
#
#   scripts/e2e.sh                      # builds target/release/medledger first
#   MEDLEDGER_BIN=/path/to/medledger scripts/e2e.sh   # builds nothing
#
# Environment:
#   MEDLEDGER_BIN     the binary (given: nothing is built; default target/release/medledger)
#   MEDLEDGER_SHARED  the shared folder holding codesets/ (default ../shared)
#   E2E_ARTIFACTS     screenshots and logs (default target/e2e-artifacts)
#   E2E_PORT          port for the server (default: a free one)
#   E2E_KEEP=1        keep the temporary data directory
#   CHROMIUM          the browser (default /usr/bin/chromium; Debian package `chromium`)
#
# Exits non-zero when the set-up or any test fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [[ -n "${MEDLEDGER_BIN:-}" ]]; then
  BIN="$MEDLEDGER_BIN"
else
  BIN="$ROOT/target/release/medledger"
  echo "e2e: building medledger (release)…" >&2
  cargo build --release -p medledger-cli
fi
[[ -x "$BIN" ]] || { echo "e2e: no medledger binary at $BIN" >&2; exit 2; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

SHARED="${MEDLEDGER_SHARED:-$ROOT/../shared}"
[[ -d "$SHARED/codesets" ]] || { echo "e2e: no code sets at $SHARED/codesets (set MEDLEDGER_SHARED)" >&2; exit 2; }
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[[ -x "$CHROMIUM" ]] || { echo "e2e: no browser at $CHROMIUM (apt-get install -y chromium)" >&2; exit 2; }
command -v node >/dev/null || { echo "e2e: node is required" >&2; exit 2; }

ARTIFACTS="${E2E_ARTIFACTS:-$ROOT/target/e2e-artifacts}"
mkdir -p "$ARTIFACTS"
ARTIFACTS="$(cd "$ARTIFACTS" && pwd)"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/server.log

DATA="$(mktemp -d "${TMPDIR:-/tmp}/medledger-e2e.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && { echo "e2e: server ignored SIGTERM; killing it" >&2; kill -KILL "$SERVER_PID" 2>/dev/null || true; }
  fi
  if [[ "${E2E_KEEP:-}" == "1" ]]; then echo "e2e: kept data directory $DATA" >&2; else rm -rf "$DATA"; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

ml() { "$BIN" --data-dir "$DATA" "$@"; }

echo "e2e: data directory $DATA" >&2
ml codesets install --from "$SHARED/codesets" >"$ARTIFACTS/setup.log" 2>&1 || { cat "$ARTIFACTS/setup.log" >&2; exit 1; }

PASSWORD="e2e-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$PASSWORD" | ml user add alice --name "Alice Coder" --role coder --role biller --role auditor --credential CPC --password-stdin >>"$ARTIFACTS/setup.log" 2>&1 \
  || { cat "$ARTIFACTS/setup.log" >&2; exit 1; }

# Synthetic notes (no real patients).
FIX="$ROOT/e2e/fixtures"
add() { ml encounter add "$@" >>"$ARTIFACTS/setup.log" 2>&1 || { cat "$ARTIFACTS/setup.log" >&2; exit 1; }; }
add "$FIX/diabetes-ckd.txt" --patient-name "Dana Marsh" --patient-dob 1964-03-14 --sex female --dos 2026-04-15 --payer MEDICARE-B
add "$FIX/hypertension-asthma.txt" --patient-name "Jordan Reyes" --patient-dob 1971-07-02 --sex male --dos 2026-04-16 --payer ACME-COMMERCIAL
add "$FIX/negated-pneumonia.txt" --patient-name "Sam Okafor" --patient-dob 1986-01-20 --sex female --dos 2026-04-17 --payer MEDICARE-B
ENCOUNTERS=3

if [[ -n "${E2E_PORT:-}" ]]; then
  PORT="$E2E_PORT"
else
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18787)"
fi
BASE="http://127.0.0.1:$PORT"

ml serve --addr "127.0.0.1:$PORT" --claim-template "$ROOT/examples/claims/office-visit-established.json" >"$ARTIFACTS/server.log" 2>&1 &
SERVER_PID=$!

echo "e2e: waiting for $BASE/health" >&2
ok=""
for _ in $(seq 1 150); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "e2e: the server exited:" >&2; cat "$ARTIFACTS/server.log" >&2; exit 1; fi
  if curl -fsS -o /dev/null "$BASE/health" 2>/dev/null; then ok=1; break; fi
  sleep 0.2
done
[[ -n "$ok" ]] || { echo "e2e: no /health after 30 s" >&2; cat "$ARTIFACTS/server.log" >&2; exit 1; }

cd "$ROOT/e2e"
if [[ ! -d node_modules/playwright-core ]]; then
  npm ci --no-audit --no-fund >&2
fi

set +e
E2E_BASE_URL="$BASE" E2E_USER=alice E2E_PASSWORD="$PASSWORD" E2E_ARTIFACTS="$ARTIFACTS" \
  E2E_EXPECT_ENCOUNTERS="$ENCOUNTERS" CHROMIUM="$CHROMIUM" \
  timeout 240 node --test --test-concurrency=1 --test-reporter=spec tests/
rc=$?
set -e
echo "e2e: screenshots and logs in $ARTIFACTS" >&2
[[ $rc -eq 0 ]] && echo "e2e: all tests passed" >&2 || echo "e2e: tests failed (exit $rc)" >&2
exit "$rc"
