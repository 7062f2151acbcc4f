//! `hangup probe --http2` (issue 27, item 5) against real HTTP/2 servers
//! on loopback: Node's `http2` module (h2c, and h2 over TLS by ALPN), and
//! servers written here that send hand-made frames (hangup's own
//! `h2::frame`), for what no real server does on purpose: GOAWAY with
//! last-stream 0, a FIN before END_STREAM, an RST after the head,
//! malformed frames. Each case says what the probe reports and, where
//! curl speaks h2c, what `curl --http2-prior-knowledge` says of the same
//! server, so that the probe's names are held to a real client's.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use hangup::h2::error::ErrorCode;
use hangup::h2::frame::{Ack, EndHeaders, EndStream, Frame, FrameReader, Read as FrameRead, kind, setting};
use hangup::h2::hpack;
use hangup::h2::preface::PREFACE;

use crate::support::{Upstream, hangup, node_server, probe, probe_json, reset_when_sent};

/// What a hand-made server does once it has read the probe's request.
#[derive(Clone)]
enum Act {
    /// Write these frames.
    Send(Vec<Frame>),
    /// Write these bytes as they are (not frames, or broken ones).
    Raw(Vec<u8>),
    /// FIN, then read what the client still sends until it closes.
    Fin,
    /// RST once what was written has left.
    Rst,
    /// Read what the client sends until it closes.
    Hang,
}

/// A server that answers every connection with `acts`, once the
/// client's HEADERS came; the receiver gets, per connection, the frames
/// the client sent after the HEADERS.
fn h2_server(acts: Vec<Act>) -> (SocketAddr, Receiver<Vec<Frame>>) {
    let (tx, rx) = channel();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (acts, tx) = (acts.clone(), tx.clone());
            std::thread::spawn(move || serve(stream, &acts, &tx));
        }
    });
    (addr, rx)
}

fn serve(mut stream: TcpStream, acts: &[Act], tx: &Sender<Vec<Frame>>) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    let mut input = Vec::new();
    // The preface, the client's SETTINGS, and its HEADERS.
    let rest = loop {
        let frames = frames_in(input.strip_prefix(PREFACE.as_slice()).unwrap_or_default());
        if let Some(at) = frames.0.iter().position(|f| matches!(f, Frame::Headers { .. })) {
            break frames.0[at + 1..].to_vec();
        }
        let mut buf = [0; 4096];
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => input.extend_from_slice(&buf[..n]),
        }
    };
    let mut after = rest;
    for act in acts {
        match act {
            Act::Send(frames) => {
                let mut bytes = Vec::new();
                frames.iter().for_each(|f| f.encode(&mut bytes));
                let _ = stream.write_all(&bytes);
            }
            Act::Raw(bytes) => {
                let _ = stream.write_all(bytes);
            }
            Act::Fin => {
                let _ = stream.shutdown(Shutdown::Write);
                after.extend(read_frames(&mut stream));
            }
            Act::Rst => {
                reset_when_sent(stream);
                let _ = tx.send(after);
                return;
            }
            Act::Hang => after.extend(read_frames(&mut stream)),
        }
    }
    let _ = tx.send(after);
}

/// The frames the client sends until it closes (or 5 s).
fn read_frames(stream: &mut TcpStream) -> Vec<Frame> {
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    frames_in(&bytes).0
}

/// The whole frames at the start of `bytes`, and the bytes they took.
fn frames_in(mut bytes: &[u8]) -> (Vec<Frame>, usize) {
    let reader = FrameReader::new(1 << 20);
    let (mut frames, mut used) = (Vec::new(), 0);
    while let FrameRead::Frame(frame, n) = reader.read(bytes) {
        frames.push(frame);
        bytes = &bytes[n..];
        used += n;
    }
    (frames, used)
}

fn settings() -> Frame {
    Frame::Settings {
        ack: Ack::No,
        params: vec![(setting::MAX_CONCURRENT_STREAMS, 100)],
    }
}

