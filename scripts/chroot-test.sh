#!/usr/bin/env bash
# Prove the static binary needs nothing: copy only it into an empty
# directory, run it there with chroot (or unshare --root when not root),
# serve a built-in scenario, and check from outside that a client gets the
# exact bytes and then RST.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
jail=$(mktemp -d "${TMPDIR:-/tmp}/hangup-chroot.XXXXXX")
pid=""
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$jail"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

built=$("$root/scripts/build-static.sh")
echo "$built"
cp "${built%% *}" "$jail/hangup"
if ldd "$jail/hangup" 2>&1 | grep -q '=>'; then
  echo "FAIL: the binary is dynamically linked:" >&2
  ldd "$jail/hangup" >&2
  exit 1
fi
echo "the jail holds: $(cd "$jail" && find . -mindepth 1 | tr '\n' ' ')"

if [[ $(id -u) == 0 ]]; then
  jailed=(chroot "$jail" /hangup)
else
  jailed=(unshare --user --map-root-user --root="$jail" /hangup)
fi
"${jailed[@]}" serve mid-body-reset --listen 127.0.0.1:0 >"$jail.out" 2>"$jail.log" &
pid=$!
for _ in $(seq 100); do
  grep -q '^listening on' "$jail.out" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$jail.log" >&2; exit 1; }
  sleep 0.05
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$jail.out")
rm -f "$jail.out"

status=0
body=$(curl -sS "http://127.0.0.1:$port/" 2>"$jail.err") || status=$?
echo "curl from outside: exit $status, body '$body', $(cat "$jail.err")"
cat "$jail.log"
rm -f "$jail.err" "$jail.log"
if [[ $status == 56 && $body == "Hello," ]]; then
  echo "PASS: the static binary alone served mid-body-reset: 6 body bytes, then RST"
  exit 0
fi
echo "FAIL: expected curl exit 56 after 'Hello,'"
exit 1
