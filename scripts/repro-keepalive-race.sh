#!/usr/bin/env bash
# The keep-alive reusedSocket race: a keep-alive agent reuses an idle socket just as the server
# closes it, and the request fails with ECONNRESET. Node's docs for
# request.reusedSocket advise retrying exactly then. hangup makes the race
# deterministic: keepalive-reset answers the first request and resets the
# socket when the second one arrives on it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
. "$(dirname "$0")/lib/common.sh"

# The docs' client: a keep-alive agent, two requests, and optionally the
# retry pattern `if (req.reusedSocket && err.code === 'ECONNRESET') retry`.
cat >"$WORK/agent.js" <<'JS'
const http = require('http');
const [url, mode] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true });

function get(label, mayRetry) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        console.log(`${label}: status ${res.statusCode} (reusedSocket=${req.reusedSocket})`);
        resolve();
      });
    });
    req.on('error', (err) => {
      console.log(`${label}: ${err.code} ${err.message} (reusedSocket=${req.reusedSocket})`);
      if (mayRetry && req.reusedSocket && err.code === 'ECONNRESET') {
        console.log(`${label}: retrying on a new socket, as the docs advise`);
        get(`${label} (retry)`, false).then(resolve);
      } else {
        resolve();
      }
    });
  });
}

(async () => {
  await get('request 1', false);
  await get('request 2', mode === 'retry');
  agent.destroy();
})();
JS

start_hangup keepalive-reset
echo "1. Two requests through a keep-alive agent; the server resets the reused socket."
plain=$(node "$WORK/agent.js" "$HANGUP_URL" plain 2>&1)
show "node printed:" "$plain"
echo
echo "2. The same, with the retry pattern from Node's docs."
retried=$(node "$WORK/agent.js" "$HANGUP_URL" retry 2>&1)
show "node printed:" "$retried"
show_log

if [[ $plain == *"request 2: ECONNRESET"*"(reusedSocket=true)"* && $retried == *"request 2 (retry): status 200"* ]]; then
  reproduced "request 2 failed with ECONNRESET on a reused socket; the docs' retry recovered it"
fi
not_reproduced "expected ECONNRESET with reusedSocket=true, then a successful retry"
