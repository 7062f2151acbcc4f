//! Scripts that would spin end instead (issue 16, items 6 and 7): a loop
//! of steps that cost nothing (`sleep 0us`, `read 0 bytes`, `read request
//! within 0us`, `half-close`) is stopped as stuck, and a `read request`
//! after a bad request closes the connection instead of refusing the same
//! bytes for ever. Either way the server goes on serving others.

use std::time::Duration;

use crate::support::{End, GET, Server, exchange, json, scenario_file, text};

/// Connection 1 runs `body`; the others get a plain 200.
fn first_connection_runs(body: &str) -> String {
    format!("if connection is 1\n {body}\nend\nread request\nrespond 200 body \"ok\"\n")
}

fn assert_served(server: &Server) {
    let (reply, end, took) = exchange(server, GET, Duration::from_secs(2));
    assert!(text(&reply).starts_with("HTTP/1.1 200 OK\r\n"), "{}", text(&reply));
    assert_eq!(end, End::PeerFin);
    assert!(took < Duration::from_secs(1), "the second client waited {took:?}");
}

#[test]
fn free_steps_in_a_loop_are_stopped_as_stuck() {
    for (name, body) in [
        ("sleep-0", "sleep 0us"),
        ("read-0", "read 0 bytes"),
        ("within-0", "read request within 0us"),
        ("half-close", "half-close"),
    ] {
        let path = scenario_file(
            &format!("spin-{name}"),
            &first_connection_runs(&format!("loop\n  {body}\n end")),
        );
        let server = Server::start(&path, &[]);
        let mut spinning = server.connect();
        let (_, end) = crate::support::read_to_end(&mut spinning, Duration::from_secs(2));
        assert_ne!(end, End::Open, "{name}: the spinning connection was not ended");
        let stuck = server.wait_for_event("stuck");
        assert_eq!(stuck["conn"], 1, "{stuck}");
        let why = json::parse(&server.wait_for_log(&[r#""event":"log""#, "did nothing"]));
        assert_eq!(why["conn"], 1, "{why}");
        // Bounded: a hundred steps and their lines, not millions.
        assert!(server.log().len() < 400, "{name}: {} log lines", server.log().len());
        assert_served(&server);
    }
}

#[test]
fn a_read_request_in_the_bad_request_handler_closes_the_connection() {
    let path = scenario_file(
        "reread",
        "on bad-request\n read request\n respond 200\nend\nread request\nrespond 200 body \"ok\"\n",
    );
    let server = Server::start(&path, &[]);
    let (reply, end, took) = exchange(&server, b"\x16\x03\x01 not http at all\r\n\r\n", Duration::from_secs(2));
    assert_eq!(end, End::PeerFin, "{}", text(&reply));
    assert!(reply.is_empty(), "{}", text(&reply));
    assert!(took < Duration::from_secs(1), "{took:?}");
    server.wait_for_log(&[r#""event":"log""#, "after a bad request"]);
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "fin", "{end}");
    assert_eq!(server.events("bad-request").len(), 1);
    assert_served(&server);
}
