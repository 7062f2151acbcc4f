//! Issue 20, from the client side: header values of any bytes (a 20 KB
//! `Set-Cookie` built with `repeat`), `read body` after `read head`, and the
//! built-in `early-413`.

mod support;

use std::process::Command;
use std::time::Duration;

use support::{End, GET, Server, exchange, scenario_file, text};

const NODE_CLIENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/clients/node-client.js");

/// usebruno/bruno#2201: a 20 KB header, written with `repeat` instead of a
/// raw `write`, arrives byte-exact; Node's client refuses it.
#[test]
fn a_repeated_header_value_arrives_whole() {
    let path = scenario_file(
        "i20-big-header",
        "read request\nrespond 200 header \"Set-Cookie: \" repeat 20KiB \"a\" hex \"3b\" \"x\" body \"ok\"\n",
    );
    let server = Server::start(&path, &[]);
    let (bytes, end, _) = exchange(&server, GET, Duration::from_secs(5));
    let mut want = b"HTTP/1.1 200 OK\r\nSet-Cookie: ".to_vec();
    want.extend(std::iter::repeat_n(b'a', 20 * 1024));
    want.extend_from_slice(b";x\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(bytes.len(), want.len());
    assert!(bytes == want, "{}", text(&bytes[..200.min(bytes.len())]));
    assert_eq!(end, End::PeerFin);

    // Node's parser allows 16 KiB of header (`--max-http-header-size`).
    let url = format!("http://{}/", server.addr);
    let out = Command::new("node")
        .args([NODE_CLIENT, &url, "1", "0", "5000", "0"])
        .output()
        .expect("run node (.ci/run installs it)");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout),
        "request 1: error HPE_HEADER_OVERFLOW: Parse Error: Header overflow (reusedSocket=false)\n"
    );
}

/// `check` accepts a 1 GiB header: it stays a repeat, never held whole.
#[test]
fn a_gibibyte_header_is_checked_without_being_built() {
    let path = scenario_file(
        "i20-huge-header",
        "read request\nrespond 200 header \"X-Big: \" repeat 1GiB \"a\"\n",
    );
    let out = support::hangup(&["check", &path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
