// A Node.js HTTP/2 client (`http2.connect`) that reports, one line per
// request, what it saw.
//
// usage: node node-h2-client.js [--ca FILE] URL [REQUESTS] [GAP_MS] [TIMEOUT_MS]
// One session, as an application keeps one: http:// is h2c with prior
// knowledge, https:// is h2 by ALPN, trusting only the CA in FILE
// (`hangup serve --tls-ca-out FILE`) when --ca is given. Requests go one
// after another on that session, GAP_MS apart, each a GET of URL's path.
// Output: "request N: status 200, 6 body bytes" or
//         "request N: error ERR_HTTP2_STREAM_ERROR: Stream closed with error
//          code NGHTTP2_REFUSED_STREAM (GOAWAY code 0, last stream 0)".
// A response that ended without an error but with the stream reset
// (rstCode, as when the connection closed before END_STREAM) says so:
// "status 200, 100 body bytes (rstCode=8)". The GOAWAY frames the session
// received before a request's outcome are named after it, with their
// error code, last stream id and debug data, as the 'goaway' event gives
// them.
// Exit code: 0 when every request succeeded (an 'end' with rstCode 0),
// 1 otherwise.
'use strict';
const fs = require('fs');
const http2 = require('http2');

const args = process.argv.slice(2);
let ca;
if (args[0] === '--ca') {
  ca = fs.readFileSync(args[1]);
  args.splice(0, 2);
}
const [url, count = '1', gapMs = '0', timeoutMs = '5000'] = args;
const target = new URL(url);
const path = target.pathname + target.search;

const session = http2.connect(target.origin, { ca });
let failed = false;
// GOAWAYs not yet named in a request's line.
let goaways = [];
session.on('goaway', (code, last, data) => {
  const debug = data && data.length ? `, "${data.toString()}"` : '';
  goaways.push(`GOAWAY code ${code}, last stream ${last}${debug}`);
});
// The session's own error (the connection's end) is reported through the
// streams it ends; without a listener it would throw.
session.on('error', () => {});

// " (NOTE; GOAWAY ...; GOAWAY ...)": the notes given and the GOAWAYs
// seen so far, each GOAWAY told once.
function noted(...notes) {
  const all = notes.concat(goaways);
  goaways = [];
  return all.length ? ` (${all.join('; ')})` : '';
}

function once(n) {
  return new Promise((resolve) => {
    let status = null;
    let got = 0;
    let ended = false;
    let error = null;
    let reported = false;
    const report = (line, ok) => {
      if (reported) return;
      reported = true;
      if (!ok) failed = true;
      console.log(`request ${n}: ${line}`);
      resolve();
    };
    let req;
    try {
      req = session.request({ ':path': path });
    } catch (err) {
      // A session that received GOAWAY, or is gone, opens no stream.
      report(`error ${err.code || '-'}: ${err.message}${noted()}`, false);
      return;
    }
    req.setTimeout(Number(timeoutMs), () => {
      error = new Error('client timeout');
      req.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.on('response', (headers) => {
      status = headers[':status'];
    });
    req.on('data', (chunk) => {
      got += chunk.length;
    });
    req.on('end', () => {
      ended = true;
    });
    req.on('error', (err) => {
      error = error || err;
    });
    // 'close' comes last, with rstCode known: the outcome is told here.
    req.on('close', () => {
      const head = status === null ? '' : `status ${status}, `;
      const after = status === null ? '' : ` after ${got} body bytes`;
      if (error) {
        report(`${head}error ${error.code || '-'}: ${error.message}${after}${noted()}`, false);
      } else if (ended) {
        const reset = req.rstCode ? [`rstCode=${req.rstCode}`] : [];
        const response = status === null ? 'no response, ' : head;
        report(`${response}${got} body bytes${noted(...reset)}`, !req.rstCode);
      } else {
        report(`${head}error -: closed${after}${noted()}`, false);
      }
    });
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
  session.destroy();
  process.exitCode = failed ? 1 : 0;
})();
