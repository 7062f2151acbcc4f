//! Issue 27, the codec alone, apart from the server that drives it: a tiny
//! server here drives `hangup::h2::conn::Conn` over a real socket, and
//! real clients (curl and Node, both with prior knowledge) talk to it.
//! They read our SETTINGS and HPACK, we decode their preface, SETTINGS
//! and HEADERS; then each fault of the issue's measured table is proven
//! from the client's side.

use std::io::{Read as _, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use hangup::h2::ErrorCode;
use hangup::h2::conn::{Config, Conn, Event, Flow, Head, LastStream};
use hangup::h2::frame::{EndStream, Frame, FrameReader, Read};
use hangup::h2::preface::PREFACE;

use crate::support::{End, raw_server, read_to_end, text};

/// What the server does with each request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// 200 with `hello`, END_STREAM on the DATA.
    Hello,
    /// HEADERS 200, then RST_STREAM INTERNAL_ERROR.
    ResetAfterHeaders,
    /// GOAWAY with last-stream-id 0 (NO_ERROR), then FIN.
    GoAwayZero,
    /// RST_STREAM REFUSED_STREAM at once.
    Refuse,
    /// HEADERS and 100 bytes, GOAWAY, FIN: no END_STREAM ever.
    FinMidBody,
}

/// Starts the server; every request head it decodes comes out of the
/// receiver.
fn h2_server(answer: Answer) -> (SocketAddr, Receiver<Head>) {
    let (heads, seen) = mpsc::channel();
    let heads = Mutex::new(heads);
    let addr = raw_server(move |socket| {
        let heads = heads.lock().map(|h| h.clone());
        if let Ok(heads) = heads {
            serve(socket, answer, &heads);
        }
    });
    (addr, seen)
}

/// One connection: write what the codec has to send, read, feed it, act
/// on its events, until the client leaves or the answer says to close.
fn serve(mut socket: TcpStream, answer: Answer, heads: &Sender<Head>) {
    let _ = socket.set_read_timeout(Some(Duration::from_secs(10)));
    let mut conn = Conn::new(Config::default());
    let mut buf = vec![0; 64 * 1024];
    loop {
        if flush(&mut socket, &mut conn).is_err() {
            return;
        }
        let n = match socket.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        conn.receive(&buf[..n]);
        while let Some(event) = conn.next_event() {
            match event {
                Event::Request { stream, head, .. } => {
                    let _ = heads.send(head);
                    if act(&mut conn, stream, answer) == Then::Close {
                        let _ = flush(&mut socket, &mut conn);
                        return fin(socket);
                    }
                }
                Event::ConnectionError(e) => {
                    conn.send_goaway(LastStream::LastSeen, e.code, e.why.as_bytes());
                    let _ = flush(&mut socket, &mut conn);
                    return fin(socket);
                }
                _ => {}
            }
        }
    }
}

#[derive(PartialEq)]
enum Then {
    GoOn,
    Close,
}

fn act(conn: &mut Conn, stream: u32, answer: Answer) -> Then {
    let plain = [(b"content-type".to_vec(), b"text/plain".to_vec())];
    match answer {
        Answer::Hello => {
            conn.send_response(stream, 200, &plain, EndStream::No);
            conn.send_data(stream, b"hello", EndStream::Yes, Flow::Honour);
            Then::GoOn
        }
        Answer::ResetAfterHeaders => {
            conn.send_response(stream, 200, &plain, EndStream::No);
            conn.send_rst_stream(stream, ErrorCode::INTERNAL_ERROR);
            Then::GoOn
        }
        Answer::GoAwayZero => {
            conn.send_goaway(LastStream::Id(0), ErrorCode::NO_ERROR, b"");
            Then::Close
        }
        Answer::Refuse => {
            conn.send_rst_stream(stream, ErrorCode::REFUSED_STREAM);
            Then::GoOn
        }
        Answer::FinMidBody => {
            conn.send_response(stream, 200, &plain, EndStream::No);
            conn.send_data(stream, &[b'x'; 100], EndStream::No, Flow::Honour);
            conn.send_goaway(LastStream::LastSeen, ErrorCode::NO_ERROR, b"");
            Then::Close
        }
    }
}

fn flush(socket: &mut TcpStream, conn: &mut Conn) -> std::io::Result<()> {
    let n = conn.pending_output().len();
    socket.write_all(conn.pending_output())?;
    conn.written(n);
    Ok(())
}

