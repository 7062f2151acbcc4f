//! `hangup serve --catalog`: every built-in at `/NAME`, seen from real
//! clients. The outcome table through the catalog (tests/it/scripts.rs) does
//! the same with curl, node and python3.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{BIN, End, Server, exchange, hangup, is_proxy, read_to_end, text};

fn catalog() -> Server {
    Server::start_with("--catalog", &[])
}

fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes()
}

/// `(status line, body)` of a whole response.
fn status_and_body(bytes: &[u8]) -> (String, String) {
    let response = text(bytes);
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
    (head.lines().next().unwrap_or_default().to_string(), body.to_string())
}

/// Short delays for the built-ins that wait, as `--set` values; the same
/// go into the catalog's query string.
fn quick_params(name: &str) -> &'static [&'static str] {
    match name {
        "hello" | "keepalive-idle-close" | "end-keepalive" => &["idle=50ms"],
        "server-timeout" | "server-timeout-reset" => &["after=30ms"],
        "reset-on-first-byte" | "upload-reset" => &["wait=30ms"],
        "slow-body" => &["every=1ms", "idle=50ms"],
        "flaky" => &["chance=2"],
        _ => &[],
    }
}

/// The index's servable paths (`/NAME?defaults`) and its other section.
fn index(server: &Server) -> (Vec<String>, String) {
    let (bytes, end, _) = exchange(server, &get("/"), Duration::from_secs(5));
    assert_eq!(end, End::PeerFin, "the index closes with FIN");
    let (status, body) = status_and_body(&bytes);
    assert_eq!(status, "HTTP/1.1 200 OK");
    let (servable, not) = body.split_once("Not available by path:").expect("both sections");
    let paths = servable
        .lines()
        .filter(|l| l.starts_with('/'))
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    (paths, not.to_string())
}

#[test]
fn the_index_lists_every_built_in_and_says_which_cannot_be_chosen_by_path() {
    let server = catalog();
    let (paths, not) = index(&server);
    for (name, source) in hangup::scenario::catalog::BUILTINS {
        let by_path = paths
            .iter()
            .any(|p| p == &format!("/{name}") || p.starts_with(&format!("/{name}?")));
        let unavailable = not.lines().any(|l| l.split_whitespace().next() == Some(name));
        // A TLS client's first bytes are a ClientHello: no path in them.
        let reads_tls = source.lines().find(|l| l.starts_with("read ")) == Some("read tls-hello")
            || source.lines().any(|l| l.starts_with("tls handshake"));
        let expect_unavailable = is_proxy(source) || reads_tls || ["reset-on-accept", "connect-timeout"].contains(name);
        assert_eq!(unavailable, expect_unavailable, "{name} in the 'not available' section");
        assert_eq!(by_path, !expect_unavailable, "{name} listed by path");
    }
    // Each line is a URL that works: its defaults spelled as a query.
    assert!(paths.contains(&"/server-timeout?after=120s".to_string()), "{paths:?}");
}

#[test]
fn every_built_in_by_path_ends_as_it_does_served_alone() {
    let server = catalog();
    let (paths, _) = index(&server);
    drop(server);
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.trim_start_matches('/')
                .split('?')
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert!(names.len() >= 15, "{names:?}");
    // Each pair of servers is fresh, so that connection and request
    // numbers (and flaky's draws from --seed 7) are the same in both.
    let runs: Vec<_> = names
        .into_iter()
        .map(|name| {
            std::thread::spawn(move || {
                let params = quick_params(&name);
                let mut flags = vec!["--seed", "7"];
                for param in params {
                    flags.extend(["--set", param]);
                }
                let alone = Server::start_with(&name, &flags);
                let by_path = Server::start_with("--catalog", &["--seed", "7"]);
                let path = format!("/{name}?{}", params.join("&"));
                // Two requests, pipelined: the keep-alive built-ins show
                // what they do with the second.
                let request = [get(&path), get(&path)].concat();
                let timeout = Duration::from_millis(300);
                let (alone_bytes, alone_end, _) = exchange(&alone, &request, timeout);
                let (catalog_bytes, catalog_end, _) = exchange(&by_path, &request, timeout);
                (name, text(&alone_bytes), alone_end, text(&catalog_bytes), catalog_end)
            })
        })
        .collect();
    for run in runs {
        let (name, alone_bytes, alone_end, catalog_bytes, catalog_end) = run.join().expect("a run");
        assert_eq!(
            (&catalog_bytes, catalog_end),
            (&alone_bytes, alone_end),
            "/{name}: through the catalog (left) and alone (right)"
        );
    }
}

