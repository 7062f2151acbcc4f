//! Issue 27, "Bad input", end to end: hostile HTTP/2 from a bare client
//! (`support/h2.rs`, which shares nothing with hangup's codec) against
//! `hangup serve h2-hello`, the well-behaved built-in. For each kind of
//! bad input, from the client's side: the frames it received (GOAWAY with
//! RFC 9113's error code and the reason as debug data, or RST_STREAM for
//! a stream's fault), how TCP ended (FIN: hangup shuts its side after the
//! GOAWAY and reads away what the client still sends, so that its close
//! is no RST), the log line that says why, the server's memory for the
//! floods (VmRSS and VmHWM from /proc), and that the server still serves
//! the next connection and never panicked.
//!
//! Every flood is bounded on the client's side too, in bytes and by a
//! write timeout, and stops at the first write error: hangup closes soon
//! after its bound, so a flood never runs to its end.

use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};

use crate::support::h2::{
    self, ACK, CONTINUATION, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PADDED, PING, PREFACE, PRIORITY,
    PRIORITY_FLAG, PUSH_PROMISE, RST_STREAM, SETTINGS, WINDOW_UPDATE, frame, opening, request,
};
use crate::support::json::{self, Value};
use crate::support::{End, Server, read_to_end, text};

/// RFC 9113 §7's codes, by the names the assertions use.
const PROTOCOL_ERROR: u32 = 0x1;
const FLOW_CONTROL_ERROR: u32 = 0x3;
const FRAME_SIZE_ERROR: u32 = 0x6;
const REFUSED_STREAM: u32 = 0x7;
const COMPRESSION_ERROR: u32 = 0x9;
const ENHANCE_YOUR_CALM: u32 = 0xb;

/// The longest any exchange here may take; each ends on a marker first.
const WAIT: Duration = Duration::from_secs(5);

fn serve() -> Server {
    Server::start("h2-hello", &[])
}

/// How the log names a code: `PROTOCOL_ERROR (0x1)`.
fn code_name(code: u32) -> String {
    let name = match code {
        PROTOCOL_ERROR => "PROTOCOL_ERROR",
        FLOW_CONTROL_ERROR => "FLOW_CONTROL_ERROR",
        FRAME_SIZE_ERROR => "FRAME_SIZE_ERROR",
        REFUSED_STREAM => "REFUSED_STREAM",
        COMPRESSION_ERROR => "COMPRESSION_ERROR",
        ENHANCE_YOUR_CALM => "ENHANCE_YOUR_CALM",
        other => panic!("no name here for code {other}"),
    };
    format!("{name} (0x{code:x})")
}

/// A GET on a new connection gets 200 "hello", and nothing the server
/// wrote to stderr so far is a panic.
fn assert_still_serves(server: &Server) {
    let mut stream = server.connect();
    stream.write_all(&h2::get("/again")).expect("send");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    let scripted = h2::scripted(&frames);
    assert!(
        scripted.len() == 2 && scripted[0].status() == "200" && scripted[1].payload == b"hello\n",
        "the next connection got {frames:?}; log:\n{}",
        server.log().join("\n")
    );
    assert_no_panic(server);
}

fn assert_no_panic(server: &Server) {
    let log = server.log();
    assert!(
        !log.iter().any(|l| l.contains("panicked")),
        "hangup panicked:\n{}",
        log.join("\n")
    );
}

