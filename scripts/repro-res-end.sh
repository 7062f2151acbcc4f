#!/usr/bin/env bash
# "res.end() does not close the socket". Ending a response is not
# ending the connection: with keep-alive the socket stays open for the next
# request; "Connection: close" makes the server close it (FIN); destroying
# the socket resets it (RST). The same response, ended three ways, drawn by
# hangup probe.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

declare -A ended
for scenario in end-keepalive end-close end-destroy; do
  start_hangup "$scenario"
  echo
  echo "== $scenario: $("$HANGUP" list | sed -n "s/^$scenario *//p")"
  "$HANGUP" probe "$HANGUP_URL" --diagram --linger 200ms | sed 's/^/    /'
  json=$("$HANGUP" probe "$HANGUP_URL" --json --linger 200ms)
  ended[$scenario]=$(sed -n 's/.*"ended":"\([a-z-]*\)".*/\1/p' <<<"$json")
  show_log
  stop_hangup
done

echo
printf '  %-14s connection after the complete response: %s\n' \
  "end-keepalive" "${ended[end-keepalive]}" "end-close" "${ended[end-close]}" "end-destroy" "${ended[end-destroy]}"
if [[ ${ended[end-keepalive]} == open && ${ended[end-close]} == fin && ${ended[end-destroy]} == rst ]]; then
  reproduced "res.end() on keep-alive left the socket open; Connection: close ended it with FIN; destroy with RST"
fi
not_reproduced "expected open, fin and rst"
