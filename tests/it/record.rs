//! Recording (issue 18): `hangup probe … --record FILE.hup` and
//! `hangup serve PROXY --upstream … --record DIR` write scenarios that do
//! again what a real server did. The round trip is the promise: serving the
//! recording and probing it with the same request gives the same bytes, byte
//! for byte, the same outcome and the same ending as the original server.
//!
//! Each case records one real server (hangup's built-ins, python3's
//! http.server, Node's http, a raw server written here), replays the
//! recording, and compares the probe's JSON and the bytes a raw client gets
//! from both.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::{
    End, Server, TempDir, Upstream, hangup, json, node_server, python_upstream, raw_server, read_to_end,
    reset_when_sent, text,
};

/// The request the raw client sends to the original and to the replay.
const GET_ROOT: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/// What the probe's JSON says of a run, every request's entry included.
const COMPARED: [&str; 7] = [
    "outcome",
    "phase",
    "ended",
    "received_bytes",
    "status",
    "head_bytes",
    "body_bytes",
];

/// A Node http server, keep-alive: `/` answers `hello from node`, `/big`
/// 200,000 bytes (more than one 64 KiB chunk).
fn node_upstream() -> Upstream {
    let script = r#"
const http = require('http');
const big = Buffer.alloc(200000, 'x');
const server = http.createServer((req, res) => {
  if (req.url === '/big') {
    res.writeHead(200, { 'Content-Length': big.length });
    res.end(big);
  } else {
    res.end('hello from node');
  }
});
server.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
"#;
    node_server(script)
}

/// Read a request head (up to the blank line) off `stream`.
fn read_head(stream: &mut TcpStream) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) | Err(_) => return,
            Ok(_) => head.push(byte[0]),
        }
    }
}

/// A server that reads the request, writes half a response head, and
/// resets (linger 0): RST mid-head.
fn reset_mid_head_server() -> SocketAddr {
    raw_server(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Le");
        reset_when_sent(stream);
    })
}

/// A fresh directory for one case, removed when dropped (pass or fail).
fn case_dir(case: &str) -> CaseDir {
    CaseDir(TempDir::new(&format!("record-{case}")))
}

/// `hangup probe TARGET --json FLAGS…`: its JSON (the probe must succeed).
fn probe_json(target: &str, flags: &[&str]) -> String {
    let mut args = vec!["probe", target, "--json"];
    args.extend_from_slice(flags);
    let out = hangup(&args);
    assert!(
        out.status.success(),
        "hangup {args:?}: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Every value of `"key":` in a JSON text, in order (the top level's and
/// each request's): strings without their quotes, numbers and null as is.
fn json_values(json: &str, key: &str) -> Vec<String> {
    let needle = format!("\"{key}\":");
    json.match_indices(&needle)
        .map(|(at, _)| {
            let rest = &json[at + needle.len()..];
            match rest.strip_prefix('"') {
                Some(string) => string[..string.find('"').unwrap_or(string.len())].to_owned(),
                None => rest[..rest.find([',', '}', ']']).unwrap_or(rest.len())].to_owned(),
            }
        })
        .collect()
}

/// The probe's verdict, field by field, for comparing two runs.
fn verdict(json: &str) -> Vec<(&'static str, Vec<String>)> {
    COMPARED.iter().map(|key| (*key, json_values(json, key))).collect()
}

/// Connect to `addr`, send `request`, read to the end.
fn fetch(addr: SocketAddr, request: &[u8], timeout: Duration) -> (Vec<u8>, End) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    stream.write_all(request).expect("send request");
    read_to_end(&mut stream, timeout)
}

/// A readable excerpt of bytes for a failure message.
fn excerpt(bytes: &[u8]) -> String {
    let shown = text(&bytes[..bytes.len().min(300)]);
    format!("{} B: {shown:?}", bytes.len())
}

/// One round trip: what the original did, and what its recording did.
struct RoundTrip {
    dir: CaseDir,
    recording: PathBuf,
    original_json: String,
    replay_json: String,
    original: (Vec<u8>, End),
    replay: (Vec<u8>, End),
}

/// How one original is probed and fetched.
struct Case<'a> {
    /// Also the temporary directory's name.
    name: &'a str,
    path: &'a str,
    /// The probe's flags besides `--json` and `--record`.
    flags: &'a [&'a str],
    /// What the raw client sends (the probe's request, as far as the
    /// server's answer goes).
    request: &'a [u8],
    /// The server writes its clock into its answers (`Date:`).
    dated: bool,
    /// How long the raw client waits for more before it calls the
    /// connection still open.
    quiet: Duration,
}