fn head(status: &str, end_stream: EndStream) -> Frame {
    let mut block = Vec::new();
    hpack::encode([(b":status".as_slice(), status.as_bytes())], &mut block);
    Frame::Headers {
        stream: 1,
        block,
        end_stream,
        end_headers: EndHeaders::Yes,
        priority: None,
        pad: None,
    }
}

fn data(len: usize, end_stream: EndStream) -> Frame {
    Frame::Data {
        stream: 1,
        data: vec![b'x'; len],
        end_stream,
        pad: None,
    }
}

fn goaway(last_stream: u32, code: ErrorCode, debug: &str) -> Frame {
    Frame::GoAway {
        last_stream,
        code,
        debug: debug.as_bytes().to_vec(),
    }
}

fn rst_stream(code: ErrorCode) -> Frame {
    Frame::RstStream { stream: 1, code }
}

fn url(addr: SocketAddr) -> String {
    format!("http://{addr}/")
}

/// curl's exit status against `url` with prior knowledge, and what it
/// printed.
fn curl(url: &str) -> (Option<i32>, String) {
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2-prior-knowledge",
            "-o",
            "/dev/null",
            "--max-time",
            "5",
            url,
        ])
        .output()
        .expect("curl");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// The probe's text report of `url` with `--http2` and `flags` (exit 0).
fn text(url: &str, flags: &[&str]) -> String {
    let mut args = vec!["--http2"];
    args.extend_from_slice(flags);
    let probed = probe(url, &args);
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    probed.stdout
}

fn line<'a>(report: &'a str, label: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.starts_with(&format!("{label:<9} ")))
        .unwrap_or_else(|| panic!("no `{label}` line in\n{report}"))
}

/// The hand-made faults, each as the probe names it and curl fails on it.
#[test]
fn hand_made_faults_are_named_as_curl_fails_on_them() {
    let no = EndStream::No;
    // (acts, the probe's outcome, curl's exit status, curl's words). An
    // RST is curl's 56 when it was reading, 55 when it was writing (its
    // SETTINGS ACK): the order is the kernel's, so either is held.
    let cases: Vec<(Vec<Act>, &str, &[i32], &str)> = vec![
        (
            vec![
                Act::Send(vec![settings(), head("200", no), data(5, EndStream::Yes)]),
                Act::Hang,
            ],
            "complete",
            &[0],
            "",
        ),
        (
            vec![
                Act::Send(vec![settings(), goaway(0, ErrorCode::NO_ERROR, "drain")]),
                Act::Fin,
            ],
            "goaway (NO_ERROR)",
            &[16],
            "(16) Error in the HTTP2 framing layer",
        ),
        (
            vec![
                Act::Send(vec![settings(), head("200", no), rst_stream(ErrorCode::INTERNAL_ERROR)]),
                Act::Hang,
            ],
            "stream-reset (INTERNAL_ERROR)",
            &[92],
            "(92) HTTP/2 stream 1 was not closed cleanly: INTERNAL_ERROR (err 2)",
        ),
        (
            vec![
                Act::Send(vec![
                    settings(),
                    head("200", no),
                    data(100, no),
                    goaway(1, ErrorCode::NO_ERROR, ""),
                ]),
                Act::Fin,
            ],
            "truncated",
            &[18],
            "(18) HTTP/2 stream 1 was not closed cleanly before end of the underlying stream",
        ),
        (
            vec![Act::Send(vec![settings(), head("200", no), data(10, no)]), Act::Rst],
            "reset (mid-body)",
            &[55, 56],
            "Connection reset by peer",
        ),
        (
            vec![
                Act::Send(vec![
                    settings(),
                    head("200", no),
                    goaway(1, ErrorCode::ENHANCE_YOUR_CALM, "too_many_pings"),
                ]),
                Act::Fin,
            ],
            // curl does not tell a GOAWAY's code: to it this is a FIN
            // before END_STREAM like any other.
            "goaway (ENHANCE_YOUR_CALM)",
            &[18],
            "(18) HTTP/2 stream 1 was not closed cleanly before end of the underlying stream",
        ),
    ];
    for (acts, outcome, curl_codes, curl_says) in cases {
        let (addr, _) = h2_server(acts);
        let report = text(&url(addr), &[]);
        assert_eq!(line(&report, "outcome"), format!("outcome   {outcome}"), "{report}");
        let (code, said) = curl(&url(addr));
        assert!(
            code.is_some_and(|c| curl_codes.contains(&c)),
            "curl on the server of `{outcome}` exited {code:?}: {said}"
        );
        assert!(said.contains(curl_says), "curl on `{outcome}`: {said}");
    }
}

