//! `hangup probe https://…` (issue 26) against hangup's own TLS servers
//! and a python3 one, all on loopback: how the handshake went (version,
//! cipher, the certificate and the verdict against the CA given) or how
//! it failed, and how the server ended the connection (close_notify then
//! FIN, FIN without close_notify, an alert, RST), in the text report, the
//! JSON, `--expect-verdict`, `--expect-tls-end`, and `--record`'s replay.
//!
//! Certificates with each defect are made here with rcgen (a dependency of
//! the TLS build) and served by `hangup serve --tls-cert`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

use crate::support::json::Value;
use crate::support::{BIN, Report, Server, TempDir, hangup, probe, probe_json, text};

/// A server over TLS with hangup's own certificate, and the CA it wrote.
struct Tls {
    server: Server,
    dir: TempDir,
    ca: String,
}

fn serve_tls(scenario: &str, sets: &[&str]) -> Tls {
    let dir = TempDir::new("probe-tls");
    let ca = path(&dir, "ca.pem");
    let mut flags = vec!["--tls", "--tls-ca-out", ca.as_str()];
    for set in sets {
        flags.extend(["--set", set]);
    }
    let server = Server::start_with(scenario, &flags);
    Tls { server, dir, ca }
}

impl Tls {
    /// `https://localhost:PORT/`: the name the certificate is for.
    fn url(&self) -> String {
        format!("https://localhost:{}/", self.server.addr.port())
    }
}

fn path(dir: &TempDir, name: &str) -> String {
    dir.path().join(name).to_string_lossy().into_owned()
}

/// The probe's JSON report of `url` with `flags` (exit 0).
fn json(url: &str, flags: &[&str]) -> Report {
    probe_json(url, flags)
}

#[test]
fn a_good_handshake_says_what_was_agreed_and_what_the_certificate_is() {
    let tls = serve_tls("hello", &[]);
    let probed = probe(&tls.url(), &["--cacert", &tls.ca]);
    assert_eq!(probed.code, Some(0), "{}", probed.stderr);
    let report = probed.stdout;
    let lines: Vec<&str> = report.lines().collect();
    // The address line, then what TLS did, then the request's.
    assert!(lines[1].starts_with("tls       TLS 1.3, TLS13_"), "{report}");
    assert!(lines[1].ends_with(", SNI localhost"), "{report}");
    assert_eq!(
        lines[2], "cert      CN=localhost, issued by CN=hangup test CA",
        "{report}"
    );
    assert_eq!(lines[3], "names     localhost, 127.0.0.1, ::1", "{report}");
    assert!(
        lines[4].starts_with("valid     ") && lines[4].ends_with(" UTC"),
        "{report}"
    );
    assert_eq!(lines[5], format!("verified  ok, against {}", tls.ca), "{report}");
    assert!(
        report.contains("ended     still open 50.0 ms after the response; the probe closed it\n"),
        "{report}"
    );
    assert!(report.ends_with("outcome   complete\n"), "{report}");

    let json = json(&tls.url(), &["--cacert", &tls.ca]);
    let t = &json["tls"];
    assert_eq!(t["handshake"], "done", "{json}");
    assert_eq!(t["version"], "1.3", "{json}");
    assert!(t["cipher"].as_str().is_some_and(|c| c.starts_with("TLS13_")), "{json}");
    assert_eq!(t["sni"], "localhost", "{json}");
    assert!(t["hello_bytes"].as_u64().is_some_and(|b| b > 100), "{json}");
    assert_eq!(t["verdict"], "ok", "{json}");
    assert_eq!(t["insecure"], false, "{json}");
    assert_eq!(t["end"], "open", "{json}");
    let cert = &t["certificate"];
    assert_eq!(cert["subject"], "CN=localhost", "{json}");
    assert_eq!(cert["issuer"], "CN=hangup test CA", "{json}");
    assert_eq!(cert["names"], serde_json::json!(["localhost", "127.0.0.1", "::1"]));
    // Valid now: from a day ago, RFC 3339, in order.
    let (from, to) = (
        cert["not_before"].as_str().unwrap(),
        cert["not_after"].as_str().unwrap(),
    );
    assert!(from.ends_with('Z') && from < to, "{json}");
    assert_eq!(json["outcome"], "complete", "{json}");
    let events: Vec<&Value> = json.timeline().iter().map(|m| &m["event"]).collect();
    assert_eq!(events[..3], ["connected", "tls-hello", "tls-handshake"], "{json}");
}

