//! Statements of the language whose bytes on the wire are the point,
//! seen from a real client: a `write` that drips in pieces of a given
//! size, a `respond` whose body goes out where HTTP says none.

use std::time::Duration;

use crate::support::{End, GET, Server, exchange, scenario_file};

/// The `bytes` of each `write` line of the log, in order.
fn writes(server: &Server) -> Vec<u64> {
    server
        .log()
        .iter()
        .filter(|line| line.contains(r#""event":"write""#))
        .filter_map(|line| {
            let rest = line.split(r#""bytes":"#).nth(1)?;
            rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        })
        .collect()
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
    assert_eq!(server.count_log(r#""event":"sleep""#), 2);
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