/// Wait (bounded) for the log line of `event` whose fields match `pick`,
/// and for the `end` line of its connection: both.
fn logged(server: &Server, event: &str, pick: impl Fn(&Value) -> bool) -> (Value, Value) {
    let give_up = Instant::now() + WAIT;
    loop {
        let lines = server.log();
        if let Some(line) = json::events(&lines, event).into_iter().find(|l| pick(l))
            && let Some(end) = json::events(&lines, "end")
                .into_iter()
                .find(|e| e["conn"] == line["conn"])
        {
            return (line, end);
        }
        assert!(
            Instant::now() < give_up,
            "no {event} line as asked, with its end; log:\n{}",
            lines.join("\n")
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The server's resident memory now and its peak so far, in KiB.
fn memory(server: &Server) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).expect("/proc/PID/status");
    let kib = |key: &str| -> u64 {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {status}"))
    };
    (kib("VmRSS:"), kib("VmHWM:"))
}

/// The server's resident memory after one request: the base a flood's
/// peak is measured from.
fn warmed_up(server: &Server) -> u64 {
    assert_still_serves(server);
    memory(server).0
}

fn assert_peak_within(server: &Server, before: u64, limit_kib: u64, what: &str) {
    let (now, peak) = memory(server);
    assert!(
        peak.saturating_sub(before) <= limit_kib,
        "{what}: resident {before} KiB before, peak {peak} KiB, now {now} KiB (limit +{limit_kib} KiB)"
    );
}

/// Send `bytes` on a new connection and read until the server ends it.
fn exchange(server: &Server, bytes: &[u8]) -> (Vec<h2::Frame>, End) {
    h2::exchange(server, bytes, WAIT)
}

/// A connection error, as the client sees it and the log says it: the
/// last frame is a GOAWAY with `code` and `last` stream, whose debug data
/// (the reason) contains `why`; then FIN. The `h2-error` line names the
/// code and the same reason, and the connection's `end` line says `fin`.
/// Answers the frames before the GOAWAY that are not SETTINGS.
fn assert_connection_error(server: &Server, name: &str, bytes: &[u8], code: u32, last: u32, why: &str) -> usize {
    let (frames, end) = exchange(server, bytes);
    let scripted = h2::scripted(&frames);
    let Some((goaway, before)) = scripted.split_last() else {
        panic!("{name}: no frame but SETTINGS: {frames:?}");
    };
    assert_eq!(goaway.kind, GOAWAY, "{name}: {frames:?}");
    let (got_last, got_code, debug) = goaway.goaway();
    assert_eq!((got_code, got_last), (code, last), "{name}: {debug}");
    assert!(debug.contains(why), "{name}: the GOAWAY says {debug:?}, not {why:?}");
    assert_eq!(end, End::PeerFin, "{name}");
    let (error, end) = logged(server, "h2-error", |l| l["why"] == debug.as_str());
    assert_eq!(error["error"], code_name(code).as_str(), "{name}: {error}");
    assert_eq!(end["how"], "fin", "{name}: {end}");
    before.len()
}

/// A stream error: RST_STREAM with `code` on `stream`, the connection
/// goes on (a GET on `stream + 2` is answered 200 on it), and the
/// `h2-stream-error` line says `why`.
fn assert_stream_error(server: &Server, name: &str, bytes: &[u8], stream: u32, code: u32, why: &str) {
    let mut conn = server.connect();
    conn.write_all(bytes).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == RST_STREAM);
    let rst: Vec<(u32, u32)> = frames
        .iter()
        .filter(|f| f.kind == RST_STREAM)
        .map(|f| (f.stream, f.word(0)))
        .collect();
    assert_eq!(rst, [(stream, code)], "{name}: {frames:?}");
    let next = stream + 2;
    conn.write_all(&request(next, "/next", END_STREAM))
        .expect("send the next request");
    let after = h2::read_until(&mut conn, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    let answered: Vec<&h2::Frame> = h2::scripted(&after).into_iter().filter(|f| f.stream == next).collect();
    assert!(
        answered.len() == 2 && answered[0].status() == "200",
        "{name}: stream {next} after the reset got {after:?}"
    );
    assert!(!after.iter().any(|f| f.kind == GOAWAY), "{name}: {after:?}");
    drop(conn);
    let (line, _) = logged(server, "h2-stream-error", |l| {
        l["stream"] == stream && l["why"].as_str().is_some_and(|w| w.contains(why))
    });
    assert_eq!(line["error"], code_name(code).as_str(), "{name}: {line}");
}

fn with(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = opening();
    bytes.extend(frames.concat());
    bytes
}

fn settings_param(id: u16, value: u32) -> Vec<u8> {
    let mut param = id.to_be_bytes().to_vec();
    param.extend(value.to_be_bytes());
    frame(SETTINGS, 0, 0, &param)
}

fn window_update(stream: u32, increment: u32) -> Vec<u8> {
    frame(WINDOW_UPDATE, 0, stream, &increment.to_be_bytes())
}

/// PRIORITY's five bytes: depends on `on`, weight 16.
fn depends(on: u32) -> Vec<u8> {
    let mut fields = on.to_be_bytes().to_vec();
    fields.push(16);
    fields
}

/// Each frame type broken in each way RFC 9113 §4 and §6 name, and the
/// rules of order around them (§3.4, §5.1, §5.1.1, §5.5, §6.10): each
/// ends the connection with GOAWAY and the RFC's code, then FIN.
#[test]
fn malformed_frames_of_every_type_end_the_connection_with_the_rfcs_code() {
    let server = serve();
    let get = h2::get_block("/");
    let headers_then = |second: Vec<u8>| with(&[frame(HEADERS, 0, 1, &get), second]);
    let mut self_dependent = depends(1);
    self_dependent.extend(h2::get_block("/"));
    let mut padded_block = vec![0xff];
    padded_block.extend(h2::get_block("/"));
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, u32, u32, &str)> = vec![
        // DATA (§6.1)
        ("DATA on stream 0", with(&[frame(DATA, 0, 0, b"abc")]), PROTOCOL_ERROR, 0, "DATA frame on stream 0"),
        ("DATA on an idle stream", with(&[frame(DATA, 0, 1, b"abc")]), PROTOCOL_ERROR, 0, "DATA on idle stream 1"),
        ("DATA padded past its end", with(&[frame(DATA, PADDED, 1, b"\x10abc")]), PROTOCOL_ERROR, 0, "with 16 bytes of padding"),
        ("DATA PADDED without a pad length", with(&[frame(DATA, PADDED, 1, b"")]), FRAME_SIZE_ERROR, 0, "too short for its fields"),
        // HEADERS (§6.2) and its field block (§4.3)
        ("HEADERS on stream 0", with(&[frame(HEADERS, END_HEADERS, 0, &get)]), PROTOCOL_ERROR, 0, "HEADERS frame on stream 0"),
        ("HEADERS on an even stream", with(&[request(2, "/", END_STREAM)]), PROTOCOL_ERROR, 0, "a client's streams are odd"),
        ("HEADERS padded past its end", with(&[frame(HEADERS, END_HEADERS | PADDED, 1, &padded_block)]), PROTOCOL_ERROR, 0, "with 255 bytes of padding"),
        ("HEADERS that depends on itself", with(&[frame(HEADERS, END_HEADERS | PRIORITY_FLAG, 1, &self_dependent)]), PROTOCOL_ERROR, 0, "depends on itself"),
        ("HEADERS whose block indexes past the table", with(&[frame(HEADERS, END_HEADERS, 1, &[0x80 | 70])]), COMPRESSION_ERROR, 0, "index 70 at byte 0 names no entry"),
        ("HEADERS whose block ends in a string", with(&[frame(HEADERS, END_HEADERS, 1, &[0x00, 0x05, b'a'])]), COMPRESSION_ERROR, 0, "truncated"),
        ("HEADERS, then PING inside the block", headers_then(frame(PING, 0, 0, &[0; 8])), PROTOCOL_ERROR, 0, "awaits CONTINUATION"),
        ("HEADERS, then an unknown frame inside the block", headers_then(frame(0x20, 0, 1, b"")), PROTOCOL_ERROR, 0, "awaits CONTINUATION"),
        ("HEADERS, then CONTINUATION of another stream", headers_then(frame(CONTINUATION, END_HEADERS, 3, b"")), PROTOCOL_ERROR, 0, "awaits CONTINUATION"),
        // PRIORITY (§6.3): on an idle stream a stream error cannot be an
        // RST_STREAM (§5.1), so it ends the connection.
        ("PRIORITY on stream 0", with(&[frame(PRIORITY, 0, 0, &depends(1))]), PROTOCOL_ERROR, 0, "PRIORITY frame on stream 0"),
        ("PRIORITY of 4 bytes", with(&[frame(PRIORITY, 0, 3, &[0; 4])]), FRAME_SIZE_ERROR, 0, "PRIORITY frame of 4 bytes (must be 5)"),
        ("PRIORITY that depends on itself", with(&[frame(PRIORITY, 0, 3, &depends(3))]), PROTOCOL_ERROR, 0, "stream 3 depends on itself"),
        // RST_STREAM (§6.4)
        ("RST_STREAM on stream 0", with(&[frame(RST_STREAM, 0, 0, &[0, 0, 0, 8])]), PROTOCOL_ERROR, 0, "RST_STREAM frame on stream 0"),
        ("RST_STREAM of 3 bytes", with(&[frame(RST_STREAM, 0, 1, &[0, 0, 8])]), FRAME_SIZE_ERROR, 0, "RST_STREAM frame of 3 bytes"),
        ("RST_STREAM on an idle stream", with(&[frame(RST_STREAM, 0, 1, &[0, 0, 0, 8])]), PROTOCOL_ERROR, 0, "RST_STREAM on idle stream 1"),
        // SETTINGS (§6.5)
        ("SETTINGS of 5 bytes", with(&[frame(SETTINGS, 0, 0, &[0; 5])]), FRAME_SIZE_ERROR, 0, "SETTINGS frame of 5 bytes"),
        ("SETTINGS on stream 1", with(&[frame(SETTINGS, 0, 1, b"")]), PROTOCOL_ERROR, 0, "SETTINGS frame on stream 1"),
        ("SETTINGS ACK with a payload", with(&[frame(SETTINGS, ACK, 0, &[0; 6])]), FRAME_SIZE_ERROR, 0, "SETTINGS ACK with 6 bytes"),
        ("SETTINGS_ENABLE_PUSH 2", with(&[settings_param(0x2, 2)]), PROTOCOL_ERROR, 0, "SETTINGS_ENABLE_PUSH = 2"),
        ("SETTINGS_INITIAL_WINDOW_SIZE 2^31", with(&[settings_param(0x4, 1 << 31)]), FLOW_CONTROL_ERROR, 0, "SETTINGS_INITIAL_WINDOW_SIZE = 2147483648"),
        ("SETTINGS_MAX_FRAME_SIZE 100", with(&[settings_param(0x5, 100)]), PROTOCOL_ERROR, 0, "SETTINGS_MAX_FRAME_SIZE = 100"),
        (
            "SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream's window",
            with(&[request(1, "/", 0), window_update(1, 0x7fff_ffff - 65_535), settings_param(0x4, 65_536)]),
            FLOW_CONTROL_ERROR, 1, "takes a stream's window past 2^31-1",
        ),
        // PUSH_PROMISE (§6.6)
        ("PUSH_PROMISE from a client", with(&[frame(PUSH_PROMISE, END_HEADERS, 1, &[0, 0, 0, 2])]), PROTOCOL_ERROR, 0, "PUSH_PROMISE from a client"),
        // PING (§6.7)
        ("PING of 7 bytes", with(&[frame(PING, 0, 0, &[0; 7])]), FRAME_SIZE_ERROR, 0, "PING frame of 7 bytes (must be 8)"),
        ("PING on stream 1", with(&[frame(PING, 0, 1, &[0; 8])]), PROTOCOL_ERROR, 0, "PING frame on stream 1"),
        // GOAWAY (§6.8)
        ("GOAWAY of 7 bytes", with(&[frame(GOAWAY, 0, 0, &[0; 7])]), FRAME_SIZE_ERROR, 0, "GOAWAY frame of 7 bytes"),
        ("GOAWAY on stream 1", with(&[frame(GOAWAY, 0, 1, &[0; 8])]), PROTOCOL_ERROR, 0, "GOAWAY frame on stream 1"),
        // WINDOW_UPDATE (§6.9)
        ("WINDOW_UPDATE of 3 bytes", with(&[frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1])]), FRAME_SIZE_ERROR, 0, "WINDOW_UPDATE frame of 3 bytes"),
        ("WINDOW_UPDATE of 0 on the connection", with(&[window_update(0, 0)]), PROTOCOL_ERROR, 0, "increment of 0"),
        ("WINDOW_UPDATE on an idle stream", with(&[window_update(1, 1)]), PROTOCOL_ERROR, 0, "WINDOW_UPDATE on idle stream 1"),
        ("WINDOW_UPDATE past 2^31-1 on the connection", with(&[window_update(0, 0x7fff_ffff)]), FLOW_CONTROL_ERROR, 0, "the connection's window past 2^31-1"),
        // CONTINUATION (§6.10)
        ("CONTINUATION without HEADERS", with(&[frame(CONTINUATION, END_HEADERS, 1, &get)]), PROTOCOL_ERROR, 0, "without a HEADERS before it"),
        ("CONTINUATION on stream 0", headers_then(frame(CONTINUATION, END_HEADERS, 0, b"")), PROTOCOL_ERROR, 0, "CONTINUATION frame on stream 0"),
        // Any type: longer than SETTINGS_MAX_FRAME_SIZE (§4.2), refused
        // from its header alone.
        ("a frame of 16,385 bytes", with(&[frame(DATA, 0, 1, &[0; 16_385])]), FRAME_SIZE_ERROR, 0, "announces 16385 bytes"),
        ("an unknown type longer than the limit", with(&[frame(0xee, 0, 0, &[0; 20_000])]), FRAME_SIZE_ERROR, 0, "announces 20000 bytes"),
        // Order: SETTINGS first (§3.4), stream ids up (§5.1.1).
        ("a first frame that is not SETTINGS", [PREFACE, &frame(PING, 0, 0, &[0; 8])].concat(), PROTOCOL_ERROR, 0, "the client's first frame is PING, not SETTINGS"),
        ("stream ids going down", with(&[request(5, "/a", END_STREAM), request(3, "/b", END_STREAM)]), PROTOCOL_ERROR, 5, "stream ids only go up"),
        // A second preface is read as a frame header: "PRI" is a length
        // of 5,263,945 bytes.
        ("a second preface", with(&[PREFACE.to_vec()]), FRAME_SIZE_ERROR, 0, "announces 5263945 bytes"),
    ];
    for (name, bytes, code, last, why) in cases {
        assert_connection_error(&server, name, &bytes, code, last, why);
    }
    assert_still_serves(&server);
}