#[test]
fn an_address_sends_no_sni_and_is_checked_against_the_certificates_addresses() {
    let tls = serve_tls("hello", &[]);
    let url = format!("https://127.0.0.1:{}/", tls.server.addr.port());
    let json = json(&url, &["--cacert", &tls.ca]);
    assert_eq!(json["tls"]["sni"], Value::Null, "{json}");
    assert_eq!(json["tls"]["verdict"], "ok", "{json}");
    let probed = probe(&url, &["--cacert", &tls.ca]);
    assert!(probed.stdout.contains(", no SNI (an address)\n"), "{}", probed.stdout);
}

#[test]
fn close_is_close_notify_then_fin_and_expect_tls_end_checks_it() {
    let tls = serve_tls("end-close", &[]);
    let probed = probe(&tls.url(), &["--cacert", &tls.ca, "--expect-tls-end", "close-notify"]);
    assert_eq!(probed.code, Some(0), "{}", probed.stderr);
    assert!(
        probed
            .stdout
            .contains("ended     close_notify then FIN from server after 88 B, "),
        "{}",
        probed.stdout
    );
    let json = json(&tls.url(), &["--cacert", &tls.ca]);
    assert_eq!(
        (json["tls"]["end"].as_str(), json.request(1)["ended"].as_str()),
        (Some("close-notify"), Some("fin"))
    );
    let marks: Vec<&str> = json.timeline().iter().filter_map(|m| m["event"].as_str()).collect();
    assert!(marks.ends_with(&["close-notify", "server-fin"]), "{json}");

    let wrong = probe(
        &tls.url(),
        &["--cacert", &tls.ca, "--expect-tls-end", "no-close-notify"],
    );
    assert_eq!(wrong.code, Some(1));
    assert_eq!(
        wrong.stderr,
        "hangup: expectation failed: expected TLS end no-close-notify, got close-notify\n"
    );
    let diagram = probe(&tls.url(), &["--cacert", &tls.ca, "--diagram"]).stdout;
    assert!(diagram.contains("|--- TLS ClientHello ("), "{diagram}");
    assert!(diagram.contains("|<-- TLS 1.3 TLS13_"), "{diagram}");
    assert!(diagram.contains(" close_notify "), "{diagram}");
}

#[test]
fn an_rst_mid_body_over_tls_is_a_reset_mid_body() {
    let tls = serve_tls("mid-body-reset", &[]);
    let probed = probe(
        &tls.url(),
        &[
            "--cacert",
            &tls.ca,
            "--expect",
            "reset (mid-body)",
            "--expect-tls-end",
            "rst",
        ],
    );
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    assert!(
        probed.stdout.contains("ended     RST from server after 68 B, "),
        "{}",
        probed.stdout
    );
    let json = json(&tls.url(), &["--cacert", &tls.ca]);
    assert_eq!(json.request(1)["body_bytes"], 6, "{json}");
}

/// A server that cuts the handshake: (scenario, sets, the outcome,
/// `tls.handshake`, `tls.end`, the text's `tls` line).
type Cut<'a> = (&'a str, &'a [&'a str], &'a str, &'a str, &'a str, &'a str);

