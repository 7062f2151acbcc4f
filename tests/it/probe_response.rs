//! `hangup probe` reading responses that strain its parser, served by a
//! real `hangup serve` of a scenario that writes them byte for byte: heads
//! judged by Node's 16 KiB limit rather than a count of lines, and
//! problems told in words that fit a response.

use crate::support::{Report, Server, probe, scenario_file};

/// A scenario that answers one request with `response` and closes.
fn serving(name: &str, response: &str) -> Server {
    let escaped = response
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\r', "\\r")
        .replace('\n', "\\n");
    let file = scenario_file(name, &format!("read request\nwrite \"{escaped}\"\nclose\n"));
    Server::start(&file, &[])
}

/// `(text report, JSON report)` of one probe of `server`.
fn reports(server: &Server) -> (String, Report) {
    let target = format!("http://{}/", server.addr);
    (probe(&target, &[]).stdout, probe(&target, &["--json"]).json())
}

#[test]
fn two_hundred_short_header_lines_are_a_complete_response() {
    let lines: String = (0..200).map(|i| format!("X-{i}: v\r\n")).collect();
    let server = serving(
        "many-lines",
        &format!("HTTP/1.1 200 OK\r\n{lines}Content-Length: 2\r\n\r\nok"),
    );
    let (report, json) = reports(&server);
    assert_eq!(json.request(1)["outcome"], "complete", "{report}\n{json}");
    assert_eq!(json.request(1)["status"], 200, "{json}");
    assert!(
        report.contains("HTTP/1.1 200 OK, Content-Length: 2, body 2 of 2 B"),
        "{report}"
    );
}

/// Node's client refuses a head whose status text, header names and
/// values add up to 16,384 bytes (checked against Node 20's `http.get`).
#[test]
fn a_head_is_judged_by_nodes_16_kib_count() {
    // "OK" + "X-A" + value + "Content-Length" + "2" = 20 + value.
    for (value, outcome) in [(16_363, "complete"), (16_364, "error")] {
        let server = serving(
            "big-head",
            &format!(
                "HTTP/1.1 200 OK\r\nX-A: {}\r\nContent-Length: 2\r\n\r\nok",
                "a".repeat(value)
            ),
        );
        let (report, json) = reports(&server);
        assert_eq!(json.request(1)["outcome"], outcome, "{value}: {json}");
        if outcome == "error" {
            assert!(
                report.contains("response head too large: 16384 bytes of status text, header names and values"),
                "{report}"
            );
        }
    }
}

#[test]
fn a_chunk_size_overflow_is_told_as_a_response_problem_with_the_bytes_that_came() {
    let server = serving(
        "overflow",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\nffffffffffffffffff\r\n",
    );
    let (report, json) = reports(&server);
    let request = json.request(1);
    assert_eq!(request["outcome"], "error", "{json}");
    assert_eq!(request["body_bytes"], 2, "{json}");
    assert_eq!(request["problem"], "bad chunked body: Chunk size overflow", "{json}");
    assert!(!report.contains("malformed request"), "{report}");
    assert!(
        report.contains("HTTP/1.1 200 OK, chunked, body 2 B, no last chunk; bad chunked body: Chunk size overflow"),
        "{report}"
    );
}

#[test]
fn an_oversized_trailer_is_not_called_a_request_head() {
    let trailer = format!("X-T: {}\r\n", "t".repeat(17_000));
    let server = serving(
        "trailer",
        &format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n{trailer}\r\n"),
    );
    let (report, json) = reports(&server);
    assert_eq!(json.request(1)["outcome"], "error", "{json}");
    assert_eq!(json.request(1)["body_bytes"], 2, "{json}");
    assert!(!report.contains("request head") && !report.contains("URL"), "{report}");
    assert!(
        report.contains("bad chunked body: trailer fields over Node's limit"),
        "{report}"
    );
}

/// Node's client, like its server, refuses a chunk whose extensions pass
/// 16 KiB (`HPE_CHUNK_EXTENSIONS_OVERFLOW`, checked against Node 20).
#[test]
fn chunk_extensions_over_16_kib_are_an_error() {
    for (ext, outcome) in [(16_384, "complete"), (16_385, "error")] {
        let server = serving(
            "extensions",
            &format!(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;{}\r\nab\r\n0\r\n\r\n",
                "a".repeat(ext)
            ),
        );
        let (report, json) = reports(&server);
        assert_eq!(json.request(1)["outcome"], outcome, "{ext}: {json}");
        if outcome == "error" {
            assert!(
                report.contains("bad chunked body: chunk extensions over Node's limit of 16384 bytes in one chunk"),
                "{report}"
            );
        }
    }
}

/// A reason phrase with bytes past ASCII (obs-text, which Node and curl
/// take) is shown, read as UTF-8 as the rest of the report reads bytes.
#[test]
fn a_reason_phrase_past_ascii_is_shown() {
    for (reason, shown) in [(&b"Tr\xc3\xa8s bien"[..], "Très bien"), (b"Tr\xe8s", "Tr\u{fffd}s")] {
        let response = [b"HTTP/1.1 200 ", reason, b"\r\nContent-Length: 2\r\n\r\nok"].concat();
        let target = crate::support::raw_server(move |mut stream| {
            use std::io::{Read, Write};
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(&response);
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
        })
        .to_string();
        let report = probe(&target, &[]).stdout;
        assert!(
            report.contains(&format!("HTTP/1.1 200 {shown}, Content-Length: 2, body 2 of 2 B")),
            "{report}"
        );
        let json = probe(&target, &["--json"]).json();
        assert_eq!(json.request(1)["reason"], shown, "{json}");
        let diagram = probe(&target, &["--diagram"]).stdout;
        assert!(diagram.contains(&format!("HTTP/1.1 200 {shown} (")), "{diagram}");
    }
}