impl Case<'_> {
    /// `GET /`, no flags, no clock, 300 ms of quiet.
    fn root(name: &str) -> Case<'_> {
        Case {
            name,
            path: "/",
            flags: &[],
            request: GET_ROOT,
            dated: false,
            quiet: Duration::from_millis(300),
        }
    }
}

/// Probe `addr` with `--json --record DIR/x.hup` and the case's flags,
/// serve the recording, probe it the same way; fetch the case's request
/// raw from both. A dated server's answer is fetched before and after the
/// probe, starting just after a second ticks, and the round is tried
/// again when the clock ticked in between anyway (a slow machine): so the
/// bytes are still compared exactly.
fn round_trip(addr: SocketAddr, case: &Case) -> RoundTrip {
    let Case {
        name,
        path,
        flags,
        request,
        dated,
        quiet,
    } = *case;
    for _attempt in 0..5 {
        if dated {
            wait_for_a_new_second();
        }
        let dir = case_dir(name);
        let recording = dir.join("x.hup");
        let before = fetch(addr, request, quiet);
        let mut record_flags = vec!["--record", recording.to_str().expect("a UTF-8 path")];
        record_flags.extend_from_slice(flags);
        let original_json = probe_json(&format!("http://{addr}{path}"), &record_flags);
        let after = dated.then(|| fetch(addr, request, quiet));
        if after.as_ref().is_some_and(|after| after.0 != before.0) {
            continue;
        }
        let replay_server = Server::start(recording.to_str().expect("a UTF-8 path"), &[]);
        // The same flags, less the one that only goes with --record.
        let replay_flags: Vec<&str> = flags.iter().copied().filter(|f| *f != "--record-timing").collect();
        let replay_json = probe_json(&format!("http://{}{path}", replay_server.addr), &replay_flags);
        // Every connection replays the recording from its start.
        let replay = fetch(replay_server.addr, request, quiet);
        return RoundTrip {
            dir,
            recording,
            original_json,
            replay_json,
            original: before,
            replay,
        };
    }
    panic!("{name}: the server's answers kept changing between two fetches");
}

/// Sleep until just after the wall clock's next whole second, unless it
/// has only just ticked.
fn wait_for_a_new_second() {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970");
    let into_second = Duration::from_nanos(u64::from(since_epoch.subsec_nanos()));
    if into_second > Duration::from_millis(50) {
        thread::sleep(Duration::from_secs(1) - into_second + Duration::from_millis(5));
    }
}

impl RoundTrip {
    /// The promise: same outcome, phase, ending and sizes; same bytes and
    /// same ending on a raw connection.
    fn assert_same(&self, case: &str) {
        assert_eq!(
            verdict(&self.replay_json),
            verdict(&self.original_json),
            "{case}: the replay's probe differs from the original's\noriginal: {}\nreplay:   {}\nrecording:\n{}",
            self.original_json,
            self.replay_json,
            self.scenario()
        );
        assert!(
            self.replay.0 == self.original.0,
            "{case}: the replay's bytes differ\noriginal {}\nreplay   {}\nrecording:\n{}",
            excerpt(&self.original.0),
            excerpt(&self.replay.0),
            self.scenario()
        );
        assert_eq!(self.replay.1, self.original.1, "{case}: the replay ends differently");
    }

    /// The original's verdict: outcome, phase and ending.
    fn assert_original(&self, case: &str, outcome: &str, phase: &str, ended: &str) {
        let json = &self.original_json;
        assert_eq!(
            json_values(json, "outcome")[0],
            outcome,
            "{case}: original outcome in {json}"
        );
        assert_eq!(json_values(json, "phase")[0], phase, "{case}: original phase in {json}");
        assert_eq!(
            json_values(json, "ended")[0],
            ended,
            "{case}: original ending in {json}"
        );
    }

    fn scenario(&self) -> String {
        std::fs::read_to_string(&self.recording).unwrap_or_else(|e| format!("(unreadable: {e})"))
    }
}

