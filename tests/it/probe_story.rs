//! What the probe says about a connection's story beyond one response
//! (issue 19): a server that closes an idle connection, requests never
//! sent, the version and the pieces of a head in the diagram, times per
//! request, and `--expect` with a phase. Each from the real binary.

use crate::support::{Report, Server, TempDir, probe as probe_target, scenario_file};

/// `hangup probe ADDR FLAGS…`: its exit code and stdout.
fn probe(server: &Server, flags: &[&str]) -> (Option<i32>, String) {
    let probed = probe_target(&server.addr.to_string(), flags);
    (probed.code, probed.stdout)
}

/// `hangup probe ADDR --json FLAGS…`: its report.
fn probe_json(server: &Server, flags: &[&str]) -> Report {
    crate::support::probe_json(&server.addr.to_string(), flags)
}

#[test]
fn a_server_that_closes_the_idle_connection_is_named_and_the_next_request_meets_it_closed() {
    let server = Server::start("keepalive-idle-close", &["idle=50ms"]);
    let (code, report) = probe(&server, &["--requests", "2", "--gap", "200ms"]);
    assert_eq!(code, Some(0));
    assert!(
        // About 50 ms after the response (49.9 happens: the server's
        // timer starts at its write, the probe's at its read).
        report.contains("ended     FIN from server ")
            && report.contains(" ms after the response, while the connection was idle"),
        "{report}"
    );
    assert!(report.contains("outcome   empty (after-close)"), "{report}");
    let json = probe_json(&server, &["--requests", "2", "--gap", "200ms"]);
    assert_eq!(json.request(1)["ended"], "fin", "{json}");
    assert_eq!(json.request(2)["phase"], "after-close", "{json}");
}

#[test]
fn requests_a_closing_server_never_got_are_said() {
    let server = Server::start("end-close", &[]);
    let (_, report) = probe(&server, &["--requests", "3"]);
    assert!(
        report.ends_with("not sent  2 more request(s): the server answered request 1 with Connection: close\n"),
        "{report}"
    );
    let json = probe_json(&server, &["--requests", "3"]);
    assert_eq!(json["not_sent"]["count"], 2, "{json}");
    assert_eq!(
        json["not_sent"]["why"], "the server answered request 1 with Connection: close",
        "{json}"
    );
}

#[test]
fn the_diagram_draws_the_servers_version_and_the_pieces_of_a_head() {
    let path = scenario_file(
        "http10",
        "read request\nwrite \"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok\"\nclose\n",
    );
    let server = Server::start(&path, &[]);
    let (_, diagram) = probe(&server, &["--diagram"]);
    assert!(diagram.contains("HTTP/1.0 200 OK (38 B head)"), "{diagram}");
    let path = scenario_file(
        "half-head",
        "read request\nwrite \"HTTP/1.1 200 OK\\r\\nConte\"\nreset\n",
    );
    let server = Server::start(&path, &[]);
    let (_, diagram) = probe(&server, &["--diagram"]);
    assert!(diagram.contains("22 B, not a whole head"), "{diagram}");
    assert!(diagram.contains("reset (mid-head)"), "{diagram}");
}

#[test]
fn each_request_has_its_own_times() {
    let path = scenario_file(
        "slow-answers",
        "loop\n  read request\n  sleep 30ms\n  respond 200 body \"ok\"\nend\n",
    );
    let server = Server::start(&path, &[]);
    let json = probe_json(&server, &["--requests", "2"]);
    for number in [1, 2] {
        let ms = json.request(number)["ms_to_end"]
            .as_f64()
            .unwrap_or_else(|| panic!("{json}"));
        assert!(ms >= 25.0, "each request waited 30 ms: {json}");
    }
}

#[test]
fn expect_takes_a_phase() {
    let server = Server::start("mid-body-reset", &[]);
    assert_eq!(probe(&server, &["--expect", "reset (mid-body)"]).0, Some(0));
    assert_eq!(probe(&server, &["--expect", "reset (mid-head)"]).0, Some(1));
    assert_eq!(probe(&server, &["--expect", "reset"]).0, Some(0));
    assert_eq!(probe(&server, &["--expect", "reset (sideways)"]).0, Some(2));
}

