//! What `hangup probe` connects to, from the target the user typed: a
//! bare port with a path is this machine, and a spelling that some
//! resolver reads as another address (`http://9000` is 0.0.35.40) is a
//! usage error, never a connection. The rules themselves are a table in
//! src/probe/target.rs; this checks the real binary.

use crate::support::json::field;
use crate::support::{Server, probe};

#[test]
fn a_bare_port_with_a_path_is_this_machine() {
    let server = Server::start("hello", &[]);
    let port = server.addr.port();
    let probed = probe(&format!("{port}/big?q=1"), &["--expect", "complete"]);
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    assert!(
        probed.stdout.starts_with(&format!(
            "address   127.0.0.1:{port}\nsent      87 B      GET /big?q=1 HTTP/1.1\n"
        )),
        "{}",
        probed.stdout
    );
    let request = server.wait_for_log(&[r#""event":"request""#]);
    assert_eq!(field(&request, "path"), "/big?q=1", "{request}");
}

#[test]
fn a_target_that_could_dial_what_was_not_named_is_a_usage_error() {
    let table = [
        (
            "http://9000/big",
            "http://9000/big: a host of digits alone is read as a 32-bit address (9000 is 0.0.35.40), \
             so it is refused; for port 9000 on this machine write 9000 or 127.0.0.1:9000",
        ),
        ("0.0.35.40", "0.0.35.40: 0.0.35.40 is in 0.0.0.0/8, which names no host"),
        (
            "0.0.0.0:9000",
            "0.0.0.0:9000: 0.0.0.0 is where a server listens on every address, not a host to connect to; \
             for this machine write 127.0.0.1:9000",
        ),
        (
            "127.1:9000",
            "127.1:9000: `127.1` ends in a number but is not four numbers",
        ),
        (":9000", "no host"),
        ("127.0.0.1:0", "port 0 cannot be connected to"),
        ("127.0.0.1:65536", "port 65536 is over 65535"),
        ("::1", "an IPv6 address goes in brackets: [::1]:9000"),
        ("[::1]x", "`x` after `[::1]`: only `:PORT` may follow"),
    ];
    for (target, message) in table {
        let probed = probe(target, &[]);
        assert_eq!(probed.code, Some(2), "{target}: {}", probed.stdout);
        assert!(probed.stdout.is_empty(), "{target}: {}", probed.stdout);
        assert!(
            probed.stderr.starts_with("hangup: ") && probed.stderr.contains(message),
            "{target}: {}",
            probed.stderr
        );
    }
}
