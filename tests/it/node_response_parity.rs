//! hangup's response check refuses what Node's client refuses, and names
//! what Python's `http.client` refuses too.
//!
//! Every response below is served raw by a plain `TcpListener` (written
//! whole, then a FIN after 50 ms, or the connection left open), fetched by
//! a live Node client (`http.request` on a keep-alive agent, as `http.get`
//! does) and, for single requests, by Python's `http.client`. For each,
//! `hangup::http::check_response_bytes` must report a violation that
//! Node refuses exactly when Node failed, naming the fault Node named, and
//! one that Python refuses exactly when Python failed. Python is left out
//! of pipelined cases: `http.client` cannot read a second response that
//! arrived with the first. A case Node neither answers nor refuses (it
//! waits on) is given a short wait, and must be refused by Python alone.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Fetches every case at once; prints `ID<TAB>ok`, `ID<TAB>error CODE
/// MESSAGE`, or `ID<TAB>timeout` when the case's wait (ms) passed first.
const NODE_CLIENT: &str = r#"
const http = require('http');
const [port, ...cases] = process.argv.slice(1);
function one(spec) { return new Promise(resolve => {
  const [id, method, requests, wait] = spec.split(':');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let done = 0, finished = false;
  const finish = (r) => { if (!finished) { finished = true; clearTimeout(t); agent.destroy(); resolve(r); } };
  const t = setTimeout(() => finish('timeout'), Number(wait));
  const fail = (e) => finish('error ' + (e.code || '') + ' ' + e.message);
  for (let i = 0; i < Number(requests); i++) {
    const req = http.request({ host: '127.0.0.1', port, path: '/' + id, method, agent }, res => {
      res.on('data', () => {});
      res.on('error', fail);
      // An error may follow the end: wait for it.
      res.on('end', () => { if (++done === Number(requests)) setTimeout(() => finish('ok'), 150); });
    });
    req.on('error', fail);
    req.end();
  }
}).then(r => console.log(id_of(spec) + '\t' + r.replace(/\s+/g, ' '))); }
const id_of = (spec) => spec.split(':')[0];
Promise.all(cases.map(one));
"#;

/// The same, one case after another, with `http.client`.
const PYTHON_CLIENT: &str = r#"
import http.client, sys
port = int(sys.argv[1])
for spec in sys.argv[2:]:
    cid, method = spec.split(':')[:2]
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=3)
        conn.request(method, '/' + cid)
        conn.getresponse().read()
        conn.close()
        result = 'ok'
    except Exception as e:
        result = 'error ' + type(e).__name__ + ' ' + ' '.join(str(e).split())[:80]
    print(cid + '\t' + result, flush=True)
"#;

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    head: bool,
    requests: usize,
    keep_open: bool,
    /// The kind of the first violation Node refuses, if Node refuses.
    fault: Option<&'static str>,
    /// Node neither answers nor refuses: it waits for more.
    node_waits: bool,
}

fn case(name: &'static str, bytes: &[u8], fault: Option<&'static str>) -> Case {
    Case {
        name,
        bytes: bytes.to_vec(),
        head: false,
        requests: 1,
        keep_open: false,
        fault,
        node_waits: false,
    }
}

impl Case {
    fn head(mut self) -> Case {
        self.head = true;
        self
    }
    fn open(mut self) -> Case {
        self.keep_open = true;
        self
    }
    fn requests(mut self, n: usize) -> Case {
        self.requests = n;
        self
    }
    fn node_waits(mut self) -> Case {
        self.node_waits = true;
        self
    }
}

/// How long Node is given for a case it waits on (others get 3 s).
const NODE_WAIT_MS: u64 = 500;

