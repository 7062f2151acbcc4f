// A Node.js HTTP client that reports, one line per request, what it saw.
//
// usage: node node-client.js URL [REQUESTS] [GAP_MS] [TIMEOUT_MS] [BODY_BYTES]
// Requests go one after another through a keep-alive agent with a single
// socket, GAP_MS apart, so request 2 reuses request 1's connection when
// the agent still holds it (seed 001).
// Output: "request N: status 200, 6 body bytes" or
//         "request N: error ECONNRESET: socket hang up (reusedSocket=true)".
// Exit code: 0 when every request succeeded, 1 otherwise.
'use strict';
const http = require('http');

const [url, count = '1', gapMs = '0', timeoutMs = '5000', bodyBytes = '0'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let failed = false;

function once(n) {
  return new Promise((resolve) => {
    const size = Number(bodyBytes);
    let response = null;
    let got = 0;
    let reported = false;
    // Node may emit both the request's and the response's 'error' for one
    // failure, in either order: report the first outcome only.
    const report = (line, ok) => {
      if (reported) return;
      reported = true;
      if (!ok) failed = true;
      console.log(`request ${n}: ${line}`);
      resolve();
    };
    const req = http.request(url, {
      agent,
      method: size > 0 ? 'POST' : 'GET',
      headers: size > 0 ? { 'Content-Length': size } : {},
      // Before the socket connects too: a connect that never completes
      // (connect-timeout) would otherwise wait for the kernel's ~2 min.
      timeout: Number(timeoutMs),
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('response', (res) => {
      response = res;
      res.on('data', (chunk) => { got += chunk.length; });
      res.on('end', () => report(`status ${res.statusCode}, ${got} body bytes`, true));
      res.on('error', (err) => {
        report(`status ${res.statusCode}, error ${err.code || '-'}: ${err.message} after ${got} body bytes`, false);
      });
      res.on('close', () => {
        if (!res.complete) report(`status ${res.statusCode}, error -: closed after ${got} body bytes`, false);
      });
    });
    req.on('error', (err) => {
      // Once a response has started, its own events tell the outcome.
      if (response) return;
      report(`error ${err.code || '-'}: ${err.message} (reusedSocket=${req.reusedSocket})`, false);
    });
    if (size > 0) {
      req.write(Buffer.alloc(size, 'u'));
    }
    req.end();
  });
}

(async () => {
  for (let n = 1; n <= Number(count); n++) {
    if (n > 1 && Number(gapMs) > 0) {
      await new Promise((resolve) => setTimeout(resolve, Number(gapMs)));
    }
    await once(n);
  }
  agent.destroy();
  process.exitCode = failed ? 1 : 0;
})();
