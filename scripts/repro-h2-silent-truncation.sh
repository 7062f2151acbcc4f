#!/usr/bin/env bash
# Node's http2 client ends a response normally when the connection dies
# before the stream's END_STREAM: a truncated body, and no error.
#
# nodejs/node#35209 (2020, open), "http2: Client can return partial
# response (instead of error emit)": "Validate that `content-length` bytes
# have been received. [...] What is the expected behavior? http2 client
# emits an error. What do you see instead? No error. Just a partial
# response, with less than `content-length` bytes." (found through got,
# sindresorhus/got#1462; there the stream ended with RST_STREAM NO_ERROR,
# nghttp2/nghttp2#1508). curl had the same hole until curl/curl#6736
# (2021), "http2: fail if connection terminated without END_STREAM": "if
# the server doesn't provide `Content-Length` [...] our current behavior
# is to exit without error, leaving incomplete data. The misbehavior makes
# downstream programs unexpectedly cache incomplete files"; since then
# curl says "(18) HTTP/2 stream 1 was not closed cleanly before end of the
# underlying stream".
#
# hangup's h2-goaway-drain-cut is such a server: HEADERS 200 and 100 bytes
# of body, GOAWAY, then FIN, never END_STREAM. Node's stream emits 'end'
# after the 100 bytes and no 'error'; only its rstCode (8,
# NGHTTP2_CANCEL, where a whole response has 0) tells. A content-length of
# 1000 does not make Node notice, nor does a TCP RST in place of the FIN.
# curl fails each time, and so does Python's httpx.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# A client as the reports write one: read the body until 'end'; 'error'
# would say it failed. What 'close' finds in rstCode, on the last line.
cat >"$WORK/client.js" <<'JS'
const http2 = require('http2');
const session = http2.connect(process.argv[2]);
session.on('error', () => {});
const req = session.request({ ':path': '/' });
let status = '-';
let bytes = 0;
req.on('response', (headers) => (status = headers[':status']));
req.on('data', (chunk) => (bytes += chunk.length));
req.on('end', () => console.log(`'end': status ${status}, ${bytes} body bytes`));
req.on('error', (err) => console.log(`'error': ${err.code}: ${err.message}`));
req.on('close', () => {
  console.log(`'close': rstCode ${req.rstCode}`);
  session.close();
});
req.end();
JS

# The cut with a content-length the body falls short of.
cat >"$WORK/content-length.hup" <<'HUP'
# 100 of the 1000 bytes content-length promises, GOAWAY, FIN.
read request
h2 headers 200 header "content-type: text/plain" header "content-length: 1000"
h2 data repeat 100 "x"
h2 goaway last-stream current
half-close
read until eof within 1s else close
HUP

# The cut by an RST, no GOAWAY.
cat >"$WORK/reset.hup" <<'HUP'
# 100 bytes of body, then RST.
read request
h2 headers 200 header "content-type: text/plain"
h2 data repeat 100 "x"
reset
HUP

# curl over h2c: its exit status and message.
curl_run() {
  local status=0
  curl -sS -o /dev/null --http2-prior-knowledge -m 5 "$HANGUP_URL" 2>"$WORK/curl.err" || status=$?
  printf 'exit %s: %s' "$status" "$(cat "$WORK/curl.err")"
}

# Python's httpx with h2, where it is installed (scripts/test.sh puts it
# in target/py): one line, or nothing.
python=
for candidate in "$(cargo_target_dir)/py/bin/python3" python3; do
  if "$candidate" -c 'import httpx, h2' 2>/dev/null; then
    python=$candidate
    break
  fi
done
httpx_run() {
  [[ -n $python ]] || return 0
  "$python" "$ROOT/scripts/clients/python-h2-client.py" "$HANGUP_URL" 2>&1 | sed 's/^request 1: /httpx: /' || true
}

echo "1. hangup serve h2-goaway-drain-cut: 200, 100 bytes, GOAWAY, FIN, never END_STREAM."
start_hangup h2-goaway-drain-cut
cut_node=$(node "$WORK/client.js" "$HANGUP_URL" 2>&1)
cut_curl=$(curl_run)
cut_httpx=$(httpx_run)
show "node's http2 client printed:" "$cut_node"
show "curl --http2-prior-knowledge printed:" "$cut_curl"
[[ -z $python ]] || show "python's httpx printed:" "$cut_httpx"
show_log
stop_hangup

echo
echo "2. The same cut, with content-length: 1000."
start_hangup "$WORK/content-length.hup"
length_node=$(node "$WORK/client.js" "$HANGUP_URL" 2>&1)
length_curl=$(curl_run)
show "node's http2 client printed:" "$length_node"
show "curl printed:" "$length_curl"
stop_hangup

echo
echo "3. 100 bytes, then a TCP RST: no GOAWAY, no FIN."
start_hangup "$WORK/reset.hup"
reset_node=$(node "$WORK/client.js" "$HANGUP_URL" 2>&1)
reset_curl=$(curl_run)
show "node's http2 client printed:" "$reset_node"
show "curl printed:" "$reset_curl"
stop_hangup

echo
echo "4. hangup serve h2-hello: a whole response, for the rstCode a client can check."
start_hangup h2-hello
whole_node=$(node "$WORK/client.js" "$HANGUP_URL" 2>&1)
show "node's http2 client printed:" "$whole_node"
stop_hangup

cut=$'\'end\': status 200, 100 body bytes\n\'close\': rstCode 8'
if [[ $cut_node == "$cut" && $length_node == "$cut" && $reset_node == "$cut" &&
  $whole_node == $'\'end\': status 200, 6 body bytes\n\'close\': rstCode 0' &&
  $cut_curl == "exit 18: curl: (18) HTTP/2 stream 1 was not closed cleanly before end of the underlying stream" &&
  $length_curl == "exit 18: "* && $reset_curl == "exit 5"[56]": "*"reset by peer" ]]; then
  # curl meets the RST on a read (56) or on the write of its SETTINGS
  # acknowledgement (55), as the segments fall: a reset either way.
  reproduced "node's http2 client ends a response cut before END_STREAM with 'end' and no error (100 body bytes; rstCode 8, where a whole one has 0), with a content-length of 1000 too, and after a TCP RST; curl says (18) not closed cleanly, and 'Connection reset by peer' for the RST"
fi
not_reproduced "expected node's 'end' without an error after 100 bytes (rstCode 8) in all three cuts, and curl to fail each"
