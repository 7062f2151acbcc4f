//! Hostile and odd peers, from the outside: servers that flood, speak
//! another protocol or refuse at once, a probe short of descriptors, and
//! scripts whose own steps fail. Each case once crashed, hung or was
//! misreported (issue 16); each test watches the real binary.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{BIN, End, Server, hangup, json, probe, read_to_end, scenario_file, text};

/// A raw server on loopback that runs `serve` on each connection.
fn raw_server(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> String {
    crate::support::raw_server(serve).to_string()
}

#[test]
fn a_server_flooding_interim_heads_does_not_outlast_the_timeout() {
    let addr = raw_server(|mut stream| {
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        let head = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000);
        let give_up = Instant::now() + Duration::from_secs(30);
        // Until the probe goes away (or 30 s, so the loop always ends).
        while Instant::now() < give_up && stream.write_all(&head).is_ok() {}
    });
    let start = Instant::now();
    let report = probe(&addr, &["--timeout", "300ms", "--json"]).json();
    let took = start.elapsed();
    assert_eq!(report.request(1)["outcome"], "timeout", "{report}");
    // It once ran 15-40 s at 100% CPU; a loaded machine still takes well
    // under 5 s to notice 300 ms.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn bytes_that_are_not_http_are_an_error_at_once_not_after_the_timeout() {
    let addr = raw_server(|mut stream| {
        let _ = stream.write_all(b"SSH-2.0-OpenSSH_9.6\r\n");
        // Stay open and silent, as an SSH server waiting for the client.
        let mut buf = [0u8; 1024];
        let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
        while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    });
    let start = Instant::now();
    let out = hangup(&["probe", &addr]);
    let took = start.elapsed();
    let report = text(&out.stdout);
    assert!(report.contains("outcome   error"), "{report}");
    assert!(report.contains("not an HTTP response"), "{report}");
    // The default timeout is 10 s.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_refused_connect_is_refused_even_with_a_zero_timeout() {
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = format!("127.0.0.1:{port}");
    let report = probe(&target, &["--timeout", "0s", "--json"]).json();
    assert_eq!(report.request(1)["outcome"], "refused", "{report}");
}

#[test]
fn a_probe_short_of_descriptors_waits_for_one_instead_of_failing() {
    let server = Server::start("hello", &[]);
    // 64 descriptors: fewer than the 100 probes it is asked to run at once.
    let script = format!(
        "ulimit -n 64 && exec {BIN} probe {} --count 300 --concurrency 100 --json",
        server.addr
    );
    let out = Command::new("sh").args(["-c", &script]).output().expect("run sh");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = json::parse(&text(&out.stdout));
    assert_eq!(summary["outcomes"], json!({"complete": 300}), "{summary}");
}

#[test]
fn a_write_after_the_scripts_own_half_close_is_the_scripts_error_not_a_peer_reset() {
    let path = scenario_file(
        "write-after-half-close",
        "write \"a\"\nhalf-close\nwrite \"b\"\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let mut stream = server.connect();
    let (received, end) = read_to_end(&mut stream, Duration::from_secs(2));
    assert_eq!((received.as_slice(), end), (&b"a"[..], End::PeerFin));
    let end = server.wait_for_event("end");
    assert_eq!(end["how"], "error", "{end}");
    assert!(end["error"].as_str().is_some_and(|e| e.contains("half-close")), "{end}");
    drop(stream);
    let (code, log) = server.stop("TERM");
    assert_eq!(code, Some(0));
    let summary = json::event(&log, "stopped");
    assert_eq!(summary["peer_rst"], 0, "{summary}");
}

#[test]
fn a_client_reset_ends_a_script_whose_reads_never_touch_the_socket() {
    for (name, read) in [
        ("read-zero", "read 0 bytes"),
        ("within-zero", "read request within 0us else log \"none\""),
    ] {
        let path = scenario_file(name, &format!("loop\n  {read}\nend\n"));
        let server = Server::start(&path, &[]);
        let stream = server.connect();
        // Its script starts as it is accepted.
        server.wait_for_log(&[r#""event":"accept""#]);
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
        // Ended by the RST, or earlier as a script going nowhere; either
        // way the descriptor is not kept.
        server.wait_for_log(&[r#""event":"end""#]);
    }
}

#[test]
fn a_long_keep_alive_run_keeps_a_bounded_report() {
    let server = Server::start("hello", &[]);
    let target = server.addr.to_string();
    let report = crate::support::probe_json(&target, &["--requests", "2000"]);
    // The first 100 requests and the last are kept; the rest are counted.
    let numbers: Vec<u64> = report
        .requests()
        .iter()
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    let kept: Vec<u64> = (1..=100).chain([2000]).collect();
    assert_eq!(numbers, kept);
    assert_eq!(report["not_shown"], json!({"complete": 1899}), "{report}");
    // The timeline draws the first 100 exchanges and the ending only.
    let marks = report.timeline().len();
    assert!(marks < 500, "{marks} timeline marks");
    let plain = text(&hangup(&["probe", &target, "--requests", "150"]).stdout);
    assert!(
        plain.contains("requests 101-149 not shown: 49 complete\nrequest 150 (reused connection)"),
        "{plain}"
    );
}
