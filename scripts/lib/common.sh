# shellcheck shell=bash
# Shared by the scripts in scripts/: build and start hangup on a free
# loopback port, stop it (by PID) on exit or Ctrl-C, and report a result.
#
# Usage, from a script:   . "$(dirname "$0")/lib/common.sh"
#
# Set HANGUP=/path/to/hangup to use a binary instead of building one.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
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
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
  HANGUP="$ROOT/target/release/hangup"
fi

# start_hangup SCENARIO [SERVE FLAGS...]
# Sets HANGUP_PID, HANGUP_PORT, HANGUP_URL and HANGUP_LOG (its event log).
start_hangup() {
  local out="$WORK/serve-$#-$RANDOM.out"
  HANGUP_LOG="${out%.out}.log"
  "$HANGUP" serve "$@" --listen 127.0.0.1:0 >"$out" 2>"$HANGUP_LOG" &
  HANGUP_PID=$!
  PIDS+=("$HANGUP_PID")
  local tries=0
  until grep -q '^listening on ' "$out" 2>/dev/null; do
    tries=$((tries + 1))
    if ((tries > 100)) || ! kill -0 "$HANGUP_PID" 2>/dev/null; then
      echo "hangup did not start:" >&2
      cat "$HANGUP_LOG" >&2
      exit 1
    fi
    sleep 0.05
  done
  HANGUP_PORT=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$out")
  # shellcheck disable=SC2034 # used by the scripts that source this
  HANGUP_URL="http://127.0.0.1:$HANGUP_PORT/"
}

stop_hangup() {
  kill "$HANGUP_PID" 2>/dev/null || true
  wait "$HANGUP_PID" 2>/dev/null || true
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
