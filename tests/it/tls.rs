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
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                    server_hostname="localhost", suppress_ragged_eofs=False)
s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
got = b""
try:
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
