//! Statements of the language whose bytes on the wire are the point,
//! seen from a real client: a `write` that drips in pieces of a given
//! size, a `respond` whose body goes out where HTTP says none.

use std::time::Duration;

use crate::support::json::whole;
use crate::support::{End, GET, Server, exchange, scenario_file};

/// The `bytes` of each `write` line of the log, in order.
fn writes(server: &Server) -> Vec<u64> {
    server.events("write").iter().map(|line| whole(line, "bytes")).collect()
}

#[test]
fn a_drip_with_a_size_writes_pieces_of_that_size_every_interval() {
    let path = scenario_file(
        "drip-pieces",
        "read request\nwrite \"abcdefg\" 3 bytes every 20ms\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let (bytes, end, took) = exchange(&server, GET, Duration::from_secs(5));
    assert_eq!((bytes.as_slice(), end), (&b"abcdefg"[..], End::PeerFin));
    // Two pauses between three pieces: never sooner.
    assert!(took >= Duration::from_millis(40), "{took:?}");
    server.wait_for_log(&[r#""event":"end""#]);
    assert_eq!(writes(&server), [3, 3, 1]);
    assert_eq!(server.events("sleep").len(), 2);
}

#[test]
fn a_drip_without_a_size_is_still_a_byte_at_a_time() {
    let path = scenario_file("drip-bytes", "read request\nwrite \"abc\" every 1ms\nclose\n");
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, GET, Duration::from_secs(5));
    assert_eq!((bytes.as_slice(), end), (&b"abc"[..], End::PeerFin));
    server.wait_for_log(&[r#""event":"end""#]);
    assert_eq!(writes(&server), [1, 1, 1]);
}

#[test]
fn respond_anyway_sends_the_body_to_a_head_request_after_the_head_http_frames() {
    let head = b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let path = scenario_file(
        "head-anyway",
        "read request\nrespond 200 body \"hello\" anyway\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, head, Duration::from_secs(5));
    assert_eq!(
        (String::from_utf8_lossy(&bytes), end),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".into(), End::PeerFin)
    );
    // Without `anyway`, as HTTP says: the same head, no body.
    let path = scenario_file("head-as-http-says", "read request\nrespond 200 body \"hello\"\nclose\n");
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, head, Duration::from_secs(5));
    assert_eq!(
        (String::from_utf8_lossy(&bytes), end),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".into(), End::PeerFin)
    );
}

#[test]
fn respond_anyway_sends_a_body_after_a_204() {
    let path = scenario_file(
        "no-content-anyway",
        "read request\nrespond 204 body \"oops\" anyway\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, GET, Duration::from_secs(5));
    assert_eq!(
        (String::from_utf8_lossy(&bytes), end),
        ("HTTP/1.1 204 No Content\r\n\r\noops".into(), End::PeerFin)
    );
}
