//! Proxy mode from the client side: hangup in front of real upstreams
//! (python3's http.server, a Node server, hangup itself, and raw servers
//! written here), driven by real clients (curl, node, python3) and raw
//! sockets. Each test asserts what the client received and how its
//! connection ended; a few also ask the upstream what it saw.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::{
    End, GET, Server, TempDir, Upstream, exchange, hangup, hangup_within, json, node_server, python_upstream,
    raw_server, read_to_end, reset_when_sent, scenario_file, text,
};

const SHORT: Duration = Duration::from_secs(3);

/// A Node http server: `/` answers `hello from node`, `/upload` the
/// number of body bytes it got, `/big` 10 MB, `/fail` a 500; keep-alive.
fn node_upstream() -> Upstream {
    let script = r#"
const http = require('http');
const big = Buffer.alloc(10 * 1000 * 1000, 'x');
const server = http.createServer((req, res) => {
  if (req.url === '/upload') {
    let n = 0;
    req.on('data', (d) => (n += d.length));
    req.on('end', () => res.end(`got ${n}`));
  } else if (req.url === '/big') {
    res.writeHead(200, { 'Content-Length': big.length });
    res.end(big);
  } else if (req.url === '/fail') {
    res.writeHead(500, { 'Content-Length': 4 });
    res.end('boom');
  } else {
    res.end('hello from node');
  }
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
"#;
    node_server(script)
}

/// Read from `stream` until it ends: everything, and how it ended.
fn drain(stream: &mut TcpStream) -> (Vec<u8>, End) {
    read_to_end(stream, SHORT)
}

fn curl(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-m", "5"])
        .args(args)
        .output()
        .expect("curl");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

#[test]
fn proxy_in_front_of_python_passes_every_byte_and_the_upstreams_close() {
    let dir = TempDir::new("proxy");
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    dir.file("file.bin", &body);
    let upstream = python_upstream(&dir);
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    let url = format!("http://{}/file.bin", server.addr);
    let out = Command::new("curl").args(["-sS", "-m", "5", &url]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        out.stdout == body,
        "{} bytes, not the file's {}",
        out.stdout.len(),
        body.len()
    );
    // python's http.server closes after each response, and curl closes
    // too: whichever FIN hangup reads first, both sides end with FIN.
    let end = server.wait_for_event("end");
    assert!(end["how"] == "fin" || end["how"] == "peer-fin", "{end}");
    let (code, log) = server.stop("TERM");
    assert_eq!(code, Some(0));
    let summary = json::event(&log, "stopped");
    assert_eq!(summary["upstream_connects"], 1, "{summary}");
    assert_eq!(summary["upstream_rst"], 0, "{summary}");
}

#[test]
fn proxy_keeps_one_upstream_connection_per_client_connection() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    let (a, b) = (format!("http://{}/a", server.addr), format!("http://{}/b", server.addr));
    // curl reuses its connection for the second URL.
    let (code, body, err) = curl(&[&a, &b]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(body, "hello from nodehello from node");
    server.wait_for_event("end");
    assert_eq!(server.events("forward").len(), 2, "{:?}", server.log());
    assert_eq!(server.events("upstream-connect").len(), 1, "{:?}", server.log());
}

#[test]
fn proxy_streams_uploads_by_length_and_chunked() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    let dir = TempDir::new("upload");
    let file = dir.file("upload", vec![7u8; 3_000_000]);
    let data = format!("@{}", file.display());
    let url = format!("http://{}/upload", server.addr);
    let (code, body, err) = curl(&["--data-binary", &data, &url]);
    assert_eq!((code, body.as_str()), (Some(0), "got 3000000"), "{err}");
    // Chunked, without curl's Expect: 100-continue pause.
    let (code, body, err) = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "-H",
        "Expect:",
        "--data-binary",
        &data,
        &url,
    ]);
    assert_eq!((code, body.as_str()), (Some(0), "got 3000000"), "{err}");
}

