// A Node.js HTTP client that reports, one line per request, what it saw.
//
// usage: node node-client.js [--ca FILE] URL [REQUESTS] [GAP_MS] [TIMEOUT_MS] [BODY_BYTES]
// Requests go one after another through a keep-alive agent with a single
// socket, GAP_MS apart, so request 2 reuses request 1's connection when
// the agent still holds it (the keep-alive reusedSocket race).
// An https:// URL goes through `https`, trusting only the CA in FILE
// (`hangup serve --tls-ca-out FILE`) when --ca is given. A host under
// `.localhost` is loopback, as curl and RFC 6761 have it, so
// `https://tls-expired.localhost:PORT/` reaches `serve --catalog --tls`
// and asks for that name (SNI) without a resolver that knows it.
// Output: "request N: status 200, 6 body bytes" or
//         "request N: error ECONNRESET: socket hang up (reusedSocket=true)".
// Exit code: 0 when every request succeeded, 1 otherwise.
'use strict';
const dns = require('dns');
const fs = require('fs');
const http = require('http');
const https = require('https');

const args = process.argv.slice(2);
let ca;
if (args[0] === '--ca') {
  ca = fs.readFileSync(args[1]);
  args.splice(0, 2);
}
const [url, count = '1', gapMs = '0', timeoutMs = '5000', bodyBytes = '0'] = args;
const client = new URL(url).protocol === 'https:' ? https : http;

// `*.localhost` to 127.0.0.1, any other name as usual. Node asks with
// `all: true` when it tries several addresses (autoSelectFamily).
function lookup(host, options, callback) {
  if (!host.endsWith('.localhost')) return dns.lookup(host, options, callback);
  if (options.all) return callback(null, [{ address: '127.0.0.1', family: 4 }]);
  return callback(null, '127.0.0.1', 4);
}

const agent = new client.Agent({ keepAlive: true, maxSockets: 1, ca, lookup });
let failed = false;

// An OpenSSL error in a message, as in `write EPROTO 80BCE3BFC87F0000:error:
// 0A000438:SSL routines:ssl3_read_bytes:tlsv1 alert internal error:../deps/
// openssl/openssl/ssl/record/rec_layer_s3.c:1601:SSL alert number 80\n`,
// becomes its reason and detail, `tlsv1 alert internal error (SSL alert
// number 80)`: the rest is a thread id that changes every run and where
// in OpenSSL's sources the error was raised, which changes with Node's
// version, not with what the server did.
function words(message) {
  return message
    .replace(/[0-9A-F]+:error:[0-9A-F]+:[^:]*:[^:]*:([^:]*):[^:]*:\d+:([^\n]*)\n?/g,
      (_, reason, detail) => (detail ? `${reason} (${detail})` : reason))
    .trim();
}

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
    const req = client.request(url, {
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
        report(`status ${res.statusCode}, error ${err.code || '-'}: ${words(err.message)} after ${got} body bytes`, false);
      });
      res.on('close', () => {
        if (!res.complete) report(`status ${res.statusCode}, error -: closed after ${got} body bytes`, false);
      });
    });
    req.on('error', (err) => {
      // Once a response has started, its own events tell the outcome.
      if (response) return;
      report(`error ${err.code || '-'}: ${words(err.message)} (reusedSocket=${req.reusedSocket})`, false);
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
