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
    End, GET, Server, Upstream, exchange, hangup, node_server, python_upstream, raw_server, read_to_end, scenario_file,
    text,
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
    let dir = std::env::temp_dir().join(format!("hangup-proxy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("file.bin"), &body).unwrap();
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
    let end = server.wait_for_log(&[r#""event":"end""#]);
    assert!(
        end.contains(r#""how":"fin""#) || end.contains(r#""how":"peer-fin""#),
        "{end}"
    );
    let (code, log) = server.stop("TERM");
    assert_eq!(code, Some(0));
    let summary = log.iter().find(|l| l.contains(r#""event":"stopped""#)).unwrap();
    assert!(summary.contains(r#""upstream_connects":1"#), "{summary}");
    assert!(summary.contains(r#""upstream_rst":0"#), "{summary}");
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
    server.wait_for_log(&[r#""event":"end""#]);
    assert_eq!(server.count_log(r#""event":"forward""#), 2);
    assert_eq!(server.count_log(r#""event":"upstream-connect""#), 1);
}

#[test]
fn proxy_streams_uploads_by_length_and_chunked() {
    let upstream = node_upstream();
    let server = Server::start_proxy("proxy", &[], upstream.addr);
    let file = std::env::temp_dir().join(format!("hangup-upload-{}", std::process::id()));
    std::fs::write(&file, vec![7u8; 3_000_000]).unwrap();
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
    server.wait_for_log(&[r#""event":"end""#]);
    assert_eq!(server.count_log(r#""event":"upstream-connect""#), 1);
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
    assert_eq!(server.count_log(r#""event":"upstream-connect""#), 2);
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
    let line = server.wait_for_log(&[r#""event":"upstream-failed""#]);
    assert!(line.contains("refused"), "{line}");
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
            thread::sleep(Duration::from_millis(30));
            let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
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
