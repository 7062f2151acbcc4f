//! SIGINT and SIGTERM stop hangup at once, with exit 0 and a one-line
//! summary; a reset still sending its bytes may finish first, unless a
//! second signal comes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::json::{self, field, number};
use crate::support::{End, GET, Server, read_exact, read_to_end, scenario_file};

#[test]
fn a_signal_stops_at_once_with_a_summary() {
    for signal in ["TERM", "INT"] {
        let server = Server::start("hello", &[]);
        let (_, _, _) = crate::support::exchange(
            &server,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            Duration::from_millis(100),
        );
        let mut open = server.connect();
        open.write_all(GET).expect("send");
        read_exact(&mut open, 70);
        let first = server.wait_for_event("end");
        assert_eq!(first["how"], "peer-fin", "{first}");
        let started = Instant::now();
        let (code, log) = server.stop(signal);
        assert_eq!(code, Some(0), "SIG{signal}");
        assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
        let summary = log.last().expect("a summary line");
        assert_eq!(field(summary, "event"), "stopped", "{summary}");
        assert_eq!(field(summary, "signal"), format!("SIG{signal}"));
        assert_eq!(
            ["accepted", "fin", "rst", "peer_fin", "peer_rst", "error", "still_open"].map(|k| number(summary, k)),
            [2, 0, 0, 1, 0, 0, 1],
            "{summary}"
        );
        // The connection left open ends cleanly when hangup exits.
        let (_, end) = read_to_end(&mut open, Duration::from_secs(2));
        assert_eq!(end, End::PeerFin);
    }
}

/// A client that reads nothing, with a tiny receive window: written bytes
/// stay in hangup's send queue, so its `reset` waits for them.
fn slow_reader(server: &Server) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&server.addr.into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream.write_all(GET).expect("send");
    stream
}

const BIG_THEN_RESET: &str = "read request\nwrite repeat 200KiB \"y\"\nreset\n";

#[test]
fn a_reset_still_sending_finishes_before_the_stop() {
    let path = scenario_file("stop-drain", BIG_THEN_RESET);
    let server = Server::start(&path, &[]);
    let mut client = slow_reader(&server);
    server.wait_for_log(&[r#""event":"write""#]);
    let pid = server.pid();
    server.signal("INT");
    server.wait_for_log(&[r#""event":"stopping""#]);
    // The stop waits for the bytes; read them all, then the RST comes.
    let mut got = 0;
    let mut buf = [0u8; 65536];
    let end = loop {
        match client.read(&mut buf) {
            Ok(0) => break End::PeerFin,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break End::PeerRst,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!((got, end), (200 * 1024, End::PeerRst), "hangup {pid}");
    let (code, log) = server.wait_for_exit();
    assert_eq!(code, Some(0));
    assert_eq!(json::events(&log, "stopping").len(), 1, "{}", log.join("\n"));
    let summary = log.last().expect("summary");
    assert_eq!(
        [number(summary, "rst"), number(summary, "still_open")],
        [1, 0],
        "{summary}"
    );
}

#[test]
fn a_second_signal_ends_the_wait() {
    let path = scenario_file("stop-twice", BIG_THEN_RESET);
    let server = Server::start(&path, &[]);
    let _client = slow_reader(&server);
    server.wait_for_log(&[r#""event":"write""#]);
    server.signal("INT");
    server.wait_for_log(&[r#""event":"stopping""#]);
    let started = Instant::now();
    let (code, log) = server.stop("INT");
    assert_eq!(code, Some(0));
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    let summary = log.last().expect("summary");
    assert_eq!(
        [number(summary, "rst"), number(summary, "still_open")],
        [0, 1],
        "{summary}"
    );
}