#[test]
fn a_refused_stream_is_a_stream_reset_that_curl_retries() {
    let (addr, _) = h2_server(vec![
        Act::Send(vec![settings(), rst_stream(ErrorCode::REFUSED_STREAM)]),
        Act::Hang,
    ]);
    let report = text(&url(addr), &["--expect", "stream-reset (REFUSED_STREAM)"]);
    assert_eq!(
        line(&report, "received"),
        "received  28 B      no response HEADERS",
        "{report}"
    );
    assert_eq!(
        line(&report, "frame"),
        "frame     RST_STREAM REFUSED_STREAM on stream 1"
    );
    let (code, said) = curl(&url(addr));
    assert_eq!(code, Some(56), "{said}");
    assert!(
        said.contains("(56) Connection died, tried 5 times before giving up"),
        "{said}"
    );
}

#[test]
fn a_fin_before_end_stream_is_a_truncation_after_so_many_data_bytes() {
    let (addr, from_probe) = h2_server(vec![
        Act::Send(vec![
            settings(),
            head("200", EndStream::No),
            data(100, EndStream::No),
            goaway(1, ErrorCode::NO_ERROR, ""),
        ]),
        Act::Fin,
    ]);
    let report = text(&url(addr), &[]);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "http2     h2c, with prior knowledge", "{report}");
    assert_eq!(lines[1], "settings  from the server: MAX_CONCURRENT_STREAMS 100");
    assert!(
        lines[2].starts_with("sent      ") && lines[2].ends_with(" GET / on stream 1"),
        "{report}"
    );
    // SETTINGS (15 B), HEADERS (22), DATA (109), GOAWAY (17).
    assert_eq!(lines[3], "received  163 B     HTTP/2 200, body 100 B, no END_STREAM");
    assert_eq!(lines[4], "frame     GOAWAY last-stream 1 NO_ERROR");
    assert!(
        lines[5].starts_with(
            "ended     the connection closed before END_STREAM after 100 DATA bytes: FIN from server after 163 B, "
        ),
        "{report}"
    );
    assert_eq!(lines[6], "outcome   truncated");
    assert_eq!(lines.len(), 7, "{report}");
    // At most the ACK of the server's SETTINGS (unless the FIN came
    // first: the probe writes nothing after the server's end).
    let sent = from_probe
        .recv_timeout(Duration::from_secs(5))
        .expect("the server's report");
    assert!(
        sent.iter().all(|f| matches!(f, Frame::Settings { ack: Ack::Yes, .. })),
        "{sent:?}"
    );

    let json = probe_json(
        &url(addr),
        &["--http2", "--expect", "truncated", "--expect-body-bytes", "100"],
    );
    let h2 = &json["http2"];
    assert_eq!(h2["via"], "prior-knowledge", "{json}");
    assert_eq!(h2["status"], 200, "{json}");
    assert_eq!(h2["end_stream"], false, "{json}");
    assert_eq!(h2["data_bytes"], 100, "{json}");
    assert_eq!(h2["goaways"][0]["last_stream"], 1, "{json}");
    assert_eq!(h2["goaways"][0]["error"], "NO_ERROR", "{json}");
    assert_eq!(json["outcome"], "truncated", "{json}");
    assert_eq!(json.request(1)["ended"], "fin", "{json}");
    let events: Vec<String> = json
        .timeline()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["event"].as_str().unwrap_or(""),
                e["from"].as_str().unwrap_or("")
            )
        })
        // The ACK of the server's SETTINGS goes unless its FIN was read
        // first, which is the kernel's business.
        .filter(|e| e != "h2-settings probe")
        .collect();
    assert_eq!(
        events,
        [
            "connected ",
            "h2-preface probe",
            "h2-headers probe",
            "h2-settings server",
            "h2-headers server",
            "h2-data server",
            "h2-goaway server",
            "server-fin ",
        ],
        "{json}"
    );
}

