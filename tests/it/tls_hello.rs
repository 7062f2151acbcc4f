//! TLS handshakes cut before the server's first byte, seen by real TLS
//! clients: curl, Python's `ssl` (through urllib), Node's `https` and
//! `openssl s_client`, against the `tls-*` built-ins. hangup has no TLS
//! of its own here: it reads the ClientHello and resets, closes, stalls or
//! sends a plaintext alert. Each client's exit code and a stable part of
//! its message are asserted (the README's table quotes them), never its
//! version.
//!
//! Then what the log says of the ClientHello (SNI, ALPN, versions), and
//! what hangup does with input that is no ClientHello, with one cut into
//! records and dripped, one too slow for its `within`, and records that
//! are too long.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use crate::support::{End, Server, client_hello, read_to_end, scenario_file, text};

const SHORT: Duration = Duration::from_secs(2);

/// `program ARGS`: (exit code, stdout, stderr).
fn run(program: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); install it (.ci/run does)"));
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// `curl -sS ARGS https://localhost:PORT/`: curl sends the SNI `localhost`.
fn curl(server: &Server, args: &[&str]) -> (i32, String) {
    let url = format!("https://localhost:{}/", server.addr.port());
    let mut all = vec!["-sS", "-m", "5"];
    all.extend_from_slice(args);
    all.push(&url);
    let (code, _, stderr) = run("curl", &all);
    (code, stderr)
}

/// urllib against `https://localhost:PORT/`, with a timeout of `seconds`:
/// one line, `ExceptionName: reason`, or `status N`.
fn python(server: &Server, seconds: &str) -> String {
    let script = r#"
import sys, urllib.request
try:
    print("status", urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status)
except Exception as e:
    reason = getattr(e, "reason", e)
    print(f"{type(reason).__name__}: {reason}")
"#;
    let url = format!("https://localhost:{}/", server.addr.port());
    run("python3", &["-c", script, &url, seconds]).1
}

/// Node's `https.get` of `https://localhost:PORT/` with a socket timeout
/// of `ms`: one line, `error CODE MESSAGE`, `timeout` or `status N`.
fn node(server: &Server, ms: &str) -> String {
    let script = r#"
const req = require("https").get(process.argv[1], { timeout: +process.argv[2] }, (res) => console.log("status", res.statusCode));
req.on("timeout", () => { console.log("timeout"); process.exit(0); });
req.on("error", (e) => console.log("error", e.code, e.message));
"#;
    let url = format!("https://localhost:{}/", server.addr.port());
    run("node", &["-e", script, &url, ms]).1
}

/// `openssl s_client -connect 127.0.0.1:PORT -servername localhost`, with
/// nothing to send: (exit code, stderr).
fn openssl(server: &Server) -> (i32, String) {
    let connect = server.addr.to_string();
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &connect, "-servername", "localhost"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    (out.status.code().unwrap_or(-1), text(&out.stderr))
}

/// The three handshake cuts and the stable part of each client's message
/// (a TLS library's error codes and file names vary; these words do not).
const CUTS: &[(&str, &str, &str, &str, &str)] = &[
    // (scenario, curl, python, node, openssl)
    (
        "tls-reset-on-hello",
        "curl: (35) Recv failure: Connection reset by peer",
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        "error ECONNRESET read ECONNRESET",
        "errno=104",
    ),
    (
        "tls-close-on-hello",
        "SSL_ERROR_SYSCALL",
        "SSLEOFError: [SSL: UNEXPECTED_EOF_WHILE_READING] EOF occurred in violation of protocol",
        "error ECONNRESET Client network socket disconnected before secure TLS connection was established",
        "unexpected eof while reading",
    ),
    (
        "tls-alert-on-hello",
        "tlsv1 alert internal error",
        "SSLError: [SSL: TLSV1_ALERT_INTERNAL_ERROR] tlsv1 alert internal error",
        "error EPROTO",
        "SSL alert number 80",
    ),
];

