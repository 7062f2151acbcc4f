# shellcheck shell=bash
# Shared by the scripts in scripts/: build and start hangup on a free
# loopback port, stop it (by PID) on exit or Ctrl-C, and report a result.
#
# Usage, from a script:   . "$(dirname "$0")/lib/common.sh"
#
# Set HANGUP=/path/to/hangup to use a binary instead of building one.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=scripts/lib/cargo.sh
. "$ROOT/scripts/lib/cargo.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hangup-script.XXXXXX")
PIDS=()

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -z ${HANGUP:-} ]]; then
  HANGUP=$(cargo_executable hangup --release --quiet --manifest-path "$ROOT/Cargo.toml" --bin hangup) || exit 1
fi

# start_server COMMAND...
# Run a server that prints "listening on ADDR:PORT" once ready; wait for it
# (5 s at most). Sets SERVER_PID, SERVER_PORT and SERVER_LOG (its stderr).
start_server() {
  local out="$WORK/server-$RANDOM$RANDOM.out"
  SERVER_LOG="${out%.out}.log"
  "$@" >"$out" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local tries=0
  until grep -q '^listening on ' "$out" 2>/dev/null; do
    tries=$((tries + 1))
    if ((tries > 100)) || ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "$1 did not start:" >&2
      cat "$SERVER_LOG" >&2
      exit 1
    fi
    sleep 0.05
  done
  SERVER_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
}

# start_hangup SCENARIO [SERVE FLAGS...]
# Sets HANGUP_PID, HANGUP_PORT, HANGUP_URL and HANGUP_LOG (its event log).
start_hangup() {
  start_server "$HANGUP" serve "$@" --listen 127.0.0.1:0
  HANGUP_PID=$SERVER_PID
  HANGUP_PORT=$SERVER_PORT
  HANGUP_LOG=$SERVER_LOG
  # shellcheck disable=SC2034 # used by the scripts that source this
  HANGUP_URL="http://127.0.0.1:$HANGUP_PORT/"
}

# stop_server PID
# Stop a server start_server started, and forget it, so that the exit trap
# never signals a PID the system may have handed to another process since.
stop_server() {
  local pid=$1 kept=() p
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do
    [[ $p == "$pid" ]] || kept+=("$p")
  done
  PIDS=("${kept[@]}")
}

stop_hangup() {
  stop_server "$HANGUP_PID"
}

# Print a titled block, indented.
show() {
  local title=$1
  shift
  printf '\n  %s\n' "$title"
  printf '%s\n' "$@" | sed 's/^/    | /'
}

show_log() {
  show "hangup logged:" "$(cat "$HANGUP_LOG")"
}

reproduced() {
  printf '\nREPRODUCED: %s\n' "$1"
  exit 0
}

not_reproduced() {
  printf '\nNOT REPRODUCED: %s\n' "$1"
  exit 1
}
