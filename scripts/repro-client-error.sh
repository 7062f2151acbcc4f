#!/usr/bin/env bash
# Node's 'clientError' defaults. A request Node cannot parse gets
# "HTTP/1.1 400 Bad Request", a header block over 16 KiB gets "HTTP/1.1 431
# Request Header Fields Too Large", then the socket is closed. hangup's
# bad-request scenario does the same; this shows it with curl and with raw
# requests, and compares the raw answers with a real Node server's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

printf 'BAD METHOD / HTTP/1.1\r\nHost: x\r\n\r\n' >"$WORK/malformed.txt"
{
  printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Big: '
  head -c 20000 /dev/zero | tr '\0' a
  printf '\r\n\r\n'
} >"$WORK/oversized.txt"

# Send a file's bytes on a raw TCP connection; print the answer with its
# CR LF shown, and how the connection ended.
raw() {
  local port=$1 file=$2 status=0
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  cat "$file" >&3
  timeout 2 cat <&3 >"$WORK/raw.out" 2>"$WORK/raw.err" || status=$?
  exec 3<&-
  sed -e 's/\r/\\r/g' "$WORK/raw.out"
  if grep -q 'reset' "$WORK/raw.err"; then echo "(then RST)"; elif ((status == 0)); then echo "(then FIN)"; fi
}

start_hangup bad-request
curl_400=$(curl -sS -i -X 'BAD METHOD' "$HANGUP_URL" | tr -d '\r')
curl_431=$(curl -sS -i -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "$HANGUP_URL" | tr -d '\r')
show "curl -i -X 'BAD METHOD':" "$curl_400"
show "curl -i -H 'X-Big: <20000 bytes>':" "$curl_431"
hangup_400=$(raw "$HANGUP_PORT" "$WORK/malformed.txt")
hangup_431=$(raw "$HANGUP_PORT" "$WORK/oversized.txt")
show "raw malformed request -> hangup:" "$hangup_400"
show "raw oversized head -> hangup:" "$hangup_431"
show_log

# Node's own server with the default clientError behaviour.
cat >"$WORK/node-server.js" <<'JS'
const http = require('http');
const server = http.createServer((req, res) => res.end('ok\n'));
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS
start_server node "$WORK/node-server.js"
node_400=$(raw "$SERVER_PORT" "$WORK/malformed.txt")
node_431=$(raw "$SERVER_PORT" "$WORK/oversized.txt")
show "raw malformed request -> node $(node --version):" "$node_400"
show "raw oversized head -> node:" "$node_431"

if [[ $curl_400 == "HTTP/1.1 400 Bad Request"* && $curl_431 == "HTTP/1.1 431 Request Header Fields Too Large"* ]] &&
  [[ ${hangup_400%%(*} == "${node_400%%(*}" && ${hangup_431%%(*} == "${node_431%%(*}" ]]; then
  reproduced "400 for a malformed request and 431 for an oversized head, byte for byte as Node's own server answers"
fi
not_reproduced "expected 400 and 431 with the same bytes as Node's server"
