//! Every built-in scenario, observed from a real TCP client: the exact
//! bytes received, how the connection ended, and when.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{End, GET, Server, client_hello, exchange, json, read_exact, read_to_end, text};

const SEED_002_BYTES: &[u8] = b"HTTP/1.1 200 OK\r\nServer: my-web-server\r\nContent-Length: 13\r\n\r\nHello,";
const HELLO_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
const SHORT: Duration = Duration::from_secs(2);

#[test]
fn mid_body_reset_sends_seed_bytes_then_rst() {
    let server = Server::start("mid-body-reset", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(text(&received), text(SEED_002_BYTES));
    assert_eq!(end, End::PeerRst);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
    assert_eq!(end["bytes_out"], 68, "{end}");
}

#[test]
fn truncated_body_sends_seed_bytes_then_fin() {
    let server = Server::start("truncated-body", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(received, SEED_002_BYTES);
    assert_eq!(end, End::PeerFin);
}

#[test]
fn truncated_chunked_has_no_last_chunk() {
    let server = Server::start("truncated-chunked", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(
        text(&received),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
    );
    assert_eq!(end, End::PeerFin);
}

#[test]
fn empty_reply_is_fin_without_bytes() {
    let server = Server::start("empty-reply", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerFin);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "fin", "{end}");
}

#[test]
fn reset_on_accept_is_rst_without_bytes() {
    let server = Server::start("reset-on-accept", &[]);
    // The RST can beat connect() itself back to the client: that is the
    // same reset, reported one step earlier.
    match TcpStream::connect(server.addr) {
        Ok(mut stream) => {
            let (received, end) = read_to_end(&mut stream, SHORT);
            assert_eq!((received.as_slice(), end), (&b""[..], End::PeerRst));
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
    assert_eq!(end["bytes_in"], 0, "{end}");
}

#[test]
fn connect_timeout_leaves_the_connect_unanswered() {
    let server = Server::start("connect-timeout", &[]);
    let started = std::time::Instant::now();
    let error = TcpStream::connect_timeout(&server.addr, Duration::from_millis(200)).unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
    assert!(started.elapsed() >= Duration::from_millis(190));
    assert!(server.events("accept").is_empty(), "{:?}", server.log());
}

#[test]
fn reset_on_first_byte_waits_for_a_byte_then_resets() {
    let server = Server::start("reset-on-first-byte", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!((received.as_slice(), end), (&b""[..], End::PeerRst));
    // A client that sends nothing is reset after `wait`, not before.
    let server = Server::start("reset-on-first-byte", &["wait=80ms"]);
    let mut stream = server.connect();
    let started = std::time::Instant::now();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!((received.as_slice(), end), (&b""[..], End::PeerRst));
    assert!(
        started.elapsed() >= Duration::from_millis(70),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn server_timeout_closes_after_the_delay_without_answering() {
    let server = Server::start("server-timeout", &["after=80ms"]);
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerFin);
    assert!(elapsed >= Duration::from_millis(80), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
}

#[test]
fn server_timeout_reset_resets_after_the_delay() {
    let server = Server::start("server-timeout-reset", &["after=80ms"]);
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerRst);
    assert!(elapsed >= Duration::from_millis(80), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
}

#[test]
fn keepalive_reset_answers_once_then_resets_the_reused_socket() {
    let server = Server::start("keepalive-reset", &[]);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    assert_eq!(read_exact(&mut stream, HELLO_RESPONSE.len()), HELLO_RESPONSE);
    stream.write_all(GET).unwrap();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerRst);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
    assert_eq!(end["requests"], 2, "{end}");
}

#[test]
fn flaky_resets_a_request_chosen_by_chance_and_logs_the_choice() {
    // 1 in 1: every request is chosen, whatever the seed.
    let server = Server::start("flaky", &["chance=1"]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerRst);
    let chance = server.wait_for_event("chance");
    assert_eq!(chance["odds"], "1/1", "{chance}");
    assert_eq!(chance["request"], 1, "{chance}");
    assert_eq!(chance["result"], "yes", "{chance}");
    assert_eq!(json::field(&server.log()[0], "event"), "seed", "{:?}", server.log());
    // The default, 1 in 3: an unchosen request is answered `hello` keep-alive.
    let server = Server::start("flaky", &[]);
    let answered = (0..30).any(|_| {
        let mut stream = server.connect();
        stream.write_all(GET).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        read_to_end(&mut stream, SHORT) == (HELLO_RESPONSE.to_vec(), End::PeerFin)
    });
    assert!(answered, "30 requests, none answered");
    let chance = server.wait_for_event("chance");
    assert_eq!(chance["odds"], "1/3", "{chance}");
}

#[test]
fn keepalive_idle_close_closes_an_idle_socket() {
    let server = Server::start("keepalive-idle-close", &["idle=80ms"]);
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert_eq!(received, HELLO_RESPONSE);
    assert_eq!(end, End::PeerFin);
    assert!(elapsed >= Duration::from_millis(80), "{elapsed:?}");
}

#[test]
fn hello_serves_keepalive_requests_until_the_client_leaves() {
    let server = Server::start("hello", &[]);
    let mut stream = server.connect();
    for _ in 0..3 {
        stream.write_all(GET).unwrap();
        assert_eq!(read_exact(&mut stream, HELLO_RESPONSE.len()), HELLO_RESPONSE);
    }
    drop(stream);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "peer-fin", "{end}");
    assert_eq!(end["requests"], 3, "{end}");
}

#[test]
fn hello_handles_pipelined_requests() {
    let server = Server::start("hello", &[]);
    let mut stream = server.connect();
    stream.write_all(&GET.repeat(3)).unwrap();
    assert_eq!(
        read_exact(&mut stream, HELLO_RESPONSE.len() * 3),
        HELLO_RESPONSE.repeat(3)
    );
}

#[test]
fn upload_reset_resets_while_the_client_is_still_sending() {
    let server = Server::start("upload-reset", &["limit=100KiB"]);
    let mut stream = server.connect();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n")
        .unwrap();
    let chunk = vec![b'u'; 64 * 1024];
    let mut sent = 0u64;
    let error = loop {
        match stream.write(&chunk) {
            Ok(n) => sent += n as u64,
            Err(e) => break e,
        }
        assert!(sent < 100 << 20, "the server never reset the upload");
    };
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
        "{error:?}"
    );
    assert!(sent >= 100 * 1024, "sent only {sent}");
    let read = server.wait_for_event("read");
    assert_eq!(read["bytes"], 102400, "{read}");
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
}

#[test]
fn early_413_answers_by_the_head_and_resets_over_the_unread_body() {
    let server = Server::start("early-413", &[]);
    let mut stream = server.connect();
    // Head and the start of the body in one segment: the body is there,
    // unread, when the scenario closes.
    let mut request = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 104857600\r\n\r\n".to_vec();
    request.extend_from_slice(&[b'u'; 1000]);
    stream.write_all(&request).unwrap();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!(
        text(&received),
        "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(end, End::PeerRst);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
    assert_eq!(end["unread"], 1000, "{end}");
}

#[test]
fn bad_request_gets_nodes_400_then_fin() {
    let server = Server::start("bad-request", &[]);
    let (received, end, _) = exchange(&server, b"NOT HTTP AT ALL\r\n\r\n", SHORT);
    assert_eq!(text(&received), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    assert_eq!(end, End::PeerFin);
}

#[test]
fn bad_request_gets_nodes_431_for_a_huge_head() {
    let server = Server::start("bad-request", &[]);
    let mut request = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 20 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    let (received, end, _) = exchange(&server, &request, SHORT);
    assert_eq!(
        text(&received),
        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n"
    );
    assert_eq!(end, End::PeerFin);
}

#[test]
fn bad_request_serves_good_requests() {
    let server = Server::start("bad-request", &[]);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    let expected = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
    assert_eq!(read_exact(&mut stream, expected.len()), expected);
}

#[test]
fn bad_request_custom_uses_the_scenarios_handlers() {
    let server = Server::start("bad-request-custom", &[]);
    let (received, end, _) = exchange(&server, b"NOT HTTP\r\n\r\n", SHORT);
    assert_eq!(text(&received), "HTTP/1.1 400 Bad Request\r\n\r\n");
    assert_eq!(end, End::PeerFin);
    let mut request = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 20 * 1024));
    let (received, end, _) = exchange(&server, &request, SHORT);
    assert_eq!(received, b"");
    assert_eq!(end, End::PeerRst);
}

#[test]
fn slow_body_drips_one_byte_per_interval() {
    let server = Server::start("slow-body", &["every=15ms", "idle=50ms"]);
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert!(
        text(&received).ends_with("\r\n\r\nHello, world!"),
        "{}",
        text(&received)
    );
    assert_eq!(end, End::PeerFin);
    assert!(elapsed >= Duration::from_millis(12 * 15), "{elapsed:?}");
    // The end line comes after every write's: all of them are in.
    server.wait_for_event("end");
    let writes = server.events("write").iter().filter(|w| w["bytes"] == 1).count();
    assert_eq!(writes, 13, "{:?}", server.log());
}

#[test]
fn hang_stays_open_and_silent() {
    let server = Server::start("hang", &[]);
    let (received, end, _) = exchange(&server, GET, Duration::from_millis(200));
    assert_eq!(received, b"");
    assert_eq!(end, End::Open);
}

#[test]
fn end_keepalive_leaves_the_connection_open() {
    let server = Server::start("end-keepalive", &[]);
    let (received, end, _) = exchange(&server, GET, Duration::from_millis(200));
    assert!(text(&received).ends_with("\r\n\r\ndone\n"));
    assert_eq!(end, End::Open);
}

#[test]
fn end_close_sends_connection_close_and_fin() {
    let server = Server::start("end-close", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert!(text(&received).contains("Connection: close\r\n"));
    assert!(text(&received).ends_with("\r\n\r\ndone\n"));
    assert_eq!(end, End::PeerFin);
}

#[test]
fn end_destroy_sends_a_whole_response_then_rst() {
    let server = Server::start("end-destroy", &[]);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert!(text(&received).ends_with("\r\n\r\ndone\n"));
    assert_eq!(end, End::PeerRst);
}

/// A built-in that handshakes answers a real ClientHello with its first
/// flight, a ServerHello record first (the clients' side is in tls.rs).
#[cfg(feature = "tls")]
fn answers_with_a_server_hello(server: &Server) {
    let mut stream = server.connect();
    stream.write_all(&client_hello("curl")).expect("send the hello");
    let head = read_exact(&mut stream, 6);
    // A handshake record (22) of TLS 1.2's record version, a ServerHello (2).
    assert_eq!((head[0], head[1], head[2], head[5]), (22, 3, 3, 2), "{head:?}");
}

#[cfg(feature = "tls")]
#[test]
fn tls_built_ins_that_handshake_answer_a_client_hello_with_a_server_hello() {
    answers_with_a_server_hello(&Server::start("tls-no-close-notify", &[]));
    answers_with_a_server_hello(&Server::start("tls-alert-mid-body", &[]));
    answers_with_a_server_hello(&Server::start("tls-expired", &[]));
    answers_with_a_server_hello(&Server::start("tls-wrong-host", &[]));
    answers_with_a_server_hello(&Server::start("tls-self-signed", &[]));
    answers_with_a_server_hello(&Server::start("tls-unknown-ca", &[]));
}

#[test]
fn tls_reset_on_hello_resets_after_the_client_hello() {
    let server = Server::start("tls-reset-on-hello", &[]);
    let (received, end, _) = exchange(&server, &client_hello("curl"), SHORT);
    assert_eq!((received.as_slice(), end), (&b""[..], End::PeerRst));
    server.wait_for_log(&[r#""event":"tls-hello""#, r#""sni":"localhost""#]);
    server.wait_for_log(&[r#""how":"rst""#, r#""bytes_in":517"#, r#""bytes_out":0"#]);
}

#[test]
fn tls_close_on_hello_closes_after_the_client_hello() {
    let server = Server::start("tls-close-on-hello", &[]);
    let (received, end, _) = exchange(&server, &client_hello("python"), SHORT);
    assert_eq!((received.as_slice(), end), (&b""[..], End::PeerFin));
    server.wait_for_log(&[r#""event":"tls-hello""#, r#""sni":"example.test""#]);
}

#[test]
fn tls_alert_on_hello_sends_the_7_byte_alert_then_fin() {
    let server = Server::start("tls-alert-on-hello", &[]);
    let (received, end, _) = exchange(&server, &client_hello("node"), SHORT);
    // A plaintext alert record: type 21, version 3.3, length 2, fatal (2), internal_error (80).
    assert_eq!(received, [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50]);
    assert_eq!(end, End::PeerFin);
    server.wait_for_log(&[r#""event":"write""#, r#""bytes":7"#]);
    let server = Server::start("tls-alert-on-hello", &["alert=handshake_failure"]);
    let (received, end, _) = exchange(&server, &client_hello("node"), SHORT);
    assert_eq!(
        (received.as_slice(), end),
        (&[0x15, 3, 3, 0, 2, 2, 40][..], End::PeerFin)
    );
}

#[test]
fn tls_stall_hello_reads_the_hello_and_never_answers() {
    let server = Server::start("tls-stall-hello", &[]);
    let mut stream = server.connect();
    stream.write_all(&client_hello("openssl-alpn")).expect("send the hello");
    server.wait_for_log(&[r#""event":"tls-hello""#, r#""alpn":"h2,http/1.1""#]);
    server.wait_for_log(&[r#""event":"hang""#]);
    let (received, end) = read_to_end(&mut stream, Duration::from_millis(200));
    assert_eq!((received.as_slice(), end), (&b""[..], End::Open));
}

#[test]
fn every_builtin_is_covered_here() {
    crate::support::assert_every_builtin_in("tests/it/catalog.rs", include_str!("catalog.rs"), |name| {
        format!("Server::start(\"{name}\"")
    });
}

/// HTTP/2 built-ins, seen by a bare HTTP/2 client (tests/it/support/h2.rs):
/// the frames each sends after a GET on stream 1, then the end.
mod http2 {
    use std::io::Write;
    use std::time::Duration;

    use crate::support::h2::{self, DATA, END_STREAM, GOAWAY, HEADERS, PING, RST_STREAM, SETTINGS};
    use crate::support::{End, GET, Server, exchange, text};

    const WAIT: Duration = Duration::from_secs(3);
    const QUIET: Duration = Duration::from_millis(200);

    #[test]
    fn h2_hello_answers_200_hello_and_keeps_the_connection() {
        let server = Server::start("h2-hello", &[]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), QUIET);
        assert_eq!(end, End::Open);
        assert_eq!(frames[0].kind, SETTINGS, "our SETTINGS first: {frames:?}");
        let scripted = h2::scripted(&frames);
        assert_eq!(scripted.len(), 2, "{frames:?}");
        assert_eq!((scripted[0].kind, scripted[0].stream), (HEADERS, 1));
        assert_eq!(scripted[0].status(), "200");
        assert!(scripted[0].fields().contains(&("content-length".into(), "6".into())));
        assert_eq!((scripted[1].kind, scripted[1].flags), (DATA, END_STREAM));
        assert_eq!(scripted[1].payload, b"hello\n");
        // HTTP/1.1 on the same port.
        let (received, _, _) = exchange(&server, GET, QUIET);
        assert!(text(&received).ends_with("\r\n\r\nhello\n"), "{}", text(&received));
    }

    #[test]
    fn h2_goaway_refuse_names_no_stream_then_fin() {
        let server = Server::start("h2-goaway-refuse", &[]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), WAIT);
        let scripted = h2::scripted(&frames);
        assert_eq!(scripted.len(), 1, "{frames:?}");
        assert_eq!(scripted[0].goaway(), (0, 0, String::new()));
        assert_eq!(end, End::PeerFin);
    }

    #[test]
    fn h2_goaway_drain_cut_sends_100_bytes_and_never_end_stream() {
        let server = Server::start("h2-goaway-drain-cut", &[]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), WAIT);
        let scripted = h2::scripted(&frames);
        let kinds: Vec<(u8, u8)> = scripted.iter().map(|f| (f.kind, f.flags & END_STREAM)).collect();
        assert_eq!(kinds, [(HEADERS, 0), (DATA, 0), (GOAWAY, 0)], "{frames:?}");
        assert_eq!(scripted[0].status(), "200");
        assert_eq!(scripted[1].payload, vec![b'x'; 100]);
        assert_eq!(scripted[2].goaway(), (1, 0, String::new()));
        assert_eq!(end, End::PeerFin);
    }

    #[test]
    fn h2_rst_after_headers_resets_with_the_error_asked() {
        for (sets, code) in [
            (&[][..], 2),
            (&["error=PROTOCOL_ERROR"][..], 1),
            (&["error=13"][..], 13),
        ] {
            let server = Server::start("h2-rst-after-headers", sets);
            let (frames, end) = h2::exchange(&server, &h2::get("/"), QUIET);
            let scripted = h2::scripted(&frames);
            assert_eq!(scripted.len(), 2, "{sets:?}: {frames:?}");
            assert_eq!((scripted[0].kind, scripted[0].flags & END_STREAM), (HEADERS, 0));
            assert_eq!((scripted[1].kind, scripted[1].stream), (RST_STREAM, 1));
            assert_eq!(scripted[1].word(0), code, "{sets:?}");
            // The connection stays, for the next request.
            assert_eq!(end, End::Open);
        }
    }

    #[test]
    fn h2_refused_stream_refuses_before_any_headers() {
        let server = Server::start("h2-refused-stream", &[]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), QUIET);
        let scripted = h2::scripted(&frames);
        assert_eq!(scripted.len(), 1, "{frames:?}");
        assert_eq!(
            (scripted[0].kind, scripted[0].stream, scripted[0].word(0)),
            (RST_STREAM, 1, 7)
        );
        assert_eq!(end, End::Open);
    }

    #[test]
    fn h2_max_age_drains_in_two_goaways_around_a_ping_then_closes() {
        let server = Server::start("h2-max-age", &["age=10ms", "grace=20ms"]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), WAIT);
        let scripted = h2::scripted(&frames);
        let kinds: Vec<u8> = scripted.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [GOAWAY, PING, GOAWAY], "{frames:?}");
        assert_eq!(scripted[0].goaway(), (0x7fff_ffff, 0, String::new()));
        assert_eq!(
            (scripted[1].flags, scripted[1].payload.as_slice()),
            (0, &b"max-age\0"[..])
        );
        assert_eq!(scripted[2].goaway(), (1, 0, String::new()));
        // The request was never answered; the close ends it.
        assert_eq!(end, End::PeerFin);
    }

    #[test]
    fn h2_too_many_pings_says_enhance_your_calm() {
        let server = Server::start("h2-too-many-pings", &[]);
        let (frames, end) = h2::exchange(&server, &h2::get("/"), WAIT);
        let scripted = h2::scripted(&frames);
        assert_eq!(scripted.len(), 1, "{frames:?}");
        assert_eq!(scripted[0].goaway(), (1, 0xb, "too_many_pings".into()));
        assert_eq!(end, End::PeerFin);
    }

    #[test]
    fn h2_window_stall_sends_the_window_and_no_more_whatever_the_client_gives() {
        let server = Server::start("h2-window-stall", &[]);
        let mut stream = server.connect();
        stream.write_all(&h2::get("/")).expect("send");
        let window = 65_535;
        let data =
            |frames: &[h2::Frame]| -> usize { frames.iter().filter(|f| f.kind == DATA).map(|f| f.payload.len()).sum() };
        let frames = h2::read_until(&mut stream, WAIT, |_| false);
        assert_eq!(data(&frames), window, "{:?}", h2::scripted(&frames).len());
        assert!(frames.iter().all(|f| f.flags & END_STREAM == 0 || f.kind != DATA));
        server.wait_for_log(&[r#""event":"h2-stalled""#, r#""sent":65535"#]);
        // More window, on the stream and the connection: still nothing.
        for stream_id in [0, 1] {
            let more = h2::frame(h2::WINDOW_UPDATE, 0, stream_id, &1_000_000u32.to_be_bytes());
            stream.write_all(&more).expect("window update");
        }
        let (after, end) = h2::read_frames(&mut stream, QUIET);
        assert_eq!((data(&after), end), (0, End::Open));
    }
}