#[test]
fn node_and_python_clients_get_the_upstreams_answers_through_proxy() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    let url = format!("http://{}/", server.addr);
    let port = server.addr.port().to_string();
    let node = Command::new("node")
        .args(["scripts/clients/node-client.js", &url, "2", "0", "3000", "0"])
        .output()
        .unwrap();
    assert_eq!(
        text(&node.stdout),
        "request 1: status 200, 15 body bytes\nrequest 2: status 200, 15 body bytes\n"
    );
    // Node's keep-alive agent reused its socket: so did hangup, upstream.
    server.wait_for_event("end");
    assert_eq!(server.events("upstream-connect").len(), 1, "{:?}", server.log());
    let python = Command::new("python3")
        .args([
            "scripts/clients/python-client.py",
            "127.0.0.1",
            &port,
            "2",
            "0",
            "3000",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(
        text(&python.stdout),
        "request 1: status 200, 15 body bytes\nrequest 2: status 200, 15 body bytes\n"
    );
}

#[test]
fn proxy_reset_after_gives_exactly_the_bytes_then_rst() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy-reset-after", &["bytes=5000"], upstream.addr);
    for _ in 0..20 {
        let (received, end, _) = exchange(&server, b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n", SHORT);
        assert_eq!((received.len(), end), (5000, End::PeerRst));
        assert!(received.starts_with(b"HTTP/1.1 200 OK\r\n"));
    }
    let (code, _, err) = curl(&[&format!("http://{}/big", server.addr), "-o", "/dev/null"]);
    assert_eq!(code, Some(56), "{err}");
    assert!(err.contains("Connection reset by peer"), "{err}");
}

#[test]
fn proxy_close_after_cuts_the_body_with_a_fin() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy-close-after", &["bytes=3000"], upstream.addr);
    let (received, end, _) = exchange(&server, b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n", SHORT);
    assert_eq!((received.len(), end), (3000, End::PeerFin));
    let (code, _, err) = curl(&[&format!("http://{}/big", server.addr), "-o", "/dev/null"]);
    // curl: (18) end of response with N bytes missing
    assert_eq!(code, Some(18), "{err}");
}

#[test]
fn proxy_fail_first_counts_requests_across_connections() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy-fail-first", &["count=2"], upstream.addr);
    let mut ends = Vec::new();
    for _ in 0..4 {
        let (received, end, _) = exchange(&server, GET, SHORT);
        ends.push((received.ends_with(b"hello from node"), end));
    }
    assert_eq!(
        ends,
        [
            (false, End::PeerRst),
            (false, End::PeerRst),
            (true, End::Open),
            (true, End::Open)
        ]
    );
    // The failed requests never reached the upstream.
    assert_eq!(server.events("upstream-connect").len(), 2, "{:?}", server.log());
}

#[test]
fn a_condition_on_the_upstream_status_resets_only_the_500s() {
    let upstream = node_upstream();
    let path = scenario_file(
        "reset-500s",
        "loop\n  read head\n  forward request\n  relay head\n  if upstream status >= 500\n    reset\n  end\n  relay body\nend\n",
    );
    let server = Server::start_proxy(&path, &[], upstream.addr);
    let (received, end, _) = exchange(&server, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n", SHORT);
    assert!(received.starts_with(b"HTTP/1.1 500"), "{}", text(&received));
    assert!(!received.ends_with(b"boom"));
    assert_eq!(end, End::PeerRst);
    let (received, _, _) = exchange(&server, GET, Duration::from_millis(300));
    assert!(received.ends_with(b"hello from node"), "{}", text(&received));
}

#[test]
fn a_refused_upstream_gets_the_client_a_502_and_the_log_says_why() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = Server::start_proxy("proxy", &[], closed);
    let (code, body, err) = curl(&["-w", "%{http_code}", &format!("http://{}/", server.addr)]);
    assert_eq!(code, Some(0), "{err}");
    assert!(body.ends_with("502"), "{body}");
    let failed = server.wait_for_event("upstream-failed");
    assert!(
        failed["why"].as_str().is_some_and(|why| why.contains("refused")),
        "{failed}"
    );
}