/// One row of the table: a hangup built-in served as the original.
fn builtin_case(case: &str, scenario: &str, sets: &[&str], flags: &[&str]) -> RoundTrip {
    let original = Server::start(scenario, sets);
    let trip = round_trip(
        original.addr,
        &Case {
            flags,
            ..Case::root(case)
        },
    );
    trip.assert_same(case);
    trip
}

#[test]
fn hello_complete_keep_alive() {
    let trip = builtin_case("hello", "hello", &[], &[]);
    trip.assert_original("hello", "complete", "null", "open");
    assert!(trip.original.0.ends_with(b"hello\n"), "{}", excerpt(&trip.original.0));
    assert_eq!(trip.original.1, End::Open);
    assert!(trip.scenario().trim_end().ends_with("hang"), "{}", trip.scenario());
}

#[test]
fn end_close_complete_then_fin() {
    let trip = builtin_case("end-close", "end-close", &[], &[]);
    trip.assert_original("end-close", "complete", "null", "fin");
    assert_eq!(trip.original.1, End::PeerFin);
    assert!(trip.scenario().trim_end().ends_with("close"), "{}", trip.scenario());
}

#[test]
fn truncated_body_then_fin() {
    let trip = builtin_case("truncated-body", "truncated-body", &[], &[]);
    trip.assert_original("truncated-body", "truncated", "null", "fin");
    assert!(
        trip.original.0.ends_with(b"\r\n\r\nHello,"),
        "{}",
        excerpt(&trip.original.0)
    );
    assert_eq!(trip.original.1, End::PeerFin);
}

#[test]
fn mid_body_reset() {
    let trip = builtin_case("mid-body-reset", "mid-body-reset", &[], &[]);
    trip.assert_original("mid-body-reset", "reset", "mid-body", "rst");
    assert!(
        trip.original.0.ends_with(b"\r\n\r\nHello,"),
        "{}",
        excerpt(&trip.original.0)
    );
    assert_eq!(trip.original.1, End::PeerRst);
    assert!(trip.scenario().trim_end().ends_with("reset"), "{}", trip.scenario());
}

#[test]
fn reset_on_first_byte_before_response() {
    let trip = builtin_case("reset-on-first-byte", "reset-on-first-byte", &[], &[]);
    trip.assert_original("reset-on-first-byte", "reset", "before-response", "rst");
    assert_eq!(trip.original, (Vec::new(), End::PeerRst));
}

#[test]
fn truncated_chunked_then_fin() {
    let trip = builtin_case("truncated-chunked", "truncated-chunked", &[], &[]);
    trip.assert_original("truncated-chunked", "truncated", "null", "fin");
    assert!(
        trip.original.0.ends_with(b"5\r\nhello\r\n"),
        "{}",
        excerpt(&trip.original.0)
    );
    assert_eq!(trip.original.1, End::PeerFin);
}

#[test]
fn empty_reply() {
    let trip = builtin_case("empty-reply", "empty-reply", &[], &[]);
    trip.assert_original("empty-reply", "empty", "null", "fin");
    assert_eq!(trip.original, (Vec::new(), End::PeerFin));
}

#[test]
fn hang_times_out() {
    let trip = builtin_case("hang", "hang", &[], &["--timeout", "200ms"]);
    trip.assert_original("hang", "timeout", "null", "timeout");
    assert_eq!(trip.original, (Vec::new(), End::Open));
    assert!(trip.scenario().trim_end().ends_with("hang"), "{}", trip.scenario());
}

#[test]
fn raw_server_reset_mid_head() {
    let addr = reset_mid_head_server();
    let trip = round_trip(addr, &Case::root("raw-mid-head"));
    trip.assert_original("raw-mid-head", "reset", "mid-head", "rst");
    assert_eq!(trip.original, (b"HTTP/1.1 200 OK\r\nContent-Le".to_vec(), End::PeerRst));
    trip.assert_same("raw-mid-head");
}

