//! `hangup probe` against the built-in scenarios, from the real binary:
//! outcome classes, JSON byte counts, keep-alive reuse, the diagram, many
//! probes at once, and `--expect` exit codes.

use serde_json::json;

use crate::support::{Report, Server, hangup, probe_json, scenario_file, text};

/// The probe's JSON report of `server`, asked at `http://ADDR/`.
fn report(server: &Server, flags: &[&str]) -> Report {
    probe_json(&format!("http://{}/", server.addr), flags)
}

/// `(scenario, --set, probe flags, outcome, phase, status, received, body, ended)`
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
    Option<u16>,
    u64,
    u64,
    &'static str,
);

#[test]
fn every_builtin_is_classified() {
    let cases: &[Case] = &[
        ("hello", &[], &[], "complete", None, Some(200), 70, 6, "open"),
        (
            "mid-body-reset",
            &[],
            &[],
            "reset",
            Some("mid-body"),
            Some(200),
            68,
            6,
            "rst",
        ),
        ("truncated-body", &[], &[], "truncated", None, Some(200), 68, 6, "fin"),
        (
            "truncated-chunked",
            &[],
            &[],
            "truncated",
            None,
            Some(200),
            57,
            5,
            "fin",
        ),
        ("empty-reply", &[], &[], "empty", None, None, 0, 0, "fin"),
        (
            "reset-on-first-byte",
            &[],
            &[],
            "reset",
            Some("before-response"),
            None,
            0,
            0,
            "rst",
        ),
        // 1 in 1: every request is chosen, whatever the seed.
        (
            "flaky",
            &["chance=1"],
            &[],
            "reset",
            Some("before-response"),
            None,
            0,
            0,
            "rst",
        ),
        ("server-timeout", &["after=30ms"], &[], "empty", None, None, 0, 0, "fin"),
        (
            "server-timeout-reset",
            &["after=30ms"],
            &[],
            "reset",
            Some("before-response"),
            None,
            0,
            0,
            "rst",
        ),
        (
            "slow-body",
            &["every=2ms"],
            &[],
            "complete",
            None,
            Some(200),
            78,
            13,
            "open",
        ),
        (
            "hang",
            &[],
            &["--timeout", "150ms"],
            "timeout",
            None,
            None,
            0,
            0,
            "timeout",
        ),
        ("end-keepalive", &[], &[], "complete", None, Some(200), 69, 5, "open"),
        ("end-close", &[], &[], "complete", None, Some(200), 88, 5, "fin"),
        (
            "early-413",
            &[],
            &["--body-bytes", "2MiB"],
            "complete",
            None,
            Some(413),
            72,
            0,
            "rst",
        ),
        ("end-destroy", &[], &[], "complete", None, Some(200), 69, 5, "rst"),
        (
            "bad-request",
            &[],
            &["-X", "BAD METHOD"],
            "complete",
            None,
            Some(400),
            47,
            0,
            "fin",
        ),
        (
            "bad-request-custom",
            &[],
            &["-X", "BAD METHOD"],
            "complete",
            None,
            Some(400),
            28,
            0,
            "fin",
        ),
    ];
    for (scenario, sets, flags, outcome, phase, status, received, body, ended) in cases {
        let server = Server::start(scenario, sets);
        let report = report(&server, flags);
        // One request: the probe's outcome and phase are its own.
        let request = report.request(1);
        let got = json!([
            report["outcome"],
            report["phase"],
            request["outcome"],
            request["phase"],
            request["status"],
            request["received_bytes"],
            request["body_bytes"],
            request["ended"],
        ]);
        let want = json!([outcome, phase, outcome, phase, status, received, body, ended]);
        assert_eq!(got, want, "{scenario}: {report}");
    }
}

#[test]
fn a_tls_built_in_refuses_the_probes_plain_http_and_closes() {
    // The probe speaks plain HTTP/1.1: its request is no ClientHello, the
    // log says so, and the script ends with a close, whatever it is.
    for name in [
        "tls-reset-on-hello",
        "tls-close-on-hello",
        "tls-alert-on-hello",
        "tls-stall-hello",
    ] {
        let server = Server::start(name, &[]);
        let report = report(&server, &[]);
        let request = report.request(1);
        let got = json!([request["outcome"], request["received_bytes"], request["ended"]]);
        assert_eq!(got, json!(["empty", 0, "fin"]), "{name}: {report}");
        server.wait_for_log(&[
            r#""event":"tls-hello-error""#,
            "looks like plaintext HTTP sent to a TLS port",
        ]);
    }
}