#[test]
fn a_goaway_that_leaves_the_stream_out_is_goaway_with_its_code_and_debug_text() {
    let (addr, _) = h2_server(vec![
        Act::Send(vec![settings(), goaway(0, ErrorCode::NO_ERROR, "drain\n")]),
        Act::Fin,
    ]);
    let report = text(&url(addr), &["--expect", "goaway (NO_ERROR)"]);
    assert_eq!(
        line(&report, "frame"),
        "frame     GOAWAY last-stream 0 NO_ERROR \"drain\\n\""
    );
    assert!(
        line(&report, "ended").starts_with("ended     FIN from server after 38 B, "),
        "{report}"
    );
    let json = probe_json(&url(addr), &["--http2"]);
    assert_eq!(json["outcome"], "goaway", "{json}");
    assert_eq!(json["h2_error"], "NO_ERROR", "{json}");
    let goaway = json
        .timeline()
        .iter()
        .find(|e| e["event"] == "h2-goaway")
        .unwrap_or_else(|| panic!("no h2-goaway in {json}"));
    assert_eq!(goaway["last_stream"], 0);
    assert_eq!(goaway["debug"], "drain\n");
    assert_eq!(goaway["code"], 0);
    let wrong = probe(&url(addr), &["--http2", "--expect", "goaway (PROTOCOL_ERROR)"]);
    assert_eq!(wrong.code, Some(1), "{}", wrong.stdout);
    assert_eq!(
        wrong.stderr,
        "hangup: expectation failed: expected goaway (PROTOCOL_ERROR), got goaway (NO_ERROR)\n"
    );
}

#[test]
fn an_rst_after_the_head_is_a_reset_mid_body_and_a_diagram_draws_each_frame() {
    let (addr, _) = h2_server(vec![
        Act::Send(vec![settings(), head("200", EndStream::No), data(10, EndStream::No)]),
        Act::Rst,
    ]);
    let report = text(&url(addr), &["--expect", "reset (mid-body)"]);
    assert!(
        line(&report, "ended").starts_with(
            "ended     the connection was reset before END_STREAM after 10 DATA bytes: RST from server after"
        ),
        "{report}"
    );
    let diagram = text(&url(addr), &["--diagram"]);
    let arrows: Vec<&str> = diagram.lines().map(|l| l.get(11..).unwrap_or("").trim_end()).collect();
    for want in [
        "|--- preface, SETTINGS ENABLE_PUSH 0 --------------------->|",
        "|--- HEADERS GET / (end-stream) -------------------------->|",
        "|<-- SETTINGS MAX_CONCURRENT_STREAMS 100 ------------------|",
        "|<-- HEADERS 200 ------------------------------------------|",
        "|<-- DATA 10 B --------------------------------------------|",
        "|<========================= RST ===========================|",
    ] {
        assert!(arrows.contains(&want), "no {want} in\n{diagram}");
    }
    assert!(diagram.ends_with("           reset (mid-body)\n"), "{diagram}");
}

/// A ping on stream 3: a PROTOCOL_ERROR of the connection.
fn ping_on_stream_3() -> Vec<u8> {
    let mut bytes = Vec::new();
    hangup::h2::frame::RawFrame {
        kind: kind::PING,
        flags: 0,
        stream_word: 3,
        declared_len: None,
        payload: vec![0; 8],
    }
    .encode(&mut bytes);
    bytes
}