#[test]
fn the_query_string_sets_parameters_and_a_bad_one_is_a_400_that_says_why() {
    let server = catalog();
    let (bytes, end, took) = exchange(&server, &get("/server-timeout?after=50ms"), Duration::from_secs(5));
    assert_eq!((text(&bytes), end), (String::new(), End::PeerFin));
    assert!(took >= Duration::from_millis(50), "{took:?}");

    let (bytes, end, _) = exchange(&server, &get("/server-timeout?after=2x"), Duration::from_secs(5));
    assert_eq!(end, End::PeerFin);
    let (status, body) = status_and_body(&bytes);
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(
        body.starts_with("/server-timeout?after=2x: after=2x: `x` is not a time unit"),
        "{body}"
    );

    let (bytes, _, _) = exchange(&server, &get("/hello?nope=1"), Duration::from_secs(5));
    let (status, body) = status_and_body(&bytes);
    assert_eq!(status, "HTTP/1.1 400 Bad Request");
    assert!(body.contains("no parameter named `nope`"), "{body}");

    // Percent-encoding and `+` as a space, as query builders write them.
    let (bytes, _, _) = exchange(
        &server,
        &get("/slow-body?every=1%6Ds&idle=50ms"),
        Duration::from_secs(5),
    );
    assert!(text(&bytes).ends_with("\r\n\r\nHello, world!"), "{}", text(&bytes));
}

#[test]
fn unknown_and_unservable_paths_get_a_404_that_says_why() {
    let server = catalog();
    for (path, says) in [
        ("/nope", "No built-in scenario at this path."),
        ("/reset-on-accept", "acts before any request is read"),
        ("/connect-timeout", "never accepts a connection"),
        ("/proxy", "hangup serve proxy --upstream HOST:PORT"),
    ] {
        let (bytes, end, _) = exchange(&server, &get(path), Duration::from_secs(5));
        assert_eq!(end, End::PeerFin, "{path}");
        let (status, body) = status_and_body(&bytes);
        assert_eq!(status, "HTTP/1.1 404 Not Found", "{path}");
        assert!(body.contains(says), "{path}: {body}");
        assert!(text(&bytes).contains("\r\nConnection: close\r\n"), "{path}");
    }
}