#[test]
fn each_cut_handshake_is_named() {
    let cases: [Cut; 5] = [
        (
            "tls-reset-on-hello",
            &[],
            "reset",
            "rst",
            "rst",
            "handshake failed: RST from server after the ClientHello (",
        ),
        (
            "tls-close-on-hello",
            &[],
            "empty",
            "fin",
            "no-close-notify",
            "handshake failed: FIN from server after the ClientHello (",
        ),
        (
            "tls-alert-on-hello",
            &[],
            "error",
            "alert",
            "alert",
            "handshake failed: alert internal_error from server instead of a ServerHello",
        ),
        (
            "tls-alert-on-hello",
            &["alert=handshake_failure"],
            "error",
            "alert",
            "alert",
            "handshake failed: alert handshake_failure from server instead of a ServerHello",
        ),
        (
            "tls-stall-hello",
            &[],
            "timeout",
            "timeout",
            "open",
            "handshake failed: no answer to the ClientHello (",
        ),
    ];
    for (scenario, sets, outcome, handshake, end, line) in cases {
        // These read the ClientHello themselves: served without --tls.
        let server = Server::start(scenario, sets);
        let url = format!("https://localhost:{}/", server.addr.port());
        let flags = ["-k", "--timeout", "300ms"];
        let json = json(&url, &flags);
        assert_eq!(json["outcome"], outcome, "{scenario}: {json}");
        assert_eq!(json["phase"], "handshake", "{scenario}: {json}");
        assert_eq!(json["tls"]["handshake"], handshake, "{scenario}: {json}");
        assert_eq!(json["tls"]["end"], end, "{scenario}: {json}");
        assert_eq!(json.request(1)["sent_bytes"], 0, "{scenario}: {json}");
        let probed = probe(&url, &flags);
        assert!(
            probed.stdout.contains(&format!("tls       {line}")),
            "{scenario}: {}",
            probed.stdout
        );
        assert!(
            probed.stdout.ends_with(&format!("outcome   {outcome} (handshake)\n")),
            "{scenario}: {}",
            probed.stdout
        );
    }
    let server = Server::start("tls-alert-on-hello", &["alert=unrecognized_name"]);
    let url = format!("https://localhost:{}/", server.addr.port());
    let named = probe(
        &url,
        &[
            "-k",
            "--expect",
            "error (handshake)",
            "--expect-tls-end",
            "alert unrecognized_name",
        ],
    );
    assert_eq!(named.code, Some(0), "{}{}", named.stdout, named.stderr);
    let other = probe(&url, &["-k", "--expect-tls-end", "alert internal_error"]);
    assert_eq!(
        other.stderr,
        "hangup: expectation failed: expected TLS end alert internal_error, got alert unrecognized_name\n"
    );
}

#[test]
fn a_plain_http_server_is_said_not_to_speak_tls() {
    let server = Server::start("hello", &[]);
    let url = format!("https://127.0.0.1:{}/", server.addr.port());
    let json = json(&url, &["-k"]);
    assert_eq!(json["tls"]["handshake"], "not-tls", "{json}");
    assert_eq!(json["outcome"], "error", "{json}");
}

/// Certificates made for a test: a CA of its own, and leaves.
struct Certs {
    dir: TempDir,
    ca_params: CertificateParams,
    ca_key: KeyPair,
}

/// A leaf's defect.
enum Defect {
    None,
    Expired,
    NotYetValid,
    OtherName,
    SelfSigned,
    OtherCa,
}

impl Certs {
    fn new() -> Certs {
        let dir = TempDir::new("probe-tls-certs");
        let (ca_params, ca_key) = ca("probe test CA");
        let ca_pem = ca_params.self_signed(&ca_key).expect("CA").pem();
        std::fs::write(dir.path().join("ca.pem"), ca_pem).expect("write CA");
        Certs { dir, ca_params, ca_key }
    }

    fn ca(&self) -> String {
        path(&self.dir, "ca.pem")
    }

    /// A leaf for localhost and 127.0.0.1 with `defect`: its certificate
    /// and key files.
    fn leaf(&self, name: &str, defect: Defect) -> (String, String) {
        let names = match defect {
            Defect::OtherName => vec!["other.test".to_string()],
            _ => vec!["localhost".to_string(), "127.0.0.1".to_string()],
        };
        let mut params = CertificateParams::new(names).expect("params");
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        (params.not_before, params.not_after) = match defect {
            Defect::Expired => (rcgen::date_time_ymd(2000, 1, 1), rcgen::date_time_ymd(2001, 1, 1)),
            Defect::NotYetValid => (rcgen::date_time_ymd(3000, 1, 1), rcgen::date_time_ymd(3001, 1, 1)),
            _ => (rcgen::date_time_ymd(2020, 1, 1), rcgen::date_time_ymd(4000, 1, 1)),
        };
        let key = KeyPair::generate().expect("key");
        let cert = match defect {
            Defect::SelfSigned => params.self_signed(&key),
            Defect::OtherCa => {
                let (other, other_key) = ca("a CA nobody trusts");
                params.signed_by(&key, &Issuer::from_params(&other, &other_key))
            }
            _ => params.signed_by(&key, &Issuer::from_params(&self.ca_params, &self.ca_key)),
        }
        .expect("leaf");
        let (cert_path, key_path) = (
            path(&self.dir, &format!("{name}.pem")),
            path(&self.dir, &format!("{name}.key")),
        );
        std::fs::write(&cert_path, cert.pem()).expect("write leaf");
        std::fs::write(&key_path, key.serialize_pem()).expect("write key");
        (cert_path, key_path)
    }
}