/// Ends with FIN, not RST: half-close, then read what the client still
/// sends until it closes (unread bytes at close would make it an RST).
fn fin(mut socket: TcpStream) {
    let _ = socket.shutdown(Shutdown::Write);
    let mut buf = [0; 4096];
    while matches!(socket.read(&mut buf), Ok(n) if n > 0) {}
}

fn curl(addr: SocketAddr) -> Output {
    Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "--max-time", "10"])
        .arg(format!("http://{addr}/hello?x=1"))
        .output()
        .expect("run curl (.ci/run installs it)")
}

/// Node's http2 client: prints `status N`, `body "..."` at the end,
/// `stream-error CODE MESSAGE` or `session-error CODE MESSAGE`.
const NODE: &str = r#"
const http2 = require('http2');
setTimeout(() => { console.log('timeout'); process.exit(3); }, 10000).unref();
const session = http2.connect(process.argv[1]);
session.on('error', e => console.log('session-error', e.code, e.message));
const req = session.request({ ':path': '/node', 'x-test': 'yes' });
let body = '';
req.setEncoding('utf8');
req.on('response', h => console.log('status', h[':status']));
req.on('data', d => { body += d; });
req.on('end', () => { console.log('body', JSON.stringify(body)); session.close(); });
req.on('error', e => { console.log('stream-error', e.code, e.message); session.close(); });
req.end();
"#;

fn node(addr: SocketAddr) -> Output {
    Command::new("node")
        .args(["-e", NODE, &format!("http://{addr}")])
        .output()
        .expect("run node (.ci/run installs it)")
}

fn head(seen: &Receiver<Head>) -> Head {
    seen.recv_timeout(Duration::from_secs(5))
        .expect("the server decoded a request")
}

fn header<'h>(head: &'h Head, name: &str) -> Option<&'h str> {
    head.headers
        .iter()
        .find(|(n, _)| n == name.as_bytes())
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

#[test]
fn curl_gets_hello_and_its_request_is_decoded() {
    let (addr, seen) = h2_server(Answer::Hello);
    let out = curl(addr);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello");
    let head = head(&seen);
    assert_eq!(
        (text(&head.method), text(&head.path)),
        ("GET".into(), "/hello?x=1".into())
    );
    assert_eq!(head.scheme.as_deref(), Some(&b"http"[..]));
    assert_eq!(head.authority, Some(addr.to_string().into_bytes()));
    assert!(
        header(&head, "user-agent").is_some_and(|ua| ua.starts_with("curl/")),
        "{head:?}"
    );
    assert_eq!(header(&head, "accept"), Some("*/*"));
}

/// Node asking twice on one session, the second request after the first
/// answer: its second HEADERS names fields of the first from HPACK's
/// dynamic table, which the decoder must have kept. (curl cannot show
/// this: 7.88's reuse of a prior-knowledge connection fails with `(16)`
/// against Node's own http2 server too.)
const NODE_TWICE: &str = r#"
const http2 = require('http2');
setTimeout(() => { console.log('timeout'); process.exit(3); }, 10000).unref();
const session = http2.connect(process.argv[1]);
session.on('error', e => console.log('session-error', e.code, e.message));
function get(path, then) {
  const req = session.request({ ':path': path, 'x-test': 'yes', 'x-long': 'v'.repeat(200) });
  let body = '';
  req.setEncoding('utf8');
  req.on('data', d => { body += d; });
  req.on('end', () => { console.log(path, JSON.stringify(body)); then(); });
  req.on('error', e => { console.log('stream-error', e.code, e.message); session.close(); });
  req.end();
}
get('/one', () => get('/two', () => session.close()));
"#;

#[test]
fn a_second_request_on_the_session_decodes_from_the_dynamic_table() {
    let (addr, seen) = h2_server(Answer::Hello);
    let out = Command::new("node")
        .args(["-e", NODE_TWICE, &format!("http://{addr}")])
        .output()
        .expect("run node (.ci/run installs it)");
    assert_eq!(
        text(&out.stdout),
        "/one \"hello\"\n/two \"hello\"\n",
        "{}",
        text(&out.stderr)
    );
    let (one, two) = (head(&seen), head(&seen));
    assert_eq!((text(&one.path), text(&two.path)), ("/one".into(), "/two".into()));
    assert_eq!((&one.authority, &one.headers), (&two.authority, &two.headers));
    assert_eq!(header(&two, "x-long").map(str::len), Some(200));
}

