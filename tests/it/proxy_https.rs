//! The proxy and HTTPS, from the client side: hangup in front of an HTTPS
//! server (`--upstream https://…`), and behind `--tls` (clients speak
//! HTTPS to hangup, which proxies to a plain or an HTTPS upstream).
//!
//! The HTTPS upstream is mostly hangup itself, `serve SCENARIO --tls`: the
//! misbehaving server made to order (a reset mid-body, a FIN without
//! close_notify, an alert mid-body, the badssl certificates). The
//! promises of `tests/it/proxy.rs` hold over TLS: exactly the plaintext
//! bytes the upstream sent, then its end; a handshake that fails is an
//! upstream failure, said in words.

#[cfg(feature = "tls")]
use std::process::Command;
#[cfg(feature = "tls")]
use std::time::{Duration, Instant};

#[cfg(feature = "tls")]
use crate::support::{End, GET, Server, TempDir, exchange, json, python_upstream, read_to_end, scenario_file};
use crate::support::{hangup_within, text};

#[cfg(feature = "tls")]
const SHORT: Duration = Duration::from_secs(3);

/// `hangup serve SCENARIO`, an HTTPS server on a free port, and the CA
/// its certificate is signed by (`--tls-ca-out`).
#[cfg(feature = "tls")]
struct HttpsUpstream {
    server: Server,
    dir: TempDir,
    ca: String,
}

#[cfg(feature = "tls")]
impl HttpsUpstream {
    /// Any scenario over `--tls`.
    fn start(scenario: &str) -> HttpsUpstream {
        HttpsUpstream::with_flags(scenario, &["--tls"])
    }

    /// A scenario that handshakes itself (`tls handshake`, as the
    /// certificate built-ins do), or with other flags.
    fn with_flags(scenario: &str, flags: &[&str]) -> HttpsUpstream {
        let dir = TempDir::new("https-upstream");
        let ca = dir.path().join("upstream-ca.pem").to_string_lossy().into_owned();
        let mut all = flags.to_vec();
        all.extend(["--tls-ca-out", ca.as_str()]);
        let server = Server::start_with(scenario, &all);
        HttpsUpstream { server, dir, ca }
    }

    /// `https://localhost:PORT`: the name its certificate is for.
    fn url(&self) -> String {
        format!("https://localhost:{}", self.server.addr.port())
    }

    /// `hangup serve SCENARIO --upstream https://localhost:PORT
    /// --upstream-cacert CA FLAGS`: the proxy in front of it.
    fn proxy(&self, scenario: &str, flags: &[&str]) -> Server {
        let url = self.url();
        let mut all = vec!["--upstream", url.as_str(), "--upstream-cacert", self.ca.as_str()];
        all.extend_from_slice(flags);
        Server::start_with(scenario, &all)
    }
}

