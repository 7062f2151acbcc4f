//! How HTTP/2 answers leave the server, counted from the client side: a
//! response's HEADERS and DATA go in one write, as HTTP/1.1's head and
//! body do. Each write to a loopback socket with TCP_NODELAY is a TCP
//! segment of its own (when under the MSS, 64 KiB), so the client counts
//! writes as the segments with data it received (`tcpi_data_segs_in` of
//! TCP_INFO). A write per frame costs a segment, a wake-up of the client
//! and a syscall: under `h2load -m100` the server's CPU per request.

use std::io::Write;
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use crate::support::Server;
use crate::support::h2::{self, ACK, DATA, END_HEADERS, END_STREAM, HEADERS, PREFACE, SETTINGS};

const WAIT: Duration = Duration::from_secs(5);

/// Segments with data this socket has received so far.
fn data_segments_in(stream: &TcpStream) -> u32 {
    // SAFETY: getsockopt writes at most `len` bytes into `info`, a plain
    // C struct for which all zeroes is a valid value.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockopt(TCP_INFO): {}", std::io::Error::last_os_error());
    info.tcpi_data_segs_in
}

/// A connection past the handshake: the preface and an empty SETTINGS
/// sent, the server's SETTINGS and its ACK of ours read. Nothing more is
/// on its way from the server.
fn handshake(server: &Server) -> TcpStream {
    let mut stream = server.connect();
    let mut hello = PREFACE.to_vec();
    hello.extend(h2::frame(SETTINGS, 0, 0, &[]));
    stream.write_all(&hello).expect("send the preface");
    // The server's SETTINGS go first, its ACK of ours after.
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == SETTINGS && f.flags & ACK != 0);
    let kinds: Vec<_> = frames.iter().map(|f| (f.kind, f.flags)).collect();
    assert_eq!(kinds, [(SETTINGS, 0), (SETTINGS, ACK)]);
    stream
}

/// `GET /` on each of `streams`, in one write.
fn requests(streams: &[u32]) -> Vec<u8> {
    let fields = [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "127.0.0.1"),
        (":path", "/"),
    ];
    let block = h2::block(&fields);
    streams
        .iter()
        .flat_map(|&stream| h2::frame(HEADERS, END_STREAM | END_HEADERS, stream, &block))
        .collect()
}

#[test]
fn a_response_leaves_in_one_write() {
    let server = Server::start("h2-hello", &[]);
    let mut stream = handshake(&server);
    let before = data_segments_in(&stream);
    stream.write_all(&requests(&[1])).expect("send the request");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    let scripted = h2::scripted(&frames);
    assert_eq!(
        scripted.iter().map(|f| (f.kind, f.stream)).collect::<Vec<_>>(),
        [(HEADERS, 1), (DATA, 1)]
    );
    assert_eq!(
        data_segments_in(&stream) - before,
        1,
        "HEADERS and DATA in separate writes"
    );
}

#[test]
fn answers_to_requests_that_came_together_leave_in_one_write() {
    let server = Server::start("h2-hello", &[]);
    let mut stream = handshake(&server);
    let before = data_segments_in(&stream);
    let streams: Vec<u32> = (0..10).map(|i| 2 * i + 1).collect();
    stream.write_all(&requests(&streams)).expect("send the requests");
    let frames = h2::read_until(&mut stream, WAIT, |f| {
        f.kind == DATA && f.flags & END_STREAM != 0 && f.stream == 19
    });
    let ended: Vec<u32> = frames
        .iter()
        .filter(|f| f.kind == DATA && f.flags & END_STREAM != 0)
        .map(|f| f.stream)
        .collect();
    assert_eq!(ended, streams, "each request answered, in order");
    assert_eq!(
        data_segments_in(&stream) - before,
        1,
        "the answers left in several writes"
    );
}

/// What a step leaves queued goes before a step that is not HTTP/2's
/// own: here a `reset`, which would otherwise find nothing left to send
/// and cut the connection without the response.
#[test]
fn a_response_left_queued_goes_before_a_reset() {
    let path = crate::support::scenario_file("respond-reset", "read request\nrespond 200 body \"hello\\n\"\nreset\n");
    let server = Server::start(&path, &[]);
    let mut stream = handshake(&server);
    // Two requests: the first response is left queued for the second.
    stream.write_all(&requests(&[1, 3])).expect("send the requests");
    let (bytes, end) = crate::support::read_to_end(&mut stream, WAIT);
    let frames = h2::parse(&bytes);
    let scripted = h2::scripted(&frames);
    assert_eq!(
        scripted.iter().map(|f| (f.kind, f.flags, f.stream)).collect::<Vec<_>>(),
        [(HEADERS, END_HEADERS, 1), (DATA, END_STREAM, 1)]
    );
    assert_eq!(end, crate::support::End::PeerRst);
}

/// The same before a `sleep`: the response does not wait for it.
#[test]
fn a_response_left_queued_goes_before_a_sleep() {
    let path = crate::support::scenario_file(
        "respond-sleep",
        "loop\n  read request\n  respond 200 body \"hello\\n\"\n  sleep 30s\nend\n",
    );
    let server = Server::start(&path, &[]);
    let mut stream = handshake(&server);
    stream.write_all(&requests(&[1, 3])).expect("send the requests");
    let frames = h2::read_until(&mut stream, WAIT, |f| f.kind == DATA && f.flags & END_STREAM != 0);
    assert!(
        frames.iter().any(|f| f.kind == DATA && f.stream == 1),
        "no response before the sleep: {frames:?}"
    );
}