#[test]
fn curl_sees_each_handshake_cut() {
    for (scenario, message, ..) in CUTS {
        let server = Server::start(scenario, &[]);
        let (code, stderr) = curl(&server, &[]);
        assert_eq!(code, 35, "{scenario}: {stderr}");
        assert!(stderr.starts_with("curl: (35) "), "{scenario}: {stderr}");
        assert!(stderr.contains(message), "{scenario}: {stderr}");
    }
    // A stall: curl's connect timeout covers the TLS handshake.
    let server = Server::start("tls-stall-hello", &[]);
    let (code, stderr) = curl(&server, &["--connect-timeout", "0.3"]);
    assert_eq!((code, stderr.as_str()), (28, "curl: (28) SSL connection timeout\n"));
    // Another alert, by name: curl says OpenSSL's words for it.
    let server = Server::start("tls-alert-on-hello", &["alert=handshake_failure"]);
    let (code, stderr) = curl(&server, &[]);
    assert_eq!(code, 35, "{stderr}");
    assert!(stderr.contains("alert handshake failure"), "{stderr}");
}

#[test]
fn python_sees_each_handshake_cut() {
    for (scenario, _, message, ..) in CUTS {
        let server = Server::start(scenario, &[]);
        let said = python(&server, "5");
        assert!(said.starts_with(message), "{scenario}: {said}");
    }
    let server = Server::start("tls-stall-hello", &[]);
    let said = python(&server, "0.3");
    assert!(said.starts_with("TimeoutError: "), "{said}");
    assert!(said.contains("The handshake operation timed out"), "{said}");
}

#[test]
fn node_sees_each_handshake_cut() {
    for (scenario, _, _, message, _) in CUTS {
        let server = Server::start(scenario, &[]);
        let said = node(&server, "5000");
        assert!(said.starts_with(message), "{scenario}: {said}");
    }
    let server = Server::start("tls-alert-on-hello", &[]);
    let said = node(&server, "5000");
    assert!(said.contains("alert number 80"), "{said}");
    let server = Server::start("tls-stall-hello", &[]);
    assert_eq!(node(&server, "300"), "timeout\n");
}

#[test]
fn openssl_s_client_sees_each_handshake_cut() {
    for (scenario, _, _, _, message) in CUTS {
        let server = Server::start(scenario, &[]);
        let (code, stderr) = openssl(&server);
        assert_eq!(code, 1, "{scenario}: {stderr}");
        assert!(stderr.contains(message), "{scenario}: {stderr}");
    }
}