#[test]
fn a_server_that_breaks_the_rules_is_told_so_and_the_probe_says_why() {
    let mut settings_bytes = Vec::new();
    settings().encode(&mut settings_bytes);
    let mut upper = Vec::new();
    hpack::encode(
        [(b":status".as_slice(), b"200".as_slice()), (b"X-Up", b"1")],
        &mut upper,
    );
    // (what the server sends, the problem, what the probe answered)
    let cases: Vec<(Vec<u8>, &str, Frame)> = vec![
        (
            [settings_bytes.clone(), ping_on_stream_3()].concat(),
            "PING frame on stream 3 (must be 0); the probe sent GOAWAY PROTOCOL_ERROR",
            goaway(0, ErrorCode::PROTOCOL_ERROR, ""),
        ),
        (
            [settings_bytes.clone(), vec![0, 0x4e, 0x20, 0, 0, 0, 0, 0, 1]].concat(),
            "a frame of type 0 announces 20000 bytes, more than SETTINGS_MAX_FRAME_SIZE (16384); the probe sent \
             GOAWAY FRAME_SIZE_ERROR",
            goaway(0, ErrorCode::FRAME_SIZE_ERROR, ""),
        ),
        (
            [settings_bytes.clone(), data(1, EndStream::No).to_bytes()]
                .concat()
                .iter()
                .copied()
                .enumerate()
                .map(|(i, b)| if i == settings_bytes.len() + 8 { 3 } else { b })
                .collect(),
            "DATA on stream 3, which the probe never opened; the probe sent GOAWAY PROTOCOL_ERROR",
            goaway(0, ErrorCode::PROTOCOL_ERROR, ""),
        ),
        (
            Frame::Ping {
                ack: Ack::No,
                data: [0; 8],
            }
            .to_bytes(),
            "the server's first frame is PING, not SETTINGS; the probe sent GOAWAY PROTOCOL_ERROR",
            goaway(0, ErrorCode::PROTOCOL_ERROR, ""),
        ),
        (
            [
                settings_bytes.clone(),
                Frame::Headers {
                    stream: 1,
                    block: upper,
                    end_stream: EndStream::Yes,
                    end_headers: EndHeaders::Yes,
                    priority: None,
                    pad: None,
                }
                .to_bytes(),
            ]
            .concat(),
            "malformed response: the field name `X-Up` in uppercase (HTTP/2 wants lowercase); the probe reset \
             the stream: PROTOCOL_ERROR",
            rst_stream(ErrorCode::PROTOCOL_ERROR),
        ),
    ];
    for (bytes, problem, answer) in cases {
        let (addr, from_probe) = h2_server(vec![Act::Raw(bytes), Act::Hang]);
        let json = probe_json(&url(addr), &["--http2", "--expect", "error"]);
        assert_eq!(json.request(1)["problem"], problem, "{json}");
        assert_eq!(json["http2"]["error"], problem, "{json}");
        let sent = from_probe
            .recv_timeout(Duration::from_secs(5))
            .expect("the server's report");
        assert!(sent.contains(&answer), "{problem}: the probe sent {sent:?}");
    }
}

#[test]
fn an_http1_server_is_named_as_one() {
    // What Node's `http` server answers to the preface (its clientError
    // default), then its close. hangup's own built-ins speak HTTP/2 to a
    // preface, so the HTTP/1-only server is made here.
    let bad_request = b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n".to_vec();
    let (addr, _from_probe) = h2_server(vec![Act::Raw(bad_request), Act::Fin]);
    let report = text(&url(addr), &["--expect", "error"]);
    assert_eq!(
        line(&report, "received"),
        "received  47 B      the server answered in HTTP/1: `HTTP/1.1 400 Bad Request` (it does not speak HTTP/2 \
         with prior knowledge); the probe sent GOAWAY PROTOCOL_ERROR",
        "{report}"
    );
    // The server closes after its answer; the probe closes at once too. Which comes first is the kernel's business.
    let ended = line(&report, "ended");
    assert!(
        ended.starts_with("ended     FIN from server after 47 B") || ended.ends_with(", as what came is not HTTP/2"),
        "{report}"
    );
}