#[test]
fn pipelined_requests_get_a_report_each_in_order() {
    let server = Server::start("hello", &[]);
    let json = probe_json(&server, &["--pipeline", "3"]);
    assert_eq!(json.requests().len(), 3, "{json}");
    for number in [1, 2, 3] {
        let request = json.request(number);
        assert_eq!(request["outcome"], "complete", "{json}");
        assert_eq!(request["received_bytes"], 70, "{json}");
    }
    // A --raw file of several requests is pipelined as it is.
    let dir = TempDir::new("two");
    let raw = dir.file(
        "two.raw",
        "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    let raw = raw.to_string_lossy().into_owned();
    let (_, report) = probe(&server, &["--raw", &raw]);
    assert!(
        report.contains("request 1 (new connection)\n  sent      28 B      GET /a HTTP/1.1"),
        "{report}"
    );
    assert!(
        report.contains("request 2 (reused connection)\n  sent      29 B      HEAD /b HTTP/1.1"),
        "{report}"
    );
    let (_, diagram) = probe(&server, &["--raw", &raw, "--diagram"]);
    assert!(diagram.contains("2 requests at once (57 B)"), "{diagram}");
    assert_eq!(probe(&server, &["--pipeline", "2", "--requests", "2"]).0, Some(2));
    assert_eq!(probe(&server, &["--pipeline", "0"]).0, Some(2));
}

#[test]
fn a_dripped_body_is_drawn_piece_by_piece_each_at_its_time() {
    let server = Server::start("slow-body", &["every=20ms"]);
    let json = probe_json(&server, &[]);
    let bodies = json.marks("body");
    let bytes: Vec<u64> = bodies.iter().map(|m| m["bytes"].as_u64().unwrap()).collect();
    let ms: Vec<f64> = bodies.iter().map(|m| m["ms"].as_f64().unwrap()).collect();
    // 13 bytes 20 ms apart: however the reads fell, several pieces, growing.
    assert!(bytes.len() >= 2, "one mark for the whole drip: {json}");
    assert!(
        bytes.windows(2).all(|w| w[0] < w[1]) && bytes.last() == Some(&13),
        "{json}"
    );
    assert!(ms.windows(2).all(|w| w[0] <= w[1]), "{json}");
    assert!(ms[ms.len() - 1] - ms[0] >= 100.0, "each piece at its own time: {json}");
    let (_, diagram) = probe(&server, &["--diagram"]);
    let arrows = diagram.lines().filter(|l| l.contains("<-- body ")).count();
    assert!(arrows >= 2 && diagram.contains("<-- body 13 of 13 B "), "{diagram}");
}

#[test]
fn a_long_drip_draws_its_first_pieces_and_counts_the_rest() {
    let target = crate::support::raw_server(|mut stream| {
        use std::io::{Read, Write};
        let mut buf = [0u8; 4096];
        let _ = stream.read(&mut buf);
        let _ = stream.set_nodelay(true);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n");
        for _ in 0..200 {
            if stream.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
        while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
    })
    .to_string();
    let json = crate::support::probe_json(&target, &[]);
    let drawn = json.marks("body").len();
    assert!(drawn <= 20, "{drawn} pieces drawn: {json}");
    // The last piece is told either way: drawn, or counted with the rest.
    let last = json
        .timeline()
        .iter()
        .rev()
        .find(|m| m["event"] == "body" || m["event"] == "more-pieces")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(
        (&last["bytes"], &last["expected"]),
        (&200.into(), &200.into()),
        "{json}"
    );
    if last["event"] == "more-pieces" {
        assert_eq!(last["of"], "body");
        assert!(last["pieces"].as_u64().unwrap() >= 1 && last["since_ms"].as_f64() <= last["ms"].as_f64());
    }
    assert!(json.timeline().len() <= 26, "{json}");
}

#[test]
fn requests_never_sent_after_a_reset_are_said_and_why() {
    let server = Server::start("mid-body-reset", &[]);
    let (code, report) = probe(&server, &["--requests", "4"]);
    assert_eq!(code, Some(0));
    assert!(report.contains("outcome   reset (mid-body)\n"), "{report}");
    assert!(
        report.ends_with("not sent  3 more request(s): the server reset the connection during request 1\n"),
        "{report}"
    );
    let json = probe_json(&server, &["--requests", "4"]);
    assert_eq!(json["not_sent"]["count"], 3, "{json}");
    assert_eq!(
        json["not_sent"]["why"], "the server reset the connection during request 1",
        "{json}"
    );
    // Refused at once: nothing was sent, and the report says so.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = crate::support::probe_json(&format!("127.0.0.1:{port}"), &["--requests", "2"]);
    assert_eq!(refused["not_sent"]["count"], 1, "{refused}");
    assert_eq!(refused["not_sent"]["why"], "the connection was refused", "{refused}");
}
