#!/usr/bin/env bash
# Node's "Client network socket disconnected before secure TLS connection
# was established" (code ECONNRESET), from a server that takes the TCP
# connection, reads the ClientHello and closes it without a byte.
#
# GetStream/stream-js#526 (2022): "We are getting the error: `Client
# network socket disconnected before secure TLS connection was established.
# In the last 24 hours, we got 45k+ errors". apify/proxy-chain#40 (2019):
# "sometimes when running a server, it fails to secure a socket
# connection", with the stack `TLSSocket.onConnectEnd` and `code:
# 'ECONNRESET'`, while the proxy's own trace says "Target socket ended":
# the far side closed during the handshake. Node names the code
# ECONNRESET, but no RST came: `onConnectEnd` is the FIN. hangup's
# tls-close-on-hello is that far side, on demand; tls-reset-on-hello, the
# RST, makes Node say something else ("read ECONNRESET"), which tells the
# two apart.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# A plain https.get, as the reports' clients make (no certificate is ever
# sent, so no CA is needed).
cat >"$WORK/client.js" <<'JS'
const https = require('https');
https.get(process.argv[2], (res) => {
  console.log(`status ${res.statusCode}`);
  res.resume();
}).on('error', (err) => console.log(`error ${err.code}: ${err.message}`));
JS

# curl -sS URL: its exit status and message.
curl_run() {
  local status=0
  curl -sS -o /dev/null "$1" 2>"$WORK/curl.err" || status=$?
  printf 'exit %s: %s' "$status" "$(cat "$WORK/curl.err")"
}

echo "1. hangup serve tls-close-on-hello: the ClientHello read, then FIN."
start_hangup tls-close-on-hello
url="https://localhost:$HANGUP_PORT/"
close_node=$(node "$WORK/client.js" "$url" 2>&1)
close_curl=$(curl_run "$url")
show "node's https.get printed:" "$close_node"
show "curl printed:" "$close_curl"
show_log
stop_hangup

echo
echo "2. hangup serve tls-reset-on-hello: the ClientHello read, then RST."
start_hangup tls-reset-on-hello
url="https://localhost:$HANGUP_PORT/"
reset_node=$(node "$WORK/client.js" "$url" 2>&1)
reset_curl=$(curl_run "$url")
show "node's https.get printed:" "$reset_node"
show "curl printed:" "$reset_curl"
show_log

if [[ $close_node == "error ECONNRESET: Client network socket disconnected before secure TLS connection was established" &&
  $reset_node == "error ECONNRESET: read ECONNRESET" && $close_curl == "exit 35: "* ]]; then
  reproduced "node's https.get: ECONNRESET \"Client network socket disconnected before secure TLS connection was established\" when the server closes (FIN) after the ClientHello; an RST there is \"read ECONNRESET\" instead"
fi
not_reproduced "expected node to say \"Client network socket disconnected before secure TLS connection was established\" for the FIN and \"read ECONNRESET\" for the RST, and curl to exit 35"