#[test]
fn flags_http2_cannot_honour_are_usage_errors() {
    for (flags, why) in [
        (&["--record", "x.hup"][..], "--record does not record HTTP/2 yet"),
        (
            &["--pipeline", "2"],
            "--pipeline is HTTP/1.1's; --http2 sends one stream per connection",
        ),
        (&["--requests", "2"], "--requests reuses an HTTP/1.1 connection"),
        (&["--raw", "x"], "--raw sends bytes as they are"),
        (&["--strict"], "--strict judges HTTP/1.1 responses"),
        (
            &["-H", "nocolon"],
            "-H nocolon: HTTP/2 sends a header as a name and a value",
        ),
    ] {
        let mut args = vec!["probe", "--http2", "127.0.0.1:9"];
        args.extend_from_slice(flags);
        let out = hangup(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(why), "{flags:?}: {stderr}");
    }
    let out = hangup(&["probe", "127.0.0.1:9", "--expect", "goaway (BOGUS)"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the error code is one of NO_ERROR, PROTOCOL_ERROR"),
        "{stderr}"
    );
}

/// A Node `http2` server whose `stream` handler is `handler` (with
/// `stream`, `headers`, `http2` and `sockets`, the raw sockets, in scope).
fn node_h2(handler: &str) -> Upstream {
    node_server(&format!(
        "const http2 = require('http2'); const server = http2.createServer(); const sockets = [];
         server.on('connection', (s) => sockets.push(s)); server.on('sessionError', () => {{}});
         server.on('session', (session) => session.on('error', () => {{}}));
         server.on('stream', (stream, headers) => {{ stream.on('error', () => {{}}); {handler} }});
         server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));"
    ))
}

#[test]
fn node_a_whole_response_is_complete() {
    let node = node_h2("stream.respond({':status': 200, 'content-type': 'text/plain'}); stream.end('hello\\n');");
    let report = text(
        &url(node.addr),
        &[
            "--expect",
            "complete",
            "--expect-status",
            "200",
            "--expect-body-bytes",
            "6",
        ],
    );
    assert!(
        line(&report, "received").ends_with(" HTTP/2 200, body 6 B, END_STREAM"),
        "{report}"
    );
    assert_eq!(
        line(&report, "ended"),
        "ended     still open 50.0 ms after the response; the probe closed it"
    );
    let json = probe_json(&url(node.addr), &["--http2"]);
    assert_eq!(json["http2"]["end_stream"], true, "{json}");
    assert_eq!(json["http2"]["status"], 200, "{json}");
    assert_eq!(json.request(1)["status"], 200, "{json}");
    assert_eq!(json.request(1)["body_bytes"], 6, "{json}");
    assert_eq!(curl(&url(node.addr)).0, Some(0));
}