#[test]
fn python_http_server() {
    let served = case_dir("python-root");
    std::fs::write(served.join("a.txt"), "hello from a file\n").expect("a file to serve");
    let python = python_upstream(&served);
    let trip = round_trip(
        python.addr,
        &Case {
            dated: true,
            ..Case::root("python")
        },
    );
    trip.assert_original("python", "complete", "null", "fin");
    assert!(
        trip.original.0.starts_with(b"HTTP/1.0 200 OK\r\n"),
        "{}",
        excerpt(&trip.original.0)
    );
    assert_eq!(trip.original.1, End::PeerFin);
    trip.assert_same("python");

    let file = round_trip(
        python.addr,
        &Case {
            path: "/a.txt",
            request: b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            dated: true,
            ..Case::root("python-file")
        },
    );
    assert!(
        file.original.0.ends_with(b"\r\n\r\nhello from a file\n"),
        "{}",
        excerpt(&file.original.0)
    );
    file.assert_same("python-file");
}

#[test]
fn node_http_server() {
    let node = node_upstream();
    let trip = round_trip(
        node.addr,
        &Case {
            dated: true,
            ..Case::root("node")
        },
    );
    trip.assert_original("node", "complete", "null", "open");
    assert!(
        trip.original.0.ends_with(b"hello from node"),
        "{}",
        excerpt(&trip.original.0)
    );
    trip.assert_same("node");
}

#[test]
fn requests_two_replays_two_responses_on_one_connection() {
    let original = Server::start("hello", &[]);
    let trip = round_trip(
        original.addr,
        &Case {
            flags: &["--requests", "2"],
            ..Case::root("requests-2")
        },
    );
    trip.assert_same("requests-2");
    assert_eq!(
        json_values(&trip.original_json, "reused"),
        ["false", "true"],
        "{}",
        trip.original_json
    );
    assert_eq!(
        json_values(&trip.replay_json, "reused"),
        ["false", "true"],
        "{}",
        trip.replay_json
    );
    // Two recorded; the loop at the end (for a third) reads one more.
    assert_eq!(
        trip.scenario().lines().filter(|l| *l == "read request").count(),
        2,
        "{}",
        trip.scenario()
    );

    // Two requests, one after the other, on one raw connection.
    let replay = Server::start(trip.recording.to_str().expect("a UTF-8 path"), &[]);
    let mut stream = replay.connect();
    let mut answers = Vec::new();
    for _ in 0..2 {
        stream.write_all(GET_ROOT).expect("send request");
        answers.push(read_to_end(&mut stream, Duration::from_millis(200)));
    }
    let first = &trip.original.0;
    assert_eq!(answers, [(first.clone(), End::Open), (first.clone(), End::Open)]);
}

#[test]
fn record_timing_keeps_the_pauses() {
    let original = Server::start("slow-body", &["every=20ms"]);
    let trip = round_trip(
        original.addr,
        &Case {
            flags: &["--record-timing"],
            // Long enough for the whole slow body on a loaded machine.
            quiet: Duration::from_secs(1),
            ..Case::root("timing")
        },
    );
    trip.assert_same("timing");
    assert!(
        trip.scenario().lines().filter(|l| l.starts_with("sleep")).count() >= 12,
        "{}",
        trip.scenario()
    );

    // 13 body bytes, 20 ms apart: the original takes ~240 ms, so must the replay.
    let replay = Server::start(trip.recording.to_str().expect("a UTF-8 path"), &[]);
    for (who, addr) in [("original", original.addr), ("replay", replay.addr)] {
        let mut stream = TcpStream::connect(addr).expect("connect");
        let start = Instant::now();
        stream.write_all(GET_ROOT).expect("send request");
        let got = crate::support::read_exact(&mut stream, trip.original.0.len());
        let took = start.elapsed();
        assert_eq!(got, trip.original.0, "{who}");
        assert!(took >= Duration::from_millis(200), "{who} sent it all in {took:?}");
        assert!(took < Duration::from_secs(5), "{who} took {took:?}");
    }
}

#[test]
fn body_over_64_kib_goes_to_a_side_file() {
    let node = node_upstream();
    let request = b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n";
    let trip = round_trip(
        node.addr,
        &Case {
            path: "/big",
            request,
            dated: true,
            ..Case::root("big")
        },
    );
    assert_eq!(
        json_values(&trip.original_json, "body_bytes"),
        ["200000"],
        "{}",
        trip.original_json
    );
    assert!(
        trip.original.0.ends_with(&[b'x'; 200_000]),
        "{}",
        excerpt(&trip.original.0)
    );
    trip.assert_same("big");
    let side = trip.dir.join("x.1.bin");
    assert!(
        side.exists(),
        "no side file {} for a 200,000-byte body; the directory holds {:?}; the recording's writes are {:?} bytes",
        side.display(),
        listing(&trip.dir),
        write_sizes(&trip.scenario())
    );
    assert!(
        trip.scenario().contains("write file \"x.1.bin\""),
        "{}",
        trip.scenario()
    );
}

