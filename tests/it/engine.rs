//! The event loop's promises, observed from real clients: connections never
//! delay each other, a reset comes after every written byte, a peer that
//! vanishes is noticed and logged, and accept survives running out of
//! descriptors.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{BIN, End, GET, Server, exchange, json, read_exact, read_to_end, scenario_file, text};

const SHORT: Duration = Duration::from_secs(2);

#[test]
fn a_sleeping_connection_does_not_delay_another() {
    let path = scenario_file(
        "sleep-first",
        "if connection is 1\n  sleep 3s\nend\nread request\nrespond 200 body \"fast\"\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let mut first = server.connect();
    first.write_all(GET).unwrap();
    server.wait_for_log(&[r#""event":"sleep""#]);
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert!(text(&received).ends_with("fast"));
    assert_eq!(end, End::PeerFin);
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[test]
fn a_large_write_to_a_slow_reader_does_not_block_another() {
    let path = scenario_file(
        "big-first",
        "read request\nif connection is 1\n  write repeat 64MiB \"x\"\nend\nrespond 200 body \"fast\"\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let mut first = server.connect();
    first.write_all(GET).unwrap();
    // Its first byte shows the write has begun; the client reads no more,
    // so the rest of the 64 MiB is stuck in WouldBlock.
    assert_eq!(read_exact(&mut first, 1), b"x");
    let (received, end, elapsed) = exchange(&server, GET, SHORT);
    assert!(text(&received).ends_with("fast"));
    assert_eq!(end, End::PeerFin);
    assert!(elapsed < Duration::from_millis(500), "{elapsed:?}");
}

#[test]
fn reset_comes_after_every_written_byte() {
    // Far more than the socket buffers hold, so the RST must wait for the
    // send queue to empty or the client would see fewer bytes.
    let size = 8 << 20;
    let path = scenario_file("big-then-reset", "read request\nwrite repeat 8MiB \"z\"\nreset\n");
    let server = Server::start(&path, &[]);
    let (received, end, _) = exchange(&server, GET, Duration::from_secs(10));
    assert_eq!(received.len(), size);
    assert!(received.iter().all(|&b| b == b'z'));
    assert_eq!(end, End::PeerRst);
}

#[test]
fn a_client_that_resets_mid_sleep_is_logged_at_once() {
    let server = Server::start("server-timeout", &["after=10s"]);
    let stream = server.connect();
    (&stream).write_all(GET).unwrap();
    server.wait_for_log(&[r#""event":"sleep""#]);
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    let start = Instant::now();
    drop(stream);
    let end = server.wait_for_event("end");
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(end["how"], "peer-rst", "{end}");
    // The server is unharmed.
    let server_ok = exchange(&server, b"", Duration::from_millis(100));
    assert_eq!(server_ok.1, End::Open);
}

#[test]
fn a_client_that_half_closes_mid_sleep_still_gets_the_ending() {
    let server = Server::start("server-timeout-reset", &["after=50ms"]);
    let mut stream = server.connect();
    stream.write_all(GET).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!((received.as_slice(), end), (&b""[..], End::PeerRst));
    server.wait_for_log(&[r#""event":"peer-half-close""#]);
}

#[test]
fn half_close_then_read_until_eof() {
    let path = scenario_file(
        "half",
        "write \"bye\"\nhalf-close\nread until eof\nlog \"client done\"\n",
    );
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!((received.as_slice(), end), (&b"bye"[..], End::PeerFin));
    // Our half is still open: the server reads until we close it.
    stream.write_all(b"late data").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let eof = server.wait_for_event("eof");
    assert_eq!(eof["bytes"], 9, "{eof}");
    let said = server.wait_for_event("log");
    assert_eq!(said["message"], "client done", "{said}");
}

#[test]
fn data_and_fin_that_arrive_together_are_both_read() {
    // Both arrive while the script sleeps, so one event reports them; the
    // read after the sleep must find the FIN behind the data, though no
    // new event will come for it.
    let path = scenario_file("together", "sleep 50ms\nread until eof\nwrite \"got it\"\n");
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    stream.write_all(b"late data").unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let (received, end) = read_to_end(&mut stream, SHORT);
    assert_eq!((received.as_slice(), end), (&b"got it"[..], End::PeerFin));
    let eof = server.wait_for_event("eof");
    assert_eq!(eof["bytes"], 9, "{eof}");
}

#[test]
fn close_now_with_unread_input_is_logged_as_rst() {
    let path = scenario_file("close-now", "read head\nsleep 30ms\nclose now\n");
    let server = Server::start(&path, &[]);
    let (_, end, _) = exchange(&server, b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", SHORT);
    assert_eq!(end, End::PeerRst);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "rst", "{end}");
    assert_eq!(end["unread"], 5, "{end}");
}

#[test]
fn plain_close_drains_unread_input_and_sends_fin() {
    let path = scenario_file("close-drain", "read head\nsleep 30ms\nclose\n");
    let server = Server::start(&path, &[]);
    let (_, end, _) = exchange(&server, b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", SHORT);
    assert_eq!(end, End::PeerFin);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "fin", "{end}");
    assert_eq!(end["drained"], 5, "{end}");
}

/// Not every machine has `::1` (containers often have IPv6 off);
/// scripts/test.sh runs this where there is one.
#[test]
#[ignore = "needs an IPv6 loopback (::1); scripts/test.sh runs it where there is one"]
fn serves_on_ipv6_loopback() {
    assert!(
        !TcpStream::connect("[::1]:1").is_err_and(|e| e.raw_os_error() == Some(libc::EADDRNOTAVAIL)),
        "no IPv6 loopback (::1) here"
    );
    let server = Server::start_on("mid-body-reset", &[], "[::1]:0");
    assert!(server.addr.is_ipv6());
    let (received, end, _) = exchange(&server, GET, SHORT);
    assert!(received.ends_with(b"Hello,"));
    assert_eq!(end, End::PeerRst);
}

#[test]
fn json_log_has_connection_and_millisecond_times() {
    let server = Server::start("empty-reply", &[]);
    exchange(&server, GET, SHORT);
    let line = server.wait_for_log(&[r#""event":"end""#]);
    // The text itself: connection and time first, the time in whole
    // microseconds (milliseconds with three decimals).
    assert!(line.starts_with(r#"{"conn":1,"t_ms":"#), "{line}");
    let t_ms = line.split(r#""t_ms":"#).nth(1).unwrap().split(',').next().unwrap();
    assert_eq!(t_ms.split('.').nth(1).map(str::len), Some(3), "{line}");
    let end = json::parse(&line);
    assert_eq!(end["bytes_in"], 35, "{line}");
    assert_eq!(end["bytes_out"], 0, "{line}");
}

#[test]
fn a_connection_that_never_waits_does_not_starve_another() {
    // `sleep 0ms` in a loop is always ready again: without a budget of
    // steps per turn, connection 1 would keep the event loop forever.
    let path = scenario_file(
        "busy-first",
        "if connection is 1\n  write \"x\"\n  loop\n    sleep 0ms\n  end\nend\nread request\nrespond 200 body \"fast\"\nclose\n",
    );
    // Quiet: every `sleep 0ms` would be a log line.
    let (mut child, addr) =
        crate::support::spawn_listening(Command::new(BIN).args(["serve", &path, "--listen", "127.0.0.1:0", "--quiet"]));
    let mut busy = TcpStream::connect(addr).unwrap();
    // Its "x" comes just before the loop: connection 1 is spinning.
    assert_eq!(read_exact(&mut busy, 1), b"x");
    let mut other = TcpStream::connect(addr).unwrap();
    other.write_all(GET).unwrap();
    let (received, end) = read_to_end(&mut other, SHORT);
    let _ = child.kill();
    let _ = child.wait();
    drop(busy);
    assert!(text(&received).ends_with("fast"), "{}", text(&received));
    assert_eq!(end, End::PeerFin);
}