fn ca(name: &str) -> (CertificateParams, KeyPair) {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    (params, KeyPair::generate().expect("CA key"))
}

#[test]
fn each_certificate_defect_is_its_verdict_and_k_goes_on_anyway() {
    let certs = Certs::new();
    let cases = [
        (
            "expired",
            Defect::Expired,
            "expired (valid until 2001-01-01 00:00:00 UTC)",
        ),
        (
            "not-yet-valid",
            Defect::NotYetValid,
            "not-yet-valid (valid from 3000-01-01 00:00:00 UTC)",
        ),
        ("wrong-name", Defect::OtherName, "wrong-name (not for localhost)"),
        (
            "self-signed",
            Defect::SelfSigned,
            "self-signed (it issued itself, and is not among the CAs trusted)",
        ),
        (
            "unknown-issuer",
            Defect::OtherCa,
            "unknown-issuer (CN=a CA nobody trusts is not among the CAs trusted)",
        ),
        ("ok", Defect::None, "ok"),
    ];
    for (verdict, defect, said) in cases {
        let (cert, key) = certs.leaf(verdict, defect);
        let server = Server::start_with("hello", &["--tls", "--tls-cert", &cert, "--tls-key", &key]);
        let url = format!("https://localhost:{}/", server.addr.port());
        let ca = certs.ca();
        let refused = probe(&url, &["--cacert", &ca, "--expect-verdict", verdict]);
        assert_eq!(refused.code, Some(0), "{verdict}: {}{}", refused.stdout, refused.stderr);
        assert!(
            refused.stdout.contains(&format!("verified  {said}, against {ca}\n")),
            "{verdict}: {}",
            refused.stdout
        );
        assert!(
            refused.stdout.contains(&format!("cert      CN={verdict}, issued by ")),
            "{}",
            refused.stdout
        );
        let want = if verdict == "ok" {
            "complete"
        } else {
            "error (handshake)"
        };
        assert!(
            refused.stdout.ends_with(&format!("outcome   {want}\n")),
            "{verdict}: {}",
            refused.stdout
        );
        // -k: the same verdict, and the request goes through.
        let json = json(&url, &["--cacert", &ca, "-k"]);
        assert_eq!(json["tls"]["verdict"], verdict, "{json}");
        assert_eq!(json["tls"]["insecure"], true, "{json}");
        assert_eq!(json["outcome"], "complete", "{verdict}: {json}");
    }
    let (cert, key) = certs.leaf("expired", Defect::Expired);
    let server = Server::start_with("hello", &["--tls", "--tls-cert", &cert, "--tls-key", &key]);
    let url = format!("https://localhost:{}/", server.addr.port());
    let wrong = probe(&url, &["--cacert", &certs.ca(), "--expect-verdict", "ok"]);
    assert_eq!(wrong.code, Some(1));
    assert_eq!(
        wrong.stderr,
        "hangup: expectation failed: expected verdict ok, got verdict expired\n"
    );
}