/// The names in a directory, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The length of each `write` line of a scenario (a rough size of each chunk).
fn write_sizes(scenario: &str) -> Vec<usize> {
    scenario
        .lines()
        .filter(|l| l.starts_with("write"))
        .map(str::len)
        .collect()
}

#[test]
fn unwritable_record_file_fails_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let target = listener.local_addr().expect("addr").to_string();
    let out = hangup(&["probe", &target, "--record", "/nonexistent-dir/x.hup"]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("/nonexistent-dir/x.hup"),
        "stderr: {}",
        text(&out.stderr)
    );
    // A connect completes in the kernel without an accept; none waits.
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the probe connected: {other:?}"),
    }
}

#[test]
fn record_usage_errors() {
    let dir = case_dir("usage");
    let file = dir.join("x.hup");
    let file = file.to_str().expect("a UTF-8 path");
    let out = hangup(&["probe", "127.0.0.1:9", "--record", file, "--count", "2"]);
    assert_eq!(out.status.code(), Some(2), "--count 2: {}", text(&out.stderr));
    let rec = dir.join("rec");
    let rec = rec.to_str().expect("a UTF-8 path");
    for scenario in ["proxy", "hello"] {
        let out = hangup(&["serve", scenario, "--listen", "127.0.0.1:0", "--record", rec]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "serve {scenario} --record without --upstream: {}",
            text(&out.stderr)
        );
    }
}

/// `hangup serve SCENARIO --upstream … --record DIR`, its log collected.
pub(crate) struct RecordingProxy {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    pub(crate) fn start(scenario: &str, upstream: SocketAddr, dir: &Path) -> RecordingProxy {
        let mut command = Command::new(crate::support::BIN);
        command.args(["serve", scenario, "--listen", "127.0.0.1:0", "--log", "json"]);
        command
            .arg("--upstream")
            .arg(upstream.to_string())
            .arg("--record")
            .arg(dir);
        RecordingProxy::spawn(&mut command)
    }

    /// Run a `hangup serve` command (or a shell that execs one) and
    /// collect its log.
    pub(crate) fn spawn(command: &mut Command) -> RecordingProxy {
        let (mut child, addr) = crate::support::spawn_listening(command);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let stderr = child.stderr.take().expect("stderr");
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        RecordingProxy { child, addr, log }
    }

