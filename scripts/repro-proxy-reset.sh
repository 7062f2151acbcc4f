#!/usr/bin/env bash
# Proxy mode: data, then RST, in front of a real server. A real Node server
# answers a 100,000-byte body; hangup's proxy-reset-after stands in front of
# it and relays exactly 5,000 bytes of the response (head included), then
# resets the client. This is what toxiproxy's reset_peer was asked to do
# and cannot (it drops the data instead: toxiproxy PR #247): a Node client
# gets the head, part of the body, then ECONNRESET ("aborted"), and curl
# prints "(56) Recv failure: Connection reset by peer" after the same bytes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# The real server: 100,000 bytes of JSON-ish text, keep-alive.
cat >"$WORK/app.js" <<'JS'
const http = require('http');
const body = '[' + '"x",'.repeat(24999) + '"x"]';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
JS

# A Node client that counts what arrived and says how it ended.
cat >"$WORK/client.js" <<'JS'
const http = require('http');
let head = 0;
const req = http.get(process.argv[2], (res) => {
  let body = 0;
  res.on('data', (chunk) => (body += chunk.length));
  res.on('end', () => console.log(`status ${res.statusCode}, ${body} body bytes, complete`));
  res.on('error', (err) => console.log(`status ${res.statusCode}, ${body} body bytes, then ${err.code}: ${err.message}`));
  res.on('aborted', () => console.log(`aborted after ${body} body bytes`));
});
req.on('error', (err) => console.log(`request error ${err.code}: ${err.message}`));
JS

start_server node "$WORK/app.js"
app_port=$SERVER_PORT
direct=$(node "$WORK/client.js" "http://127.0.0.1:$app_port/")
show "node client, straight to the real server:" "$direct"

start_hangup proxy-reset-after --set bytes=5000 --upstream "127.0.0.1:$app_port"
proxied=$(node "$WORK/client.js" "$HANGUP_URL")
show "node client, through hangup serve proxy-reset-after --set bytes=5000:" "$proxied"
status=0
curl -sS -o "$WORK/curl.body" -D "$WORK/curl.head" "$HANGUP_URL" 2>"$WORK/curl.err" || status=$?
received=$(($(wc -c <"$WORK/curl.head") + $(wc -c <"$WORK/curl.body")))
show "curl, through the same proxy:" "exit $status: $(cat "$WORK/curl.err")
received $received bytes, head included"
show_log

if [[ $direct == "status 200, 100001 body bytes, complete" && $proxied == *"ECONNRESET"* && $status == 56 && $received == 5000 ]]; then
  reproduced "the real server's response, cut by an RST after exactly 5,000 bytes: node ECONNRESET, curl (56)"
fi
not_reproduced "expected a complete response direct, and ECONNRESET and curl exit 56 after 5,000 bytes through the proxy"