#[cfg(feature = "tls")]
fn curl(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new("curl")
        .args(["-sS", "-m", "5"])
        .args(args)
        .output()
        .expect("curl");
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Python's `ssl` reading a response to `GET PATH` to its end from `port`
/// (trusting `ca`), refusing a FIN without close_notify
/// (`suppress_ragged_eofs=False`): `close_notify after N`, or the error's
/// name after N bytes. How it reads: at once, or `Slowly` (a small
/// receive buffer, and a pause before the first read, so that hangup's
/// writes fill the socket).
#[cfg(feature = "tls")]
fn python_tls_end(port: u16, ca: &str) -> String {
    python_reads(port, ca, "/", Reader::AtOnce)
}

#[cfg(feature = "tls")]
#[derive(Clone, Copy)]
enum Reader {
    AtOnce,
    Slowly,
}

#[cfg(feature = "tls")]
fn python_reads(port: u16, ca: &str, path: &str, reader: Reader) -> String {
    let script = r#"
import socket, ssl, sys, time
port, ca, path, slow = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "slowly"
ctx = ssl.create_default_context(cafile=ca)
got = 0
try:
    raw = socket.socket()
    if slow:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(5)
    raw.connect(("127.0.0.1", port))
    s = ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    if slow:
        time.sleep(0.3)
    while True:
        chunk = s.recv(65536)
        if not chunk:
            print("close_notify after", got)
            break
        got += len(chunk)
except Exception as e:
    print(type(e).__name__, "after", got)
"#;
    let how = match reader {
        Reader::AtOnce => "at-once",
        Reader::Slowly => "slowly",
    };
    let out = Command::new("python3")
        .args(["-c", script, &port.to_string(), ca, path, how])
        .output()
        .expect("python3 runs");
    text(&out.stdout).trim().to_string()
}

#[cfg(feature = "tls")]
#[test]
fn an_https_upstream_is_reached_with_one_handshake_per_client_connection() {
    let upstream = HttpsUpstream::start("hello");
    let proxy = upstream.proxy("proxy", &[]);
    let (a, b) = (format!("http://{}/a", proxy.addr), format!("http://{}/b", proxy.addr));
    // curl reuses its connection for the second URL; so does hangup.
    let (code, body, err) = curl(&[&a, &b]);
    assert_eq!((code, body.as_str()), (Some(0), "hello\nhello\n"), "{err}");
    proxy.wait_for_event("end");
    assert_eq!(proxy.events("upstream-connect").len(), 1, "{:?}", proxy.log());
    let handshakes = proxy.events("upstream-tls-handshake");
    assert_eq!(handshakes.len(), 1, "{:?}", proxy.log());
    assert_eq!(handshakes[0]["verdict"], "ok", "{}", handshakes[0]);
    // The name in --upstream went as SNI.
    upstream
        .server
        .wait_for_log(&[r#""event":"tls-handshake""#, r#""sni":"localhost""#]);
}

/// What the proxy's ClientHello says, read by a raw server: the name
/// given in `--upstream` as SNI, ALPN `http/1.1` alone (the protocol it
/// relays), and its key share for X25519 (rustls's ring provider would
/// offer P-384, at twice the CPU a handshake).
#[cfg(feature = "tls")]
#[test]
fn the_proxys_client_hello_names_the_host_and_offers_http1_and_x25519() {
    use std::io::Read;
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let upstream = crate::support::raw_server(move |mut stream| {
        let mut header = [0u8; 5];
        if stream.read_exact(&mut header).is_err() {
            return;
        }
        let mut record = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        if stream.read_exact(&mut record).is_ok() {
            let _ = tx.lock().unwrap().send(record);
        }
    });
    let url = format!("https://localhost:{}", upstream.port());
    let proxy = Server::start_with("proxy", &["--upstream", &url, "--upstream-insecure"]);
    let _ = exchange(&proxy, GET, SHORT);
    let record = rx.recv_timeout(SHORT).expect("a ClientHello");
    // A handshake message: type 1 (ClientHello), a 3-byte length, the body.
    assert_eq!(record[0], 1);
    let body = &record[4..];
    let hello = hangup::tls::hello::parse(body).expect("a ClientHello");
    assert_eq!(hello.server_name.as_deref(), Some(&b"localhost"[..]));
    assert_eq!(hello.alpn, [b"http/1.1".to_vec()]);
    assert_eq!(key_share_groups(body), [0x001d], "X25519's alone");
}

/// The groups of a ClientHello's key shares (extension 51), from its body.
#[cfg(feature = "tls")]
fn key_share_groups(body: &[u8]) -> Vec<u16> {
    let u16_at = |at: usize| usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
    // Version and random, then the session id, suites and compressions.
    let mut at = 2 + 32;
    at += 1 + usize::from(body[at]);
    at += 2 + u16_at(at);
    at += 1 + usize::from(body[at]);
    let end = at + 2 + u16_at(at);
    at += 2;
    while at < end {
        let (kind, len) = (u16_at(at), u16_at(at + 2));
        if kind == 51 {
            let shares_end = at + 6 + u16_at(at + 4);
            let mut share = at + 6;
            let mut groups = Vec::new();
            while share < shares_end {
                groups.push(u16_at(share) as u16);
                share += 4 + u16_at(share + 2);
            }
            return groups;
        }
        at += 4 + len;
    }
    Vec::new()
}

#[cfg(feature = "tls")]
#[test]
fn an_address_is_verified_against_the_certificate_and_sent_as_no_sni() {
    let upstream = HttpsUpstream::start("hello");
    let url = format!("https://127.0.0.1:{}", upstream.server.addr.port());
    let proxy = Server::start_with("proxy", &["--upstream", &url, "--upstream-cacert", &upstream.ca]);
    let (code, body, err) = curl(&[&format!("http://{}/", proxy.addr)]);
    assert_eq!((code, body.as_str()), (Some(0), "hello\n"), "{err}");
    let handshake = upstream.server.wait_for_event("tls-handshake");
    assert!(handshake.get("sni").is_none(), "{handshake}");
}

#[cfg(feature = "tls")]
#[test]
fn the_upstreams_close_notify_and_fin_reach_the_client_as_a_fin_at_once() {
    let upstream = HttpsUpstream::start("end-close");
    let proxy = upstream.proxy("proxy", &[]);
    for run in 0..10 {
        let (received, end, took) = exchange(&proxy, GET, SHORT);
        assert!(text(&received).ends_with("done\n"), "run {run}: {}", text(&received));
        assert_eq!(end, End::PeerFin, "run {run}");
        assert!(took < Duration::from_secs(1), "run {run}: {took:?}");
    }
    let ended = proxy.wait_for_event("upstream-end");
    assert_eq!(
        (&ended["how"], &ended["tls"]),
        (&"peer-fin".into(), &"close-notify".into())
    );
}

/// The README's promise, "700 bytes, then RST", over TLS: the plaintext
/// bytes the upstream sent before its RST, then the RST, also while the
/// client is still uploading (the proxy's write meets the reset first).
#[cfg(feature = "tls")]
#[test]
fn seven_hundred_bytes_then_rst_from_an_https_upstream() {
    let head = "HTTP/1.1 200 OK\\r\\nContent-Length: 10000\\r\\n\\r\\n";
    let body = "x".repeat(700 - 42);
    let script = scenario_file(
        "seven-hundred",
        &format!("read head\nwrite \"{head}\" \"{body}\"\nreset\n"),
    );
    let upstream = HttpsUpstream::start(&script);
    for scenario in ["proxy", "tcp-proxy"] {
        let proxy = upstream.proxy(scenario, &[]);
        let (received, end, _) = exchange(&proxy, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", SHORT);
        assert_eq!((received.len(), end), (700, End::PeerRst), "{scenario}");
        assert!(received.starts_with(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\nxxx"));
        for run in 0..5 {
            let (received, end) = crate::proxy::upload_while_reading(&proxy, 50 << 20);
            assert_eq!(
                (received.len(), end),
                (700, End::PeerRst),
                "{scenario}, run {run}\n{}",
                proxy.log().join("\n")
            );
        }
        let ended = proxy.wait_for_event("upstream-end");
        assert_eq!((&ended["how"], &ended["tls"]), (&"peer-rst".into(), &"rst".into()));
    }
}

#[cfg(feature = "tls")]
#[test]
fn an_upstream_fin_mid_body_is_a_fin_after_exactly_its_bytes() {
    let upstream = HttpsUpstream::start("truncated-body");
    let proxy = upstream.proxy("proxy", &[]);
    let (received, end, _) = exchange(&proxy, GET, SHORT);
    assert_eq!(
        text(&received),
        "HTTP/1.1 200 OK\r\nServer: my-web-server\r\nContent-Length: 13\r\n\r\nHello,"
    );
    assert_eq!(end, End::PeerFin);
    let (code, _, err) = curl(&[&format!("http://{}/", proxy.addr)]);
    assert_eq!(code, Some(18), "{err}");
}

/// An HTTPS upstream that answers an upload early with a `413`, says
/// close_notify and FIN, and stops reading: the client gets the 413 at
/// once, as it does from the upstream directly.
#[cfg(feature = "tls")]
#[test]
fn an_early_413_from_an_https_upstream_reaches_an_uploading_client_at_once() {
    let script = scenario_file(
        "early-413",
        "read head\nrespond 413 header \"Connection: close\"\nhalf-close\nsleep 4s\n",
    );
    let upstream = HttpsUpstream::start(&script);
    let proxy = upstream.proxy("proxy", &[]);
    let start = Instant::now();
    let (received, end) = crate::proxy::upload_while_reading(&proxy, 100 << 20);
    assert!(text(&received).starts_with("HTTP/1.1 413 "), "{}", text(&received));
    assert!(received.ends_with(b"\r\n\r\n"), "{}", text(&received));
    assert!(end == End::PeerFin || end == End::PeerRst, "{end:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}\n{}",
        start.elapsed(),
        proxy.log().join("\n")
    );
    let cut = json::parse(&proxy.wait_for_log(&[r#""event":"forward""#, r#""cut":"#]));
    assert_eq!(cut["cut"], "the upstream ended first", "{cut}");
}

/// A client's FIN while it waits for the answer reaches the HTTPS upstream
/// as close_notify and FIN (after every record of the request): an
/// upstream that answers at the client's end answers.
#[cfg(feature = "tls")]
#[test]
fn a_clients_fin_reaches_an_https_upstream_as_close_notify_and_fin() {
    let script = scenario_file(
        "at-eof",
        "read until eof\nwrite \"HTTP/1.1 200 OK\\r\\nContent-Length: 6\\r\\n\\r\\nat eof\"\nclose\n",
    );
    let upstream = HttpsUpstream::start(&script);
    let proxy = upstream.proxy("proxy", &[]);
    let mut stream = proxy.connect();
    std::io::Write::write_all(&mut stream, GET).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let (received, _) = read_to_end(&mut stream, SHORT);
    assert!(text(&received).ends_with("\r\n\r\nat eof"), "{}", text(&received));
    proxy.wait_for_log(&[r#""event":"upstream-half-close""#]);
}

#[cfg(feature = "tls")]
#[test]
fn an_https_upstream_that_closes_an_idle_keep_alive_connection_closes_the_client_too() {
    let upstream = HttpsUpstream::with_flags("keepalive-idle-close", &["--tls", "--set", "idle=100ms"]);
    let proxy = upstream.proxy("proxy", &[]);
    let mut stream = proxy.connect();
    std::io::Write::write_all(&mut stream, GET).unwrap();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert!(text(&received).ends_with("hello\n"), "{}", text(&received));
    assert_eq!(end, End::PeerFin);
    let ended = proxy.wait_for_event("upstream-end");
    assert_eq!(
        (&ended["how"], &ended["tls"]),
        (&"peer-fin".into(), &"close-notify".into())
    );
}

#[cfg(feature = "tls")]
#[test]
fn an_alert_mid_body_from_the_upstream_is_an_rst_after_the_bytes_before_it() {
    let upstream = HttpsUpstream::with_flags("tls-alert-mid-body", &[]);
    let proxy = upstream.proxy("proxy", &[]);
    let (received, end, _) = exchange(&proxy, GET, SHORT);
    assert_eq!(text(&received), "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello,");
    assert_eq!(end, End::PeerRst);
    let ended = proxy.wait_for_event("upstream-end");
    assert_eq!(
        (&ended["tls"], &ended["alert"]),
        (&"alert".into(), &"internal_error".into())
    );
}

/// The certificates badssl.com serves, and handshakes cut short: each is
/// an upstream failure with its reason in the log, and the client gets
/// nginx's 502 (the script's `on upstream-error` handler).
#[cfg(feature = "tls")]
#[test]
fn a_handshake_the_proxy_refuses_or_loses_is_an_upstream_failure_that_says_why() {
    let cases = [
        ("tls-expired", "certificate expired (valid until "),
        ("tls-wrong-host", "certificate not for localhost"),
        ("tls-self-signed", "certificate self-signed"),
        (
            "tls-unknown-ca",
            "certificate issued by CN=hangup unknown CA, not a CA trusted",
        ),
        ("tls-reset-on-hello", "TLS handshake failed: RST from the upstream"),
        ("tls-close-on-hello", "TLS handshake failed: FIN from the upstream"),
        (
            "tls-alert-on-hello",
            "TLS handshake failed: alert internal_error from the upstream",
        ),
        ("hello", "the upstream's answer is not TLS"),
    ];
    for (scenario, why) in cases {
        // The handshake cuts and plain `hello` present no certificate:
        // served as they are, and proxied with no CA to check against.
        let cut = !scenario.starts_with("tls-") || scenario.ends_with("-on-hello");
        let (_upstream, proxy) = if cut {
            let upstream = Server::start(scenario, &[]);
            let url = format!("https://localhost:{}", upstream.addr.port());
            let proxy = Server::start_with("proxy", &["--upstream", &url, "--upstream-insecure"]);
            (Box::new(upstream) as Box<dyn std::any::Any>, proxy)
        } else {
            let upstream = HttpsUpstream::with_flags(scenario, &[]);
            let proxy = upstream.proxy("proxy", &[]);
            (Box::new(upstream) as Box<dyn std::any::Any>, proxy)
        };
        let (code, body, err) = curl(&["-w", " %{http_code}", &format!("http://{}/", proxy.addr)]);
        assert_eq!(code, Some(0), "{scenario}: {err}");
        assert!(body.ends_with(" 502"), "{scenario}: {body}");
        let failed = proxy.wait_for_event("upstream-failed");
        let said = failed["why"].as_str().unwrap_or_default().to_string();
        assert!(said.contains(why), "{scenario}: {said}");
        let (_, log) = proxy.stop("TERM");
        assert_eq!(json::event(&log, "stopped")["upstream_failed"], 1, "{scenario}");
    }
}

#[cfg(feature = "tls")]
#[test]
fn upstream_insecure_goes_on_whatever_the_certificate_and_says_its_verdict() {
    let upstream = HttpsUpstream::with_flags("tls-expired", &[]);
    let proxy = upstream.proxy("proxy", &["--upstream-insecure"]);
    let (code, body, err) = curl(&[&format!("http://{}/", proxy.addr)]);
    assert_eq!((code, body.as_str()), (Some(0), "hello\n"), "{err}");
    let handshake = proxy.wait_for_event("upstream-tls-handshake");
    assert_eq!(handshake["verdict"], "expired", "{handshake}");
}

#[cfg(feature = "tls")]
#[test]
fn on_upstream_error_runs_for_a_certificate_refused() {
    let upstream = HttpsUpstream::with_flags("tls-wrong-host", &[]);
    let path = scenario_file(
        "own-503-tls",
        "on upstream-error\n  respond 503 header \"Connection: close\" body \"later\"\n  close\nend\nread head\nforward request\nrelay response\n",
    );
    let proxy = upstream.proxy(&path, &[]);
    let (received, end, _) = exchange(&proxy, GET, SHORT);
    assert!(text(&received).starts_with("HTTP/1.1 503 "), "{}", text(&received));
    assert!(received.ends_with(b"later"));
    assert_eq!(end, End::PeerFin);
}

/// Behind `--tls`, a TLS client gets the upstream's own TLS ending: its
/// close_notify if it sent one, and a FIN without one if it did not (the
/// fault OpenSSL 3 and strict Python readers refuse).
#[cfg(feature = "tls")]
#[test]
fn a_tls_client_gets_the_upstreams_tls_ending_as_it_was() {
    for (scenario, flags, said) in [
        ("end-close", &["--tls"][..], "close_notify after "),
        ("tls-no-close-notify", &[][..], "SSLEOFError after "),
    ] {
        let upstream = HttpsUpstream::with_flags(scenario, flags);
        let ca = upstream.dir.path().join("proxy-ca.pem").to_string_lossy().into_owned();
        let proxy = upstream.proxy("proxy", &["--tls", "--tls-ca-out", &ca]);
        let got = python_tls_end(proxy.addr.port(), &ca);
        assert!(got.starts_with(said), "{scenario}: {got}\n{}", proxy.log().join("\n"));
    }
}

/// Behind `--tls`, a relay's bytes are out only once the TLS records they
/// make are: a client slower than the upstream gets every byte before the
/// end that follows (a FIN mirrored, a `reset` after `limit`), which
/// otherwise lost the records still queued above the socket.
#[cfg(feature = "tls")]
#[test]
fn a_slow_tls_client_gets_every_relayed_byte_before_the_end() {
    let dir = TempDir::new("slow-tls");
    // More than the socket's send buffer takes (4 MiB at most here).
    dir.file("big.bin", vec![b'x'; 12_000_000]);
    let upstream = python_upstream(&dir);
    let ca = dir.path().join("proxy-ca.pem").to_string_lossy().into_owned();
    let addr = upstream.addr.to_string();
    for scenario in ["proxy", "proxy-reset-after"] {
        let flags = ["--upstream", &addr, "--tls", "--tls-ca-out", &ca];
        let proxy = match scenario {
            "proxy" => Server::start_with(scenario, &flags),
            _ => Server::start_with(scenario, &[&flags[..], &["--set", "bytes=10000000"]].concat()),
        };
        let start = Instant::now();
        let got = python_reads(proxy.addr.port(), &ca, "/big.bin", Reader::Slowly);
        let shown = || format!("{scenario}: {got}\n{}", proxy.log().join("\n"));
        if scenario == "proxy" {
            // The whole response, python's head and the 12 MB, then
            // close_notify.
            assert!(got.starts_with("close_notify after "), "{}", shown());
            let n: usize = got.rsplit(' ').next().unwrap().parse().unwrap();
            assert!(n > 12_000_000 && n < 12_000_400, "{}", shown());
        } else {
            // Exactly the bytes asked for (python names the RST one way
            // or another), and the log says RST.
            assert!(got.ends_with(" after 10000000"), "{}", shown());
            let end = proxy.wait_for_event("end");
            assert_eq!(end["how"], "rst", "{}", shown());
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{scenario}: {:?}",
            start.elapsed()
        );
    }
}

/// A TLS client sends close_notify as soon as it has the response, just
/// as the upstream's FIN is being passed on: the proxy's close reads it
/// away and ends with a FIN, as over plain HTTP. (It looked only when an
/// event said so, and one connection in five ended with an RST for the
/// unread record, a `reset` in a recording of it.)
#[cfg(feature = "tls")]
#[test]
fn a_tls_clients_close_notify_racing_the_upstreams_fin_is_no_reset() {
    let dir = TempDir::new("race-tls");
    dir.file("a.txt", "hi\n");
    let upstream = python_upstream(&dir);
    let ca = dir.path().join("proxy-ca.pem").to_string_lossy().into_owned();
    let addr = upstream.addr.to_string();
    let proxy = Server::start_with("proxy", &["--upstream", &addr, "--tls", "--tls-ca-out", &ca]);
    let url = format!("https://localhost:{}/a.txt", proxy.addr.port());
    for run in 0..20 {
        let (code, body, err) = curl(&["--cacert", &ca, &url]);
        assert_eq!((code, body.as_str()), (Some(0), "hi\n"), "run {run}: {err}");
    }
    let ends = proxy.wait_for_events("end", 20);
    for end in ends {
        assert!(end["how"] == "fin" || end["how"] == "peer-fin", "{end}");
    }
}

/// Every proxy built-in behind `--tls`, in front of a plain upstream
/// (python's http.server) and an HTTPS one (hangup): curl and python get
/// the same as over plain HTTP.
#[cfg(feature = "tls")]
#[test]
fn every_proxy_builtin_works_behind_tls_to_plain_and_https_upstreams() {
    let dir = TempDir::new("proxy-tls");
    let body: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    dir.file("file.bin", &body);
    let served = dir.file(
        "file.hup",
        "loop\n  read request within 5s else close\n  respond 200 body file \"file.bin\"\nend\n",
    );
    let plain = python_upstream(&dir);
    let https = HttpsUpstream::start(&served.to_string_lossy());
    let ca = dir.path().join("proxy-ca.pem").to_string_lossy().into_owned();
    // Each built-in, and what curl makes of a 300 kB file through it.
    let cases: [(&str, Option<i32>); 6] = [
        ("proxy", Some(0)),
        ("proxy-close-after", Some(18)),
        ("proxy-reset-after", Some(56)),
        ("proxy-fail-first", Some(56)),
        ("tcp-proxy", Some(0)),
        ("tcp-reset-after", Some(56)),
    ];
    for (upstream_name, upstream_flags) in [
        ("plain", vec!["--upstream".to_string(), plain.addr.to_string()]),
        (
            "https",
            vec![
                "--upstream".to_string(),
                https.url(),
                "--upstream-cacert".to_string(),
                https.ca.clone(),
            ],
        ),
    ] {
        for (scenario, want) in cases {
            let mut flags: Vec<&str> = upstream_flags.iter().map(String::as_str).collect();
            flags.extend(["--tls", "--tls-ca-out", ca.as_str()]);
            if scenario == "proxy-fail-first" {
                flags.extend(["--set", "count=1"]);
            }
            let proxy = Server::start_with(scenario, &flags);
            let url = format!("https://localhost:{}/file.bin", proxy.addr.port());
            let got = dir.path().join("got.bin");
            let got_arg = got.to_string_lossy().into_owned();
            let (code, _, err) = curl(&["--cacert", &ca, &url, "-o", &got_arg]);
            assert_eq!(code, want, "{scenario} to {upstream_name}: {err}");
            if want == Some(0) {
                assert!(std::fs::read(&got).unwrap() == body, "{scenario} to {upstream_name}");
            }
            if scenario == "proxy-fail-first" {
                // The second request is the upstream's.
                let (code, _, err) = curl(&["--cacert", &ca, &url, "-o", &got_arg]);
                assert_eq!(code, Some(0), "{scenario} to {upstream_name}: {err}");
            }
            if matches!(scenario, "proxy" | "tcp-proxy") {
                let python = Command::new("python3")
                    .args([
                        "-c",
                        "import ssl, sys, urllib.request\n\
                         ctx = ssl.create_default_context(cafile=sys.argv[2])\n\
                         print(len(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=5).read()))",
                        &url,
                        &ca,
                    ])
                    .output()
                    .expect("python3");
                assert_eq!(
                    text(&python.stdout).trim(),
                    body.len().to_string(),
                    "{scenario} to {upstream_name}: {}",
                    text(&python.stderr)
                );
            }
            let _ = std::fs::remove_file(&got);
        }
    }
}

#[cfg(feature = "tls")]
#[test]
fn every_proxy_builtin_is_covered_here() {
    let source = include_str!("proxy_https.rs");
    crate::support::assert_every_proxy_builtin_in("tests/it/proxy_https.rs", source, |name| {
        format!("(\"{name}\", Some(")
    });
}

/// `--record` behind an HTTPS upstream: the recording is the server's
/// plaintext, its replay is served with `--tls`, and it ends as the
/// upstream ended TLS (here without close_notify; an alert mid-body).
#[cfg(feature = "tls")]
#[test]
fn a_recording_of_an_https_upstream_replays_over_tls_with_its_tls_ending() {
    for (scenario, last) in [
        ("tls-no-close-notify", "\nclose no-notify\n"),
        ("tls-alert-mid-body", "\ntls alert internal_error\nclose no-notify\n"),
    ] {
        let upstream = HttpsUpstream::with_flags(scenario, &[]);
        let dir = upstream.dir.path().join("session");
        let dir_arg = dir.to_string_lossy().into_owned();
        let proxy = upstream.proxy("proxy", &["--record", &dir_arg]);
        // A client that stays until the end (curl leaves as soon as it
        // has the body, and a recording of that ends in `hang`).
        let (received, _, _) = exchange(&proxy, GET, SHORT);
        assert!(text(&received).starts_with("HTTP/1.1 200 OK"), "{}", text(&received));
        proxy.wait_for_event("recorded");
        let recording = std::fs::read_to_string(dir.join("conn-000001.hup")).unwrap();
        assert!(recording.ends_with(last), "{scenario}:\n{recording}");
        assert!(
            recording.contains("# Replay: hangup serve conn-000001.hup --tls."),
            "{scenario}:\n{recording}"
        );
        assert!(
            recording.starts_with(&format!("# Recorded from {} by ", upstream.url())),
            "{recording}"
        );
        if scenario == "tls-no-close-notify" {
            // Replayed as it says, the same ending reaches a strict reader.
            let replay_ca = upstream.dir.path().join("replay-ca.pem").to_string_lossy().into_owned();
            let replay = Server::start_with(
                &dir.join("conn-000001.hup").to_string_lossy(),
                &["--tls", "--tls-ca-out", &replay_ca],
            );
            let got = python_tls_end(replay.addr.port(), &replay_ca);
            assert!(got.starts_with("SSLEOFError after "), "{got}");
        }
    }
}

/// Bad flags are usage errors (exit 2) before anything listens.
#[cfg(feature = "tls")]
#[test]
fn upstream_tls_flags_that_cannot_work_are_refused_before_listening() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let own = format!("127.0.0.1:{port}");
    let cases: [(&[&str], &str); 9] = [
        (
            &[
                "--upstream",
                "https://localhost:1",
                "--upstream-cacert",
                "/nonexistent/ca.pem",
            ],
            "--upstream-cacert /nonexistent/ca.pem: cannot read it",
        ),
        (
            &["--upstream", "127.0.0.1:1", "--upstream-insecure"],
            "--upstream-insecure is for an HTTPS upstream; --upstream 127.0.0.1:1 is plain HTTP",
        ),
        (
            &["--upstream", "http://127.0.0.1:1", "--upstream-cacert", "ca.pem"],
            "--upstream-cacert is for an HTTPS upstream",
        ),
        (
            &["--upstream-insecure"],
            "--upstream-insecure goes with an HTTPS upstream: --upstream https://HOST:PORT",
        ),
        (
            &["--upstream", "https://localhost:1/api", "--upstream-insecure"],
            "give the server alone",
        ),
        (
            &["--upstream", "https://:443", "--upstream-insecure"],
            "expected https://HOST:PORT",
        ),
        (
            &["--upstream", "https://localhost:0", "--upstream-insecure"],
            "port 0 names no server",
        ),
        (
            &[
                "--listen",
                &own,
                "--upstream",
                &format!("https://{own}"),
                "--upstream-insecure",
            ],
            "is hangup's own listening address",
        ),
        (
            &[
                "--listen",
                &own,
                "--upstream",
                &format!("https://localhost:{port}/"),
                "--upstream-insecure",
            ],
            "is hangup's own listening address",
        ),
    ];
    for (flags, said) in cases {
        let mut args = vec!["serve", "proxy"];
        if !flags.contains(&"--listen") {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        args.extend_from_slice(flags);
        let out = hangup_within(&args, SHORT);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(said), "{flags:?}: {stderr}");
        assert!(!text(&out.stdout).contains("listening on"), "{flags:?}");
    }
    let out = hangup_within(&["serve", "--catalog", "--upstream-insecure"], SHORT);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// `http://HOST:PORT` is the plain upstream, as `HOST:PORT` is.
#[cfg(feature = "tls")]
#[test]
fn an_http_upstream_url_is_plain() {
    let upstream = Server::start("hello", &[]);
    let url = format!("http://{}/", upstream.addr);
    let proxy = Server::start_with("proxy", &["--upstream", &url]);
    let (code, body, err) = curl(&[&format!("http://{}/", proxy.addr)]);
    assert_eq!((code, body.as_str()), (Some(0), "hello\n"), "{err}");
    assert!(proxy.events("upstream-tls-handshake").is_empty());
}

#[cfg(not(feature = "tls"))]
#[test]
fn an_https_upstream_needs_the_tls_build() {
    let out = hangup_within(
        &[
            "serve",
            "proxy",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "https://localhost:8443",
        ],
        std::time::Duration::from_secs(5),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("built without TLS"), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("listening on"));
}