#[test]
fn hangup_as_its_own_upstream_keeps_every_outcome_class() {
    // `hangup probe` against a proxied hangup sees what it sees direct.
    for (scenario, outcome) in [
        ("hello", "complete"),
        ("mid-body-reset", "reset"),
        ("truncated-body", "truncated"),
        ("empty-reply", "empty"),
    ] {
        let upstream = Server::start(scenario, &[]);
        let server = Server::start_proxy("proxy", &[], upstream.addr);
        let target = server.addr.to_string();
        let report = crate::support::probe_json(&target, &["--timeout", "2s"]);
        assert_eq!(report.request(1)["outcome"], outcome, "{scenario}: {report}");
    }
}

#[test]
fn an_upstream_that_closes_an_idle_keep_alive_connection_closes_the_client_too() {
    // The pooled-connection race: the upstream answers keep-alive, then
    // gives up on the idle connection 50 ms later.
    let upstream = raw_server(|mut stream| {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        thread::sleep(Duration::from_millis(50));
    });
    let server = Server::start_proxy("proxy", &[], upstream);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    let start = Instant::now();
    let (received, end) = drain(&mut stream);
    assert!(received.ends_with(b"ok"));
    assert_eq!(end, End::PeerFin);
    assert!(start.elapsed() >= Duration::from_millis(40), "{:?}", start.elapsed());
}

#[test]
fn tcp_proxy_passes_half_close_and_rst_through() {
    // The upstream reads to the client's FIN, then answers: "pong:" and
    // what it got, then FIN; or, for "rst", 700 bytes then RST.
    let upstream = raw_server(|mut stream| {
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        if got == b"rst" {
            let _ = stream.write_all(&[b'x'; 700]);
            reset_when_sent(stream);
        } else {
            let _ = stream.write_all(b"pong:");
            let _ = stream.write_all(&got);
        }
    });
    let server = Server::start_proxy("tcp-proxy", &[], upstream);
    for (sent, want, want_end) in [
        (&b"ping"[..], b"pong:ping".to_vec(), End::PeerFin),
        (b"rst", vec![b'x'; 700], End::PeerRst),
    ] {
        let mut stream = server.connect();
        stream.write_all(sent).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let (received, end) = drain(&mut stream);
        assert_eq!((received, end), (want, want_end));
    }
}

#[test]
fn tcp_reset_after_cuts_both_sides_at_the_byte() {
    let (seen_tx, seen_rx) = mpsc::channel();
    let upstream = raw_server(move |mut stream| {
        let _ = stream.write_all(&vec![b'd'; 100_000]);
        // What the upstream sees next: hangup's RST.
        let _ = stream.set_read_timeout(Some(SHORT));
        let mut buf = [0u8; 16];
        let seen = match stream.read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => "rst",
            Ok(0) => "fin",
            _ => "other",
        };
        let _ = seen_tx.send(seen);
    });
    let server = Server::start_proxy("tcp-reset-after", &["bytes=1000"], upstream);
    let mut stream = server.connect();
    let (received, end) = drain(&mut stream);
    assert_eq!((received.len(), end), (1000, End::PeerRst));
    assert_eq!(seen_rx.recv_timeout(SHORT), Ok("rst"));
}

