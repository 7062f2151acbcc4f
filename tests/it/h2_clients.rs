//! The HTTP/2 built-ins against real clients, from the client's side:
//! curl (`--http2-prior-knowledge`, and `https://` where `--tls` offers h2
//! by ALPN), node's `http2.connect`, python's httpx with h2, and a gRPC
//! client (grpc-js), each asserting the exit code and the error a user of
//! that client sees. HTTP/1.1 clients on the same port still get their
//! answer. These are the observations the h2-* scenarios' comments and
//! the tables in docs/clients.md quote.
//!
//! httpx, h2 and @grpc/grpc-js come from PyPI and npm, not from Debian:
//! scripts/test.sh installs them into cargo's target directory
//! (`target/py`, `target/npm`). A client that is missing fails the test
//! that needs it, saying how to install it, rather than skipping it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::json::whole;
use crate::support::{Server, TempDir, scenario_file, text};

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clients/");

/// How the clients reach the server.
#[derive(Clone, Copy, Debug)]
enum Transport {
    /// `http://127.0.0.1:PORT/`, HTTP/2 with prior knowledge.
    H2c,
    /// `serve --tls`: `https://localhost:PORT/`, h2 chosen by ALPN, with
    /// the CA hangup wrote trusted and no other. (Its arms stay in a
    /// build without TLS, which only never makes one.)
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    Tls,
}

/// Both transports; a build without TLS has only h2c.
#[cfg(feature = "tls")]
const BOTH: [Transport; 2] = [Transport::H2c, Transport::Tls];
#[cfg(not(feature = "tls"))]
const BOTH: [Transport; 1] = [Transport::H2c];

/// A scenario served over one transport, and the CA its clients trust.
struct H2Server {
    server: Server,
    transport: Transport,
    _dir: TempDir,
    ca: String,
}

fn serve(scenario: &str, sets: &[&str], transport: Transport) -> H2Server {
    let dir = TempDir::new("h2-clients");
    let ca = dir.path().join("ca.pem").to_string_lossy().into_owned();
    let mut flags: Vec<&str> = sets.iter().flat_map(|set| ["--set", set]).collect();
    if let Transport::Tls = transport {
        flags.extend(["--tls", "--tls-ca-out", &ca]);
    }
    let server = Server::start_with(scenario, &flags);
    H2Server {
        server,
        transport,
        _dir: dir,
        ca,
    }
}

/// What curl reported: its exit code, `%{http_code} %{http_version}
/// %{size_download}`, and what it wrote to stderr.
#[derive(Debug, PartialEq)]
struct Curl {
    exit: i32,
    got: String,
    stderr: String,
}

impl H2Server {
    fn url(&self) -> String {
        match self.transport {
            Transport::H2c => format!("http://127.0.0.1:{}/", self.server.addr.port()),
            Transport::Tls => format!("https://localhost:{}/", self.server.addr.port()),
        }
    }