#[test]
fn the_log_names_the_sni_alpn_and_versions_the_client_sent() {
    let server = Server::start("tls-reset-on-hello", &[]);
    let port = server.addr.port();
    curl(&server, &[]);
    server.wait_for_log(&[
        r#""event":"tls-hello""#,
        r#""sni":"localhost""#,
        r#""alpn":"h2,http/1.1""#,
        r#""versions":"1.3,1.2,1.1,1.0""#,
        r#""records":1"#,
    ]);
    // curl resolves *.localhost to loopback itself; --resolve sends any name.
    curl(
        &server,
        &["--http1.1", &format!("https://tls-expired.localhost:{port}/")],
    );
    server.wait_for_log(&[r#""sni":"tls-expired.localhost""#, r#""alpn":"http/1.1""#]);
    let resolve = format!("example.test:{port}:127.0.0.1");
    curl(
        &server,
        &["--resolve", &resolve, &format!("https://example.test:{port}/")],
    );
    server.wait_for_log(&[r#""sni":"example.test""#]);
    // Without a name to send (an address), no SNI; TLS 1.2 only, no
    // supported_versions: the version is the hello's own.
    let connect = server.addr.to_string();
    let _ = Command::new("openssl")
        .args(["s_client", "-connect", &connect, "-tls1_2"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run openssl s_client");
    let line = server.wait_for_log(&[r#""event":"tls-hello""#, r#""versions":"1.2""#]);
    assert!(!line.contains("sni"), "{line}");
}

#[test]
fn an_alert_is_its_7_bytes_at_the_level_asked_then_fin() {
    let path = scenario_file(
        "tls-warning",
        "read tls-hello\ntls alert unrecognized_name warning\ntls alert close_notify\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    stream.write_all(&client_hello("curl")).expect("send the hello");
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!(
        received,
        [0x15, 3, 3, 0, 2, 1, 112, 0x15, 3, 3, 0, 2, 1, 0],
        "a warning unrecognized_name, then close_notify"
    );
    assert_eq!(end, End::PeerFin);
    // An OpenSSL client reads past a warning before the ServerHello: what
    // ends its handshake is the close_notify.
    let (code, stderr) = curl(&server, &[]);
    assert_eq!(code, 35, "{stderr}");
    assert!(stderr.contains("SSL_ERROR_ZERO_RETURN"), "{stderr}");
}

#[test]
fn plaintext_http_to_a_tls_hello_is_told_and_closed() {
    let server = Server::start("tls-alert-on-hello", &[]);
    let url = format!("http://127.0.0.1:{}/", server.addr.port());
    let (code, _, stderr) = run("curl", &["-sS", "-m", "5", &url]);
    assert_eq!((code, stderr.as_str()), (52, "curl: (52) Empty reply from server\n"));
    let line = server.wait_for_log(&[r#""event":"tls-hello-error""#]);
    assert!(
        line.contains(
            "not a TLS record: its first byte, 0x47 ('G'), is no content type (20 to 23); \
             it looks like plaintext HTTP sent to a TLS port"
        ),
        "{line}"
    );
    // The request was read away first, so the close is a FIN, and no alert
    // was sent: the script ended at the read.
    server.wait_for_log(&[r#""event":"end""#, r#""how":"fin""#, r#""bytes_out":0"#]);
}

/// `message` (a handshake message) in handshake records of at most `size`
/// bytes each, with the version a first ClientHello's records carry.
fn records(message: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in message.chunks(size) {
        out.extend_from_slice(&[0x16, 0x03, 0x01]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}

#[test]
fn a_hello_cut_into_records_and_dripped_is_read_whole() {
    let server = Server::start("tls-alert-on-hello", &[]);
    // curl's hello in records of 100 bytes, sent 40 bytes at a time.
    let bytes = records(&client_hello("curl")[5..], 100);
    let mut stream = server.connect();
    for piece in bytes.chunks(40) {
        stream.write_all(piece).expect("send a piece");
        std::thread::sleep(Duration::from_millis(2));
    }
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!(
        (received.as_slice(), end),
        (&[0x15, 3, 3, 0, 2, 2, 80][..], End::PeerFin)
    );
    server.wait_for_log(&[r#""event":"tls-hello""#, r#""records":6"#, r#""bytes":542"#]);
}

#[test]
fn a_slow_hello_is_bounded_by_the_reads_within() {
    let path = scenario_file(
        "tls-slow",
        "read tls-hello within 100ms else log \"no hello in time\"\ntls alert internal_error\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    // 20 bytes of a hello, then nothing more: a client too slow.
    stream.write_all(&client_hello("python")[..20]).expect("send a piece");
    let (received, end) = read_to_end(&mut stream, SHORT);
    // The `else` ran, then the script went on: an alert, then FIN.
    assert_eq!(
        (received.as_slice(), end),
        (&[0x15, 3, 3, 0, 2, 2, 80][..], End::PeerFin)
    );
    server.wait_for_log(&[r#""event":"timeout""#]);
    server.wait_for_log(&[r#""message":"no hello in time""#]);
    assert!(server.events("tls-hello").is_empty());
}

#[test]
fn broken_and_oversized_records_are_refused_at_once() {
    let server = Server::start("tls-reset-on-hello", &[]);
    let cases: &[(&[u8], &str)] = &[
        // A record header claiming 16385 bytes: refused before they come.
        (
            &[0x16, 3, 1, 0x40, 0x01],
            "a record of 16385 bytes, over the limit of 16384 (RFC 8446 §5.1: record_overflow)",
        ),
        // A ClientHello claiming 64 KiB: refused from its 4-byte header.
        (
            &[0x16, 3, 1, 0, 4, 1, 1, 0, 0],
            "a ClientHello of 65536 bytes, over the limit of 65535 (rustls's for any handshake message)",
        ),
        (&[0x80, 0x2e, 1, 3, 1], "an SSL 2.0 ClientHello"),
        (
            &[0x15, 3, 1, 0, 2, 2, 40],
            "a record of type 21 (alert) where the ClientHello's handshake records belong",
        ),
        (
            &[0x16, 3, 1, 0, 4, 2, 0, 0, 0],
            "a handshake message of type 2, not a ClientHello (type 1)",
        ),
    ];
    for (n, (bytes, why)) in cases.iter().enumerate() {
        let mut stream = server.connect();
        stream.write_all(bytes).expect("send");
        let (received, end) = read_to_end(&mut stream, SHORT);
        // No reset: the script never got to it; a close that read the
        // bytes away first is a FIN.
        assert_eq!((received.as_slice(), end), (&b""[..], End::PeerFin), "{why}");
        let line = server.wait_for_log(&[&format!(r#""conn":{}"#, n + 1), "tls-hello-error"]);
        assert!(line.contains(why), "{line}");
    }
}
