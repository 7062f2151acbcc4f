//! hangup refuses what Node refuses, and accepts what Node accepts.
//!
//! Every request below goes to a live Node.js `http` server and to
//! `hangup serve bad-request`; the status of the first response must be the
//! same from both: 400 where Node's parser (llhttp) refuses the request,
//! 431 where its header count passes 16 KiB, 413 where one chunk's
//! extensions pass 16 KiB, 200 where it accepts it. The
//! Node server answers only once the whole body is in, as `read request`
//! does, so a malformed body is a 400 from both.
//!
//! Left out on purpose, because they are Node's server and not its parser
//! (`scenarios/README.md` shows how to write each in a scenario): the 400
//! for an HTTP/1.1 request without `Host`, the `100 Continue` for `Expect`,
//! and dropping a `CONNECT` that has no listener.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command};
use std::time::Duration;

use crate::support::Server;

const NODE_SERVER: &str = r#"
const http = require('http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'Content-Length': 2 }); res.end('ok'); });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
"#;

/// `(name, request bytes)`: valid and invalid request lines, URLs,
/// versions, header names and values, Content-Length and
/// Transfer-Encoding, chunk sizes, extensions and trailers.
const CASES: &[(&str, &[u8])] = &[
    ("ok", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("http10-nohost", b"GET / HTTP/1.0\r\n\r\n"),
    ("foo-method", b"FOO / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("lower-get", b"get / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("query", b"QUERY / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("msearch", b"M-SEARCH * HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("http2", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
    ("http09", b"GET / HTTP/0.9\r\nHost: x\r\n\r\n"),
    ("http12", b"GET / HTTP/1.2\r\nHost: x\r\n\r\n"),
    ("http20", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"),
    ("http30", b"GET / HTTP/3.0\r\nHost: x\r\n\r\n"),
    ("http11x", b"GET / HTTP/1.10\r\nHost: x\r\n\r\n"),
    ("lower-http", b"GET / http/1.1\r\nHost: x\r\n\r\n"),
    ("no-version", b"GET /\r\nHost: x\r\n\r\n"),
    ("bare-lf", b"GET / HTTP/1.1\nHost: x\n\n"),
    ("bare-lf-hdr", b"GET / HTTP/1.1\r\nHost: x\n\r\n"),
    ("space-before-colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("no-colon", b"GET / HTTP/1.1\r\nHost x\r\n\r\n"),
    ("empty-name", b"GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
    ("ctl-in-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"),
    ("nul-in-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"),
    ("del-in-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x7fb\r\n\r\n"),
    ("tab-in-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\tb\r\n\r\n"),
    ("obs-text-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\xe9b\r\n\r\n"),
    ("utf8-name", b"GET / HTTP/1.1\r\nHost: x\r\nX-\xc3\xa9: a\r\n\r\n"),
    ("bad-name-char", b"GET / HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n"),
    ("space-in-url", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("quote-in-url", b"GET /a\"b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("lt-in-url", b"GET /a<b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("brace-in-url", b"GET /a{b} HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("pipe-in-url", b"GET /a|b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("backslash-url", b"GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("caret-url", b"GET /a^b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("backtick-url", b"GET /a`b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("utf8-url", b"GET /\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("hash-url", b"GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("tab-url", b"GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("ctl-url", b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("del-url", b"GET /a\x7fb HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("abs-url", b"GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("star-url-get", b"GET * HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("options-star", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("no-slash-url", b"GET a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("two-spaces", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("trailing-space", b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n"),
    ("leading-crlf", b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("leading-space", b" GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("cl-plus", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +2\r\n\r\nab"),
    ("cl-neg", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -2\r\n\r\nab"),
    (
        "cl-space",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2 \r\n\r\nab",
    ),
    (
        "cl-inner-space",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\nab",
    ),
    (
        "cl-comma",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab",
    ),
    (
        "cl-dup-same",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
    ),
    (
        "cl-dup-diff",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
    ),
    ("cl-empty", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n"),
    ("cl-hex", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x2\r\n\r\nab"),
    (
        "cl-huge",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\nab",
    ),
    (
        "te-chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ),
    (
        "te-gzip-chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-gzip",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    ),
    (
        "te-identity",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
    ),
    (
        "te-and-cl",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ),
    (
        "te-CHUNKED",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: CHUNKED\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ),
    (
        "te-http10",
        b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-bad-size",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-space-size",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-no-crlf",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n0\r\n\r\n",
    ),
    (
        "chunk-lf-only",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n",
    ),
    (
        "chunk-trailer",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\n",
    ),
    (
        "chunk-huge",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nab\r\n0\r\n\r\n",
    ),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
    ("tls-ish", b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03"),
    ("binary", b"\x00\x01\x02\x03\r\n\r\n"),
    ("header-no-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A:\r\n\r\n"),
    ("header-cr-in-value", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"),
    (
        "connection-upgrade",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n",
    ),
    ("dup-host", b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
    ("cr-only-eol", b"GET / HTTP/1.1\rHost: x\r\r"),
    ("url-http-noslash", b"GET http:x HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-authority", b"GET x:80 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-https", b"GET https://x:1/a?b#c HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-scheme-digit", b"GET h2://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-scheme-plus", b"GET a+b://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-query-only", b"GET ?a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-star-path", b"GET *a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-empty", b"GET  HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-pct", b"GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-at", b"GET http://u@x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-ipv6", b"GET http://[::1]:80/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-space-scheme", b"GET http:// HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-double-slash", b"GET //a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("three-spaces-ver", b"GET /  HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("tab-sep", b"GET\t/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("method-dash", b"M-SEARCHX * HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("method-prefix", b"GETX / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("method-short", b"GE / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("ver-HTTP1", b"GET / HTTP/1\r\nHost: x\r\n\r\n"),
    ("ver-11", b"GET / HTTP/11\r\nHost: x\r\n\r\n"),
    ("ver-x", b"GET / HTTP/1.x\r\nHost: x\r\n\r\n"),
    ("ver-HTTPS", b"GET / HTTPS/1.1\r\nHost: x\r\n\r\n"),
    ("ver-RTSP", b"GET / RTSP/1.0\r\nHost: x\r\n\r\n"),
    ("ver-ICE", b"GET / ICE/1.0\r\nHost: x\r\n\r\n"),
    ("ver-0.9-nohdr", b"GET / HTTP/0.9\r\n\r\n"),
    (
        "ver-1.0-te",
        b"GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    ("hdr-space-lead", b"GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
    ("hdr-tab-after-colon", b"GET / HTTP/1.1\r\nHost:\tx\r\n\r\n"),
    ("hdr-no-space", b"GET / HTTP/1.1\r\nHost:x\r\n\r\n"),
    ("hdr-trailing-ws", b"GET / HTTP/1.1\r\nHost: x \t \r\n\r\n"),
    (
        "hdr-name-dot",
        b"GET / HTTP/1.1\r\nHost: x\r\nX.A_b~!#$%&'*+^`|: v\r\n\r\n",
    ),
    ("hdr-name-at", b"GET / HTTP/1.1\r\nHost: x\r\nX@A: v\r\n\r\n"),
    ("hdr-name-slash", b"GET / HTTP/1.1\r\nHost: x\r\nX/A: v\r\n\r\n"),
    ("hdr-val-ff", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: \xff\r\n\r\n"),
    ("hdr-val-vt", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x0bb\r\n\r\n"),
    ("hdr-val-lf", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\nb\r\n\r\n"),
    ("end-lf-only", b"GET / HTTP/1.1\r\nHost: x\r\n\n"),
    (
        "cl-leading-zero",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 002\r\n\r\nab",
    ),
    (
        "cl-tab",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\t2\t\r\n\r\nab",
    ),
    ("cl-on-get", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"),
    (
        "te-space-chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:  chunked \r\n\r\n0\r\n\r\n",
    ),
    (
        "te-two-headers",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-twice",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunkedx",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n",
    ),
    ("te-empty", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: \r\n\r\n"),
    (
        "chunk-ext-space",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2 ;a=b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-space2",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2; a=b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-quoted",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b c\"\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-noval",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-ctl",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\x01\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-ext-lf",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-leading-zeros",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0002\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-upper-hex",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
    ),
    (
        "chunk-16-digits",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0000000000000002\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-17-digits",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000002\r\nab\r\n0\r\n\r\n",
    ),
    (
        "chunk-trailer-bad",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nbad trailer\r\n\r\n",
    ),
    (
        "chunk-trailer-lf",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\n",
    ),
    (
        "chunk-last-ext",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0;x=y\r\n\r\n",
    ),
    (
        "chunk-empty-size",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\nab\r\n0\r\n\r\n",
    ),
    (
        "cl-trail-tab",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\t\r\n\r\nab",
    ),
    (
        "cl-lead-tab",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\t2\r\n\r\nab",
    ),
    (
        "cl-two-trail-sp",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2  \r\n\r\nab",
    ),
    (
        "cl-lead-2sp",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length:  2\r\n\r\nab",
    ),
    ("cl-upper", b"POST / HTTP/1.1\r\nHost: x\r\nCONTENT-LENGTH: 2\r\n\r\nab"),
    (
        "cl-2p64",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\nab",
    ),
    (
        "te-chunked-then-gzip-hdr",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-chunked-hdr",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-gzip-comma-empty",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip,\r\n\r\n",
    ),
    (
        "te-comma-chunked",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-comma",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked,\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-sp-comma",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked , \r\n\r\n0\r\n\r\n",
    ),
    (
        "te-gzip-chunked-nosp",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip,chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-chunked-semicolon",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-Chunked-http10-cl",
        b"POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n",
    ),
    (
        "te-gzip-get",
        b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
    ),
    (
        "ext-2",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b;c=d\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-name-sp-eq",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a =b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-eq-sp",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a= b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-noname",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;=b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-quoted-esc",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b\\\"c\"\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-val-space",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b c\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-semicolon-only",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-val-trail-sp",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b \r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-quoted-unterminated",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-quoted-then-tok",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"b\"c\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-quoted-utf8",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\"\xc3\xa9\"\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-tok-utf8",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\xc3\xa9\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-name-badchar",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a@=b\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-val-badchar",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;a=b@\r\nab\r\n0\r\n\r\n",
    ),
    (
        "ext-double-semi",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;;a\r\nab\r\n0\r\n\r\n",
    ),
    (
        "trailer-ok2",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\nB: 2\r\n\r\n",
    ),
    (
        "trailer-bad-name",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA@: 1\r\n\r\n",
    ),
    (
        "trailer-ctl",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: \x01\r\n\r\n",
    ),
    (
        "trailer-fold",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n 2\r\n\r\n",
    ),
    (
        "data-then-lf",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\n0\r\n\r\n",
    ),
    (
        "size-lf",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n",
    ),
    (
        "size-cr-x",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\rxab\r\n0\r\n\r\n",
    ),
    ("lead-lf", b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("lead-crlfcrlf", b"\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("lead-cr", b"\rGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("hdr-val-empty-cl", b"GET / HTTP/1.1\r\nHost:\r\n\r\n"),
    ("ver-2.0-http", b"GET / HTTP/2.0\r\n\r\n"),
    ("ver-1.1-cr-x", b"GET / HTTP/1.1\rX\nHost: x\r\n\r\n"),
    ("ver-rtsp-2", b"GET / RTSP/2.0\r\nHost: x\r\n\r\n"),
    ("ver-rtsp-11", b"GET / RTSP/1.1\r\nHost: x\r\n\r\n"),
    ("ver-0.0", b"GET / HTTP/0.0\r\nHost: x\r\n\r\n"),
    ("ver-1.9", b"GET / HTTP/1.9\r\nHost: x\r\n\r\n"),
    ("ver-9.9", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n"),
    ("nover-then-hdr", b"GET /a\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"),
    ("url-then-sp-crlf", b"GET / \r\nHost: x\r\n\r\n"),
    ("url-scheme-upper", b"GET HTTP://x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-scheme-noslash2", b"GET http:/x HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-only", b"GET http://x HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-badchar", b"GET http://x^y/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-quote", b"GET http://x\"y/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-pct", b"GET http://x%20y/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-underscore", b"GET http://x_y/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-bracket-bad", b"GET http://[x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-userinfo2", b"GET http://a:b@x/ HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-query", b"GET http://x?a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-host-hash", b"GET http://x#a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-path-hash-hash", b"GET /a#b#c HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-path-qq", b"GET /a?b?c HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-star-alone-options", b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("url-star-slash", b"GET */a HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("connect-bad-char", b"CONNECT x\x01:443 HTTP/1.1\r\nHost: x\r\n\r\n"),
];

struct NodeServer {
    child: Child,
    addr: SocketAddr,
}

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The status code of the first response, or "none" when the connection
/// ended (or stayed silent for a second) without one.
/// HTTP/2's connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The first `n` bytes the server at `addr` answers `request` with.
fn first_bytes(addr: SocketAddr, request: &[u8], n: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    stream.write_all(request).expect("send");
    let mut got = vec![0; n];
    stream.read_exact(&mut got).expect("an answer");
    got
}

fn first_status(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(1))).expect("timeout");
    // A server may refuse before the whole request is sent.
    let _ = stream.write_all(request);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.windows(2).any(|w| w == b"\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&got).lines().next().unwrap_or("").to_string();
    match line.split(' ').nth(1) {
        Some(code) if line.starts_with("HTTP/1.1 ") => code.to_string(),
        _ => format!("none ({line:?})"),
    }
}

/// Requests whose header count (URL + names + values) is `count` bytes,
/// three ways: one long value, a long URL, and thousands of short headers.
fn sized_cases(count: usize) -> Vec<(String, Vec<u8>)> {
    // "Host" + "x" + "X-A" = 8 counted bytes, plus the URL "/".
    let long_value = {
        let value = "a".repeat(count - 9);
        format!("GET / HTTP/1.1\r\nHost: x\r\nX-A: {value}\r\n\r\n")
    };
    let long_url = {
        let path = "a".repeat(count - 6);
        format!("GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n")
    };
    // Each "X: a" counts 2: the whitespace before a value is not counted
    // (what follows it up to the CR is).
    let many = {
        let mut head = String::from("GET / HTTP/1.1\r\nHost: x\r\n");
        let lines = (count - 6) / 2;
        head.push_str(&"X: a\r\n".repeat(lines));
        if (count - 6) % 2 == 1 {
            head.push_str("Y:\r\n");
        }
        head + "\r\n"
    };
    [
        ("long value", long_value),
        ("long url", long_url),
        ("many headers", many),
    ]
    .into_iter()
    .map(|(how, text)| (format!("{how}, {count} counted bytes"), text.into_bytes()))
    .collect()
}

/// Chunked requests at the edge of Node's limit on chunk extensions: 16 KiB
/// of extension names and values (quotes and backslashes count, `;` and
/// `=` do not), counted afresh for every chunk, the last one included.
fn extension_cases() -> Vec<(String, Vec<u8>)> {
    const HEAD: &str = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    let a = |n: usize| "a".repeat(n);
    let one = |ext: String| format!("{HEAD}2{ext}\r\nab\r\n0\r\n\r\n");
    let mut cases = Vec::new();
    for n in [16_380, 16_384, 16_385] {
        cases.push((format!("ext name of {n} B"), one(format!(";{}", a(n)))));
    }
    for n in [16_383, 16_384] {
        cases.push((format!("ext a=value of 1+{n} B"), one(format!(";a={}", a(n)))));
    }
    for n in [16_381, 16_382] {
        cases.push((
            format!("ext a=\"quoted\" of 1+2+{n} B"),
            one(format!(";a=\"{}\"", a(n))),
        ));
    }
    for n in [16_379, 16_380] {
        cases.push((
            format!("ext quoted pair, 1+4+{n} B"),
            one(format!(";a=\"\\x{}\"", a(n))),
        ));
    }
    for n in [8_192, 8_193] {
        cases.push((
            format!("two exts of 8192+{n} B in one chunk"),
            one(format!(";{};{}", a(8_192), a(n))),
        ));
    }
    cases.push((
        "two chunks of 16384 B of ext each".to_string(),
        format!("{HEAD}1;{}\r\na\r\n1;{}\r\nb\r\n0\r\n\r\n", a(16_384), a(16_384)),
    ));
    for n in [16_384, 16_385] {
        cases.push((
            format!("last chunk with {n} B of ext"),
            format!("{HEAD}2\r\nab\r\n0;{}\r\n\r\n", a(n)),
        ));
    }
    cases
        .into_iter()
        .map(|(name, text)| (name, text.into_bytes()))
        .collect()
}

#[test]
fn hangup_answers_every_request_as_node_does() {
    let mut command = Command::new("node");
    command.args(["-e", NODE_SERVER]);
    let (child, addr) = crate::support::spawn_listening(&mut command);
    let node = NodeServer { child, addr };
    let hangup = Server::start("bad-request", &[]);

    let mut cases: Vec<(String, Vec<u8>)> = CASES.iter().map(|(n, r)| (n.to_string(), r.to_vec())).collect();
    for count in [16_383, 16_384] {
        cases.extend(sized_cases(count));
    }
    cases.extend(extension_cases());
    let mut differ = Vec::new();
    let mut statuses = std::collections::BTreeMap::new();
    for (name, request) in &cases {
        let from_node = first_status(node.addr, request);
        let from_hangup = first_status(hangup.addr, request);
        *statuses.entry(from_node.clone()).or_insert(0) += 1;
        if from_node != from_hangup {
            differ.push(format!("{name}: node {from_node}, hangup {from_hangup}"));
        }
    }
    // hangup follows the llhttp of Node 20 (the docs' tables name the
    // version); Node 22's llhttp answers four of these otherwise (a tab in
    // Content-Length, an empty Transfer-Encoding, the header count).
    let version = Command::new("node").arg("--version").output().map(|o| o.stdout);
    let version = String::from_utf8_lossy(version.as_deref().unwrap_or(b"?"))
        .trim()
        .to_string();
    assert!(
        differ.is_empty(),
        "hangup differs from Node {version} (hangup follows Node 20's parser):\n{}",
        differ.join("\n")
    );
    // HTTP/2's preface: Node's http server answers 400, hangup speaks
    // HTTP/2 on every port and answers with its SETTINGS frame.
    let (from_node, from_hangup) = (first_status(node.addr, PREFACE), first_bytes(hangup.addr, PREFACE, 9));
    assert_eq!(from_node, "400");
    assert_eq!(
        from_hangup[3..5],
        [0x4, 0x0],
        "a SETTINGS frame, not an ACK: {from_hangup:?}"
    );
    // The corpus exercises all three answers, not just one.
    for code in ["200", "400", "431", "413"] {
        assert!(statuses.get(code).is_some_and(|n| *n >= 3), "{statuses:?}");
    }
}

/// A scenario's own `on bad-request` answers chunk extensions over the
/// limit too, as a `clientError` listener does in Node; without one the
/// answer is Node's 413 (above).
#[test]
fn on_bad_request_handles_oversized_chunk_extensions() {
    let hangup = Server::start("bad-request-custom", &[]);
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;{}\r\nab\r\n0\r\n\r\n",
        "a".repeat(16_385)
    );
    let (got, _, _) = crate::support::exchange(&hangup, request.as_bytes(), Duration::from_secs(2));
    assert_eq!(crate::support::text(&got), "HTTP/1.1 400 Bad Request\r\n\r\n");
}
