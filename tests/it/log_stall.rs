//! A log reader that stops reading must not stop the server (issue 16,
//! item 5): with stderr a pipe nobody reads, hangup keeps answering and a
//! signal still stops it at once; lines beyond the queue are dropped,
//! counted, and said to be dropped when the reader is back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BIN, TempDir, spawn_listening};

/// Requests sent while nobody reads the log: at about 60 bytes a line and
/// two lines a request, far more than a pipe (64 KiB) and the queue hold.
const REQUESTS: usize = 4_000;
const CONNECTIONS: usize = 20;

fn serve_hello(log: &str) -> (Child, SocketAddr, ChildStderr) {
    let mut command = Command::new(BIN);
    command.args(["serve", "hello", "--listen", "127.0.0.1:0", "--log", log]);
    let (mut child, addr) = spawn_listening(command.stderr(Stdio::piped()));
    let stderr = child.stderr.take().expect("stderr");
    (child, addr, stderr)
}

/// `REQUESTS` keep-alive requests over `CONNECTIONS` connections, one at a
/// time, each answer read whole; the slowest answer.
fn load(addr: SocketAddr) -> Duration {
    let mut slowest = Duration::ZERO;
    let response = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";
    for _ in 0..CONNECTIONS {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(2))).expect("timeout");
        for _ in 0..REQUESTS / CONNECTIONS {
            let started = Instant::now();
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .expect("send a request");
            let mut got = vec![0; response.len()];
            stream.read_exact(&mut got).expect("an answer within 2 s");
            assert_eq!(got, response);
            slowest = slowest.max(started.elapsed());
        }
    }
    slowest
}

/// SIGTERM; the exit code and how long the exit took (at most 5 s).
fn terminate(child: &mut Child) -> (Option<i32>, Duration) {
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let started = Instant::now();
    // SAFETY: kill takes no pointers; the pid is our child's, not yet waited for.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    while started.elapsed() < Duration::from_secs(5) {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return (status.code(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("hangup did not exit within 5 s of SIGTERM");
}

fn field(line: &str, key: &str) -> u64 {
    let start = line
        .find(&format!("{key}="))
        .unwrap_or_else(|| panic!("no {key} in {line}"))
        + key.len()
        + 1;
    line[start..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{key} is not a number in {line}"))
}

#[test]
fn a_stalled_reader_loses_lines_not_clients_and_stopping_still_works() {
    let (mut child, addr, stderr) = serve_hello("text");
    let slowest = load(addr);
    assert!(slowest < Duration::from_secs(1), "an answer took {slowest:?}");
    // Still stalled: a signal stops it at once, exit 0.
    let (code, took) = terminate(&mut child);
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(2), "the exit took {took:?}");
    // What the pipe got is the start of the log, whole lines only.
    let mut text = String::new();
    BufReader::new(stderr).read_to_string(&mut text).expect("read the log");
    assert!(text.ends_with('\n'), "a partial line at the end");
    assert!(text.lines().count() < 2 * REQUESTS, "nothing was dropped?");
    eprintln!(
        "stalled: slowest answer {slowest:?}, exit {took:?} after SIGTERM, {} lines reached the pipe",
        text.lines().count()
    );
}

#[test]
fn when_the_reader_is_back_the_log_says_how_many_lines_were_dropped() {
    let (mut child, addr, stderr) = serve_hello("text");
    let slowest = load(addr);
    assert!(slowest < Duration::from_secs(1), "an answer took {slowest:?}");
    // The reader comes back: what was queued, then the notice.
    let (lines, reader) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        reader
            .recv_timeout(Duration::from_secs(5))
            .expect("a log line within 5 s")
    };
    let mut before = 0u64;
    let notice = loop {
        let line = next();
        if line.starts_with("log-dropped ") {
            break line;
        }
        before += 1;
    };
    let dropped = field(&notice, "lines");
    assert!(dropped > 0, "{notice}");
    let (code, took) = terminate(&mut child);
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(2), "the exit took {took:?}");
    let mut after = 0u64;
    let summary = loop {
        let line = next();
        if line.starts_with("stopped ") {
            break line;
        }
        after += 1;
    };
    assert_eq!(field(&summary, "log_dropped"), dropped, "{summary}");
    // Each request logs `request` and `write`; each connection `accept` and `end`.
    let expected = 2 * (REQUESTS + CONNECTIONS) as u64;
    assert_eq!(
        before + after + dropped,
        expected,
        "every line is either logged or counted"
    );
    eprintln!("{before} lines logged, {dropped} dropped; then: {notice}");
}

/// Where stderr cannot stall (a regular file, /dev/null) lines are written
/// at once, on the loop's thread; only one that can (a pipe) gets the
/// writer thread.
#[test]
fn only_a_stderr_that_can_stall_gets_a_writer_thread() {
    let dir = TempDir::new("log-file");
    let file = std::fs::File::create(dir.join("log")).expect("a log file");
    for (name, stderr, writer) in [
        ("a regular file", Stdio::from(file), false),
        ("/dev/null", Stdio::null(), false),
        ("a pipe", Stdio::piped(), true),
    ] {
        let mut child = Command::new(BIN)
            .args(["serve", "hello", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("spawn hangup");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the listening line");
        let addr: SocketAddr = line
            .trim()
            .trim_start_matches("listening on ")
            .parse()
            .expect("an address");
        // The log opens at its first line (the accept), before the answer.
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(crate::support::GET).expect("send");
        crate::support::read_exact(&mut stream, 70);
        let threads: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", child.id()))
            .expect("/proc/PID/task")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|comm| comm.trim().to_owned())
            .collect();
        let _ = child.kill();
        let _ = child.wait();
        // The loop's thread, and the writer if any (it may not have named
        // itself `log` yet).
        let expected = if writer { 2 } else { 1 };
        assert_eq!(threads.len(), expected, "stderr {name}: threads {threads:?}");
    }
}