/// What breaks one stream's rules ends that stream with RST_STREAM; the
/// connection goes on.
#[test]
fn a_stream_that_breaks_the_rules_is_reset_and_the_connection_goes_on() {
    let server = serve();
    let get_with = |extra: &[(&str, &str)]| {
        let mut fields = vec![
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "127.0.0.1"),
            (":path", "/"),
        ];
        fields.extend_from_slice(extra);
        frame(HEADERS, END_HEADERS | END_STREAM, 1, &h2::block(&fields))
    };
    let no_path = frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &h2::block(&[(":method", "GET"), (":scheme", "http")]),
    );
    let open = request(1, "/upload", 0);
    let trailers = frame(HEADERS, END_HEADERS, 1, &h2::block(&[("x-sum", "1")]));
    #[rustfmt::skip]
    let cases: Vec<(&str, Vec<u8>, u32, u32, &str)> = vec![
        ("a field name in uppercase", with(&[get_with(&[("X-Up", "1")])]), 1, PROTOCOL_ERROR, "has uppercase letters"),
        ("a connection-specific field", with(&[get_with(&[("connection", "close")])]), 1, PROTOCOL_ERROR, "connection-specific field"),
        ("no :path", with(&[no_path]), 1, PROTOCOL_ERROR, "no :path"),
        ("a stream's window past 2^31-1", with(&[open.clone(), window_update(1, 0x7fff_ffff)]), 1, FLOW_CONTROL_ERROR, "the stream's window past 2^31-1"),
        ("WINDOW_UPDATE of 0 on a stream", with(&[open.clone(), window_update(1, 0)]), 1, PROTOCOL_ERROR, "increment of 0"),
        ("PRIORITY of 4 bytes on an open stream", with(&[open.clone(), frame(PRIORITY, 0, 1, &[0; 4])]), 1, FRAME_SIZE_ERROR, "PRIORITY frame of 4 bytes"),
        ("PRIORITY of an open stream on itself", with(&[open.clone(), frame(PRIORITY, 0, 1, &depends(1))]), 1, PROTOCOL_ERROR, "depends on itself"),
        ("trailers without END_STREAM", with(&[open.clone(), trailers]), 1, PROTOCOL_ERROR, "trailers without END_STREAM"),
    ];
    for (name, bytes, stream, code, why) in cases {
        assert_stream_error(&server, name, &bytes, stream, code, why);
    }
    assert_still_serves(&server);
}