#[test]
fn node_a_stream_reset_after_the_head_and_a_refused_stream() {
    // waitForTrailers keeps END_STREAM off the last DATA: the RST_STREAM
    // then ends the stream.
    let node = node_h2(
        "stream.respond({':status': 200}, {waitForTrailers: true});
         stream.on('wantTrailers', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
         stream.end('partial');",
    );
    let report = text(&url(node.addr), &["--expect", "stream-reset (INTERNAL_ERROR)"]);
    assert!(
        line(&report, "received").ends_with(" HTTP/2 200, body 7 B, no END_STREAM"),
        "{report}"
    );
    assert_eq!(
        line(&report, "ended"),
        "ended     still open 50.0 ms after the RST_STREAM; the probe closed it"
    );
    let (code, said) = curl(&url(node.addr));
    assert_eq!(code, Some(92), "{said}");
    assert!(said.contains("INTERNAL_ERROR"), "{said}");

    let node = node_h2("stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);");
    text(&url(node.addr), &["--expect", "stream-reset (REFUSED_STREAM)"]);
}

#[test]
fn node_a_goaway_before_the_stream_and_data_then_a_cut() {
    let node = node_server(
        "const http2 = require('http2'); const server = http2.createServer();
         server.on('session', (s) => { s.on('error', () => {}); s.goaway(http2.constants.NGHTTP2_NO_ERROR, 0, Buffer.from('bye')); });
         server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));",
    );
    let report = text(&url(node.addr), &["--expect", "goaway (NO_ERROR)"]);
    assert_eq!(
        line(&report, "frame"),
        "frame     GOAWAY last-stream 0 NO_ERROR \"bye\"",
        "{report}"
    );
    assert_eq!(curl(&url(node.addr)).0, Some(16));

    // 100 bytes, then the socket destroyed under the session.
    let node = node_h2(
        "stream.respond({':status': 200});
         stream.write(Buffer.alloc(100, 'x'), () => setTimeout(() => sockets.forEach((s) => s.destroy()), 50));",
    );
    let report = text(
        &url(node.addr),
        &["--expect", "truncated", "--expect-body-bytes", "100"],
    );
    assert!(
        line(&report, "ended").starts_with("ended     the connection closed before END_STREAM after 100 DATA bytes"),
        "{report}"
    );
    assert_eq!(curl(&url(node.addr)).0, Some(18));
}

#[test]
fn node_an_upload_goes_as_the_windows_open() {
    let node = node_h2(
        "let n = 0; stream.on('data', (c) => n += c.length);
         stream.on('end', () => { stream.respond({':status': 200}); stream.end(String(n)); });",
    );
    let json = probe_json(
        &url(node.addr),
        &[
            "--http2",
            "--body-bytes",
            "1MiB",
            "--expect",
            "complete",
            "--expect-body-bytes",
            "7",
        ],
    );
    let h2 = &json["http2"];
    assert_eq!(
        (h2["body_sent"].as_u64(), h2["body_total"].as_u64()),
        (Some(1 << 20), Some(1 << 20)),
        "{json}"
    );
    assert_eq!(json.request(1)["request_line"], "POST /", "{json}");
    // Node's window is 65,535 until its WINDOW_UPDATEs: the body went
    // in many batches.
    let window_updates = json
        .timeline()
        .iter()
        .filter(|e| e["event"] == "h2-window-update" && e["from"] == "server")
        .count();
    assert!(window_updates > 2, "{json}");
}