#[test]
fn a_malformed_first_request_gets_its_scenarios_answer() {
    let server = catalog();
    // No request line at all: Node's default 400, from the catalog.
    let (bytes, end, _) = exchange(&server, b"\x01\x02\r\n\r\n", Duration::from_secs(5));
    assert_eq!(end, End::PeerFin);
    assert_eq!(text(&bytes), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    // A bad method still names its scenario, whose own handler answers.
    let (bytes, _, _) = exchange(
        &server,
        b"BAD METHOD /bad-request-custom HTTP/1.1\r\nHost: x\r\n\r\n",
        Duration::from_secs(5),
    );
    assert_eq!(text(&bytes), "HTTP/1.1 400 Bad Request\r\n\r\n");
}

#[test]
fn a_kept_connection_asking_the_same_path_stays_in_its_script() {
    let server = catalog();
    let mut stream = server.connect();
    stream.write_all(&get("/keepalive-reset")).expect("send");
    stream.write_all(&get("/keepalive-reset")).expect("send");
    let (bytes, end) = read_to_end(&mut stream, Duration::from_secs(5));
    // keepalive-reset's: the first answered, the second reset.
    assert_eq!(end, End::PeerRst);
    assert!(text(&bytes).ends_with("\r\n\r\nhello\n"), "{}", text(&bytes));
    assert_eq!(text(&bytes).matches("HTTP/1.1 200 OK").count(), 1, "{}", text(&bytes));
}

/// A pooled client (Node's `fetch`, Python's `HTTPConnection`) reuses one
/// connection for two paths: each request gets the fault its own path
/// names, never the first path's answer.
#[test]
fn each_request_on_a_kept_connection_gets_its_own_paths_fault() {
    let server = catalog();
    let mut stream = server.connect();
    stream.write_all(&get("/hello")).expect("send");
    stream.write_all(&get("/mid-body-reset")).expect("send");
    let (bytes, end) = read_to_end(&mut stream, Duration::from_secs(5));
    let got = text(&bytes);
    assert!(got.starts_with("HTTP/1.1 200 OK\r\n"), "{got}");
    assert!(got.contains("\r\n\r\nhello\n"), "hello's answer first: {got}");
    assert!(
        got.ends_with("Content-Length: 13\r\n\r\nHello,"),
        "then mid-body-reset's: {got}"
    );
    assert_eq!(end, End::PeerRst);
    let routes: Vec<Value> = server
        .wait_for_events("route", 2)
        .iter()
        .map(|r| json!([r["path"], r["scenario"]]))
        .collect();
    assert_eq!(
        routes,
        [json!(["/hello", "hello"]), json!(["/mid-body-reset", "mid-body-reset"])]
    );
}

#[test]
fn python_http_client_reusing_a_connection_gets_each_paths_fault() {
    let server = catalog();
    let script = r#"
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
conn.request("GET", "/hello")
first = conn.getresponse()
print("first", first.status, first.read().decode().strip())
conn.request("GET", "/mid-body-reset")
second = conn.getresponse()
try:
    second.read()
    print("second read whole")
except Exception as e:
    print("second", second.status, type(e).__name__)
"#;
    let out = Command::new("python3")
        .args(["-c", script, &server.addr.port().to_string()])
        .output()
        .expect("python3 runs");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("first 200 hello\n"), "{stdout}");
    // The reset cuts the 13-byte body at 6: http.client says so.
    assert!(
        stdout.contains("second 200 IncompleteRead") || stdout.contains("second 200 ConnectionResetError"),
        "{stdout}"
    );
}

#[test]
fn a_client_that_leaves_before_its_request_costs_nothing_else() {
    let server = catalog();
    drop(server.connect());
    let mut half = server.connect();
    half.write_all(b"GET /hel").expect("send");
    drop(half);
    let (bytes, end, _) = exchange(&server, &get("/mid-body-reset"), Duration::from_secs(5));
    assert_eq!(end, End::PeerRst);
    assert!(text(&bytes).ends_with("Hello,"), "{}", text(&bytes));
    let ends = server.wait_for_events("end", 3);
    let left = ends.iter().filter(|end| end["how"] == "peer-fin").count();
    assert_eq!(left, 2, "{ends:?}");
}

#[test]
fn the_parameter_sets_it_keeps_are_bounded() {
    let server = catalog();
    for n in 0..256 {
        let (bytes, _, _) = exchange(&server, &get(&format!("/end-close?n={n}")), Duration::from_secs(5));
        assert!(text(&bytes).starts_with("HTTP/1.1 400 "), "{n}");
    }
    let (bytes, _, _) = exchange(&server, &get("/end-close?n=256"), Duration::from_secs(5));
    let (status, body) = status_and_body(&bytes);
    assert_eq!(status, "HTTP/1.1 503 Service Unavailable", "{body}");
    assert!(body.contains("256 distinct parameter sets"), "{body}");
    // What it holds still answers.
    let (bytes, _, _) = exchange(&server, &get("/end-close"), Duration::from_secs(5));
    assert!(text(&bytes).ends_with("done\n"));
}