/// Frame types RFC 9113 does not define are ignored (§4.1, §5.5): on the
/// connection, on an idle stream, on an open one, with any flags.
#[test]
fn unknown_frame_types_are_ignored() {
    let server = serve();
    let bytes = with(&[
        frame(0x20, 0xff, 0, b"on the connection"),
        frame(0xee, 0, 7, b"on an idle stream"),
        request(1, "/", 0),
        frame(0x0a, 0x01, 1, b"on an open stream"),
        frame(DATA, END_STREAM, 1, b""),
    ]);
    let mut conn = server.connect();
    conn.write_all(&bytes).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    let scripted = h2::scripted(&frames);
    assert_eq!(scripted.len(), 2, "{frames:?}");
    assert_eq!((scripted[0].stream, scripted[0].status()), (1, "200".to_string()));
    assert_eq!(scripted[1].payload, b"hello\n");
    drop(conn);
    assert_still_serves(&server);
}

/// The first 10 bytes of the preface, then FIN: nothing says HTTP/2 yet
/// (no HTTP/1.1 request line starts so either), so nothing is sent, not
/// even our SETTINGS; the connection ends on the client's FIN.
#[test]
fn a_preface_cut_short_then_fin_ends_the_connection_with_nothing_sent() {
    let server = serve();
    let mut conn = server.connect();
    conn.write_all(&PREFACE[..10]).expect("send");
    conn.shutdown(Shutdown::Write).expect("FIN");
    let (received, end) = read_to_end(&mut conn, WAIT);
    assert_eq!((text(&received), end), (String::new(), End::PeerFin));
    let (_, end) = logged(&server, "end", |l| l["unparsed"] == 10);
    assert_eq!(
        (end["how"].as_str(), end["bytes_out"].as_u64()),
        (Some("peer-fin"), Some(0))
    );
    assert!(server.events("h2-preface").is_empty(), "{:?}", server.log());
    assert_still_serves(&server);
}