#[test]
fn without_cacert_the_certificate_is_verified_against_ssl_cert_file_or_the_systems() {
    let tls = serve_tls("hello", &[]);
    let certs = Certs::new();
    let with_env = |ca: &str| {
        let out = Command::new(BIN)
            .args(["probe", &tls.url(), "--json"])
            .env("SSL_CERT_FILE", ca)
            .output()
            .expect("run hangup");
        Report(crate::support::json::parse(&text(&out.stdout)))
    };
    let json = with_env(&certs.ca());
    assert_eq!(json["tls"]["verdict"], "unknown-issuer", "{json}");
    assert_eq!(
        json["tls"]["verified_against"],
        format!("SSL_CERT_FILE {}", certs.ca()),
        "{json}"
    );
    assert_eq!(
        (json["outcome"].as_str(), json["phase"].as_str()),
        (Some("error"), Some("handshake"))
    );
    // Another hangup's CA has this one's name, not its key: the chain is
    // built to it, and its signature fails.
    let other = serve_tls("hello", &[]);
    let json = with_env(&other.ca);
    assert_eq!(json["tls"]["verdict"], "bad-signature", "{json}");
    // --cacert wins over SSL_CERT_FILE.
    let out = Command::new(BIN)
        .args(["probe", &tls.url(), "--cacert", &tls.ca, "--expect", "complete"])
        .env("SSL_CERT_FILE", &other.ca)
        .output()
        .expect("run hangup");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let missing = path(&tls.dir, "missing.pem");
    let out = Command::new(BIN)
        .args(["probe", &tls.url()])
        .env("SSL_CERT_FILE", &missing)
        .output()
        .expect("run hangup");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with(&format!("hangup: SSL_CERT_FILE {missing}: cannot read it: ")),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn tls_flags_are_usage_errors_where_they_mean_nothing_or_name_nothing() {
    let dir = TempDir::new("probe-tls-usage");
    let junk = path(&dir, "junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["probe", "http://127.0.0.1:9/", "--cacert", &junk],
            "hangup: --cacert is for an https:// target; 127.0.0.1:9 is plain HTTP\n",
        ),
        (
            &["probe", "127.0.0.1:9", "-k"],
            "hangup: -k is for an https:// target; 127.0.0.1:9 is plain HTTP\n",
        ),
        (
            &["probe", "https://127.0.0.1:9/", "--cacert", &junk],
            &format!("hangup: --cacert {junk}: no certificate in it (PEM, `BEGIN CERTIFICATE`)\n"),
        ),
        (
            &["probe", "https://127.0.0.1:9/", "-k", "--expect-verdict", "fine"],
            "hangup: --expect-verdict fine: expected one of ok, expired, not-yet-valid, wrong-name, \
             unknown-issuer, self-signed, bad-signature, invalid, unchecked\n",
        ),
        (
            &[
                "probe",
                "https://127.0.0.1:9/",
                "-k",
                "--expect-tls-end",
                "alert internal_eror",
            ],
            "hangup: --expect-tls-end alert internal_eror: `internal_eror` is no TLS alert; did you mean \
             `internal_error`?\n",
        ),
        (
            &["probe", "https://127.0.0.1:9/", "-k", "--expect-tls-end", "fin"],
            "hangup: --expect-tls-end fin: expected one of close-notify, no-close-notify, alert, rst, open \
             (`alert NAME` for one alert)\n",
        ),
    ];
    for (args, message) in cases {
        let out = hangup(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), message, "{args:?}");
    }
}

/// A python3 `ssl` server with a leaf of `certs`: it answers each request
/// with `response`, then shuts the socket down without close_notify
/// (`SSLSocket.shutdown` does not send one; only `unwrap` would).
struct NoNotify {
    child: Child,
    port: u16,
}

impl Drop for NoNotify {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn no_notify_server(certs: &Certs, response: &str) -> NoNotify {
    let (cert, key) = certs.leaf("python", Defect::None);
    let script = r#"
import socket, ssl, sys
cert, key, response = sys.argv[1], sys.argv[2], sys.argv[3].encode()
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print("listening on 127.0.0.1:%d" % srv.getsockname()[1], flush=True)
while True:
    raw, _ = srv.accept()
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        got = b""
        while b"\r\n\r\n" not in got:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
        s.sendall(response)
        s.shutdown(socket.SHUT_RDWR)
        s.close()
    except (OSError, ssl.SSLError):
        raw.close()
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, &cert, &key, response])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its listening line");
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    NoNotify { child, port }
}

