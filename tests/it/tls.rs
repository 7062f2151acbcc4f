//! `serve --tls`: every scenario over HTTPS, seen by curl, node and
//! python3 trusting the CA hangup wrote (`--tls-ca-out`): the same faults
//! as over plain HTTP, a close that sends close_notify before its FIN, and
//! clear usage errors for certificates that cannot be used.

use std::process::Command;
use std::time::Duration;

use crate::support::{Server, TempDir, hangup_within, text};

/// A scenario served over TLS, and the CA file its clients trust.
struct Tls {
    server: Server,
    _dir: TempDir,
    ca: String,
}

fn serve_tls(scenario: &str, flags: &[&str]) -> Tls {
    let dir = TempDir::new("tls");
    let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
    let mut all = vec!["--tls", "--tls-ca-out", ca.as_str()];
    all.extend_from_slice(flags);
    let server = Server::start_with(scenario, &all);
    Tls { server, _dir: dir, ca }
}

impl Tls {
    fn url(&self) -> String {
        format!("https://localhost:{}/", self.server.addr.port())
    }

    /// `curl -sS --cacert CA URL ARGS`: (exit code, stdout, stderr).
    fn curl(&self, args: &[&str]) -> (i32, String, String) {
        let url = self.url();
        let out = Command::new("curl")
            .args(["-sS", "-m", "5", "--cacert", &self.ca, &url])
            .args(args)
            .output()
            .expect("curl runs");
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// A node `https.get` trusting the CA: what it printed, one line.
    fn node(&self) -> String {
        let script = r#"
const https = require('https');
const fs = require('fs');
const [url, ca] = process.argv.slice(1);
// The first thing that happened (an error reaches both the request and
// the response).
let said = false;
const say = (line) => { if (!said) { said = true; console.log(line); } };
https.get(url, { ca: fs.readFileSync(ca) }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => say(`${res.statusCode} ${body.trim()}`));
  res.on('error', (e) => say(`${res.statusCode} then ${e.code || e.message}`));
}).on('error', (e) => say(`error ${e.code || e.message}`));
"#;
        let out = Command::new("node")
            .args(["-e", script, &self.url(), &self.ca])
            .output()
            .expect("node runs");
        text(&out.stdout).trim().to_string()
    }

    /// Python's `ssl` reading the response to its end, refusing a FIN
    /// without close_notify (`suppress_ragged_eofs=False`): what it got.
    fn python(&self) -> String {
        let script = r#"
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
got = b""
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                        server_hostname="localhost", suppress_ragged_eofs=False)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    while True:
        chunk = s.recv(65536)
        if not chunk:
            print("close_notify after", len(got))
            break
        got += chunk
except Exception as e:
    print(type(e).__name__, "after", len(got))
"#;
        let out = Command::new("python3")
            .args(["-c", script, &self.server.addr.port().to_string(), &self.ca])
            .output()
            .expect("python3 runs");
        text(&out.stdout).trim().to_string()
    }
}