/// A preface that stops matching (at byte 13, or at byte 19 after a whole
/// HTTP/1.x-shaped head) is no HTTP/2: its bytes go to the HTTP/1.1
/// parser, which refuses them with 400 and FIN. Node's http server
/// answers these bytes exactly so (measured: the same 47 bytes).
#[test]
fn a_preface_that_differs_is_http1_and_gets_400_as_from_node() {
    let server = serve();
    for bytes in [&b"PRI * HTTP/2XXXXXXXXXXXX"[..], b"PRI * HTTP/2.0\r\n\r\nXM\r\n\r\n"] {
        let mut conn = server.connect();
        conn.write_all(bytes).expect("send");
        let (received, end) = read_to_end(&mut conn, WAIT);
        assert_eq!(
            (text(&received), end),
            (
                "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n".to_string(),
                End::PeerFin
            ),
            "{}",
            text(bytes)
        );
    }
    // httparse's reason ("Expected dot", "invalid HTTP version") is
    // not asserted: only that the 400 was for a bad request.
    assert_eq!(server.wait_for_events("bad-request", 2).len(), 2);
    assert!(server.events("h2-preface").is_empty(), "{:?}", server.log());
    assert_still_serves(&server);
}

/// After our GOAWAY nothing the client sends is acted on: a request in
/// the same write as the bad frame is not answered.
#[test]
fn frames_after_our_goaway_are_ignored() {
    let server = serve();
    let bytes = with(&[frame(DATA, 0, 0, b"x"), request(1, "/after", END_STREAM)]);
    let before = assert_connection_error(
        &server,
        "a request after the bad frame",
        &bytes,
        PROTOCOL_ERROR,
        0,
        "DATA frame on stream 0",
    );
    assert_eq!(before, 0);
    assert!(server.events("request").is_empty(), "{:?}", server.log());
    assert_still_serves(&server);
}

/// A stream the client ended and hangup answered is closed: HEADERS on
/// it again is no race, and ends the connection like an id going down.
#[test]
fn headers_again_on_a_closed_stream_end_the_connection() {
    let server = serve();
    let mut conn = server.connect();
    conn.write_all(&with(&[request(1, "/", END_STREAM)])).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    assert_eq!(h2::scripted(&frames).len(), 2, "{frames:?}");
    conn.write_all(&request(1, "/again", END_STREAM)).expect("send");
    let (frames, end) = h2::read_frames(&mut conn, WAIT);
    let scripted = h2::scripted(&frames);
    assert_eq!(scripted.len(), 1, "{frames:?}");
    let (last, code, debug) = scripted[0].goaway();
    assert_eq!((last, code), (1, PROTOCOL_ERROR), "{debug}");
    assert!(debug.contains("HEADERS on stream 1, which is closed"), "{debug}");
    assert_eq!(end, End::PeerFin);
    drop(conn);
    assert_still_serves(&server);
}

