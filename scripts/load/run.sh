#!/usr/bin/env bash
# Load benchmark of `POST /api/v1/code` with wrk on loopback: starts
# `medledger serve` on an installed data dir, issues a token, drives it with
# 2-5 KB transcribed notes, prints wrk's JSON summary and the server's
# resident memory before and after.
#
#   scripts/load/run.sh DATA_DIR [DURATION=20s] [CONNECTIONS=32] [THREADS=1]
#
# The server and wrk share the machine's cores; pin them apart with
# SERVER_CPUS / WRK_CPUS (taskset lists) when comparing runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${1:?usage: scripts/load/run.sh DATA_DIR [DURATION] [CONNECTIONS] [THREADS]}"
duration="${2:-20s}"
conns="${3:-32}"
threads="${4:-1}"
bin="${MEDLEDGER_BIN:-target/release/medledger}"
shared="${MEDLEDGER_SHARED:-../shared}"
port="${PORT:-18089}"
work="$(mktemp -d)"
server=""
trap '[ -n "$server" ] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT

command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
python3 scripts/load/bodies.py "$shared/eval/notes/mtsamples.csv" "$work/bodies.ndjson" 500 2>/dev/null
"$bin" --data-dir "$data" --db "$work/load.sqlite3" user add loadtest --role coder --json >/dev/null
token="$("$bin" --data-dir "$data" --db "$work/load.sqlite3" token create loadtest --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
${SERVER_CPUS:+taskset -c "$SERVER_CPUS"} "$bin" --data-dir "$data" --db "$work/load.sqlite3" serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" >/dev/null
rss() { awk '/VmRSS/ { print $2 / 1024 }' "/proc/$server/status"; }
# warm up: code every body once (the coder per release is built lazily)
MEDLEDGER_TOKEN="$token" BODIES="$work/bodies.ndjson" wrk -t1 -c4 -d3s -s scripts/load/code.lua "http://127.0.0.1:$port" >/dev/null
before="$(rss)"
MEDLEDGER_TOKEN="$token" BODIES="$work/bodies.ndjson" ${WRK_CPUS:+taskset -c "$WRK_CPUS"} \
  wrk -t"$threads" -c"$conns" -d"$duration" --latency -s scripts/load/code.lua "http://127.0.0.1:$port" \
  | tail -n 1 > "$work/summary.json"
after="$(rss)"
python3 - "$work/summary.json" "$before" "$after" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["server_rss_mb_before"] = round(float(sys.argv[2]), 1)
s["server_rss_mb_after"] = round(float(sys.argv[3]), 1)
print(json.dumps(s))
PY