#[test]
fn hello_over_tls_to_curl_node_and_python() {
    let tls = serve_tls("hello", &[]);
    assert_eq!(tls.curl(&[]), (0, "hello\n".to_string(), String::new()));
    assert_eq!(tls.node(), "200 hello");
    let line = tls.server.wait_for_log(&[r#""event":"tls-handshake""#]);
    assert!(line.contains(r#""sni":"localhost""#), "{line}");
    assert!(line.contains(r#""version":"1.3""#), "{line}");
}

#[test]
fn a_reset_mid_body_is_a_reset_over_tls_too() {
    let tls = serve_tls("mid-body-reset", &[]);
    let (code, body, err) = tls.curl(&[]);
    assert_eq!((code, body.as_str()), (56, "Hello,"), "{err}");
    assert!(err.contains("Connection reset by peer"), "{err}");
    let node = tls.node();
    assert!(node.ends_with("ECONNRESET"), "{node}");
}

#[test]
fn close_over_tls_sends_close_notify_before_fin() {
    let tls = serve_tls("end-close", &[]);
    let got = tls.python();
    assert!(got.starts_with("close_notify after "), "{got}");
    assert_eq!(tls.curl(&[]).0, 0);
}

#[test]
fn a_client_that_does_not_trust_the_certificate_fails_the_handshake_and_the_log_says_why() {
    let tls = serve_tls("hello", &[]);
    let out = Command::new("curl")
        .args(["-sS", "-m", "5", &tls.url()])
        .output()
        .expect("curl runs");
    assert_eq!(out.status.code(), Some(60), "{}", text(&out.stderr));
    let end = tls.server.wait_for_log(&[r#""event":"end""#]);
    assert!(end.contains("TLS"), "{end}");
}

#[test]
fn plain_http_to_a_tls_port_is_refused_and_logged() {
    let tls = serve_tls("hello", &[]);
    let (bytes, _, _) = crate::support::exchange(&tls.server, crate::support::GET, Duration::from_secs(3));
    // A TLS alert record (content type 21), never an HTTP answer.
    assert_eq!(bytes.first(), Some(&21), "{bytes:?}");
    let end = tls.server.wait_for_log(&[r#""event":"end""#]);
    assert!(end.contains(r#""how":"error""#) && end.contains("TLS"), "{end}");
}

#[test]
fn certificates_that_cannot_be_used_are_usage_errors_before_listening() {
    let dir = TempDir::new("tls-bad");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let junk = junk.to_string_lossy().into_owned();
    // A certificate and a key that are not each other's.
    let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
    let short = Duration::from_secs(5);
    for (args, says) in [
        (vec!["--tls-cert", &junk, "--tls-key", &junk], "--tls-cert"),
        (vec!["--tls-cert", &junk], "--tls-key"),
        (vec!["--tls-key", &junk], "--tls-cert"),
    ] {
        let mut all = vec!["serve", "hello", "--listen", "127.0.0.1:0", "--tls"];
        all.extend(args.iter().copied());
        let out = hangup_within(&all, short);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
        assert!(!text(&out.stdout).contains("listening on"));
    }
    // What a scenario does itself, a flag cannot do under it.
    for (all, says) in [
        (
            vec!["serve", "tls-reset-on-hello", "--listen", "127.0.0.1:0", "--tls"],
            "tls-reset-on-hello reads the client's ClientHello itself (`read tls-hello`)",
        ),
        (
            vec![
                "serve",
                "tls-expired",
                "--listen",
                "127.0.0.1:0",
                "--tls-cert",
                &junk,
                "--tls-key",
                &junk,
            ],
            "tls-expired presents a certificate with a defect of its own (`tls certificate expired`)",
        ),
    ] {
        let out = hangup_within(&all, short);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
    for flag in ["--tls-name", "--tls-ca-out"] {
        let out = hangup_within(&["serve", "hello", "--listen", "127.0.0.1:0", flag, &ca], short);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains(&format!("{flag} goes with --tls")),
            "{}",
            text(&out.stderr)
        );
    }
}

/// `openssl s_client` sending one request and reading to the end: its
/// exit code and what it printed (stdout and stderr together).
fn openssl(tls: &Tls) -> (i32, String) {
    let connect = format!("127.0.0.1:{}", tls.server.addr.port());
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &connect,
            "-servername",
            "localhost",
            "-CAfile",
            &tls.ca,
            "-quiet",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), request).expect("request");
    let out = crate::support::wait_within(child, Duration::from_secs(5));
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    (out.status.code().unwrap_or(-1), said)
}

#[test]
fn a_close_without_close_notify_is_taken_by_curl_and_python_refused_by_openssl() {
    let tls = serve_tls("tls-no-close-notify", &[]);
    assert_eq!(tls.curl(&[]), (0, "hello\n".to_string(), String::new()));
    let got = tls.python();
    assert!(got.starts_with("SSLEOFError after "), "{got}");
    let (code, said) = openssl(&tls);
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("hello") && said.contains("unexpected eof while reading"),
        "{said}"
    );
}

#[test]
fn an_alert_mid_body_is_sealed_and_every_client_names_it() {
    let tls = serve_tls("tls-alert-mid-body", &[]);
    let (code, body, err) = tls.curl(&[]);
    assert_eq!((code, body.as_str()), (56, "Hello,"), "{err}");
    assert!(err.contains("alert internal error"), "{err}");
    assert_eq!(tls.node(), "error ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR");
    let got = tls.python();
    assert!(got.starts_with("SSLError after 45"), "{got}");
    tls.server.wait_for_log(&[
        r#""event":"tls-alert""#,
        r#""alert":"internal_error""#,
        r#""sealed":"yes""#,
    ]);
}

/// TLS 1.2 seals differently (the type is said, GCM sends an explicit
/// nonce, ChaCha20 none): each cipher a client can choose gets its alert.
#[test]
fn a_sealed_alert_reaches_tls_1_2_clients_under_every_cipher() {
    let dir = TempDir::new("tls12");
    let script = dir.path().join("alert12.hup");
    std::fs::write(
        &script,
        "tls handshake version 1.2\nread request\nwrite \"HTTP/1.1 200 OK\\r\\nContent-Length: 13\\r\\n\\r\\nHello,\"\ntls alert handshake_failure\nclose no-notify\n",
    )
    .unwrap();
    let tls = serve_tls(&script.to_string_lossy(), &[]);
    for cipher in [
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305",
    ] {
        let (code, body, err) = tls.curl(&["--ciphers", cipher]);
        assert_eq!((code, body.as_str()), (56, "Hello,"), "{cipher}: {err}");
        assert!(err.contains("alert handshake failure"), "{cipher}: {err}");
    }
    let line = tls.server.wait_for_log(&[r#""event":"tls-handshake""#]);
    assert!(line.contains(r#""version":"1.2""#), "{line}");
}

#[test]
fn each_certificate_defect_fails_as_badssl_would_and_k_accepts_it() {
    for (scenario, curl_says, python_says) in [
        ("tls-expired", "certificate has expired", "certificate has expired"),
        (
            "tls-wrong-host",
            "no alternative certificate subject name matches",
            "Hostname mismatch",
        ),
        ("tls-self-signed", "self-signed certificate", "self-signed certificate"),
        (
            "tls-unknown-ca",
            "unable to get local issuer certificate",
            "unable to get local issuer certificate",
        ),
    ] {
        let tls = serve_tls(scenario, &[]);
        let (code, _, err) = tls.curl(&[]);
        assert_eq!(code, 60, "{scenario}: {err}");
        assert!(err.contains(curl_says), "{scenario}: {err}");
        let got = tls.python();
        assert!(got.contains("SSLCertVerificationError"), "{scenario}: {got}");
        let urllib = python_urllib(&tls);
        assert!(urllib.contains(python_says), "{scenario}: {urllib}");
        assert_eq!(
            tls.curl(&["-k"]),
            (0, "hello\n".to_string(), String::new()),
            "{scenario}"
        );
    }
}

fn python_urllib(tls: &Tls) -> String {
    let script = r#"
import ssl, sys, urllib.request
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    print(urllib.request.urlopen(sys.argv[1], context=ctx, timeout=5).read())
except Exception as e:
    print(type(e).__name__, e)
"#;
    let out = Command::new("python3")
        .args(["-c", script, &tls.url(), &tls.ca])
        .output()
        .expect("python3 runs");
    text(&out.stdout)
}

#[test]
fn a_handshake_stalled_after_the_server_hello_sends_one_record_and_no_more() {
    let dir = TempDir::new("stall");
    let script = dir.path().join("stall.hup");
    std::fs::write(&script, "tls handshake stall after server-hello\nhang\n").unwrap();
    let tls = serve_tls(&script.to_string_lossy(), &[]);
    let (code, _, err) = tls.curl(&["-m", "1"]);
    assert_eq!(code, 28, "{err}");
    let stalled = tls.server.wait_for_log(&[r#""event":"tls-stall""#]);
    assert!(stalled.contains("server-hello"), "{stalled}");
}

#[test]
fn a_hello_read_first_is_taken_in_by_the_handshake_after_it() {
    let dir = TempDir::new("hello-then");
    let script = dir.path().join("then.hup");
    std::fs::write(
        &script,
        "read tls-hello\ntls handshake alpn \"http/1.1\"\nread request\nrespond 200 body \"after the hello\\n\"\nclose\n",
    )
    .unwrap();
    let tls = serve_tls(&script.to_string_lossy(), &[]);
    assert_eq!(tls.curl(&[]), (0, "after the hello\n".to_string(), String::new()));
    tls.server
        .wait_for_log(&[r#""event":"tls-hello""#, r#""sni":"localhost""#]);
    let line = tls.server.wait_for_log(&[r#""event":"tls-handshake""#]);
    assert!(line.contains(r#""alpn":"http/1.1""#), "{line}");
}

#[test]
fn close_notify_alone_ends_the_tls_stream_before_the_tcp_one() {
    let dir = TempDir::new("notify");
    let script = dir.path().join("notify.hup");
    std::fs::write(
        &script,
        "tls handshake\nread request\nrespond 200 header \"Connection: close\" body \"x\"\ntls close-notify\nsleep 300ms\nclose no-notify\n",
    )
    .unwrap();
    let tls = serve_tls(&script.to_string_lossy(), &[]);
    let got = tls.python();
    assert!(got.starts_with("close_notify after "), "{got}");
    tls.server.wait_for_log(&[r#""event":"tls-close-notify""#]);
}

#[test]
fn a_write_cut_mid_record_is_an_error_for_the_client() {
    let dir = TempDir::new("cut");
    let script = dir.path().join("cut.hup");
    std::fs::write(
        &script,
        "tls handshake\nread request\ntls cut after 60 bytes\nwrite \"HTTP/1.1 200 OK\\r\\nContent-Length: 1000\\r\\n\\r\\n\" repeat 1000 \"x\"\nclose no-notify\n",
    )
    .unwrap();
    let tls = serve_tls(&script.to_string_lossy(), &[]);
    let (code, _, err) = tls.curl(&[]);
    assert_ne!(code, 0, "{err}");
    let got = tls.python();
    assert!(got.starts_with("SSLEOFError after 0"), "{got}");
    tls.server.wait_for_log(&[r#""event":"tls-cut""#]);
}