/// The client's own GOAWAY binds the client's peer, not the client
/// (RFC 9113 §6.8: its receiver must open no streams; hangup opens none),
/// so a request after it is served like any other.
#[test]
fn a_request_after_the_clients_own_goaway_is_served() {
    let server = serve();
    let bytes = with(&[frame(GOAWAY, 0, 0, &[0; 8]), request(1, "/", END_STREAM)]);
    let mut conn = server.connect();
    conn.write_all(&bytes).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    assert_eq!(
        h2::scripted(&frames).first().map(|f| f.status()),
        Some("200".into()),
        "{frames:?}"
    );
    server.wait_for_log(&[r#""event":"h2-recv""#, r#""frame":"GOAWAY""#]);
    drop(conn);
    assert_still_serves(&server);
}

/// A client that goes on sending after the bad frame (and after reading
/// our GOAWAY): it gets FIN and no RST, since hangup reads what it sends
/// until its own FIN before closing. Every byte it sent was read.
#[test]
fn a_client_still_sending_during_the_close_gets_fin_and_no_reset() {
    let server = serve();
    let mut conn = server.connect();
    let bad = with(&[frame(DATA, 0, 0, b"x")]);
    conn.write_all(&bad).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == GOAWAY);
    assert!(frames.iter().any(|f| f.kind == GOAWAY), "{frames:?}");
    // 64 KiB more, in pieces, after the GOAWAY came.
    let more = frame(PING, 0, 0, &[7; 8]).repeat(60);
    let mut sent = bad.len();
    for _ in 0..64 {
        match conn.write_all(&more) {
            Ok(()) => sent += more.len(),
            Err(e) => panic!("a write after the GOAWAY failed ({e}): the server reset the connection"),
        }
    }
    conn.shutdown(Shutdown::Write).expect("FIN");
    let (rest, end) = read_to_end(&mut conn, WAIT);
    assert_eq!((rest.len(), end), (0, End::PeerFin));
    let (_, end) = logged(&server, "h2-error", |l| l["why"] == "DATA frame on stream 0");
    assert_eq!(end["how"], "fin", "{end}");
    assert_eq!(end["bytes_in"].as_u64(), Some(sent as u64), "{end}");
    // No RST came after the FIN either.
    let pending = conn.take_error().expect("SO_ERROR");
    assert!(pending.is_none(), "{pending:?}");
    assert_still_serves(&server);
}

/// A client that never stops sending: it still reads GOAWAY then FIN; the
/// server stops reading for it after its bound (1 MiB, 1 s), so its
/// writes fail soon, and memory stays flat.
#[test]
fn a_client_that_never_stops_sending_reads_goaway_then_fin_and_is_cut_off() {
    let server = serve();
    let before = warmed_up(&server);
    let mut conn = server.connect();
    conn.write_all(&with(&[frame(DATA, 0, 0, b"x")])).expect("send");
    let (written, error) = flood(&mut conn, &frame(PING, 0, 0, &[0; 8]).repeat(1000), 256 << 20);
    let error = error.unwrap_or_else(|| panic!("{written} bytes written and the server still reads them"));
    assert!(
        matches!(error, ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
        "{error:?} after {written} bytes"
    );
    let (frames, end) = h2::read_frames(&mut conn, WAIT);
    let scripted = h2::scripted(&frames);
    assert_eq!(scripted.len(), 1, "{frames:?}");
    assert_eq!(
        scripted[0].goaway(),
        (0, PROTOCOL_ERROR, "DATA frame on stream 0".into())
    );
    assert_eq!(end, End::PeerFin);
    assert_peak_within(&server, before, 4 * 1024, "a client that never stops");
    assert_still_serves(&server);
}

/// Write `unit` again and again, whole (a frame cut in two would be
/// another fault), until `limit` bytes, a write error, or a write that
/// blocks for 500 ms (the server stopped reading): how much went, and
/// the error if one came.
fn flood(conn: &mut TcpStream, unit: &[u8], limit: usize) -> (usize, Option<ErrorKind>) {
    conn.set_write_timeout(Some(Duration::from_millis(500)))
        .expect("write timeout");
    let give_up = Instant::now() + WAIT;
    let (mut written, mut at) = (0, 0);
    while written < limit && Instant::now() < give_up {
        match conn.write(&unit[at..]) {
            Ok(n) => {
                written += n;
                at = (at + n) % unit.len();
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return (written, None),
            Err(e) => return (written, Some(e.kind())),
        }
    }
    (written, None)
}

/// The HPACK bomb: one 4 KB field put into the dynamic table, then named
/// 12,000 times in a block of 16 KB, which decodes to 48 MB. The list is
/// counted, not copied, past SETTINGS_MAX_HEADER_LIST_SIZE (64 KiB): the
/// stream is refused (REFUSED_STREAM), and since the block was decoded to
/// its end the table stays in step: the next request on the same
/// connection names the entry and is served.
#[test]
fn an_hpack_bomb_refuses_the_stream_and_the_connection_goes_on() {
    let server = serve();
    let before = warmed_up(&server);
    let mut bomb = h2::get_block("/bomb");
    bomb.push(0x40); // a literal added to the table, with a new name
    bomb.extend(h2::string_literal(b"b"));
    bomb.extend(h2::string_literal(&[b'x'; 4000]));
    bomb.extend([0xbe; 12_000]); // index 62: the entry, again and again
    assert!(bomb.len() <= 16_384, "one frame: {}", bomb.len());
    let mut conn = server.connect();
    conn.write_all(&with(&[frame(HEADERS, END_HEADERS | END_STREAM, 1, &bomb)]))
        .expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == RST_STREAM);
    let rst: Vec<(u32, u32)> = frames
        .iter()
        .filter(|f| f.kind == RST_STREAM)
        .map(|f| (f.stream, f.word(0)))
        .collect();
    assert_eq!(rst, [(1, REFUSED_STREAM)], "{frames:?}");
    let mut next = h2::get_block("/after");
    next.push(0xbe);
    conn.write_all(&frame(HEADERS, END_HEADERS | END_STREAM, 3, &next))
        .expect("send");
    let after = h2::read_until(&mut conn, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    assert_eq!(
        h2::scripted(&after).first().map(|f| (f.stream, f.status())),
        Some((3, "200".into())),
        "{after:?}"
    );
    // "header list of 48396…  bytes, over the limit of 65536"
    let line = server.wait_for_event("h2-stream-error");
    let why = line["why"].as_str().unwrap_or_default();
    let size: u64 = why
        .strip_prefix("header list of ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(size > 12_000 * 4_000, "{line}");
    assert!(why.ends_with("over the limit of 65536"), "{line}");
    assert_eq!(
        (&line["stream"], &line["error"]),
        (&Value::from(1), &Value::from(code_name(REFUSED_STREAM)))
    );
    drop(conn);
    assert_peak_within(&server, before, 4 * 1024, "an HPACK bomb of 48 MB");
    assert_still_serves(&server);
}

/// The 2024 CONTINUATION floods (CVE-2024-27316 and its kin): a HEADERS
/// without END_HEADERS, then CONTINUATION frames that never end it,
/// full (16 KB each) or empty. GOAWAY ENHANCE_YOUR_CALM comes at 64 KiB
/// or 64 frames, long before the client could send its 50 MB, and the
/// server's memory does not follow the flood.
#[test]
fn continuation_floods_get_enhance_your_calm_before_memory_grows() {
    let server = serve();
    let before = warmed_up(&server);
    for (name, payload, why) in [
        ("16 KB each", vec![0x82; 16_000], "passed 65536 bytes"),
        ("empty", vec![], "passed 64 CONTINUATION frames"),
    ] {
        let mut conn = server.connect();
        conn.write_all(&with(&[frame(HEADERS, 0, 1, &h2::get_block("/"))]))
            .expect("send");
        let unit = frame(CONTINUATION, 0, 1, &payload).repeat(16_000 / (payload.len() + 9) + 1);
        let (written, _) = flood(&mut conn, &unit, 50 << 20);
        let (frames, end) = h2::read_frames(&mut conn, WAIT);
        let scripted = h2::scripted(&frames);
        assert_eq!(scripted.len(), 1, "{name}: {frames:?}");
        let (last, code, debug) = scripted[0].goaway();
        assert_eq!((last, code), (0, ENHANCE_YOUR_CALM), "{name}: {debug}");
        assert!(debug.contains(why), "{name}: {debug}");
        assert_eq!(end, End::PeerFin, "{name}");
        assert!(written < 50 << 20, "{name}: all {written} bytes went");
        drop(conn);
        logged(&server, "h2-error", |l| l["why"] == debug.as_str());
        assert_peak_within(&server, before, 4 * 1024, name);
    }
    assert_still_serves(&server);
}

/// PING and SETTINGS floods (CVE-2019-9512, -9515) from a client that
/// does not read while it floods: every PING and SETTINGS wants an ACK,
/// and the ACKs it does not read pile up. hangup bounds them: ENHANCE_YOUR_CALM
/// once 1,000 answers wait unsent (or, if the socket took them all, after
/// 10,000 frames in a row that ask nothing of the scenario). The client
/// reads once it has flooded: the ACKs that went, then the GOAWAY, then FIN.
#[test]
fn ping_and_settings_floods_get_enhance_your_calm_with_bounded_memory() {
    let server = serve();
    let before = warmed_up(&server);
    for (name, one) in [
        ("PING", frame(PING, 0, 0, &[1; 8])),
        ("SETTINGS", frame(SETTINGS, 0, 0, b"")),
    ] {
        let mut conn = server.connect();
        conn.write_all(&opening()).expect("send");
        let (written, _) = flood(&mut conn, &one.repeat(4_000), 12_000 * one.len());
        let (frames, end) = h2::read_frames(&mut conn, WAIT);
        let Some((goaway, acks)) = h2::scripted(&frames).split_last().map(|(g, a)| (*g, a.len())) else {
            panic!("{name}: nothing after {written} bytes");
        };
        let (_, code, debug) = goaway.goaway();
        assert_eq!(code, ENHANCE_YOUR_CALM, "{name}: {debug}");
        assert!(
            debug.contains("answers (PING and SETTINGS ACKs") || debug.contains("frames in a row"),
            "{name}: {debug}"
        );
        assert!(acks <= 10_000, "{name}: {acks} ACKs");
        assert_eq!(end, End::PeerFin, "{name}");
        drop(conn);
        logged(&server, "h2-error", |l| l["why"] == debug.as_str());
        assert_peak_within(&server, before, 4 * 1024, name);
    }
    assert_still_serves(&server);
}

/// Rapid reset (CVE-2023-44487): HEADERS then RST_STREAM, 10,000 times,
/// never reading. hangup's rule: a stream the client reset is dropped
/// where it stands, before the script reads it (or, if the script
/// already answers it, the answer stops: `h2-stream-gone`); nothing is
/// queued for it, no answer is owed, so nothing grows and there is no
/// work to bound with ENHANCE_YOUR_CALM. The connection goes on serving:
/// the request after the flood is answered on it.
#[test]
fn rapid_reset_keeps_memory_flat_and_the_connection_serving() {
    let server = serve();
    let before = warmed_up(&server);
    let pairs = 10_000;
    let mut flood = opening();
    for i in 0..pairs {
        let stream = 2 * i + 1;
        flood.extend(request(stream, "/", END_STREAM));
        flood.extend(frame(RST_STREAM, 0, stream, &[0, 0, 0, 8]));
    }
    let last = 2 * pairs + 1;
    flood.extend(request(last, "/last", END_STREAM));
    let mut conn = server.connect();
    conn.write_all(&flood).expect("send");
    let frames = h2::read_until(&mut conn, WAIT, |f| {
        f.kind == DATA && f.stream == last && f.flags & END_STREAM != 0
    });
    let answered: Vec<&h2::Frame> = frames.iter().filter(|f| f.stream == last).collect();
    assert!(
        answered.len() == 2 && answered[0].status() == "200",
        "stream {last}: {:?}",
        h2::scripted(&frames).last()
    );
    assert!(!frames.iter().any(|f| f.kind == GOAWAY), "a GOAWAY");
    drop(conn);
    assert_peak_within(&server, before, 4 * 1024, "rapid reset");
    assert_still_serves(&server);
}

/// Streams that never end, from a client that never acknowledges our
/// SETTINGS (max-concurrent-streams 100): the 101st and every one after
/// it is refused, so the server holds 100 requests, not thousands.
#[test]
fn streams_past_the_advertised_limit_are_refused_even_unacknowledged() {
    let server = serve();
    let before = warmed_up(&server);
    let mut padding = vec![0x00];
    padding.extend(h2::string_literal(b"x-pad"));
    padding.extend(h2::string_literal(&[b'v'; 12_000]));
    let streams = 1_000;
    let mut conn = server.connect();
    conn.write_all(&opening()).expect("send");
    for i in 0..streams {
        let mut block = h2::get_block("/open");
        block.extend(&padding);
        conn.write_all(&frame(HEADERS, END_HEADERS, 2 * i + 1, &block))
            .expect("send a stream");
    }
    let last = 2 * streams - 1;
    let frames = h2::read_until(&mut conn, WAIT, |f| f.kind == RST_STREAM && f.stream == last);
    let refused: Vec<u32> = frames
        .iter()
        .filter(|f| f.kind == RST_STREAM && f.word(0) == REFUSED_STREAM)
        .map(|f| f.stream)
        .collect();
    assert_eq!(refused, (100..streams).map(|i| 2 * i + 1).collect::<Vec<u32>>());
    assert_peak_within(&server, before, 4 * 1024, "1,000 streams of 12 KB");
    drop(conn);
    assert_still_serves(&server);
}

/// Any sequence of frames (well-formed headers with random types, flags,
/// stream ids and payloads, the odd request and random bytes between)
/// after a valid preface, over a real socket: hangup never panics, never
/// resets, ends with GOAWAY then FIN or stays open, and the next
/// connection is served.
#[test]
fn random_frames_after_the_preface_never_panic_and_the_server_goes_on() {
    let server = serve();
    let config = ProptestConfig {
        cases: 64,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(piece(), 1..12), |pieces| {
        one_random_connection(&server, &pieces.concat())
    });
    if let Err(error) = result {
        panic!("{error}\nlog:\n{}", server.log().join("\n"));
    }
    assert_no_panic(&server);
}

/// A frame with a random type (mostly RFC 9113's), flags, stream and
/// payload; a request; or bytes of no shape.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    let kind = prop_oneof![4 => 0u8..=9, 1 => any::<u8>()];
    let stream = prop_oneof![
        2 => Just(0u32),
        2 => Just(1u32),
        1 => Just(2u32),
        1 => Just(3u32),
        1 => any::<u32>(),
    ];
    let payload = prop::collection::vec(any::<u8>(), 0..40);
    let framed = (kind, any::<u8>(), stream, payload)
        .prop_map(|(kind, flags, stream, payload)| frame(kind, flags, stream, &payload));
    prop_oneof![
        6 => framed,
        1 => (0u32..4).prop_map(|i| request(2 * i + 1, "/p", END_STREAM)),
        1 => prop::collection::vec(any::<u8>(), 1..24),
    ]
}

fn one_random_connection(server: &Server, frames: &[u8]) -> Result<(), TestCaseError> {
    let mut conn = server.connect();
    let mut bytes = opening();
    bytes.extend_from_slice(frames);
    conn.write_all(&bytes)
        .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
    let (received, end) = h2::read_frames(&mut conn, Duration::from_millis(40));
    prop_assert_ne!(end, End::PeerRst, "{:?}", received);
    if let Some(at) = received.iter().position(|f| f.kind == GOAWAY) {
        prop_assert_eq!(at, received.len() - 1, "frames after the GOAWAY: {:?}", received);
        let (_, code, debug) = received[at].goaway();
        prop_assert!((0x1..=0xb).contains(&code), "code {}: {}", code, debug);
        prop_assert!(!debug.is_empty());
        prop_assert_eq!(end, End::PeerFin, "{}", debug);
    }
    drop(conn);
    let mut next = server.connect();
    next.write_all(&h2::get("/next"))
        .map_err(|e| TestCaseError::fail(format!("send: {e}")))?;
    let answer = h2::read_until(&mut next, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    prop_assert!(
        answer.iter().any(|f| f.kind == DATA && f.payload == b"hello\n"),
        "the next connection got {:?}",
        answer
    );
    prop_assert!(!server.log().iter().any(|l| l.contains("panicked")));
    Ok(())
}