#[cfg(feature = "tls")]
#[test]
fn a_built_in_that_handshakes_answers_plain_http_with_a_tls_alert() {
    // TLS from the first byte: the probe's plain request is refused with
    // a 7-byte alert record, which is not HTTP.
    for name in [
        "tls-no-close-notify",
        "tls-alert-mid-body",
        "tls-expired",
        "tls-wrong-host",
        "tls-self-signed",
        "tls-unknown-ca",
    ] {
        let server = Server::start(name, &[]);
        let report = report(&server, &[]);
        let request = report.request(1);
        let got = json!([request["outcome"], request["received_bytes"]]);
        assert_eq!(got, json!(["error", 7]), "{name}: {report}");
        server.wait_for_log(&[r#""event":"end""#, r#""how":"error""#, "TLS: received corrupt message"]);
    }
}

#[test]
fn reset_on_accept_is_a_reset_before_any_response_byte() {
    // The RST races the probe's connect check: usually the connect itself
    // reports it (nothing was sent), sometimes the request's write or the
    // first read does.
    let server = Server::start("reset-on-accept", &[]);
    for _ in 0..5 {
        let report = report(&server, &[]);
        let request = report.request(1);
        assert_eq!(request["outcome"], "reset", "{report}");
        assert_eq!(request["ended"], "rst", "{report}");
        match request["phase"].as_str() {
            Some("at-connect" | "while-sending") => assert_eq!(request["sent_bytes"], 0, "{report}"),
            Some("before-response") => {}
            other => panic!("phase {other:?}: {report}"),
        }
        assert_eq!(request["received_bytes"], 0, "{report}");
    }
}

#[test]
fn connect_timeout_is_a_timeout_with_nothing_sent() {
    let server = Server::start("connect-timeout", &[]);
    let report = report(&server, &["--timeout", "200ms"]);
    let request = report.request(1);
    assert_eq!(request["outcome"], "timeout", "{report}");
    assert_eq!(request["received_bytes"], 0, "{report}");
}

#[test]
fn keepalive_reuse_shows_the_second_request_reset() {
    let server = Server::start("keepalive-reset", &[]);
    let report = report(&server, &["--requests", "2", "--gap", "20ms"]);
    assert_eq!(report.requests().len(), 2, "{report}");
    let (first, second) = (report.request(1), report.request(2));
    assert_eq!(json!([first["outcome"], first["reused"]]), json!(["complete", false]));
    assert_eq!(
        json!([second["outcome"], second["phase"], second["reused"]]),
        json!(["reset", "before-response", true]),
        "{report}"
    );
    assert_eq!(report["outcome"], "reset", "the probe's outcome is the last request's");
}

#[test]
fn keepalive_idle_close_seen_during_the_gap() {
    let server = Server::start("keepalive-idle-close", &["idle=30ms"]);
    let report = report(&server, &["--requests", "2", "--gap", "100ms"]);
    assert_eq!(report.request(1)["outcome"], "complete", "{report}");
    assert_eq!(report.request(2)["outcome"], "empty", "{report}");
    assert_eq!(report.marks("server-fin").len(), 1, "{report}");
}

#[test]
fn upload_reset_is_a_reset_while_sending_with_the_bytes_sent() {
    let server = Server::start("upload-reset", &["limit=64KiB"]);
    let report = report(&server, &["--body-bytes", "10MiB"]);
    let request = report.request(1);
    assert_eq!(
        json!([request["outcome"], request["phase"]]),
        json!(["reset", "while-sending"]),
        "{report}"
    );
    let sent = request["sent_bytes"].as_u64().unwrap();
    let total = request["request_bytes"].as_u64().unwrap();
    assert!(sent >= 64 * 1024 && sent < total, "sent {sent} of {total}");
    let read = server.wait_for_event("read");
    assert_eq!(read["bytes"], 65536, "{read}");
}

#[test]
fn raw_bytes_are_sent_exactly() {
    let server = Server::start("bad-request", &[]);
    let raw = scenario_file("raw-request", "NOT HTTP\r\n\r\n");
    let report = report(&server, &["--raw", &raw]);
    let request = report.request(1);
    assert_eq!(
        json!([request["status"], request["request_line"], request["request_bytes"]]),
        json!([400, "NOT HTTP", 12]),
        "{report}"
    );
}

#[test]
fn a_closed_port_is_refused() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let out = hangup(&["probe", &format!("127.0.0.1:{port}")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "ended     connection refused\noutcome   refused\n");
    let out = hangup(&["probe", &format!("127.0.0.1:{port}"), "--expect", "refused"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn text_report_matches_the_readme() {
    let server = Server::start("mid-body-reset", &[]);
    let out = hangup(&["probe", &format!("http://{}/", server.addr)]);
    let report = text(&out.stdout);
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "sent      80 B      GET / HTTP/1.1");
    assert_eq!(
        lines[1],
        "received  68 B      HTTP/1.1 200 OK, Content-Length: 13, body 6 of 13 B"
    );
    assert!(
        lines[2].starts_with("ended     RST from server after 68 B, "),
        "{report}"
    );
    assert!(lines[2].ends_with(" ms after the request"), "{report}");
    assert_eq!(lines[3], "outcome   reset (mid-body)");
}

/// Replace the time column (the first 9 characters of timeline lines).
fn mask_times(diagram: &str) -> String {
    diagram
        .lines()
        .map(|l| {
            let time = &l[..l.len().min(9)];
            if time.trim().parse::<f64>().is_ok() {
                format!("{:>9}{}", "T", &l[9..])
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn diagram_matches_the_golden_file() {
    let server = Server::start("mid-body-reset", &[]);
    let out = hangup(&["probe", &format!("http://{}/", server.addr), "--diagram"]);
    assert_eq!(out.status.code(), Some(0));
    let diagram = mask_times(&text(&out.stdout));
    let golden = include_str!("golden/mid-body-reset.diagram");
    assert_eq!(diagram, golden, "\n{diagram}");
    assert!(
        diagram.lines().all(|l| l.chars().count() <= 80),
        "wider than 80 columns"
    );
    assert!(!diagram.contains('\x1b'), "no colour when stdout is not a terminal");
}

#[test]
fn many_probes_count_outcomes_and_percentiles() {
    let server = Server::start("server-timeout-reset", &["after=50ms"]);
    let target = server.addr.to_string();
    let summary = probe_json(&target, &["--count", "200", "--concurrency", "50"]);
    assert_eq!(summary["probes"], 200, "{summary}");
    assert_eq!(
        summary["outcomes"],
        json!({"reset (before-response)": 200}),
        "{summary}"
    );
    let ms = |name: &str| {
        summary["ms_to_end"][name]
            .as_f64()
            .unwrap_or_else(|| panic!("{summary}"))
    };
    assert!(ms("p50") >= 50.0 && ms("max") < 2000.0, "{summary}");
    let out = hangup(&["probe", &target, "--count", "20", "--concurrency", "5"]);
    let summary = text(&out.stdout);
    assert!(summary.starts_with("probes    20 (5 at a time) in "), "{summary}");
    assert!(
        summary.contains("\noutcomes  reset (before-response): 20\n"),
        "{summary}"
    );
    assert!(summary.contains(" ms after the request"), "{summary}");
}

#[test]
fn expectations_set_the_exit_code() {
    let server = Server::start("mid-body-reset", &[]);
    let target = server.addr.to_string();
    let ok = hangup(&[
        "probe",
        &target,
        "--expect",
        "reset",
        "--expect-body-bytes",
        "6",
        "--expect-status",
        "200",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    let wrong = hangup(&["probe", &target, "--expect", "complete"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        text(&wrong.stderr),
        "hangup: expectation failed: expected complete, got reset (mid-body)\n"
    );
    let wrong = hangup(&["probe", &target, "--expect-body-bytes", "13"]);
    assert_eq!(wrong.status.code(), Some(1));
    assert_eq!(
        text(&wrong.stderr),
        "hangup: expectation failed: expected 13 body bytes, got 6\n"
    );
    let usage = hangup(&["probe", &target, "--expect", "sad"]);
    assert_eq!(usage.status.code(), Some(2));
    let usage = hangup(&["probe", "ftp://example.com/"]);
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(
        text(&usage.stderr),
        "hangup: ftp://example.com/: ftp:// is not supported; the target is an http:// or https:// URL\n"
    );
}

#[test]
fn every_builtin_is_probed_here() {
    crate::support::assert_every_builtin_in("tests/it/probe.rs", include_str!("probe.rs"), |name| {
        format!("\"{name}\"")
    });
}

/// The HTTP/2 built-ins probed over HTTP/1.1: `h2-hello` answers as
/// `hello` does; the others speak only HTTP/2, and say so with a 505 and
/// a close, never a silent one.
#[test]
fn http2_built_ins_tell_an_http1_probe_what_they_speak() {
    let server = Server::start("h2-hello", &[]);
    let hello = report(&server, &[]);
    assert_eq!(hello.request(1)["status"], 200, "{hello}");
    for name in [
        "h2-goaway-refuse",
        "h2-goaway-drain-cut",
        "h2-rst-after-headers",
        "h2-refused-stream",
        "h2-max-age",
        "h2-too-many-pings",
        "h2-window-stall",
    ] {
        let server = Server::start(name, &[]);
        let report = report(&server, &[]);
        let request = report.request(1);
        let got = json!([report["outcome"], request["status"], request["ended"]]);
        assert_eq!(got, json!(["complete", 505, "fin"]), "{name}: {report}");
        server.wait_for_log(&[r#""event":"h2-not-spoken""#]);
    }
}