#[test]
fn many_probes_one_stream_each() {
    let node = node_h2(
        "stream.respond({':status': 200}, {waitForTrailers: true});
         stream.on('wantTrailers', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
         stream.end();",
    );
    let probed = probe(&url(node.addr), &["--http2", "--count", "20", "--concurrency", "5"]);
    assert_eq!(probed.code, Some(0), "{}", probed.stderr);
    assert!(
        probed.stdout.contains("outcomes  stream-reset (INTERNAL_ERROR): 20\n"),
        "{}",
        probed.stdout
    );
}

/// HTTP/2 over TLS: `h2` offered by ALPN, and a server that chooses
/// otherwise told clearly.
#[cfg(feature = "tls")]
mod over_tls {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    use super::*;
    use crate::support::{Server, TempDir};

    /// A CA, and a certificate for localhost it signed: the files.
    struct Certs {
        dir: TempDir,
    }

    impl Certs {
        fn new() -> Certs {
            let dir = TempDir::new("probe-h2-certs");
            let mut ca = CertificateParams::default();
            ca.distinguished_name = rcgen::DistinguishedName::new();
            ca.distinguished_name.push(DnType::CommonName, "probe h2 test CA");
            ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            let ca_key = KeyPair::generate().expect("CA key");
            dir.file("ca.pem", ca.self_signed(&ca_key).expect("CA").pem());
            let leaf = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
            let key = KeyPair::generate().expect("key");
            let cert = leaf.signed_by(&key, &Issuer::from_params(&ca, &ca_key)).expect("leaf");
            dir.file("cert.pem", cert.pem());
            dir.file("key.pem", key.serialize_pem());
            Certs { dir }
        }

        fn path(&self, name: &str) -> String {
            self.dir.path().join(name).to_string_lossy().into_owned()
        }

        /// A Node server over TLS: `module` (`http2` or `https`) with
        /// `options` besides the key and certificate, answering `hello`.
        fn node(&self, module: &str, create: &str, options: &str) -> Upstream {
            node_server(&format!(
                "const m = require('{module}'); const fs = require('fs');
                 const server = m.{create}({{key: fs.readFileSync('{key}'), cert: fs.readFileSync('{cert}'), {options}}},
                   (req, res) => res.end('hello over TLS\\n'));
                 server.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));",
                key = self.path("key.pem"),
                cert = self.path("cert.pem"),
            ))
        }
    }

    fn https(addr: SocketAddr) -> String {
        format!("https://localhost:{}/", addr.port())
    }

    #[test]
    fn h2_by_alpn_with_node() {
        let certs = Certs::new();
        let node = certs.node("http2", "createSecureServer", "");
        let ca = certs.path("ca.pem");
        let report = text(&https(node.addr), &["--cacert", &ca, "--expect", "complete"]);
        assert!(line(&report, "tls").contains(", ALPN h2, SNI localhost"), "{report}");
        assert_eq!(line(&report, "http2"), "http2     h2, by ALPN");
        // Node's head (its `date` field) is Node's business: the bytes are not held.
        assert!(
            line(&report, "received").ends_with(" HTTP/2 200, body 15 B, END_STREAM"),
            "{report}"
        );
        let json = probe_json(&https(node.addr), &["--http2", "--cacert", &ca]);
        assert_eq!(json["tls"]["alpn"], "h2", "{json}");
        assert_eq!(json["http2"]["via"], "alpn", "{json}");
        // Without --http2 the probe offers http/1.1 alone, which this
        // server refuses with an alert.
        let probed = probe(&https(node.addr), &["--cacert", &ca]);
        assert!(
            probed
                .stdout
                .contains("handshake failed: alert no_application_protocol from server"),
            "{}",
            probed.stdout
        );
    }

    #[test]
    fn a_server_whose_alpn_is_not_h2_is_told_clearly() {
        // hangup answers no ALPN at all.
        let dir = TempDir::new("probe-h2-alpn");
        let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
        let server = Server::start_with("hello", &["--tls", "--tls-ca-out", &ca]);
        let url = format!("https://localhost:{}/", server.addr.port());
        let report = text(&url, &["--cacert", &ca, "--expect", "error"]);
        assert!(line(&report, "tls").contains(", no ALPN, "), "{report}");
        assert_eq!(
            line(&report, "http2"),
            "http2     not spoken: the server chose no protocol by ALPN (the probe offered h2 and http/1.1): \
             HTTP/2 over TLS needs h2 (without --http2 the probe speaks HTTP/1.1)"
        );
        assert_eq!(
            line(&report, "received"),
            "received  0 B       ALPN chose nothing, not h2"
        );
        assert!(
            line(&report, "ended").ends_with(", as ALPN did not choose h2"),
            "{report}"
        );
        let failed = probe(&url, &["--http2", "--cacert", &ca, "--expect", "complete"]);
        assert_eq!(failed.code, Some(1), "{}", failed.stdout);
        assert_eq!(
            failed.stderr,
            "hangup: expectation failed: expected complete, got error\n"
        );

        // Node's https chooses http/1.1.
        let certs = Certs::new();
        let node = certs.node("https", "createServer", "ALPNProtocols: ['http/1.1']");
        let report = text(&https(node.addr), &["--cacert", &certs.path("ca.pem")]);
        assert!(line(&report, "tls").contains(", ALPN http/1.1, "), "{report}");
        assert_eq!(
            line(&report, "received"),
            "received  0 B       ALPN chose http/1.1, not h2"
        );
        assert_eq!(line(&report, "outcome"), "outcome   error");
    }
}