#[test]
fn node_gets_hello_and_its_request_is_decoded() {
    let (addr, seen) = h2_server(Answer::Hello);
    let out = node(addr);
    assert_eq!(
        text(&out.stdout),
        "status 200\nbody \"hello\"\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    let head = head(&seen);
    assert_eq!((text(&head.method), text(&head.path)), ("GET".into(), "/node".into()));
    assert_eq!(header(&head, "x-test"), Some("yes"));
}

#[test]
fn a_reset_after_the_headers_is_an_internal_error_to_both() {
    let (addr, _seen) = h2_server(Answer::ResetAfterHeaders);
    let out = curl(addr);
    assert_eq!(out.status.code(), Some(92), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("stream 1 was not closed cleanly: INTERNAL_ERROR (err 2)"),
        "{stderr}"
    );

    let out = node(addr);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("status 200\nstream-error ERR_HTTP2_STREAM_ERROR"),
        "{stdout}"
    );
    assert!(stdout.contains("NGHTTP2_INTERNAL_ERROR"), "{stdout}");
}

#[test]
fn goaway_with_last_stream_0_refuses_the_request() {
    let (addr, _seen) = h2_server(Answer::GoAwayZero);
    let out = curl(addr);
    assert_eq!(out.status.code(), Some(16), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Error in the HTTP2 framing layer"),
        "{}",
        text(&out.stderr)
    );

    let out = node(addr);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("stream-error ERR_HTTP2_STREAM_ERROR"), "{stdout}");
    assert!(stdout.contains("NGHTTP2_REFUSED_STREAM"), "{stdout}");
}

#[test]
fn a_refused_stream_is_retried_by_curl_and_refused_to_node() {
    let (addr, seen) = h2_server(Answer::Refuse);
    let out = curl(addr);
    assert_eq!(out.status.code(), Some(56), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("tried 5 times"), "{}", text(&out.stderr));
    // The first try and its retries, each on a connection of its own.
    assert_eq!(seen.try_iter().count(), 6);

    let out = node(addr);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("stream-error ERR_HTTP2_STREAM_ERROR"), "{stdout}");
    assert!(stdout.contains("NGHTTP2_REFUSED_STREAM"), "{stdout}");
}

#[test]
fn fin_in_the_middle_of_a_body_is_an_error_to_curl_but_an_end_to_node() {
    let (addr, _seen) = h2_server(Answer::FinMidBody);
    let out = curl(addr);
    assert_eq!(out.status.code(), Some(18), "{}", text(&out.stderr));
    assert_eq!(out.stdout.len(), 100);

    let out = node(addr);
    let body = format!("status 200\nbody \"{}\"\n", "x".repeat(100));
    assert_eq!(text(&out.stdout), body);
    assert_eq!(out.status.code(), Some(0));
}

/// A client that breaks the rules gets GOAWAY with the right code from the
/// codec, then FIN: here a PING of 7 bytes, FRAME_SIZE_ERROR.
#[test]
fn a_broken_frame_gets_goaway_with_its_code() {
    let (addr, _seen) = h2_server(Answer::Hello);
    let mut socket = TcpStream::connect(addr).expect("connect");
    let mut hello = PREFACE.to_vec();
    hello.extend([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    hello.extend([0, 0, 7, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    socket.write_all(&hello).expect("send");
    let (bytes, end) = read_to_end(&mut socket, Duration::from_secs(5));
    assert_eq!(end, End::PeerFin);
    let reader = FrameReader::default();
    let mut at = 0;
    let mut names = Vec::new();
    let mut goaway = None;
    while let Read::Frame(frame, n) = reader.read(&bytes[at..]) {
        names.push(frame.name());
        if let Frame::GoAway {
            last_stream,
            code,
            debug,
        } = frame
        {
            goaway = Some((last_stream, code, text(&debug)));
        }
        at += n;
    }
    assert_eq!(at, bytes.len(), "{bytes:02x?}");
    assert_eq!(names, ["SETTINGS", "SETTINGS", "GOAWAY"]);
    let (last_stream, code, why) = goaway.expect("a GOAWAY");
    assert_eq!((last_stream, code), (0, ErrorCode::FRAME_SIZE_ERROR));
    assert_eq!(why, "PING frame of 7 bytes (must be 8)");
}
