//! Issue 27: the HTTP/2 statements of the language, each seen from a bare
//! HTTP/2 client (support/h2.rs) over a real socket: what `read preface`,
//! `read head`/`read body`, conditions, `respond`, windows, `h2 manual`
//! and raw frames put on the wire, and how the connection ends.

use std::io::Write;
use std::time::Duration;

use crate::support::h2::{
    self, ACK, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS, PING, RST_STREAM, SETTINGS, WINDOW_UPDATE, block, frame,
};
use crate::support::{End, Server, scenario_file, text};

const WAIT: Duration = Duration::from_secs(3);
const QUIET: Duration = Duration::from_millis(200);

/// The preface and an empty SETTINGS: what every client sends first.
fn hello_frames() -> Vec<u8> {
    let mut bytes = h2::PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, &[]));
    bytes
}

/// HEADERS opening `stream` for `method path`, with or without END_STREAM.
fn request(stream: u32, method: &str, path: &str, end_stream: bool) -> Vec<u8> {
    let fields = [
        (":method", method),
        (":scheme", "http"),
        (":authority", "example.test"),
        (":path", path),
    ];
    let flags = END_HEADERS | if end_stream { END_STREAM } else { 0 };
    frame(HEADERS, flags, stream, &block(&fields))
}

fn serve(name: &str, source: &str) -> (Server, crate::support::ScenarioFile) {
    let file = scenario_file(name, source);
    (Server::start_with(&file, &[]), file)
}

#[test]
fn read_preface_waits_for_the_clients_settings_and_no_request() {
    let (server, _file) = serve(
        "preface",
        "read preface\nh2 goaway error PROTOCOL_ERROR debug \"seen\"\nclose\n",
    );
    let mut stream = server.connect();
    stream.write_all(h2::PREFACE).expect("preface");
    // Nothing but our SETTINGS until the client's SETTINGS come.
    let (first, end) = h2::read_frames(&mut stream, QUIET);
    assert_eq!(end, End::Open);
    assert_eq!(first.iter().map(|f| f.kind).collect::<Vec<_>>(), [SETTINGS]);
    stream.write_all(&frame(SETTINGS, 0, 0, &[])).expect("settings");
    let (rest, end) = h2::read_frames(&mut stream, WAIT);
    let scripted = h2::scripted(&rest);
    assert_eq!(scripted.len(), 1, "{rest:?}");
    assert_eq!(scripted[0].goaway(), (0, 1, "seen".into()));
    assert!(matches!(end, End::PeerFin | End::PeerRst), "{end:?}");
}

#[test]
fn read_head_then_body_count_the_uploaded_data_frames() {
    let (server, _file) = serve(
        "upload",
        "read head\nread body\nif request is 1\n  respond 201 body \"got it\"\nend\nhang\n",
    );
    let mut bytes = hello_frames();
    bytes.extend(request(1, "POST", "/up", false));
    bytes.extend(frame(DATA, 0, 1, b"hello "));
    bytes.extend(frame(DATA, END_STREAM, 1, b"world"));
    let (frames, _) = h2::exchange(&server, &bytes, QUIET);
    let scripted = h2::scripted(&frames);
    assert_eq!(scripted[0].status(), "201", "{frames:?}");
    assert_eq!(scripted[1].payload, b"got it");
    let body = server.wait_for_event("body");
    assert_eq!(body["bytes"], 11, "{body}");
    let head = server.wait_for_event("head");
    assert_eq!(
        (head["method"].as_str(), head["stream"].as_u64()),
        (Some("POST"), Some(1))
    );
}

#[test]
fn conditions_see_the_method_path_and_authority_of_each_stream() {
    let (server, _file) = serve(
        "route",
        "loop\n read request\n if path is \"/a\" and header \"host\" is \"example.test\"\n  respond 200 body \"a\"\n else if method is HEAD\n  respond 200 body \"head\"\n else\n  h2 rst-stream REFUSED_STREAM\n end\nend\n",
    );
    let mut bytes = hello_frames();
    bytes.extend(request(1, "GET", "/a", true));
    bytes.extend(request(3, "HEAD", "/b", true));
    bytes.extend(request(5, "GET", "/c", true));
    let (frames, end) = h2::exchange(&server, &bytes, QUIET);
    assert_eq!(end, End::Open);
    let scripted = h2::scripted(&frames);
    let seen: Vec<(u8, u32, u8)> = scripted
        .iter()
        .map(|f| (f.kind, f.stream, f.flags & END_STREAM))
        .collect();
    // Stream 3 is HEAD: its answer is HEADERS alone, END_STREAM on it,
    // with the length the body would have had.
    assert_eq!(
        seen,
        [
            (HEADERS, 1, 0),
            (DATA, 1, END_STREAM),
            (HEADERS, 3, END_STREAM),
            (RST_STREAM, 5, 0)
        ],
        "{frames:?}"
    );
    assert!(scripted[2].fields().contains(&("content-length".into(), "4".into())));
    assert_eq!(scripted[3].word(0), 7);
}