/// A chunked response whose trailer counts `counted` bytes of names and
/// values ("X-T" and the value), in `lines` lines.
fn trailer(counted: usize, lines: usize) -> Vec<u8> {
    let mut trailer = Vec::new();
    for i in 0..lines {
        let name = format!("X-{i:03}");
        let share = counted / lines - name.len() + usize::from(i < counted % lines);
        trailer.extend_from_slice(format!("{name}: {}\r\n", "t".repeat(share)).as_bytes());
    }
    chunked(&[b"5\r\nhello\r\n0\r\n".as_slice(), &trailer, b"\r\n"].concat())
}

/// A chunked response whose first chunk's extensions count `counted`
/// bytes: `;a=VALUE`, or `;a="VALUE"` (the quotes count).
fn extension(counted: usize, quoted: bool) -> Vec<u8> {
    let value = if quoted {
        format!("\"{}\"", "v".repeat(counted - 3))
    } else {
        "v".repeat(counted - 1)
    };
    chunked(format!("5;a={value}\r\nhello\r\n0\r\n\r\n").as_bytes())
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

fn chunked(body: &[u8]) -> Vec<u8> {
    [CHUNKED, body].concat()
}

/// A head whose status text, names and values count `counted` bytes.
fn sized(counted: usize) -> Vec<u8> {
    // "OK", "X-Big", "Content-Length" and "0" count 22.
    let big = "a".repeat(counted - 22);
    format!("HTTP/1.1 200 OK\r\nX-Big: {big}\r\nContent-Length: 0\r\n\r\n").into_bytes()
}

fn with_header(line: &[u8]) -> Vec<u8> {
    [
        b"HTTP/1.1 200 OK\r\n".as_slice(),
        line,
        b"\r\nContent-Length: 5\r\n\r\nhello",
    ]
    .concat()
}

fn status(line: &[u8]) -> Vec<u8> {
    [line, b"\r\nContent-Length: 5\r\n\r\nhello"].concat()
}

fn cases() -> Vec<Case> {
    let x31 = [OK, &[b'x'; 31]].concat();
    let close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello";
    let many: Vec<u8> = (0..120).flat_map(|i| format!("X-{i}: a\r\n").into_bytes()).collect();
    let long = format!("X-Big: {}", "a".repeat(70_000));
    vec![
        // Valid.
        case("ok", OK, None),
        case("ok-open", OK, None).open(),
        case("ok-http10", b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello", None),
        case("until-close", b"HTTP/1.1 200 OK\r\n\r\nhello", None),
        case("until-close-http10", b"HTTP/1.0 200 OK\r\n\r\nhello", None),
        case("cl-zero", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", None),
        case(
            "cl-trailing-space",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5 \r\n\r\nhello",
            None,
        ),
        case("crlf-after-body", &[OK, b"\r\n"].concat(), None),
        case("two-pipelined", &[OK, OK].concat(), None).requests(2),
        case("two-pipelined-open", &[OK, OK].concat(), None).requests(2).open(),
        case("unrequested-response", &[OK, OK].concat(), None),
        case("chunked", &chunked(b"5\r\nhello\r\n0\r\n\r\n"), None),
        case("chunked-open", &chunked(b"5\r\nhello\r\n0\r\n\r\n"), None).open(),
        case("chunk-ext", &chunked(b"5;a=b\r\nhello\r\n0\r\n\r\n"), None),
        case("chunk-ext-quoted", &chunked(b"5;a=\"b c\"\r\nhello\r\n0\r\n\r\n"), None),
        case("chunk-trailer", &chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), None),
        case("chunk-upper-hex", &chunked(b"A\r\nhellohello\r\n0\r\n\r\n"), None),
        case(
            "te-gzip",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nhello",
            None,
        ),
        case(
            "te-chunked-gzip",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nhello",
            None,
        ),
        case(
            "te-upper",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            None,
        ),
        case("head-16383", &sized(16_383), None),
        case("value-obs-text", &with_header(b"X-A: a\xe9b"), None),
        case("value-tab", &with_header(b"X-A: a\tb"), None),
        case("head-request", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", None).head(),
        case("204", b"HTTP/1.1 204 No Content\r\n\r\n", None),
        case("crlf-before-status", &[b"\r\n", OK].concat(), None),
        case("status-no-reason", &status(b"HTTP/1.1 200"), None),
        case("status-no-reason-space", &status(b"HTTP/1.1 200 "), None),
        case("status-http20", &status(b"HTTP/2.0 200 OK"), None),
        case("status-http09", &status(b"HTTP/0.9 200 OK"), None),
        case("status-999", &status(b"HTTP/1.1 999 Weird"), None),
        case("status-099", &status(b"HTTP/1.1 099 Weird"), None),
        case("reason-ctl", &status(b"HTTP/1.1 200 O\x01K"), None),
        case("reason-utf8", &status(b"HTTP/1.1 200 \xc3\xa9"), None),
        case("interim-100", &[b"HTTP/1.1 100 Continue\r\n\r\n", OK].concat(), None),
        case("interim-102", &[b"HTTP/1.1 102 Processing\r\n\r\n", OK].concat(), None),
        case(
            "interim-103",
            &[b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", OK].concat(),
            None,
        ),
        case(
            "many-headers",
            &[
                b"HTTP/1.1 200 OK\r\n",
                many.as_slice(),
                b"Content-Length: 5\r\n\r\nhello",
            ]
            .concat(),
            None,
        ),
        case("close-left-open", close, None).open(),
        case("chunk-ext-no-value", &chunked(b"5;a=\r\nhello\r\n0\r\n\r\n"), None),
        case("chunk-ext-two", &chunked(b"5;a=b;c\r\nhello\r\n0\r\n\r\n"), None),
        case("rtsp", &status(b"RTSP/1.0 200 OK"), None),
        case("value-spaces", &with_header(b"X-A:    a   "), None),
        case(
            "head-lead-ws-16384",
            format!(
                "HTTP/1.1 200 OK\r\nX-Big:    {}\r\nContent-Length: 0\r\n\r\n",
                "a".repeat(16_384 - 23)
            )
            .as_bytes(),
            None,
        ),
        case(
            "interim-then-crlf",
            &[b"HTTP/1.1 103 Early Hints\r\n\r\n\r\n", OK].concat(),
            None,
        ),
        case(
            "cl-leading-zero",
            b"HTTP/1.1 200 OK\r\nContent-Length: 005\r\n\r\nhello",
            None,
        ),
        case("te-empty", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\nhello", None),
        case(
            "te-http10",
            b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            None,
        ),
        case("reason-nul", &status(b"HTTP/1.1 200 O\x00K"), None),
        case("trailer-16383", &trailer(16_383, 1), None),
        case("trailer-16383-in-160-lines", &trailer(16_383, 160), None),
        // Counted afresh after the head: 10 KiB of each is fine.
        case(
            "head-10k-trailer-10k",
            &[
                format!(
                    "HTTP/1.1 200 OK\r\nX-Big: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "a".repeat(10_000)
                )
                .as_bytes(),
                &trailer(10_000, 1)[CHUNKED.len()..],
            ]
            .concat(),
            None,
        ),
        case("chunk-ext-16384", &extension(16_384, false), None),
        case("chunk-ext-quoted-16384", &extension(16_384, true), None),
        // Counted afresh for every chunk.
        case(
            "chunk-ext-two-10k",
            &chunked(format!("5;a={0}\r\nhello\r\n5;a={0}\r\nhello\r\n0\r\n\r\n", "v".repeat(10_000)).as_bytes()),
            None,
        ),
        // Data after the body.
        case("after-body-31", &x31, Some("data-after-body")),
        case("after-body-31-open", &x31, Some("data-after-body")).open(),
        case(
            "after-close",
            &[close.as_slice(), &[b'x'; 31]].concat(),
            Some("data-after-body"),
        ),
        case(
            "http10-after",
            &[b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello".as_slice(), b"xyz"].concat(),
            Some("data-after-body"),
        ),
        case(
            "http10-keep-alive-after",
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhelloxyz",
            Some("data-after-body"),
        ),
        case(
            "after-last-chunk",
            &chunked(b"5\r\nhello\r\n0\r\n\r\nxyz"),
            Some("data-after-body"),
        ),
        case("head-stray-5", OK, Some("body-not-allowed")).head(),
        case("head-stray-5-open", OK, Some("body-not-allowed")).head().open(),
        // The issue's `-X HEAD --requests 2`: the stray bytes break the second.
        case("head-stray-5-two-requests", OK, Some("body-not-allowed"))
            .head()
            .requests(2)
            .open(),
        case(
            "204-body",
            b"HTTP/1.1 204 No Content\r\n\r\nhello",
            Some("body-not-allowed"),
        ),
        case(
            "204-cl-body",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
            Some("body-not-allowed"),
        ),
        case(
            "304-body",
            b"HTTP/1.1 304 Not Modified\r\n\r\nhello",
            Some("body-not-allowed"),
        ),
        case(
            "interim-100-body",
            &[b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nabc", OK].concat(),
            Some("body-not-allowed"),
        ),
        // Line ends.
        case(
            "bare-lf-all",
            b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
            Some("bare-lf"),
        ),
        case(
            "bare-lf-status",
            b"HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\nhello",
            Some("bare-lf"),
        ),
        case(
            "bare-lf-header",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\n\r\nhello",
            Some("bare-lf"),
        ),
        case(
            "bare-lf-end",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\nhello",
            Some("bare-lf"),
        ),
        case(
            "cr-only",
            b"HTTP/1.1 200 OK\rContent-Length: 5\r\r\nhello",
            Some("lone-cr"),
        ),
        case("value-cr", &with_header(b"X-A: a\rb"), Some("lone-cr")),
        // Content-Length and Transfer-Encoding.
        case(
            "cl-twice-same",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            Some("duplicate-content-length"),
        ),
        case(
            "cl-twice",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
            Some("duplicate-content-length"),
        ),
        case(
            "cl-comma",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-plus",
            b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-minus",
            b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-empty",
            b"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-inner-space",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-hex",
            b"HTTP/1.1 200 OK\r\nContent-Length: 0x5\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-huge",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "cl-tab",
            b"HTTP/1.1 200 OK\r\nContent-Length:\t5\t\r\n\r\nhello",
            Some("invalid-content-length"),
        ),
        case(
            "te-gzip-and-cl",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 5\r\n\r\nhello",
            Some("content-length-with-transfer-encoding"),
        ),
        case(
            "cl-then-te",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Some("content-length-with-transfer-encoding"),
        ),
        case(
            "te-then-cl",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            Some("content-length-with-transfer-encoding"),
        ),
        // Chunks.
        case("chunk-0x5", &chunked(b"0x5\r\nhello\r\n0\r\n\r\n"), Some("chunk-size")),
        case(
            "chunk-space-after",
            &chunked(b"5 \r\nhello\r\n0\r\n\r\n"),
            Some("chunk-size"),
        ),
        case(
            "chunk-space-before",
            &chunked(b" 5\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-size"),
        ),
        case(
            "chunk-ext-space",
            &chunked(b"5 ;a=b\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-size"),
        ),
        case("chunk-zz", &chunked(b"zz\r\nhello\r\n0\r\n\r\n"), Some("chunk-size")),
        case(
            "chunk-huge",
            &chunked(b"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-size"),
        ),
        case(
            "chunk-ext-empty",
            &chunked(b"5;\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-extension"),
        ),
        case(
            "chunk-ext-space-in",
            &chunked(b"5;a b\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-extension"),
        ),
        case(
            "chunk-ext-space-after-semi",
            &chunked(b"5; a=b\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-extension"),
        ),
        case(
            "chunk-ext-quoted-ctl",
            &chunked(b"5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n"),
            Some("chunk-extension"),
        ),
        case(
            "trailer-bad-name",
            &chunked(b"5\r\nhello\r\n0\r\nX T: 1\r\n\r\n"),
            Some("header-name"),
        ),
        case("trailer-bare-lf", &chunked(b"5\r\nhello\r\n0\r\n\n"), Some("bare-lf")),
        case(
            "chunk-no-crlf",
            &chunked(b"5\r\nhelloX\r\n0\r\n\r\n"),
            Some("chunk-data-end"),
        ),
        case("chunk-lf-only", &chunked(b"5\nhello\n0\n\n"), Some("bare-lf")),
        // The head's size.
        case("head-16384", &sized(16_384), Some("head-too-large")),
        case("head-70000", &sized(70_000), Some("head-too-large")),
        case("line-70k", &with_header(long.as_bytes()), Some("head-too-large")),
        case("trailer-16384", &trailer(16_384, 1), Some("trailer-too-large")),
        case(
            "trailer-20k-in-200-lines",
            &trailer(20_000, 200),
            Some("trailer-too-large"),
        ),
        case(
            "chunk-ext-16385",
            &extension(16_385, false),
            Some("chunk-extensions-too-large"),
        ),
        case(
            "chunk-ext-quoted-16385",
            &extension(16_385, true),
            Some("chunk-extensions-too-large"),
        ),
        case(
            "chunk-ext-20k",
            &extension(20_000, false),
            Some("chunk-extensions-too-large"),
        ),
        case(
            "chunk-ext-20k-last-chunk",
            &chunked(format!("5\r\nhello\r\n0;a={}\r\n\r\n", "v".repeat(20_000)).as_bytes()),
            Some("chunk-extensions-too-large"),
        ),
        // Empty lines before the status line, and nothing else: Node waits
        // on (it skips them without a limit), Python refuses the first.
        case("crlf-run-open", &b"\r\n".repeat(50_000), None).open().node_waits(),
        case("crlf-run-then-fin", &b"\r\n".repeat(50_000), Some("truncated")),
        // Header names and values.
        case(
            "name-space",
            b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
            Some("header-name"),
        ),
        case("name-paren", &with_header(b"X(A): b"), Some("header-name")),
        case("name-utf8", &with_header(b"X-\xc3\xa9: b"), Some("header-name")),
        case("no-colon", &with_header(b"X-A b"), Some("header-name")),
        case("empty-name", &with_header(b": b"), Some("header-name")),
        case("value-ctl", &with_header(b"X-A: a\x01b"), Some("header-value")),
        case("value-nul", &with_header(b"X-A: a\x00b"), Some("header-value")),
        case("value-del", &with_header(b"X-A: a\x7fb"), Some("header-value")),
        case("obs-fold", &with_header(b"X-A: a\r\n b"), Some("obs-fold")),
        case("obs-fold-tab", &with_header(b"X-A: a\r\n\tb"), Some("obs-fold")),
        case("space-first-line", &with_header(b" X-A: a"), Some("obs-fold")),
        // The status line.
        case("stray-before", &[b"xyz", OK].concat(), Some("stray-before-status")),
        case("garbage", b"\x16\x03\x01\x02\x00", Some("status-line")),
        case("status-lower", &status(b"http/1.1 200 OK"), Some("status-line")),
        case("status-2-digits", &status(b"HTTP/1.1 20 OK"), Some("status-line")),
        case("status-4-digits", &status(b"HTTP/1.1 2000 OK"), Some("status-line")),
        case("status-alpha", &status(b"HTTP/1.1 2x0 OK"), Some("status-line")),
        case("status-two-spaces", &status(b"HTTP/1.1  200 OK"), Some("status-line")),
        case("status-http12", &status(b"HTTP/1.2 200 OK"), Some("status-line")),
        case("status-http30", &status(b"HTTP/3.0 200 OK"), Some("status-line")),
        case(
            "status-leading-space",
            &status(b" HTTP/1.1 200 OK"),
            Some("stray-before-status"),
        ),
        case(
            "head-trailing-ws-16384",
            format!(
                "HTTP/1.1 200 OK\r\nX-Big: {}   \r\nContent-Length: 0\r\n\r\n",
                "a".repeat(16_384 - 23)
            )
            .as_bytes(),
            Some("head-too-large"),
        ),
        case("status-tab", &status(b"HTTP/1.1\t200 OK"), Some("status-line")),
        // Cut short.
        case("empty", b"", Some("truncated")),
        case("mid-head", b"HTTP/1.1 200 OK\r\nContent-Le", Some("truncated")),
        case(
            "short-body",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
            Some("truncated"),
        ),
        case("no-last-chunk", &chunked(b"5\r\nhello\r\n"), Some("truncated")),
    ]
}

/// The violation kinds that name the fault Node's error names.
fn kinds_for(node_error: &str) -> &'static [&'static str] {
    let table: &[(&str, &[&str])] = &[
        ("HPE_CR_EXPECTED", &["bare-lf"]),
        ("Expected LF after chunk data", &["chunk-data-end"]),
        ("chunk extensions", &["chunk-extension"]),
        ("HPE_STRICT", &["lone-cr"]),
        ("HPE_LF_EXPECTED", &["lone-cr"]),
        ("Duplicate Content-Length", &["duplicate-content-length"]),
        ("can't be present with", &["content-length-with-transfer-encoding"]),
        ("HPE_INVALID_CONTENT_LENGTH", &["invalid-content-length"]),
        ("HPE_INVALID_CHUNK_SIZE", &["chunk-size"]),
        ("HPE_INVALID_EXTENSION", &["chunk-extension"]),
        ("HPE_HEADER_OVERFLOW", &["head-too-large", "trailer-too-large"]),
        ("HPE_CHUNK_EXTENSIONS_OVERFLOW", &["chunk-extensions-too-large"]),
        ("Invalid header value char", &["header-value"]),
        ("Unexpected whitespace after header value", &["obs-fold"]),
        ("HPE_UNEXPECTED_SPACE", &["obs-fold"]),
        // llhttp reads a bare LF that ends the head as a header name byte.
        ("Invalid header field char", &["header-name", "bare-lf"]),
        ("Invalid header token", &["header-name"]),
        ("Data after `Connection: close`", &["data-after-body"]),
        (
            "Expected HTTP/",
            &[
                "data-after-body",
                "body-not-allowed",
                "stray-before-status",
                "status-line",
            ],
        ),
        ("HPE_INVALID_STATUS", &["status-line"]),
        ("HPE_INVALID_VERSION", &["status-line"]),
        ("ECONNRESET", &["truncated"]),
    ];
    table
        .iter()
        .find(|(key, _)| node_error.contains(key))
        .map_or(&[], |(_, kinds)| kinds)
}

/// Serve `cases[i]` to the connection that asks for `/i`.
fn serve(cases: &[Case]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let responses: Vec<(Vec<u8>, bool)> = cases.iter().map(|c| (c.bytes.clone(), c.keep_open)).collect();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let responses = responses.clone();
            std::thread::spawn(move || answer(stream, &responses));
        }
    });
    port
}

fn answer(mut stream: TcpStream, responses: &[(Vec<u8>, bool)]) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let mut request = Vec::new();
    let mut buf = [0; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let path = request.split(|&b| b == b' ').nth(1).unwrap_or_default();
    let Some((bytes, keep_open)) = std::str::from_utf8(&path[1..])
        .ok()
        .and_then(|id| id.parse::<usize>().ok())
        .and_then(|id| responses.get(id))
    else {
        return;
    };
    if stream.write_all(bytes).is_err() {
        return;
    }
    if !keep_open {
        // Part of the case, not a wait for anything: the FIN comes on its
        // own, 50 ms after the response, as from a server that closes once
        // it has answered.
        std::thread::sleep(Duration::from_millis(50));
        stream.shutdown(Shutdown::Write).ok();
    }
    // Until the client leaves: closing with its bytes unread would be an RST.
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// Run a client program over `specs`; its answer for each case id.
fn run_client(program: &str, flag: &str, source: &str, port: u16, specs: &[String]) -> Vec<(usize, String)> {
    let output = Command::new(program)
        .arg(flag)
        .arg(source)
        .arg(port.to_string())
        .args(specs)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("failed to run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (id, result) = line.split_once('\t')?;
            Some((id.parse().ok()?, result.to_string()))
        })
        .collect()
}

#[test]
fn the_check_refuses_what_node_and_python_refuse() {
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let port = serve(&cases);
    let spec = |(i, c): (usize, &Case)| {
        let method = if c.head { "HEAD" } else { "GET" };
        let wait = if c.node_waits { NODE_WAIT_MS } else { 3000 };
        format!("{i}:{method}:{}:{wait}", c.requests)
    };
    let all: Vec<String> = cases.iter().enumerate().map(spec).collect();
    let single: Vec<String> = cases
        .iter()
        .enumerate()
        .filter(|(_, c)| c.requests == 1)
        .map(spec)
        .collect();
    let from_node = run_client("node", "-e", NODE_CLIENT, port, &all);
    let from_python = run_client("python3", "-c", PYTHON_CLIENT, port, &single);
    let answer =
        |answers: &[(usize, String)], i: usize| answers.iter().find(|(id, _)| *id == i).map(|(_, r)| r.clone());

    let mut differ = Vec::new();
    let mut table = Vec::new();
    let (mut node_refused, mut python_refused) = (0, 0);
    for (i, c) in cases.iter().enumerate() {
        let found = hangup::http::check_response_bytes(&c.bytes, &vec![c.head; c.requests], !c.keep_open);
        let refuses = |client: &str| {
            found.iter().find(|v| {
                let refused_by = v
                    .split_once(':')
                    .map_or("", |(head, _)| head)
                    .split(' ')
                    .nth(1)
                    .unwrap_or("");
                refused_by.split(',').any(|r| r == client)
            })
        };
        let node = answer(&from_node, i).unwrap_or_else(|| "no answer".into());
        if c.node_waits {
            // Neither an answer nor a refusal: the check must not say Node refuses.
            if node != "timeout" || refuses("node").is_some() || c.fault.is_some() {
                differ.push(format!("{}: node {node}, expected it to wait; check {found:?}", c.name));
            }
        }
        let node_fails = node != "ok" && !c.node_waits;
        node_refused += usize::from(node_fails);
        match (node_fails, refuses("node")) {
            (false, None) => {}
            (true, Some(v)) => {
                let kind = v.split(' ').next().unwrap_or("");
                if !kinds_for(&node).contains(&kind) || c.fault != Some(kind) {
                    differ.push(format!("{}: node {node}; check {v}; expected {:?}", c.name, c.fault));
                }
            }
            (_, v) => differ.push(format!("{}: node {node}; check {v:?}", c.name)),
        }
        if !node_fails && c.fault.is_some() {
            differ.push(format!("{}: node accepted what the table says it refuses", c.name));
        }
        let python = answer(&from_python, i);
        if let Some(python) = &python {
            let python_fails = python != "ok";
            python_refused += usize::from(python_fails);
            if python_fails != refuses("python").is_some() {
                differ.push(format!("{}: python {python}; check {found:?}", c.name));
            }
        }
        table.push(format!(
            "{:24} node {:60.60} python {:40.40} check {found:?}",
            c.name,
            node,
            python.unwrap_or_else(|| "-".into())
        ));
    }
    assert!(differ.is_empty(), "{}\n\n{}", differ.join("\n"), table.join("\n"));
    // The table exercises refusals and acceptances of both clients.
    assert!(
        node_refused >= 30 && cases.len() - node_refused >= 20,
        "{}",
        table.join("\n")
    );
    assert!(python_refused >= 10, "{}", table.join("\n"));
}
