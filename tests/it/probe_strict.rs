//! `hangup probe` judges a response as strict clients do (issue 19): each
//! fault named with its offset and the clients that refuse it, in the text
//! report, the JSON and `--strict`'s exit code. The rules themselves are
//! held to a live Node and Python in tests/it/node_response_parity.rs; this
//! file checks that the probe reports them.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Server, hangup, probe as probe_target, text};

/// A raw server answering every connection's request with `response`,
/// then closing 30 ms later.
fn raw_server(response: impl Into<Vec<u8>>) -> String {
    let response = response.into();
    crate::support::raw_server(move |mut stream| {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream.write_all(&response);
        thread::sleep(Duration::from_millis(30));
    })
    .to_string()
}

/// `hangup probe TARGET FLAGS…`: its exit code and stdout.
fn probe(target: &str, flags: &[&str]) -> (Option<i32>, String) {
    let probed = probe_target(target, flags);
    (probed.code, probed.stdout)
}

#[test]
fn data_after_the_body_is_named_with_its_offset_and_who_refuses_it() {
    let target = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello0123456789012345678901234567890");
    let (code, report) = probe(&target, &[]);
    assert_eq!(code, Some(0), "without --strict a violation is a warning");
    assert!(report.contains("outcome   complete\n"), "{report}");
    assert!(
        report.contains("warning   node refuses: 31 bytes after the 5-byte body (at byte 43)"),
        "{report}"
    );
    let report = crate::support::probe_json(&target, &[]);
    assert_eq!(
        report.request(1)["violations"],
        json!([{"offset": 43, "what": "31 bytes after the 5-byte body", "refused_by": ["node"]}]),
        "{report}"
    );
    assert_eq!(probe(&target, &["--strict"]).0, Some(1));
}

#[test]
fn bare_lf_and_a_duplicate_content_length_are_refused_by_node() {
    let target = raw_server(b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok");
    let (code, report) = probe(&target, &["--strict"]);
    assert_eq!(code, Some(1));
    assert!(report.contains("node refuses: bare LF"), "{report}");
    let target = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok");
    let (_, report) = probe(&target, &[]);
    assert!(report.contains("node refuses: Content-Length given twice"), "{report}");
}

#[test]
fn stray_bytes_after_a_head_response_are_named_on_that_response() {
    let target = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nxxxxx");
    let (_, report) = probe(&target, &["-X", "HEAD"]);
    let warning = report
        .lines()
        .find(|l| l.contains("warning"))
        .unwrap_or_else(|| panic!("{report}"));
    assert!(
        warning.contains("node refuses") && warning.contains("(at byte 38)"),
        "{report}"
    );
}

#[test]
fn a_clean_server_passes_strict() {
    for scenario in ["hello", "end-close"] {
        let server = Server::start(scenario, &[]);
        let target = server.addr.to_string();
        let (code, report) = probe(&target, &["--strict", "--requests", "2"]);
        assert_eq!(code, Some(0), "{scenario}: {report}");
        assert!(!report.contains("warning"), "{report}");
    }
}

#[test]
fn strict_judges_many_probes_at_once_too() {
    let target = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
    let out = hangup(&["probe", &target, "--count", "3", "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--strict: 3 protocol violation(s)"),
        "{}",
        text(&out.stderr)
    );
    let out = hangup(&["probe", &target, "--count", "3"]);
    assert_eq!(out.status.code(), Some(0));
}

const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

/// Node refuses what the probe's own reader gives up on too; `--strict`
/// must say so, not pass it because the response was cut short.
#[test]
fn twenty_kib_of_trailers_are_refused_by_node() {
    let trailers: String = (0..200).map(|i| format!("X-T{i:03}: {}\r\n", "t".repeat(90))).collect();
    let target = raw_server(format!("{CHUNKED}5\r\nhello\r\n0\r\n{trailers}\r\n"));
    let (code, report) = probe(&target, &["--strict"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("warning   node refuses: trailer too large: 16416 bytes of trailer field names and values"),
        "{report}"
    );
    let report = crate::support::probe_json(&target, &[]);
    assert_eq!(
        report.request(1)["violations"][0]["refused_by"],
        json!(["node"]),
        "{report}"
    );
}

#[test]
fn a_twenty_kib_chunk_extension_is_refused_by_node() {
    let target = raw_server(format!("{CHUNKED}5;a={}\r\nhello\r\n0\r\n\r\n", "v".repeat(20_000)));
    let (code, report) = probe(&target, &["--strict"]);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains(
            "warning   node refuses: chunk extensions too large: over 16384 bytes of names and values in one chunk (at byte 16434)"
        ),
        "{report}"
    );
}

/// Empty lines and never a status line: Python refuses the first; Node
/// waits for ever (checked against Node 20, see node_response_parity).
#[test]
fn an_endless_run_of_empty_lines_is_refused_by_python() {
    let target = crate::support::raw_server(|mut stream| {
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let lines = b"\r\n".repeat(32 * 1024);
        let give_up = Instant::now() + Duration::from_secs(5);
        // Until the probe goes away (or 5 s, so the loop always ends).
        while Instant::now() < give_up && stream.write_all(&lines).is_ok() {}
    })
    .to_string();
    let (code, report) = probe(&target, &["--strict", "--timeout", "2s"]);
    assert_eq!(code, Some(1), "{report}");
    let warning = report
        .lines()
        .find(|l| l.starts_with("warning"))
        .unwrap_or_else(|| panic!("no warning: {report}"));
    assert!(
        warning.starts_with("warning   python refuses: ")
            && warning
                .ends_with(" bytes of empty lines and no status line yet (Node reads on without end) (at byte 0)"),
        "{report}"
    );
}
