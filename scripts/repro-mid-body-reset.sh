#!/usr/bin/env bash
# 6 of 13 body bytes, then RST: to test a proxy, a raw Node server writes a response head that
# promises 13 body bytes, writes 6 ("Hello,"), then resetAndDestroy()s the
# socket. curl prints "(56) Recv failure: Connection reset by peer". This
# runs the seed's own server and hangup's mid-body-reset side by side and
# shows that curl sees the same thing from both.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# The seed's broken-server.js, on a free port.
cat >"$WORK/broken-server.js" <<'JS'
const net = require('net');
const server = net.createServer((socket) => {
  socket.write('HTTP/1.1 200 OK\r\nServer: my-web-server\r\nContent-Length: 13\r\n\r\nHello,');
  socket.resetAndDestroy();
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

curl_run() {
  local status=0
  curl -sS -i "$1" >"$WORK/curl.out" 2>"$WORK/curl.err" || status=$?
  printf 'exit %s\n%s\n%s' "$status" "$(cat "$WORK/curl.err")" "$(tr -d '\r' <"$WORK/curl.out")"
}

start_hangup mid-body-reset
from_hangup=$(curl_run "$HANGUP_URL")
show "curl -i against hangup serve mid-body-reset:" "$from_hangup"
show_log

start_server node "$WORK/broken-server.js"
from_seed=$(curl_run "http://127.0.0.1:$SERVER_PORT/")
show "curl -i against the seed's broken-server.js:" "$from_seed"

if [[ $from_hangup == "exit 56"*"Recv failure: Connection reset by peer"* && $from_hangup == *"Hello," ]]; then
  if [[ $from_hangup == "$from_seed" ]]; then
    reproduced "curl: (56) Recv failure: Connection reset by peer after 'Hello,', the same as from the seed's server"
  fi
  reproduced "curl: (56) Recv failure: Connection reset by peer after 'Hello,' (the seed's server differed this run: it writes and resets at accept, racing curl's connect)"
fi
not_reproduced "expected curl exit 56 after receiving 'Hello,'"