    /// Wait (bounded) for a log line holding `part`.
    pub(crate) fn wait_for_log(&self, part: &str) -> String {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log.lock().expect("log lock").clone();
            if let Some(line) = log.iter().find(|l| l.contains(part)) {
                return line.clone();
            }
            assert!(
                Instant::now() < give_up,
                "no log line with {part:?}; log:\n{}",
                log.join("\n")
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, then wait (bounded) for the exit and the last log line:
    /// the whole log.
    fn stop(&mut self) -> Vec<String> {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill takes no pointers; the pid is our child's, not yet
        // waited for, so it cannot have been reused.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let give_up = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().expect("try_wait").is_none() {
            assert!(Instant::now() < give_up, "hangup did not exit after SIGTERM");
            thread::sleep(Duration::from_millis(5));
        }
        self.wait_for_log(r#""event":"stopped""#);
        self.log.lock().expect("log lock").clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn proxy_records_each_client_connection() {
    let upstream = Server::start("mid-body-reset", &[]);
    let dir = case_dir("proxy");
    let rec = dir.join("rec");
    let proxy = RecordingProxy::start("proxy", upstream.addr, &rec);
    let request = b"GET /through HTTP/1.1\r\nHost: x\r\nX-Case: proxy\r\n\r\n";
    let through = fetch(proxy.addr, request, Duration::from_secs(2));
    assert!(through.0.ends_with(b"\r\n\r\nHello,"), "{}", excerpt(&through.0));
    assert_eq!(through.1, End::PeerRst);

    let line = proxy.wait_for_log(r#""event":"recorded""#);
    let scenario = rec.join("conn-000001.hup");
    assert_eq!(json::field(&line, "file"), scenario.display().to_string(), "{line}");
    assert_eq!(listing(&rec), ["conn-000001.client.bin", "conn-000001.hup"]);
    let client = std::fs::read(rec.join("conn-000001.client.bin")).expect("client bytes");
    assert_eq!(text(&client), text(request));

    let replay = Server::start(scenario.to_str().expect("a UTF-8 path"), &[]);
    let again = fetch(replay.addr, request, Duration::from_secs(2));
    assert!(
        again == through,
        "replay {} {:?}, through the proxy {} {:?}",
        excerpt(&again.0),
        again.1,
        excerpt(&through.0),
        through.1
    );
}

#[test]
fn tcp_proxy_records_each_client_connection() {
    let upstream = Server::start("truncated-body", &[]);
    let dir = case_dir("tcp-proxy");
    let rec = dir.join("rec");
    let proxy = RecordingProxy::start("tcp-proxy", upstream.addr, &rec);
    let mut through = Vec::new();
    for _ in 0..2 {
        through.push(fetch(proxy.addr, GET_ROOT, Duration::from_secs(2)));
        proxy.wait_for_log(&format!("conn-{:06}.hup", through.len()));
    }
    assert!(through[0].0.ends_with(b"\r\n\r\nHello,"), "{}", excerpt(&through[0].0));
    assert_eq!(through[0].1, End::PeerFin);
    assert_eq!(
        listing(&rec),
        [
            "conn-000001.client.bin",
            "conn-000001.hup",
            "conn-000002.client.bin",
            "conn-000002.hup"
        ]
    );
    for n in 1..=2 {
        let client = std::fs::read(rec.join(format!("conn-{n:06}.client.bin"))).expect("client bytes");
        assert_eq!(text(&client), text(GET_ROOT));
        let scenario = rec.join(format!("conn-{n:06}.hup"));
        let replay = Server::start(scenario.to_str().expect("a UTF-8 path"), &[]);
        let again = fetch(replay.addr, GET_ROOT, Duration::from_secs(2));
        assert_eq!(again, through[n - 1], "conn-{n:06}");
    }
}

/// A directory of one test's own, removed when dropped (pass or fail).
pub(crate) struct CaseDir(pub TempDir);

impl CaseDir {
    pub(crate) fn new(case: &str) -> CaseDir {
        case_dir(case)
    }

    /// A path in it, as text (the tests' temporary paths are UTF-8).
    pub(crate) fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 path").to_owned()
    }

    /// The names in it, sorted.
    pub(crate) fn names(&self) -> Vec<String> {
        listing(&self.0)
    }
}

impl std::ops::Deref for CaseDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

/// The statements of a scenario: its lines without comments and blanks.
fn statements(scenario: &str) -> Vec<&str> {
    scenario
        .lines()
        .map(str::trim_start)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn the_header_escapes_the_target_and_names_the_command_that_made_it() {
    let original = Server::start("hello", &[]);
    let dir = CaseDir::new("header");
    let recording = dir.file("x.hup");
    let target = format!("http://{}/a\nreset\n#", original.addr);
    let out = hangup(&[
        "probe",
        &target,
        "-X",
        "HEAD",
        "--requests",
        "2",
        "--record",
        &recording,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scenario = std::fs::read_to_string(&recording).expect("the recording");
    // The target's line breaks stay in the comment: nothing of it runs.
    assert_eq!(statements(&scenario).first(), Some(&"read request"), "{scenario}");
    assert!(!scenario.lines().any(|l| l == "reset"), "{scenario}");
    let first = scenario.lines().next().expect("a header");
    let command = first
        .split('`')
        .nth(1)
        .unwrap_or_else(|| panic!("no command in {first:?}"));
    assert_eq!(
        command,
        format!(
            r"hangup probe $'http://{}/a\nreset\n#' -X HEAD --requests 2 --record {recording}",
            original.addr
        )
    );
    // Pasted into a shell, it records again.
    std::fs::remove_file(&recording).expect("remove");
    let bin_dir = Path::new(crate::support::BIN).parent().expect("the binary's directory");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let pasted = Command::new("bash")
        .args(["-c", command])
        .env("PATH", path)
        .output()
        .expect("bash");
    assert!(pasted.status.success(), "{command}: {}", text(&pasted.stderr));
    let again = std::fs::read_to_string(&recording).expect("recorded again");
    assert_eq!(again.lines().next().and_then(|l| l.split('`').nth(1)), Some(command));
}

#[test]
fn a_request_beyond_those_recorded_gets_the_last_response_again() {
    let original = Server::start("hello", &[]);
    let dir = CaseDir::new("beyond");
    let recording = dir.file("x.hup");
    probe_json(&format!("http://{}/", original.addr), &["--record", &recording]);
    let (answer, _) = fetch(original.addr, GET_ROOT, Duration::from_millis(200));
    let scenario = std::fs::read_to_string(&recording).expect("the recording");
    assert!(
        scenario.contains("# A request beyond the 1 recorded gets the last response again"),
        "{scenario}"
    );
    // A keep-alive client sends three requests on one connection.
    let replay = Server::start(&recording, &[]);
    let mut stream = replay.connect();
    for n in 1..=3 {
        stream.write_all(GET_ROOT).expect("send request");
        let got = read_to_end(&mut stream, Duration::from_millis(300));
        assert_eq!(got, (answer.clone(), End::Open), "request {n}");
    }
}

#[test]
fn a_head_and_body_that_came_in_one_read_are_written_apart() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    let addr = raw_server(move |mut stream| {
        read_head(&mut stream);
        // One write: on loopback it arrives as one read.
        let _ = stream.write_all(&[&head[..], b"hello"].concat());
    });
    let dir = CaseDir::new("split");
    let recording = dir.file("x.hup");
    probe_json(&format!("http://{addr}/"), &["--record", &recording]);
    let scenario = std::fs::read_to_string(&recording).expect("the recording");
    let replay = Server::start(&recording, &[]);
    let got = fetch(replay.addr, GET_ROOT, Duration::from_secs(2));
    assert_eq!(got, ([&head[..], b"hello"].concat(), End::PeerFin), "{scenario}");
    // The replay wrote the head, then the body: two writes.
    replay.wait_for_event("end");
    let writes: Vec<u64> = replay
        .events("write")
        .iter()
        .map(|w| w["bytes"].as_u64().unwrap_or_else(|| panic!("no bytes in {w}")))
        .collect();
    assert_eq!(writes, [head.len() as u64, 5], "{scenario}");
}

#[test]
fn connections_open_at_the_stop_are_recorded_before_the_exit() {
    let upstream = Server::start("hello", &[]);
    let dir = CaseDir::new("stop");
    let rec = dir.0.join("rec");
    let mut proxy = RecordingProxy::start("proxy", upstream.addr, &rec);
    let mut stream = TcpStream::connect(proxy.addr).expect("connect");
    stream.write_all(GET_ROOT).expect("send request");
    let through = read_to_end(&mut stream, Duration::from_millis(300));
    assert!(through.0.ends_with(b"hello\n"), "{}", excerpt(&through.0));
    assert_eq!(through.1, End::Open);
    // The client keeps its connection; the server stops.
    let log = proxy.stop();
    let recorded = log.iter().position(|l| json::is_event(l, "recorded"));
    let stopped = log.iter().position(|l| json::is_event(l, "stopped"));
    assert!(
        recorded.is_some() && recorded < stopped,
        "no recorded line before stopped:\n{}",
        log.join("\n")
    );
    assert_eq!(listing(&rec), ["conn-000001.client.bin", "conn-000001.hup"]);
    let scenario = rec.join("conn-000001.hup");
    let text_of = std::fs::read_to_string(&scenario).expect("the recording");
    assert!(
        text_of.contains("# NOTE: the recording ends where hangup stopped"),
        "{text_of}"
    );
    // The replay answers that request, and one more on the same connection.
    let replay = Server::start(scenario.to_str().expect("a UTF-8 path"), &[]);
    let mut again = replay.connect();
    for n in 1..=2 {
        again.write_all(GET_ROOT).expect("send request");
        assert_eq!(
            read_to_end(&mut again, Duration::from_millis(300)),
            through,
            "request {n}"
        );
    }
}
