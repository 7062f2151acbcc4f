//! Test support: run the real `hangup` binary and watch it from the client
//! side of a real TCP connection.
//!
//! `Server::start("mid-body-reset", &[])` spawns `hangup serve` on a free
//! loopback port and reads its `listening on` line; dropping it kills that
//! process (by its PID, it is our child). `exchange` sends bytes and reads
//! until the connection ends, answering what arrived and how it ended.
#![allow(dead_code)]

pub mod h2;
pub mod json;
mod probe;
mod temp;

pub use probe::{Report, probe, probe_json};
pub use temp::{ScenarioFile, TempDir};

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_hangup");

/// How a connection ended, in hangup's own words: seen from the test's
/// client, the server is the peer (`PeerFin`: `read` returned 0;
/// `PeerRst`: ECONNRESET; `Open`: nothing decisive before the read timeout).
pub use hangup::end::End;

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `hangup serve SCENARIO --set …` on 127.0.0.1, JSON log.
    pub fn start(scenario: &str, sets: &[&str]) -> Server {
        Server::start_on(scenario, sets, "127.0.0.1:0")
    }

    pub fn start_on(scenario: &str, sets: &[&str], listen: &str) -> Server {
        let mut command = Command::new(BIN);
        command.args(["serve", scenario, "--listen", listen, "--log", "json"]);
        for set in sets {
            command.args(["--set", set]);
        }
        Server::spawn(&mut command)
    }

    /// `hangup serve SCENARIO` on 127.0.0.1 with these flags (`--seed 7`),
    /// JSON log.
    pub fn start_with(scenario: &str, flags: &[&str]) -> Server {
        let mut command = Command::new(BIN);
        command.args(["serve", scenario, "--listen", "127.0.0.1:0", "--log", "json"]);
        command.args(flags);
        Server::spawn(&mut command)
    }

    /// `hangup serve SCENARIO --upstream UPSTREAM --set …`: a proxy.
    pub fn start_proxy(scenario: &str, sets: &[&str], upstream: SocketAddr) -> Server {
        let mut command = Command::new(BIN);
        let upstream = upstream.to_string();
        command.args(["serve", scenario, "--listen", "127.0.0.1:0", "--log", "json"]);
        command.args(["--upstream", &upstream]);
        for set in sets {
            command.args(["--set", set]);
        }
        Server::spawn(&mut command)
    }

    /// `hangup serve SCENARIO` allowed only `descriptors` open files
    /// (`ulimit -n`, soft and hard, so hangup cannot raise it).
    pub fn start_limited(scenario: &str, sets: &[&str], descriptors: u32) -> Server {
        let mut script =
            format!("ulimit -n {descriptors} && exec {BIN} serve {scenario} --listen 127.0.0.1:0 --log json");
        for set in sets {
            script.push_str(&format!(" --set {set}"));
        }
        Server::spawn(Command::new("sh").args(["-c", &script]))
    }

    /// Run a `hangup serve` command (any flags, any log format) and
    /// collect its log, line by line.
    pub fn spawn(command: &mut Command) -> Server {
        let (mut child, addr) = spawn_listening(command);
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&log);
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().expect("log lock").push(line);
            }
        });
        Server { child, addr, log }
    }

    pub fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The log lines so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log lock").clone()
    }

    /// Send SIGTERM or SIGINT ("TERM", "INT") to the server, our child.
    pub fn signal(&self, signal: &str) {
        let number = match signal {
            "TERM" => libc::SIGTERM,
            "INT" => libc::SIGINT,
            "HUP" => libc::SIGHUP,
            other => panic!("no signal {other}"),
        };
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill takes no pointers; the pid is our child's, which
        // has not been waited for, so it cannot have been reused.
        let rc = unsafe { libc::kill(pid, number) };
        assert_eq!(rc, 0, "kill SIG{signal}: {}", std::io::Error::last_os_error());
    }

    /// Send SIGTERM (or SIGINT) and wait for the exit: (code, log).
    pub fn stop(self, signal: &str) -> (Option<i32>, Vec<String>) {
        self.signal(signal);
        self.wait_for_exit()
    }

    /// Wait for the server to exit (after a signal sent with `signal`):
    /// (code, log).
    pub fn wait_for_exit(mut self) -> (Option<i32>, Vec<String>) {
        let code = self.child.wait().expect("wait for hangup").code();
        // The log thread ends with the process's stderr.
        let give_up = Instant::now() + Duration::from_secs(2);
        while json::events(&self.log(), "stopped").is_empty() && Instant::now() < give_up {
            std::thread::sleep(Duration::from_millis(5));
        }
        (code, self.log())
    }

    /// The JSON log lines of `event` so far, parsed, in order.
    pub fn events(&self, event: &str) -> Vec<json::Value> {
        json::events(&self.log(), event)
    }

    /// Wait (bounded) until the log has `n` lines of `event`: them all
    /// (`n` or more), parsed, in order.
    pub fn wait_for_events(&self, event: &str, n: usize) -> Vec<json::Value> {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            let events = self.events(event);
            if events.len() >= n {
                return events;
            }
            assert!(
                Instant::now() < give_up,
                "fewer than {n} {event} lines; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait (bounded) for the first log line of `event`: it, parsed.
    pub fn wait_for_event(&self, event: &str) -> json::Value {
        self.wait_for_events(event, 1).remove(0)
    }

    /// Wait (bounded) until a log line contains all of `parts`.
    pub fn wait_for_log(&self, parts: &[&str]) -> String {
        let give_up = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(line) = self.log().into_iter().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line;
            }
            assert!(
                Instant::now() < give_up,
                "no log line with {parts:?}; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Spawn a `hangup serve` command (stdout and stderr piped) and read the
/// `listening on ADDR` line it prints when ready.
pub fn spawn_listening(command: &mut Command) -> (Child, SocketAddr) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangup");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .expect("an address");
    (child, addr)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

/// A real ClientHello's records, as the client `name` sent them (`curl`,
/// `python`, `node`, `openssl-alpn`, `openssl-tls12`: see the file's
/// header for the flags).
pub fn client_hello(name: &str) -> Vec<u8> {
    let line = include_str!("../../../src/tls/client_hellos.txt")
        .lines()
        .find(|line| line.split_once(' ').is_some_and(|(n, _)| n == name))
        .unwrap_or_else(|| panic!("no ClientHello named {name}"));
    let hex = line.split_once(' ').map_or("", |(_, hex)| hex);
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Read until the server ends the connection or `timeout` passes.
pub fn read_to_end(stream: &mut TcpStream, timeout: Duration) -> (Vec<u8>, End) {
    let give_up = Instant::now() + timeout;
    let mut received = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let left = give_up.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (received, End::Open);
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return (received, End::PeerFin),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return (received, End::PeerRst),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return (received, End::Open),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!("unexpected read error {e}"),
        }
    }
}

/// Read exactly `n` bytes (the server must not end first).
pub fn read_exact(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).expect("read_exact");
    buf
}

/// Connect, send `request`, read to the end: `(bytes, how it ended, time)`.
pub fn exchange(server: &Server, request: &[u8], timeout: Duration) -> (Vec<u8>, End, Duration) {
    let mut stream = server.connect();
    let start = Instant::now();
    stream.write_all(request).expect("send request");
    let (bytes, end) = read_to_end(&mut stream, timeout);
    (bytes, end, start.elapsed())
}

/// Reset `stream` (linger 0, then close) once the peer has acknowledged
/// every byte written to it: a reset discards whatever the kernel still
/// holds, so a test's server that writes and then resets waits for its
/// bytes to arrive first (as hangup's own `reset` does), rather than
/// sleeping and hoping. Gives up waiting after 5 s, and resets anyway: the
/// test then fails on what its client received.
pub fn reset_when_sent(stream: TcpStream) {
    let give_up = Instant::now() + Duration::from_secs(5);
    while unacknowledged(&stream) > 0 && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
}

/// Bytes written to `stream` that its peer has not acknowledged yet
/// (Linux SIOCOUTQ); 0 if the query fails.
fn unacknowledged(stream: &TcpStream) -> libc::c_int {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: SIOCOUTQ writes one c_int through the pointer, which points
    // at a live local; the descriptor is `stream`'s for the whole call.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut queued as *mut libc::c_int) };
    if rc < 0 { 0 } else { queued }
}

/// Run `hangup ARGS…` to completion.
pub fn hangup(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run hangup")
}

/// `hangup ARGS` for a command that should exit at once (a refused
/// `serve`): killed by its PID after `limit` if it did not, so that a test
/// of a regression fails instead of hanging.
pub fn hangup_within(args: &[&str], limit: Duration) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hangup");
    wait_within(child, limit)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Write a scenario to a file in a fresh temporary directory: its path
/// (as text), removed when the returned guard is dropped.
pub fn scenario_file(name: &str, source: &str) -> ScenarioFile {
    ScenarioFile::new(name, source)
}

/// Fail unless every built-in scenario's name appears in `source` (a test
/// file's text) as `usage` makes it, e.g. `Server::start("NAME"`.
pub fn assert_every_builtin_in(file: &str, source: &str, usage: impl Fn(&str) -> String) {
    for (name, builtin) in hangup::scenario::catalog::BUILTINS {
        if is_proxy(builtin) {
            // Served in front of a real server: tests/it/proxy.rs has those.
            continue;
        }
        assert!(source.contains(&usage(name)), "built-in `{name}` has no test in {file}");
    }
}

/// Whether a scenario's source forwards to an upstream (`--upstream`).
pub fn is_proxy(source: &str) -> bool {
    hangup::scenario::parser::parse(source, &std::collections::BTreeMap::new()).is_ok_and(|s| s.proxies)
}

/// Fail unless every built-in proxy scenario appears in `source` as
/// `usage` makes it.
pub fn assert_every_proxy_builtin_in(file: &str, source: &str, usage: impl Fn(&str) -> String) {
    for (name, builtin) in hangup::scenario::catalog::BUILTINS {
        if is_proxy(builtin) {
            assert!(
                source.contains(&usage(name)),
                "proxy built-in `{name}` has no test in {file}"
            );
        }
    }
}

/// A server that is not hangup (python, node), on loopback: killed when
/// dropped (by its PID: it is our child).
pub struct Upstream {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `python3 -m http.server` serving `dir` on a free port: HTTP/1.0, FIN
/// after each response, a `Date` header.
pub fn python_upstream(dir: &std::path::Path) -> Upstream {
    let mut child = Command::new("python3")
        .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 http.server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its first line");
    // "Serving HTTP on 127.0.0.1 port 41235 (http://127.0.0.1:41235/) ..."
    let port: u16 = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Upstream {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
    }
}

/// A Node server running `script`, which prints `listening on ADDR`.
pub fn node_server(script: &str) -> Upstream {
    let mut command = Command::new("node");
    command.args(["-e", script]);
    let (child, addr) = spawn_listening(&mut command);
    Upstream { child, addr }
}

/// A raw server written in the test: runs `serve` on each connection it
/// accepts, each on a thread of its own.
pub fn raw_server(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let serve = Arc::new(serve);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let serve = serve.clone();
            std::thread::spawn(move || serve(stream));
        }
    });
    addr
}

/// Wait for `child` to exit and collect its output, killing it by its PID
/// after `limit` if it did not (a test of a regression fails, never hangs).
pub fn wait_within(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    });
    let out = child.wait_with_output().expect("wait for the child");
    let _ = done_tx.send(());
    let _ = watchdog.join();
    out
}