#[test]
fn respond_drops_the_headers_http2_forbids() {
    let (server, _file) = serve(
        "forbidden",
        "read request\nrespond 200 header \"Connection: close\" header \"X-Kept: yes\" header \"Transfer-Encoding: chunked\" body \"ok\" chunked\nhang\n",
    );
    let (frames, _) = h2::exchange(&server, &h2::get("/"), QUIET);
    let headers = h2::scripted(&frames)[0].fields();
    assert_eq!(
        headers,
        [
            (":status".to_string(), "200".to_string()),
            ("x-kept".into(), "yes".into()),
            ("content-length".into(), "2".into())
        ]
    );
}

#[test]
fn data_waits_for_the_clients_window_and_goes_on_when_it_grows() {
    let (server, _file) = serve(
        "window",
        "read request\nh2 headers 200\nh2 data repeat 70000 \"x\" end-stream\nh2 ping data \"after\"\nhang\n",
    );
    let mut stream = server.connect();
    stream.write_all(&h2::get("/")).expect("send");
    let data =
        |frames: &[h2::Frame]| -> usize { frames.iter().filter(|f| f.kind == DATA).map(|f| f.payload.len()).sum() };
    let before = h2::read_until(&mut stream, WAIT, |_| false);
    assert_eq!(data(&before), 65_535, "the initial window, and no more");
    let blocked = server.wait_for_event("h2-blocked");
    assert_eq!(
        (blocked["sent"].as_u64(), blocked["left"].as_u64()),
        (Some(65_535), Some(4_465))
    );
    // The connection's window, then the stream's: the rest follows, then
    // the next statement's PING.
    stream
        .write_all(&frame(WINDOW_UPDATE, 0, 0, &10_000u32.to_be_bytes()))
        .expect("window");
    let (none, _) = h2::read_frames(&mut stream, QUIET);
    assert_eq!(data(&none), 0, "the stream's window is still shut");
    stream
        .write_all(&frame(WINDOW_UPDATE, 0, 1, &10_000u32.to_be_bytes()))
        .expect("window");
    let after = h2::read_until(&mut stream, WAIT, |f| f.kind == PING);
    assert_eq!(data(&after), 4_465);
    let last = after.iter().rfind(|f| f.kind == DATA).expect("DATA");
    assert_eq!(last.flags & END_STREAM, END_STREAM);
    assert_eq!(after.last().map(|f| f.payload.as_slice()), Some(&b"after\0\0\0"[..]));
}

#[test]
fn ignore_window_sends_past_it() {
    let (server, _file) = serve(
        "ignore",
        "read request\nh2 headers 200\nh2 data repeat 70000 \"x\" end-stream ignore-window\nhang\n",
    );
    let mut stream = server.connect();
    stream.write_all(&h2::get("/")).expect("send");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    let sent: usize = frames.iter().filter(|f| f.kind == DATA).map(|f| f.payload.len()).sum();
    assert_eq!(sent, 70_000);
    // Cut to the client's largest frame (16 KiB by default).
    assert!(frames.iter().all(|f| f.payload.len() <= 16_384));
}

#[test]
fn manual_settings_ack_and_ping_ack_are_the_scripts_to_send() {
    let (server, _file) = serve(
        "manual",
        "h2 manual settings-ack ping-ack\nread preface\nsleep 50ms\nh2 settings-ack\nh2 ping ack data \"late\"\nhang\n",
    );
    let mut stream = server.connect();
    let mut bytes = hello_frames();
    bytes.extend(frame(PING, 0, 0, b"12345678"));
    stream.write_all(&bytes).expect("send");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == PING);
    let answers: Vec<(u8, u8, Vec<u8>)> = frames
        .iter()
        .map(|f| (f.kind, f.flags, f.payload.clone()))
        .filter(|(kind, _, _)| *kind != WINDOW_UPDATE)
        .collect();
    // Our SETTINGS, then only what the script sent: no automatic ACK of
    // the client's SETTINGS, and the PING answered with the script's data.
    assert_eq!(answers[0].0, SETTINGS);
    assert_eq!(
        answers[1..],
        [(SETTINGS, ACK, vec![]), (PING, ACK, b"late\0\0\0\0".to_vec())]
    );
}