#[test]
fn a_fin_without_close_notify_is_said_with_who_fails_on_it() {
    let certs = Certs::new();
    let ca = certs.ca();
    let whole = no_notify_server(&certs, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let url = format!("https://localhost:{}/", whole.port);
    let probed = probe(
        &url,
        &[
            "--cacert",
            &ca,
            "--expect",
            "complete",
            "--expect-tls-end",
            "no-close-notify",
        ],
    );
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    assert!(
        probed
            .stdout
            .contains("ended     FIN from server without close_notify after 43 B, "),
        "{}",
        probed.stdout
    );
    assert!(
        probed.stdout.ends_with(
            "warning   OpenSSL 3 and GnuTLS readers fail on a FIN without close_notify (`unexpected eof while \
             reading`, `non-properly terminated`); curl, python and node accept it\n"
        ),
        "{}",
        probed.stdout
    );
    let diagram = probe(&url, &["--cacert", &ca, "--diagram"]).stdout;
    assert!(diagram.contains(" FIN, no close_notify "), "{diagram}");
    // What openssl says to the same server (the warning's first half).
    let openssl = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{}", whole.port),
            "-CAfile",
            &ca,
            "-quiet",
        ])
        .arg("-servername")
        .arg("localhost")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")?;
            child.wait_with_output()
        })
        .expect("openssl s_client");
    assert!(text(&openssl.stdout).ends_with("hello"), "{}", text(&openssl.stdout));
    assert!(
        text(&openssl.stderr).contains("unexpected eof while reading"),
        "{}",
        text(&openssl.stderr)
    );

    let cut = no_notify_server(&certs, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello,");
    let url = format!("https://localhost:{}/", cut.port);
    let json = json(&url, &["--cacert", &ca]);
    assert_eq!(json["outcome"], "truncated", "{json}");
    assert_eq!(json["tls"]["end"], "no-close-notify", "{json}");
    assert_eq!(json.request(1)["ended"], "fin", "{json}");
}

/// `probe URL --cacert CA --record FILE`, then FILE served with `--tls`
/// and probed the same way: the two JSON reports.
fn record_and_replay(url: &str, ca: &str, dir: &TempDir) -> (Report, Report, String) {
    let recording = path(dir, "recording.hup");
    let original = json(url, &["--cacert", ca, "--record", &recording]);
    let scenario = std::fs::read_to_string(&recording).expect("the recording");
    let replay_ca = path(dir, "replay-ca.pem");
    let replay = Server::start_with(&recording, &["--tls", "--tls-ca-out", &replay_ca]);
    let replayed = json(
        &format!("https://localhost:{}/", replay.addr.port()),
        &["--cacert", &replay_ca],
    );
    (original, replayed, scenario)
}

#[test]
fn a_recording_of_an_https_server_replays_over_tls_with_the_same_ending() {
    for scenario in ["end-close", "mid-body-reset", "truncated-body"] {
        let tls = serve_tls(scenario, &[]);
        let (original, replayed, file) = record_and_replay(&tls.url(), &tls.ca, &tls.dir);
        assert!(file.contains("# Replay: hangup serve recording.hup --tls."), "{file}");
        for key in ["outcome", "phase"] {
            assert_eq!(
                original[key], replayed[key],
                "{scenario} {key}: {original} / {replayed}"
            );
        }
        for key in ["ended", "received_bytes", "body_bytes", "status"] {
            assert_eq!(original.request(1)[key], replayed.request(1)[key], "{scenario} {key}");
        }
        assert_eq!(original["tls"]["end"], replayed["tls"]["end"], "{scenario}");
    }
}