#[test]
fn a_paced_relay_takes_its_time() {
    let upstream = node_upstream();
    let path = scenario_file(
        "paced",
        "read head\nforward request\nrelay response rate 64KiB\nclose\n",
    );
    let server = Server::start_proxy(&path, &[], upstream.addr);
    let start = Instant::now();
    let mut stream = server.connect();
    stream
        .write_all(b"GET /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        .unwrap();
    let (received, end) = drain(&mut stream);
    assert!(received.ends_with(b"got 0"));
    assert_eq!(end, End::PeerFin);
    // A tiny response goes out at once: the pace is a ceiling.
    assert!(start.elapsed() < Duration::from_secs(2));
    let path = scenario_file(
        "paced-big",
        "read head\nforward request\nrelay response limit 40000 rate 100KiB\nclose\n",
    );
    let server = Server::start_proxy(&path, &[], upstream.addr);
    let start = Instant::now();
    let (received, _, took) = exchange(&server, b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n", SHORT);
    assert_eq!(received.len(), 40000);
    // 40,000 bytes at 102,400 B/s: about 0.39 s, never much less.
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(start.elapsed() < SHORT);
}

#[test]
fn serving_a_proxy_scenario_needs_an_upstream_and_only_then() {
    let out = hangup(&["serve", "proxy", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--upstream HOST:PORT"),
        "{}",
        text(&out.stderr)
    );
    let out = hangup(&["serve", "hello", "--listen", "127.0.0.1:0", "--upstream", "127.0.0.1:9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--upstream is for scenarios"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn every_proxy_builtin_is_covered_here() {
    crate::support::assert_every_proxy_builtin_in("tests/it/proxy.rs", include_str!("proxy.rs"), |name| {
        format!("Server::start_proxy(\"{name}\"")
    });
}

#[test]
fn interim_responses_pass_through_before_the_final_one() {
    let upstream = raw_server(|mut stream| {
        let mut buf = [0u8; 1024];
        let _ = stream.read(&mut buf);
        // Each answer on its own, 20 ms apart; then the connection stays
        // open, so the client's end is the scenario's `close`.
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        thread::sleep(Duration::from_millis(20));
        let _ = stream.write_all(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n");
        thread::sleep(Duration::from_millis(20));
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        thread::sleep(Duration::from_millis(500));
    });
    let path = scenario_file("interim", "read head\nforward request\nrelay response\nclose\n");
    let server = Server::start_proxy(&path, &[], upstream);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert_eq!(
        text(&received),
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    );
    // The response was whole: the script's own `close`, not the upstream's.
    assert_eq!(end, End::PeerFin);
}

#[test]
fn on_upstream_error_replaces_the_502() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let path = scenario_file(
        "own-503",
        "on upstream-error\n  respond 503 header \"Connection: close\" body \"later\"\n  close\nend\nread head\nforward request\nrelay response\n",
    );
    let server = Server::start_proxy(&path, &[], closed);
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert!(text(&received).starts_with("HTTP/1.1 503 "), "{}", text(&received));
    assert!(received.ends_with(b"later"));
    assert_eq!(end, End::PeerFin);
}

#[test]
fn upstream_half_close_lets_the_answer_through() {
    // An upstream that answers only once its client stops sending.
    let upstream = raw_server(|mut stream| {
        let mut got = Vec::new();
        let _ = stream.read_to_end(&mut got);
        let _ = stream.write_all(format!("{} bytes", got.len()).as_bytes());
    });
    let path = scenario_file(
        "half-close-upstream",
        "forward 4 bytes\nupstream half-close\nrelay until eof\n",
    );
    let server = Server::start_proxy(&path, &[], upstream);
    let (received, end, _) = exchange(&server, b"ABCD", SHORT);
    assert_eq!((text(&received).as_str(), end), ("4 bytes", End::PeerFin));
}

/// A client that uploads `body_len` bytes through `server` while reading,
/// in one thread as curl does: what it received, and how the connection
/// ended. The kernel reports a reset once, to whichever call comes first,
/// so reads go first and one write at most comes between two reads: a FIN
/// (which comes before any RST the client's later bytes provoke) is read
/// as a FIN, and a reset a write met is remembered as the reset.
pub(crate) fn upload_while_reading(server: &Server, body_len: usize) -> (Vec<u8>, End) {
    use mio::{Events, Interest, Poll, Token};
    let mut stream = server.connect();
    let head = format!("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {body_len}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    stream.set_nonblocking(true).unwrap();
    let mut stream = mio::net::TcpStream::from_std(stream);
    let mut poll = Poll::new().unwrap();
    poll.registry()
        .register(&mut stream, Token(0), Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    let give_up = Instant::now() + Duration::from_secs(5);
    let chunk = vec![b'u'; 64 * 1024];
    let (mut received, mut left, mut reset_by_write) = (Vec::new(), body_len, false);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        loop {
            match stream.read(&mut buf) {
                Ok(0) if reset_by_write => return (received, End::PeerRst),
                Ok(0) => return (received, End::PeerFin),
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (received, End::PeerRst),
                Err(e) => panic!("read: {e}"),
            }
        }
        if left > 0 {
            match stream.write(&chunk[..left.min(chunk.len())]) {
                Ok(n) => left -= n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    reset_by_write = matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                    );
                    left = 0;
                }
            }
            if left > 0 {
                continue;
            }
        }
        let now = Instant::now();
        if now >= give_up {
            return (received, End::Open);
        }
        poll.poll(&mut events, Some(give_up - now)).unwrap();
    }
}

/// An upstream that answers a request's head with `answer` at once, before
/// reading its body, then resets (as nginx resets an upload it refused).
fn answers_then_resets(answer: &'static [u8]) -> std::net::SocketAddr {
    raw_server(move |mut stream| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = stream.write_all(answer);
        // The RST right behind the answer, once hangup has it.
        reset_when_sent(stream);
    })
}

/// Issue 24, item 1: the bytes an upstream sent before its RST reach the
/// client, then the RST, even while the client is still uploading and the
/// proxy's write to the upstream is what meets the reset.
#[test]
fn an_upstream_that_answers_an_upload_then_resets_loses_none_of_its_answer() {
    const REFUSED: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let upstream = answers_then_resets(REFUSED);
    for scenario in ["proxy", "tcp-proxy"] {
        let server = Server::start_proxy(scenario, &[], upstream);
        for run in 0..5 {
            let (received, end) = upload_while_reading(&server, 50 << 20);
            assert_eq!(text(&received), text(REFUSED), "{scenario}, run {run}");
            assert_eq!(end, End::PeerRst, "{scenario}, run {run}\n{}", server.log().join("\n"));
        }
    }
}

/// The README's promise, "700 bytes, then RST", holds while uploading too.
#[test]
fn seven_hundred_bytes_then_rst_while_the_client_uploads() {
    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n";
    let upstream = raw_server(|mut stream| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let mut answer = ANSWER.to_vec();
        answer.resize(700, b'x');
        let _ = stream.write_all(&answer);
        reset_when_sent(stream);
    });
    let server = Server::start_proxy("proxy", &[], upstream);
    for run in 0..5 {
        let (received, end) = upload_while_reading(&server, 50 << 20);
        assert_eq!((received.len(), end), (700, End::PeerRst), "run {run}");
    }
}

/// Issue 24, item 2: an upstream that answers an upload early with a `413`
/// and FIN, and stops reading: the client gets the 413 at once, as it does
/// directly, instead of nothing for ever.
#[test]
fn an_early_answer_and_fin_reach_an_uploading_client_at_once() {
    const REFUSED: &[u8] = b"HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    let upstream = raw_server(|mut stream| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        let _ = stream.write_all(REFUSED);
        let _ = stream.shutdown(Shutdown::Write);
        // It reads no more, and holds the connection a while.
        thread::sleep(Duration::from_secs(4));
    });
    let server = Server::start_proxy("proxy", &[], upstream);
    let start = Instant::now();
    let (received, end) = upload_while_reading(&server, 100 << 20);
    assert_eq!(text(&received), text(REFUSED));
    assert!(end == End::PeerFin || end == End::PeerRst, "{end:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}\n{}",
        start.elapsed(),
        server.log().join("\n")
    );
    let cut = json::parse(&server.wait_for_log(&[r#""event":"forward""#, r#""cut":"#]));
    assert_eq!(cut["cut"], "the upstream ended first", "{cut}");
}

/// Issue 24, item 3: a client's FIN while its answer is awaited reaches
/// the upstream as a half-close, so an upstream that answers at the
/// client's EOF answers, and one that gives up is not left open.
#[test]
fn a_clients_fin_while_the_answer_is_awaited_reaches_the_upstream() {
    let upstream = raw_server(|mut stream| {
        // Read the request and then to the client's EOF; answer then.
        let mut got = Vec::new();
        let _ = stream.set_read_timeout(Some(SHORT));
        if stream.read_to_end(&mut got).is_ok() {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nat eof");
        }
    });
    let server = Server::start_proxy("proxy", &[], upstream);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let (received, _) = drain(&mut stream);
    assert!(text(&received).ends_with("\r\n\r\nat eof"), "{}", text(&received));
    server.wait_for_log(&[r#""event":"upstream-half-close""#]);
}

/// Issue 24, item 4: a proxy whose upstream is its own listening address
/// would forward to itself until every descriptor is used: refused at
/// start, however the address is spelled.
#[test]
fn an_upstream_that_is_hanguos_own_address_is_refused() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let own = format!("127.0.0.1:{port}");
    let by_name = format!("localhost:{port}");
    for (listen, upstream) in [
        (own.as_str(), own.as_str()),
        (own.as_str(), by_name.as_str()),
        (&*format!("0.0.0.0:{port}"), own.as_str()),
    ] {
        let out = hangup_within(&["serve", "proxy", "--listen", listen, "--upstream", upstream], SHORT);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{listen} -> {upstream}: {stderr}");
        assert!(stderr.contains("is hangup's own listening address"), "{stderr}");
        assert!(!text(&out.stdout).contains("listening on"), "{}", text(&out.stdout));
    }
    let out = hangup_within(&["serve", "proxy", "--upstream", "127.0.0.1:0"], SHORT);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--upstream 127.0.0.1:0: port 0"),
        "{}",
        text(&out.stderr)
    );
}

/// Issue 24, item 17: `relay response limit N chunks` cuts a streamed body
/// after N whole chunks, without counting bytes by hand.
#[test]
fn a_relay_cut_after_twenty_chunks_passes_exactly_twenty() {
    const HEAD: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let chunk = format!("3e8\r\n{}\r\n", "x".repeat(1000));
    let upstream = raw_server(move |mut stream| {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
            head.push(byte[0]);
        }
        // Thirty chunks, in writes that do not follow the chunks.
        let mut body = HEAD.to_string();
        for _ in 0..30 {
            body.push_str(&format!("3e8\r\n{}\r\n", "x".repeat(1000)));
        }
        body.push_str("0\r\n\r\n");
        for piece in body.as_bytes().chunks(777) {
            let _ = stream.write_all(piece);
        }
        thread::sleep(SHORT);
    });
    let path = scenario_file(
        "relay-chunks",
        "read head\nforward request\nrelay response limit 20 chunks\nreset\n",
    );
    let server = Server::start_proxy(&path, &[], upstream);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    let (received, end) = drain(&mut stream);
    let want = format!("{HEAD}{}", chunk.repeat(20));
    assert_eq!(received.len(), want.len());
    assert!(
        received == want.as_bytes(),
        "{}",
        text(&received[received.len() - 20..])
    );
    assert_eq!(end, End::PeerRst);
}

/// The upstream's FIN that comes with the last bytes of a response the
/// relay took whole raises no event of its own: the client must still
/// get it at once (it was lost in about a third of runs).
#[test]
fn an_upstream_fin_with_the_last_relayed_bytes_reaches_the_client() {
    let upstream = Server::start("end-close", &[]);
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    for run in 0..20 {
        let (received, end, took) = exchange(&server, GET, SHORT);
        assert!(text(&received).ends_with("done\n"), "run {run}: {}", text(&received));
        assert_eq!(end, End::PeerFin, "run {run}");
        assert!(took < Duration::from_secs(1), "run {run}: {took:?}");
    }
}
