#!/usr/bin/env bash
# Node's 2-minute server timeout: before Node 13, http.Server destroyed any socket whose request
# took longer than server.timeout (120 s), and the client got
# "Error: socket hang up" with code ECONNRESET. hangup plays that server
# with `after` shortened to 1 s; then a server that answers in time (the
# seed's fix, server.setTimeout(0), lets the slow handler finish) succeeds.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# The seed's client: an upload that waits for the server's answer.
cat >"$WORK/upload.js" <<'JS'
const http = require('http');
const started = Date.now();
const req = http.request(process.argv[2], { method: 'POST' }, (res) => {
  res.resume();
  res.on('end', () => console.log(`status ${res.statusCode} after ${Date.now() - started} ms`));
});
req.on('error', (err) => {
  console.log(`after ${Date.now() - started} ms:`);
  console.log(err);
});
req.end(Buffer.alloc(256 * 1024, 'x'));
JS

echo "1. The old Node server: the request takes longer than server.timeout (1 s here)."
start_hangup server-timeout --set after=1s
broken=$(node "$WORK/upload.js" "$HANGUP_URL" 2>&1)
show "node printed:" "$broken"
show_log
stop_hangup

echo
echo "2. The fix: the server lets the slow handler finish (server.setTimeout(0))."
cat >"$WORK/fixed.hup" <<'HUP'
# The same slow handler, with no server timeout: it answers after 1.5 s.
read request
sleep 1500ms
respond 200 body "upload stored\n"
HUP
start_hangup "$WORK/fixed.hup"
fixed=$(node "$WORK/upload.js" "$HANGUP_URL" 2>&1)
show "node printed:" "$fixed"
show_log

if [[ $broken == *"Error: socket hang up"* && $broken == *"code: 'ECONNRESET'"* && $fixed == "status 200"* ]]; then
  reproduced "node got 'socket hang up' (ECONNRESET) from the timed-out server, and status 200 once the server waited"
fi
not_reproduced "expected 'socket hang up' / ECONNRESET, then status 200"