    /// `curl -sS` over HTTP/2 with `args` (`-m 5` unless they bound it).
    fn curl(&self, args: &[&str]) -> Curl {
        let mut all = vec![
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_version} %{size_download}",
        ];
        match self.transport {
            Transport::H2c => all.push("--http2-prior-knowledge"),
            Transport::Tls => all.extend(["--cacert", &self.ca]),
        }
        if !args.contains(&"-m") {
            all.extend(["-m", "5"]);
        }
        all.extend(args);
        let url = self.url();
        all.push(&url);
        let out = run("curl", &all, &[]);
        Curl {
            exit: out.status.code().unwrap_or(-1),
            got: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    /// scripts/clients/node-h2-client.js: `requests` on one session,
    /// `timeout_ms` each: (exit code, one line per request).
    fn node(&self, requests: u32, timeout_ms: u32) -> (i32, String) {
        let script = format!("{CLIENTS}node-h2-client.js");
        self.client("node", &script, requests, timeout_ms)
    }

    /// scripts/clients/python-h2-client.py with httpx and h2, the same way.
    fn python(&self, requests: u32, timeout_ms: u32) -> (i32, String) {
        let script = format!("{CLIENTS}python-h2-client.py");
        self.client(&h2_python(), &script, requests, timeout_ms)
    }

    fn client(&self, program: &str, script: &str, requests: u32, timeout_ms: u32) -> (i32, String) {
        let mut args = vec![script.to_string()];
        if let Transport::Tls = self.transport {
            args.extend(["--ca".to_string(), self.ca.clone()]);
        }
        args.extend([self.url(), requests.to_string(), "0".into(), timeout_ms.to_string()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(program, &args, &[]);
        (out.status.code().unwrap_or(-1), text(&out.stdout))
    }
}

fn run(program: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}); scripts/test.sh installs it"))
}

/// Cargo's target directory, where scripts/test.sh installs the clients
/// that come from PyPI and npm (its `tmp` is ours to use, so its parent
/// is the target directory wherever CARGO_TARGET_DIR puts it).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is in the target directory")
        .to_path_buf()
}

/// A python that has httpx and h2: target/py's, else python3 if it has
/// them. None is a failure, not a skip.
fn h2_python() -> String {
    let venv = target_dir().join("py/bin/python3").to_string_lossy().into_owned();
    for python in [venv.as_str(), "python3"] {
        let imports = Command::new(python).args(["-c", "import httpx, h2"]).output();
        if imports.is_ok_and(|out| out.status.success()) {
            return python.to_string();
        }
    }
    panic!("httpx and h2 are not installed, in {venv} nor for python3; scripts/test.sh installs them into target/py")
}

/// NODE_PATH for @grpc/grpc-js, which must be installed.
fn grpc_node_path() -> PathBuf {
    let modules = target_dir().join("npm/node_modules");
    assert!(
        modules.join("@grpc/grpc-js/package.json").is_file(),
        "@grpc/grpc-js is not installed in {}; scripts/test.sh installs it (npm install --prefix target/npm @grpc/grpc-js@1)",
        modules.display()
    );
    modules
}

