//! Out of file descriptors: 200 clients against a hangup allowed 64. It
//! says so once per burst, does not spin while it waits, and serves new
//! clients as soon as old ones leave.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{End, GET, Server, read_exact, read_to_end, text};

const DESCRIPTORS: u32 = 64;
const CLIENTS: usize = 200;
const HELLO: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n";

/// hangup `hello` (idle connections kept for a minute) at 64 descriptors,
/// with 200 clients connected: it accepts what it can (stdio, epoll, the
/// timer, the signals and the listener take 7), and the rest wait in the
/// kernel's backlog.
fn crowd() -> (Server, Vec<TcpStream>) {
    let server = Server::start_limited("hello", &["idle=60s"], DESCRIPTORS);
    let clients: Vec<TcpStream> = (0..CLIENTS).map(|_| server.connect()).collect();
    let paused = server.wait_for_event("accept-paused");
    assert!(
        paused["error"]
            .as_str()
            .is_some_and(|e| e.contains("Too many open files")),
        "{paused}"
    );
    (server, clients)
}

/// CPU time the process has used (utime + stime, from /proc).
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc/PID/stat");
    let after_name = stat.rsplit(')').next().expect("stat fields");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    Duration::from_millis(ticks * 10)
}

#[test]
fn running_out_is_logged_once_per_burst() {
    let (server, mut clients) = crowd();
    let accepted = server.events("accept").len();
    assert!((40..64).contains(&accepted), "accepted {accepted}");
    // Ten accepted clients leave: ten waiting ones are taken, and the
    // limit is hit again, in the same burst: no new line.
    clients.drain(..10);
    server.wait_for_events("accept", accepted + 10);
    // A request on a connection accepted before: its line comes after the
    // accept that hit the limit again, so any line about that is in by now.
    clients[0].write_all(GET).expect("send");
    server.wait_for_event("request");
    assert_eq!(server.events("accept-paused").len(), 1, "{}", server.log().join("\n"));
    assert_eq!(server.events("accept-resumed").len(), 0);
    // Everyone leaves: the backlog drains and the burst is over.
    drop(clients);
    server.wait_for_event("accept-resumed");
    assert_eq!(server.events("accept-paused").len(), 1);
    assert_eq!(
        server.events("accept-error").len(),
        0,
        "exhaustion is not retried as an error"
    );
}

#[test]
fn at_the_limit_the_loop_is_idle() {
    let (server, _clients) = crowd();
    let before = cpu_time(server.pid());
    // Not a wait for something: the interval the CPU time is measured over.
    std::thread::sleep(Duration::from_millis(500));
    let spent = cpu_time(server.pid()) - before;
    // Idle is 0 ticks; a retry every 10 ms would be visible here.
    assert!(
        spent <= Duration::from_millis(20),
        "{spent:?} of CPU in 500 ms at the limit"
    );
}

#[test]
fn new_clients_are_served_as_soon_as_old_ones_leave() {
    let (server, clients) = crowd();
    // At the limit a new client waits in the backlog: no answer.
    let mut waiting = server.connect();
    waiting.write_all(GET).expect("send");
    let (received, end) = read_to_end(&mut waiting, Duration::from_millis(300));
    assert_eq!((received.as_slice(), end), (&b""[..], End::Open));
    // The others leave; the waiting client is answered.
    let left = Instant::now();
    drop(clients);
    let response = read_exact(&mut waiting, HELLO.len());
    let waited = left.elapsed();
    assert_eq!(text(&response), text(HELLO));
    // The time for 200 connections to close and be counted, not a retry
    // interval: generous for a loaded machine, far below any timer.
    assert!(
        waited < Duration::from_millis(500),
        "answered {waited:?} after the others left"
    );
}