#[test]
fn pings_and_settings_are_answered_by_themselves() {
    let (server, _file) = serve("auto", "read request\nhang\n");
    let mut bytes = hello_frames();
    bytes.extend(frame(PING, 0, 0, b"abcdefgh"));
    bytes.extend(request(1, "GET", "/", true));
    let (frames, _) = h2::exchange(&server, &bytes, QUIET);
    let kinds: Vec<(u8, u8)> = frames.iter().map(|f| (f.kind, f.flags)).collect();
    assert_eq!(kinds, [(SETTINGS, 0), (SETTINGS, ACK), (PING, ACK)], "{frames:?}");
    assert_eq!(frames[2].payload, b"abcdefgh");
}

#[test]
fn raw_frames_go_out_as_written() {
    let (server, _file) = serve(
        "raw",
        "read request\nh2 frame type 250 flags 3 stream 1 payload \"?!\"\nh2 frame type 4 length 5 stream 0 payload hex \"0001\"\nhang\n",
    );
    let (bytes, _) = {
        let mut stream = server.connect();
        stream.write_all(&h2::get("/")).expect("send");
        crate::support::read_to_end(&mut stream, QUIET)
    };
    // Our SETTINGS (9 + 12 bytes), the client's ACK, then the two frames.
    let tail = &bytes[bytes.len() - (11 + 11)..];
    assert_eq!(tail[..11], [0, 0, 2, 250, 3, 0, 0, 0, 1, b'?', b'!']);
    // The second lies: length 5, 2 bytes of payload.
    assert_eq!(tail[11..], [0, 0, 5, 4, 0, 0, 0, 0, 0, 0, 1]);
}

#[test]
fn a_client_that_breaks_the_rules_gets_goaway_with_the_code_and_why() {
    let (server, _file) = serve("rules", "read request\nhang\n");
    let mut bytes = hello_frames();
    // DATA on stream 0 (RFC 9113 §6.1: PROTOCOL_ERROR).
    bytes.extend(frame(DATA, 0, 0, b"x"));
    let (frames, end) = h2::exchange(&server, &bytes, WAIT);
    let goaway = frames.iter().find(|f| f.kind == GOAWAY).expect("GOAWAY");
    let (last, code, why) = goaway.goaway();
    assert_eq!((last, code), (0, 1), "{why}");
    assert!(!why.is_empty());
    assert_eq!(end, End::PeerFin);
    let error = server.wait_for_event("h2-error");
    assert_eq!(error["error"], "PROTOCOL_ERROR (0x1)", "{error}");
}

#[test]
fn h2_statements_on_an_http1_connection_get_a_505_that_says_what_to_do() {
    let (server, _file) = serve("h1", "read request\nh2 goaway\nclose\n");
    let (received, end, _) = crate::support::exchange(&server, crate::support::GET, WAIT);
    let answer = text(&received);
    assert!(
        answer.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        "{answer}"
    );
    assert!(answer.contains("--http2-prior-knowledge"), "{answer}");
    assert_eq!(end, End::PeerFin);
}

#[test]
fn a_stream_the_client_reset_gets_no_answer() {
    let (server, _file) = serve(
        "gone",
        "read request\nsleep 50ms\nrespond 200 body \"late\"\nh2 ping\nhang\n",
    );
    let mut stream = server.connect();
    stream.write_all(&h2::get("/")).expect("send");
    server.wait_for_event("request");
    stream
        .write_all(&frame(RST_STREAM, 0, 1, &8u32.to_be_bytes()))
        .expect("reset");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == PING);
    assert!(frames.iter().all(|f| f.kind != HEADERS && f.kind != DATA), "{frames:?}");
    server.wait_for_log(&[r#""event":"h2-stream-gone""#, r#""stream":1"#]);
}

#[test]
fn a_proxy_scenario_asks_an_http2_client_for_http1_and_curl_retries_over_it() {
    use std::io::Read;
    let upstream = crate::support::raw_server(|mut socket| {
        let mut buf = [0; 4096];
        let _ = socket.read(&mut buf);
        let _ = socket.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nupstream\n");
    });
    let server = Server::start_proxy("proxy", &[], upstream);
    let (frames, end) = h2::exchange(&server, &h2::get("/"), WAIT);
    let scripted = h2::scripted(&frames);
    assert_eq!(scripted.len(), 1, "{frames:?}");
    assert_eq!(
        (scripted[0].kind, scripted[0].stream, scripted[0].word(0)),
        (RST_STREAM, 1, 13)
    );
    assert_eq!(end, End::PeerFin);
    server.wait_for_log(&[r#""event":"h2-not-proxied""#]);
    let url = format!("http://{}/", server.addr);
    let curl = std::process::Command::new("curl")
        .args(["-sS", "--http2-prior-knowledge", "-w", " %{http_version}", &url])
        .output()
        .expect("curl runs");
    assert_eq!(
        text(&curl.stdout),
        "upstream\n 1.1",
        "{}\n{}",
        text(&curl.stderr),
        server.log().join("\n")
    );
}