/// `(scenario, --set values, curl's exit, its %{http_code} %{http_version}
/// %{size_download}, its stderr)`, the same over h2c and TLS.
type CurlCase = (&'static str, &'static [&'static str], i32, &'static str, &'static str);

const NOT_CLOSED_CLEANLY: &str =
    "curl: (18) HTTP/2 stream 1 was not closed cleanly before end of the underlying stream\n";

const CURL: &[CurlCase] = &[
    ("h2-hello", &[], 0, "200 2 6", ""),
    (
        "h2-goaway-refuse",
        &[],
        16,
        "000 0 0",
        "curl: (16) Error in the HTTP2 framing layer\n",
    ),
    ("h2-goaway-drain-cut", &[], 18, "200 2 100", NOT_CLOSED_CLEANLY),
    (
        "h2-refused-stream",
        &[],
        56,
        "000 0 0",
        "curl: (56) Connection died, tried 5 times before giving up\n",
    ),
    (
        "h2-max-age",
        &["age=20ms", "grace=20ms"],
        18,
        "000 0 0",
        NOT_CLOSED_CLEANLY,
    ),
    ("h2-too-many-pings", &[], 18, "000 0 0", NOT_CLOSED_CLEANLY),
    // HTTP_1_1_REQUIRED: curl asks again over HTTP/1.1, on a new
    // connection, and gets what the scenario gives HTTP/1.1 clients.
    (
        "h2-rst-after-headers",
        &["error=HTTP_1_1_REQUIRED"],
        0,
        "505 1.1 165",
        "",
    ),
];

#[test]
fn curl_over_h2c_and_tls() {
    for transport in BOTH {
        for (scenario, sets, exit, got, stderr) in CURL {
            let server = serve(scenario, sets, transport);
            let curl = server.curl(&[]);
            let expected = Curl {
                exit: *exit,
                got: got.to_string(),
                stderr: stderr.to_string(),
            };
            assert_eq!(curl, expected, "{scenario} {sets:?} over {transport:?}");
        }
    }
}

/// HEADERS 200 then RST_STREAM: curl 92 naming the error. Whether it
/// reports the 200 depends on whether both frames came in one read (then
/// it fails the stream before it took the status): a race in curl, not in
/// what hangup sent, which tests/it/catalog.rs checks frame by frame.
#[test]
fn curl_says_a_reset_stream_was_not_closed_cleanly() {
    for transport in BOTH {
        for (sets, name) in [
            (&[][..], "INTERNAL_ERROR (err 2)"),
            (&["error=CANCEL"][..], "CANCEL (err 8)"),
            (&["error=PROTOCOL_ERROR"][..], "PROTOCOL_ERROR (err 1)"),
        ] {
            let server = serve("h2-rst-after-headers", sets, transport);
            let curl = server.curl(&[]);
            assert_eq!(curl.exit, 92, "{sets:?} over {transport:?}: {curl:?}");
            assert_eq!(
                curl.stderr,
                format!("curl: (92) HTTP/2 stream 1 was not closed cleanly: {name}\n"),
                "{transport:?}"
            );
            assert!(
                ["200 2 0", "000 0 0"].contains(&curl.got.as_str()),
                "{sets:?} over {transport:?}: {curl:?}"
            );
        }
    }
}

/// h2-window-stall: curl (a 32 MiB window) gets 200 and part of the body,
/// then nothing until its own timeout.
#[test]
fn curl_waits_out_a_window_stall() {
    for transport in BOTH {
        let server = serve("h2-window-stall", &[], transport);
        let curl = server.curl(&["-m", "1"]);
        assert_eq!(curl.exit, 28, "{transport:?}: {curl:?}");
        assert!(
            curl.stderr.starts_with("curl: (28) Operation timed out after "),
            "{transport:?}: {curl:?}"
        );
        let bytes: u64 = curl
            .got
            .strip_prefix("200 2 ")
            .expect("200 over HTTP/2")
            .parse()
            .unwrap();
        assert!(bytes > 0 && bytes <= 32 << 20, "{transport:?}: {bytes} bytes");
    }
}

/// `(scenario, --set values, timeout ms, exit code, the lines of two
/// requests on one session)`.
type ClientCase = (&'static str, &'static [&'static str], u32, i32, &'static str);

const NODE: &[ClientCase] = &[
    (
        "h2-hello",
        &[],
        5000,
        0,
        "request 1: status 200, 6 body bytes\n\
         request 2: status 200, 6 body bytes\n",
    ),
    (
        "h2-goaway-refuse",
        &[],
        5000,
        1,
        "request 1: error ERR_HTTP2_STREAM_ERROR: Stream closed with error code NGHTTP2_REFUSED_STREAM \
         (GOAWAY code 0, last stream 0)\n\
         request 2: error ERR_HTTP2_GOAWAY_SESSION: New streams cannot be created after receiving a GOAWAY\n",
    ),
    // The silent truncation: 'end' after 100 bytes, no error; only
    // rstCode (NGHTTP2_CANCEL) tells.
    (
        "h2-goaway-drain-cut",
        &[],
        5000,
        1,
        "request 1: status 200, 100 body bytes (rstCode=8; GOAWAY code 0, last stream 1)\n\
         request 2: error ERR_HTTP2_INVALID_SESSION: The session has been destroyed\n",
    ),
    (
        "h2-rst-after-headers",
        &[],
        5000,
        1,
        "request 1: status 200, error ERR_HTTP2_STREAM_ERROR: Stream closed with error code \
         NGHTTP2_INTERNAL_ERROR after 0 body bytes\n\
         request 2: status 200, error ERR_HTTP2_STREAM_ERROR: Stream closed with error code \
         NGHTTP2_INTERNAL_ERROR after 0 body bytes\n",
    ),
    // CANCEL is no error to node: the response ends normally, empty.
    (
        "h2-rst-after-headers",
        &["error=CANCEL"],
        5000,
        1,
        "request 1: status 200, 0 body bytes (rstCode=8)\n\
         request 2: status 200, 0 body bytes (rstCode=8)\n",
    ),
    (
        "h2-refused-stream",
        &[],
        5000,
        1,
        "request 1: error ERR_HTTP2_STREAM_ERROR: Stream closed with error code NGHTTP2_REFUSED_STREAM\n\
         request 2: error ERR_HTTP2_STREAM_ERROR: Stream closed with error code NGHTTP2_REFUSED_STREAM\n",
    ),
    // The drain: both GOAWAYs, then an 'end' without even a response.
    (
        "h2-max-age",
        &["age=20ms", "grace=20ms"],
        5000,
        1,
        "request 1: no response, 0 body bytes (rstCode=8; GOAWAY code 0, last stream 2147483647; \
         GOAWAY code 0, last stream 1)\n\
         request 2: error ERR_HTTP2_INVALID_SESSION: The session has been destroyed\n",
    ),
    (
        "h2-too-many-pings",
        &[],
        5000,
        1,
        "request 1: error ERR_HTTP2_SESSION_ERROR: Session closed with error code 11 \
         (GOAWAY code 11, last stream 1, \"too_many_pings\")\n\
         request 2: error ERR_HTTP2_INVALID_SESSION: The session has been destroyed\n",
    ),
    // Node's stream window is 65,535 bytes: exactly that much, then
    // nothing (the timeout is node's idle timeout, not a total).
    (
        "h2-window-stall",
        &[],
        300,
        1,
        "request 1: status 200, error -: client timeout after 65535 body bytes\n\
         request 2: error -: client timeout\n",
    ),
];

#[test]
fn node_http2_over_h2c_and_tls() {
    for transport in BOTH {
        for (scenario, sets, timeout, exit, lines) in NODE {
            let server = serve(scenario, sets, transport);
            assert_eq!(
                server.node(2, *timeout),
                (*exit, lines.to_string()),
                "{scenario} {sets:?} over {transport:?}"
            );
        }
    }
}

/// What node's 65,535 bytes were on hangup's side: the window at the
/// start of the body, sent, then the stall, logged.
#[test]
fn node_stalls_at_its_window_as_hangup_logs() {
    let server = serve("h2-window-stall", &[], Transport::H2c);
    let (_, lines) = server.node(1, 300);
    assert!(lines.contains("after 65535 body bytes"), "{lines}");
    let stalled = server.server.wait_for_event("h2-stalled");
    assert_eq!(whole(&stalled, "sent"), 65535, "{stalled:?}");
    assert_eq!(whole(&stalled, "left"), 100_000_000 - 65535, "{stalled:?}");
}

/// httpx's lines where they are the same over both transports.
const PYTHON: &[ClientCase] = &[
    (
        "h2-hello",
        &[],
        5000,
        0,
        "request 1: status 200, 6 body bytes\n\
         request 2: status 200, 6 body bytes\n",
    ),
    (
        "h2-goaway-refuse",
        &[],
        5000,
        1,
        "request 1: RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:0, additional_data:None>\n\
         request 2: RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:0, additional_data:None>\n",
    ),
    (
        "h2-goaway-drain-cut",
        &[],
        5000,
        1,
        "request 1: status 200, RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:1, \
         additional_data:None> after 100 body bytes\n\
         request 2: status 200, RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:1, \
         additional_data:None> after 100 body bytes\n",
    ),
    // The stream, not the connection: the second request goes on it.
    (
        "h2-rst-after-headers",
        &[],
        5000,
        1,
        "request 1: status 200, RemoteProtocolError: <StreamReset stream_id:1, error_code:2, remote_reset:True> \
         after 0 body bytes\n\
         request 2: status 200, RemoteProtocolError: <StreamReset stream_id:3, error_code:2, remote_reset:True> \
         after 0 body bytes\n",
    ),
    (
        "h2-refused-stream",
        &[],
        5000,
        1,
        "request 1: RemoteProtocolError: <StreamReset stream_id:1, error_code:7, remote_reset:True>\n\
         request 2: RemoteProtocolError: <StreamReset stream_id:3, error_code:7, remote_reset:True>\n",
    ),
    (
        "h2-too-many-pings",
        &[],
        5000,
        1,
        "request 1: RemoteProtocolError: <ConnectionTerminated error_code:11, last_stream_id:1, \
         additional_data:746f6f5f6d616e795f70696e6773>\n\
         request 2: RemoteProtocolError: <ConnectionTerminated error_code:11, last_stream_id:1, \
         additional_data:746f6f5f6d616e795f70696e6773>\n",
    ),
];

#[test]
fn python_httpx_over_h2c_and_tls() {
    for transport in BOTH {
        for (scenario, sets, timeout, exit, lines) in PYTHON {
            let server = serve(scenario, sets, transport);
            assert_eq!(
                server.python(2, *timeout),
                (*exit, lines.to_string()),
                "{scenario} {sets:?} over {transport:?}"
            );
        }
    }
}

/// h2-max-age's first GOAWAY, then its PING: when python's h2 reads them
/// in one go it takes the PING after a GOAWAY for a protocol error of its
/// own (its connection is CLOSED from the first GOAWAY on); when it reads
/// the GOAWAY alone, httpx fails on it. Which of the two is a race of
/// reads in the client (hangup writes the frames one statement at a time);
/// the request fails either way, before any response.
#[test]
fn python_httpx_fails_a_graceful_drain() {
    let on_goaway =
        "RemoteProtocolError: <ConnectionTerminated error_code:0, last_stream_id:2147483647, additional_data:None>";
    let on_ping = "LocalProtocolError: Invalid input ConnectionInputs.RECV_PING in state ConnectionState.CLOSED";
    for transport in BOTH {
        let server = serve("h2-max-age", &["age=20ms", "grace=20ms"], transport);
        let (exit, lines) = server.python(1, 5000);
        assert_eq!(exit, 1, "{transport:?}");
        assert!(
            [on_goaway, on_ping]
                .iter()
                .any(|error| lines == format!("request 1: {error}\n")),
            "{transport:?}: {lines}"
        );
    }
}

/// httpx (a 16 MiB window of its own, given at the request) gets 200 and
/// that much, then its read timeout.
#[test]
fn python_httpx_times_out_on_a_window_stall() {
    for transport in BOTH {
        let server = serve("h2-window-stall", &[], transport);
        let (exit, lines) = server.python(1, 300);
        assert_eq!(exit, 1, "{transport:?}");
        let timeout = match transport {
            Transport::H2c => "timed out",
            Transport::Tls => "The read operation timed out",
        };
        assert_eq!(
            lines,
            format!("request 1: status 200, ReadTimeout: {timeout} after 16842751 body bytes\n"),
            "{transport:?}"
        );
    }
}

/// Every h2-* built-in has its rows above for each client.
#[test]
fn every_h2_builtin_is_asked_by_every_client() {
    for (name, _) in hangup::scenario::catalog::BUILTINS {
        if !name.starts_with("h2-") {
            continue;
        }
        let curl = CURL.iter().any(|case| case.0 == *name) || *name == "h2-window-stall";
        let node = NODE.iter().any(|case| case.0 == *name);
        let python = PYTHON.iter().any(|case| case.0 == *name) || ["h2-max-age", "h2-window-stall"].contains(name);
        assert!(
            curl && node && python,
            "{name}: curl {curl}, node {node}, python {python}"
        );
    }
}

/// h2-hello's port speaks HTTP/1.1 too: curl, node's `http` and python's
/// `http.client`, before and after an HTTP/2 client, and over TLS by ALPN
/// `http/1.1`. An h2-only built-in answers them 505, saying how to ask.
#[test]
fn http1_clients_on_the_same_port() {
    for transport in BOTH {
        let server = serve("h2-hello", &[], transport);
        let url = server.url();
        let ca = ["--ca", server.ca.as_str()];
        let ca: &[&str] = match transport {
            Transport::H2c => &[],
            Transport::Tls => &ca,
        };
        let mut curl = vec!["-sS", "-m", "5", "--http1.1", "-w", " %{http_version}"];
        if let Transport::Tls = transport {
            curl.extend(["--cacert", &server.ca]);
        }
        curl.push(&url);
        let node_client = format!("{CLIENTS}node-client.js");
        let python_client = format!("{CLIENTS}python-client.py");
        let node: Vec<&str> = [&[node_client.as_str()][..], ca, &[url.as_str(), "2"]].concat();
        let python: Vec<&str> = [&[python_client.as_str()][..], ca, &[url.as_str(), "2"]].concat();
        for _ in 0..2 {
            let out = run("curl", &curl, &[]);
            assert_eq!(text(&out.stdout), "hello\n 1.1", "{transport:?}: {}", text(&out.stderr));
            let out = run("node", &node, &[]);
            assert_eq!(
                text(&out.stdout),
                "request 1: status 200, 6 body bytes\nrequest 2: status 200, 6 body bytes\n",
                "{transport:?}"
            );
            let out = run("python3", &python, &[]);
            assert_eq!(
                text(&out.stdout),
                "request 1: status 200, 6 body bytes\nrequest 2: status 200, 6 body bytes\n",
                "{transport:?}"
            );
            // An HTTP/2 client between the two rounds.
            assert_eq!(server.curl(&[]).got, "200 2 6", "{transport:?}");
        }
    }

    let server = serve("h2-goaway-refuse", &[], Transport::H2c);
    let url = server.url();
    let out = run("curl", &["-sS", "-m", "5", "-i", &url], &[]);
    let response = text(&out.stdout);
    assert!(
        response.starts_with("HTTP/1.1 505 HTTP Version Not Supported\r\n"),
        "{response}"
    );
    assert!(response.contains("use --http2-prior-knowledge (h2c)"), "{response}");
}

/// scripts/clients/grpc-client.js (grpc-js, a unary call on a service
/// written by hand, plaintext HTTP/2), with `grpc.keepalive_time_ms` set
/// when `keepalive` says so: (exit code, stdout, stderr).
fn grpc(server: &Server, keepalive: Keepalive) -> (i32, String, String) {
    let script = format!("{CLIENTS}grpc-client.js");
    let target = server.addr.to_string();
    let mut args = vec![script.as_str()];
    if let Keepalive::Pings = keepalive {
        args.extend(["--keepalive", "10000"]);
    }
    args.extend([target.as_str(), "5000"]);
    let out = run("node", &args, &[("NODE_PATH", &grpc_node_path())]);
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// Whether the gRPC client pings its server (`grpc.keepalive_time_ms`).
#[derive(Clone, Copy)]
enum Keepalive {
    Off,
    Pings,
}

/// gRPC's UNAVAILABLE on a max-connection-age drain (grpc-java#9566,
/// grpc-go#2767): a call still running when the grace is over fails with
/// code 14, after the client got both GOAWAYs and the PING.
#[test]
fn grpc_js_call_outliving_max_age_is_unavailable() {
    let server = Server::start("h2-max-age", &["age=20ms", "grace=20ms"]);
    let (exit, stdout, stderr) = grpc(&server, Keepalive::Off);
    assert_eq!(
        (exit, stdout.as_str()),
        (1, "error 14 UNAVAILABLE: Connection dropped\n"),
        "{stderr}"
    );
    let sent: Vec<String> = server
        .wait_for_events("h2-send", 3)
        .iter()
        .map(|event| match event.get("last_stream") {
            Some(last) => format!("{} {last}", event["frame"].as_str().unwrap()),
            None => event["frame"].as_str().unwrap().to_string(),
        })
        .collect();
    assert_eq!(sent, ["GOAWAY 2147483647", "PING", "GOAWAY 1"], "{:?}", server.log());
}

/// The same drain with the response sent within the grace: the call
/// succeeds, so the UNAVAILABLE above is the drain's, not our framing's.
#[test]
fn grpc_js_call_answered_within_the_grace_succeeds() {
    let scenario = scenario_file(
        "grpc-drain-answered",
        r#"
read request
sleep 20ms
h2 goaway last-stream max
h2 ping data "max-age"
sleep 10ms
h2 goaway last-stream current
h2 headers 200 header "content-type: application/grpc"
h2 data hex "00 00000002" "hi"
h2 frame type 1 flags 5 payload "\x00\x0bgrpc-status\x010"
sleep 20ms
close
"#,
    );
    let server = Server::start(&scenario, &[]);
    let (exit, stdout, stderr) = grpc(&server, Keepalive::Off);
    assert_eq!((exit, stdout.as_str()), (0, "ok: 2 bytes\n"), "{stderr}");
}

/// ENHANCE_YOUR_CALM "too_many_pings": grpc-js fails the call with
/// RESOURCE_EXHAUSTED (the stream's error code 11), not UNAVAILABLE, and
/// "too_many_pings" reaches the application only as grpc-js's own log
/// line, when it pings (keepalive), doubling its ping interval.
#[test]
fn grpc_js_on_too_many_pings_is_resource_exhausted() {
    for keepalive in [Keepalive::Off, Keepalive::Pings] {
        let server = Server::start("h2-too-many-pings", &[]);
        let (exit, stdout, stderr) = grpc(&server, keepalive);
        assert_eq!(
            (exit, stdout.as_str()),
            (
                1,
                "error 8 RESOURCE_EXHAUSTED: Bandwidth exhausted or memory limit exceeded\n"
            ),
            "{stderr}"
        );
        let logged = stderr.contains(&format!(
            "E Connection to dns:{0} at {0} rejected by server because of excess pings. \
             Increasing ping interval to 20000 ms\n",
            server.addr
        ));
        assert_eq!(logged, matches!(keepalive, Keepalive::Pings), "{stderr}");
    }
}

/// The gRPC table in docs/clients.md: each built-in's row is what
/// grpc-js (with keepalive pings) says today.
#[test]
fn grpc_table_in_the_docs_matches_grpc_js() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/clients.md")).unwrap();
    let begin = doc.find("<!-- grpc-table:begin -->").expect("gRPC table begin");
    let end = doc.find("<!-- grpc-table:end -->").expect("gRPC table end");
    let rows: Vec<&str> = doc[begin..end].lines().filter(|l| l.starts_with("| `")).collect();
    let builtins = hangup::scenario::catalog::BUILTINS
        .iter()
        .filter(|(name, _)| name.starts_with("h2-"));
    assert_eq!(
        rows.len(),
        builtins.count(),
        "one row per h2-* built-in:\n{}",
        rows.join("\n")
    );
    for row in rows {
        let cells: Vec<&str> = row.trim_matches('|').split(" | ").map(str::trim).collect();
        let [scenario, call, logged] = cells[..] else {
            panic!("three cells: {row}")
        };
        let server = Server::start(scenario.trim_matches('`'), &[]);
        let (_, stdout, stderr) = grpc(&server, Keepalive::Pings);
        assert_eq!(format!("`{}`", stdout.trim_end()), call, "{scenario}");
        let port = server.addr.port().to_string();
        let stderr = stderr.trim_end().replace(&format!(":{port}"), ":PORT");
        let stderr = if stderr.is_empty() {
            "—".to_string()
        } else {
            format!("`{stderr}`")
        };
        assert_eq!(stderr, logged, "{scenario}");
    }
}
