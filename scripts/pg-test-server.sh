#!/usr/bin/env bash
# Starts (or stops) a throw-away PostgreSQL server on loopback for tests.
#
#   scripts/pg-test-server.sh [start] [DIR]   start a server under DIR (default: a new
#                                             mktemp -d), print its URL on stdout
#   scripts/pg-test-server.sh stop DIR        stop the server under DIR
#
# The cluster lives in DIR/pgdata: trust authentication, superuser `medledger`,
# TCP on 127.0.0.1:PORT (PGPORT, default 54329), unix sockets in the data
# directory, fsync on (durability is tested). The database `medledger_test` is
# created. The only thing printed on stdout is the URL:
#
#   postgres://medledger@127.0.0.1:PORT/medledger_test
#
# If a server already answers on that port, nothing is started and the URL is
# printed. Run as root, the server runs as the `postgres` OS user.
set -euo pipefail

say() { echo "pg-test-server: $*" >&2; }
die() { say "$*"; exit 1; }

PORT="${PGPORT:-54329}"
PGUSER_NAME=medledger
DB=medledger_test
URL="postgres://${PGUSER_NAME}@127.0.0.1:${PORT}/${DB}"

cmd=start
case "${1:-}" in
  start) shift ;;
  stop) cmd=stop; shift ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
DIR="${1:-}"

# --- find the server binaries ------------------------------------------------
find_bindir() {
  local c
  if c="$(command -v pg_ctl 2>/dev/null)" && [ -x "$(dirname "$c")/initdb" ]; then
    dirname "$(readlink -f "$c")"; return 0
  fi
  if [ -x /usr/local/bin/pg_ctl ] && [ -x /usr/local/bin/initdb ]; then
    dirname "$(readlink -f /usr/local/bin/pg_ctl)"; return 0
  fi
  for c in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$c/pg_ctl" ] && [ -x "$c/initdb" ]; then echo "$c"; return 0; fi
  done
  return 1
}
BIN="$(find_bindir)" || die "no PostgreSQL server binaries (initdb, pg_ctl) found in PATH, /usr/local/bin or /usr/lib/postgresql/*/bin; install them (Debian: apt-get install -y postgresql)"
tool() { # a client tool: from the server's bin dir, else PATH
  if [ -x "$BIN/$1" ]; then echo "$BIN/$1"; else command -v "$1" || die "$1 not found"; fi
}
PG_ISREADY="$(tool pg_isready)"
PSQL="$(tool psql)"

# --- run as the postgres OS user when root ----------------------------------
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to run the server"
    if command -v runuser >/dev/null 2>&1; then
      runuser -u postgres -- "$@"
    else
      local q; q="$(printf '%q ' "$@")"
      su postgres -s /bin/sh -c "$q"
    fi
  else
    "$@"
  fi
}

ready() { "$PG_ISREADY" -q -h 127.0.0.1 -p "$PORT" -t 1 >/dev/null 2>&1; }

datadir_of() { # accept DIR or DIR/pgdata
  if [ -f "$1/PG_VERSION" ]; then echo "$1"; else echo "$1/pgdata"; fi
}

if [ "$cmd" = stop ]; then
  [ -n "$DIR" ] || die "usage: $0 stop DIR"
  DATA="$(datadir_of "$DIR")"
  [ -f "$DATA/PG_VERSION" ] || die "no cluster in $DATA"
  if [ -f "$DATA/postmaster.pid" ]; then
    as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
  else
    say "not running ($DATA)"
  fi
  exit 0
fi

ensure_db() {
  local have
  have="$("$PSQL" -X -q -At -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres \
    -c "SELECT 1 FROM pg_database WHERE datname = '$DB'" 2>/dev/null)" \
    || die "a server answers on 127.0.0.1:$PORT but user $PGUSER_NAME cannot connect to it"
  if [ "$have" != 1 ]; then
    "$PSQL" -X -q -h 127.0.0.1 -p "$PORT" -U "$PGUSER_NAME" -d postgres \
      -c "CREATE DATABASE $DB" >&2 || die "cannot create database $DB"
  fi
}

if ready; then
  say "a server is already running on 127.0.0.1:$PORT"
  ensure_db
  echo "$URL"
  exit 0
fi

[ -n "$DIR" ] || DIR="$(mktemp -d)"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
DATA="$(datadir_of "$DIR")"
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$DIR"
  [ -d "$DATA" ] && chown -R postgres: "$DATA"
fi

if [ ! -f "$DATA/PG_VERSION" ]; then
  say "initdb in $DATA ($BIN)"
  as_owner "$BIN/initdb" -D "$DATA" -A trust -U "$PGUSER_NAME" -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
  as_owner sh -c "cat >> '$DATA/postgresql.conf'" <<CONF

# --- pg-test-server.sh ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 200
CONF
fi

say "starting on 127.0.0.1:$PORT (log: $DIR/postgres.log)"
as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -o "-p $PORT" -w -t 60 start >&2 \
  || { tail -n 30 "$DIR/postgres.log" >&2 2>/dev/null || true; die "the server did not start"; }

for _ in $(seq 1 60); do
  ready && break
  sleep 0.5
done
ready || { tail -n 30 "$DIR/postgres.log" >&2 2>/dev/null || true; die "the server does not answer on 127.0.0.1:$PORT"; }

ensure_db
say "data dir: $DATA (stop: $0 stop $DIR)"
echo "$URL"