#[test]
fn curl_sees_the_fault_of_the_path() {
    let server = catalog();
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let run = |path: &str| {
        Command::new("curl")
            .args(["-sS", "-m", "5", &url(path)])
            .output()
            .expect("curl")
    };
    let reset = run("/mid-body-reset");
    assert_eq!(reset.status.code(), Some(56), "{}", text(&reset.stderr));
    assert!(text(&reset.stderr).contains("Connection reset by peer"));
    assert_eq!(text(&reset.stdout), "Hello,");
    let empty = run("/empty-reply");
    assert_eq!(empty.status.code(), Some(52), "{}", text(&empty.stderr));
    let listed = run("/");
    assert_eq!(listed.status.code(), Some(0));
    assert!(text(&listed.stdout).contains("/mid-body-reset "));
    let missing = Command::new("curl")
        .args(["-sS", "-f", "-m", "5", &url("/nope")])
        .output()
        .expect("curl");
    assert_eq!(missing.status.code(), Some(22), "{}", text(&missing.stderr));
}

#[test]
fn catalog_flags_that_would_be_ignored_are_usage_errors() {
    let cases: BTreeMap<&str, Vec<&str>> = BTreeMap::from([
        ("a SCENARIO", vec!["serve", "--catalog", "hello"]),
        ("--set", vec!["serve", "--catalog", "--set", "idle=1s"]),
        ("--upstream", vec!["serve", "--catalog", "--upstream", "127.0.0.1:1"]),
    ]);
    for (says, args) in cases {
        let out = hangup(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("--catalog does not take") && stderr.contains(says),
            "{stderr}"
        );
    }
    let out = hangup(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("serve needs a SCENARIO"),
        "{}",
        text(&out.stderr)
    );
    let help = Command::new(BIN).args(["serve", "--help"]).output().expect("help");
    assert!(text(&help.stdout).contains("--catalog"));
}

/// `--catalog --tls`: every HTTP built-in over HTTPS by path, and the TLS
/// built-ins, which act before any path, by the name the client asks for
/// (SNI; curl resolves `*.localhost` to loopback itself).
#[cfg(feature = "tls")]
#[test]
fn under_tls_a_tls_built_in_is_chosen_by_the_name_the_client_asks_for() {
    let dir = crate::support::TempDir::new("catalog-tls");
    let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
    let server = Server::start_with("--catalog", &["--tls", "--tls-ca-out", &ca]);
    let port = server.addr.port();
    let curl = |host: &str, path: &str| {
        let url = format!("https://{host}:{port}{path}");
        let out = Command::new("curl")
            .args(["-sS", "-m", "5", "--cacert", &ca, &url])
            .output()
            .expect("curl runs");
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    };
    assert_eq!(curl("localhost", "/hello").0, 0);
    let (code, body, _) = curl("localhost", "/mid-body-reset");
    assert_eq!((code, body.as_str()), (56, "Hello,"));
    let (code, _, err) = curl("tls-expired.localhost", "/");
    assert_eq!(code, 60, "{err}");
    assert!(err.contains("certificate has expired"), "{err}");
    let (code, _, err) = curl("tls-alert-on-hello.localhost", "/");
    assert_eq!(code, 35, "{err}");
    assert!(err.contains("alert internal error"), "{err}");
    let (code, body, err) = curl("tls-alert-mid-body.localhost", "/");
    assert_eq!((code, body.as_str()), (56, "Hello,"), "{err}");
    let line = server.wait_for_log(&[r#""event":"route""#, r#""sni":"tls-expired.localhost""#]);
    assert!(line.contains(r#""scenario":"tls-expired""#), "{line}");
}