#[test]
fn a_recording_of_a_fin_without_close_notify_replays_it() {
    let certs = Certs::new();
    let server = no_notify_server(&certs, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    let dir = TempDir::new("probe-tls-record");
    let url = format!("https://localhost:{}/", server.port);
    let (original, replayed, file) = record_and_replay(&url, &certs.ca(), &dir);
    assert_eq!(original["tls"]["end"], "no-close-notify");
    assert!(file.ends_with("close no-notify\n"), "{file}");
    assert!(!file.contains("# NOTE"), "{file}");
    // The replay ends as the server did.
    assert_eq!(replayed["tls"]["end"], "no-close-notify", "{replayed}");
    assert_eq!(original.request(1)["body_bytes"], replayed.request(1)["body_bytes"]);
}

#[test]
fn many_probes_each_verify_their_own_certificate() {
    let tls = serve_tls("end-close", &[]);
    let probed = probe(
        &tls.url(),
        &[
            "--cacert",
            &tls.ca,
            "--count",
            "20",
            "--concurrency",
            "5",
            "--expect-tls-end",
            "close-notify",
            "--expect-verdict",
            "ok",
        ],
    );
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    assert!(probed.stdout.contains("outcomes  complete: 20\n"), "{}", probed.stdout);
}

/// A TLS server written here on rustls: it answers the request with a
/// head and 6 of its 13 body bytes, then a fatal alert in the same write,
/// then FIN. The alert is one rustls sends by itself: `bad_record_mac`,
/// for a record made not to decrypt, fed to it as if the client had sent
/// it (rustls has no call to send an alert of one's choosing).
fn alert_mid_body_server(certs: &Certs) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{ErrorKind, Read, Write};

    let (cert, key) = certs.leaf("alerting", Defect::None);
    let chain = vec![CertificateDer::from_pem_file(&cert).expect("the leaf")];
    let key = PrivateKeyDer::from_pem_file(&key).expect("its key");
    #[allow(deprecated)]
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("a server config");
    let config = std::sync::Arc::new(config);
    crate::support::raw_server(move |mut stream| {
        let Ok(mut conn) = rustls::ServerConnection::new(config.clone()) else {
            return;
        };
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.reader().read(&mut buf) {
                Ok(0) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if conn.complete_io(&mut stream).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
        let _ = conn
            .writer()
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello,");
        let garbage = [&[0x17, 0x03, 0x03, 0x00, 0x20][..], &[0u8; 32]].concat();
        let _ = conn.read_tls(&mut garbage.as_slice());
        assert!(
            conn.process_new_packets().is_err(),
            "a record of zeros does not decrypt"
        );
        let mut out = Vec::new();
        while conn.wants_write() {
            let _ = conn.write_tls(&mut out);
        }
        let _ = stream.write_all(&out);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let _ = stream.read(&mut buf);
    })
}

#[test]
fn an_alert_mid_body_comes_after_the_bytes_before_it() {
    let certs = Certs::new();
    let addr = alert_mid_body_server(&certs);
    let url = format!("https://localhost:{}/", addr.port());
    let ca = certs.ca();
    let probed = probe(
        &url,
        &[
            "--cacert",
            &ca,
            "--expect",
            "error",
            "--expect-tls-end",
            "alert bad_record_mac",
        ],
    );
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    assert!(
        probed.stdout.contains(
            "received  45 B      HTTP/1.1 200 OK, Content-Length: 13, body 6 of 13 B; TLS alert bad_record_mac \
             from the server\n"
        ),
        "{}",
        probed.stdout
    );
    assert!(
        probed
            .stdout
            .contains("ended     alert bad_record_mac then FIN from server after 45 B, "),
        "{}",
        probed.stdout
    );
    let json = json(&url, &["--cacert", &ca]);
    assert_eq!(json.request(1)["body_bytes"], 6, "{json}");
    assert_eq!(json["tls"]["alert"], "bad_record_mac", "{json}");
    let events: Vec<&str> = json.timeline().iter().filter_map(|m| m["event"].as_str()).collect();
    assert!(events.ends_with(&["body", "tls-alert", "server-fin"]), "{json}");
}

#[test]
fn a_recording_of_an_alert_mid_body_replays_the_alert_after_the_same_bytes() {
    let certs = Certs::new();
    let addr = alert_mid_body_server(&certs);
    let dir = TempDir::new("probe-tls-record-alert");
    let url = format!("https://localhost:{}/", addr.port());
    let (original, replayed, file) = record_and_replay(&url, &certs.ca(), &dir);
    assert!(file.ends_with("tls alert bad_record_mac\nclose no-notify\n"), "{file}");
    assert_eq!(original["tls"]["alert"], "bad_record_mac", "{original}");
    assert_eq!(replayed["tls"]["alert"], "bad_record_mac", "{replayed}");
    assert_eq!(replayed.request(1)["body_bytes"], 6, "{replayed}");
    assert_eq!(original["outcome"], replayed["outcome"], "{original} / {replayed}");
}
