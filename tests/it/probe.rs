//! `hangup probe` against the built-in scenarios, from the real binary:
//! outcome classes, JSON byte counts, keep-alive reuse, the diagram, many
//! probes at once, and `--expect` exit codes.

use crate::support::{Server, hangup, scenario_file, text};

/// The raw value of the first `"key":` in a JSON text (numbers, `null`,
/// `true`, or a string with its quotes).
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let pattern = format!("\"{key}\":");
    let start = json.find(&pattern).unwrap_or_else(|| panic!("no {key} in {json}")) + pattern.len();
    let rest = &json[start..];
    let end = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map(|i| i + 2).unwrap_or(rest.len())
    } else {
        rest.find([',', '}', ']']).unwrap_or(rest.len())
    };
    &rest[..end]
}

/// The JSON objects of each request in a probe's JSON.
fn requests(json: &str) -> Vec<&str> {
    json.split("{\"number\":").skip(1).collect()
}

fn probe_json(server: &Server, extra: &[&str]) -> String {
    let target = format!("http://{}/", server.addr);
    let mut args = vec!["probe", target.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = hangup(&args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// `(scenario, --set, probe flags, outcome, phase, status, received, body, ended)`
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
    u64,
    u64,
    &'static str,
);

#[test]
fn every_builtin_is_classified() {
    let cases: &[Case] = &[
        ("hello", &[], &[], "\"complete\"", "null", "200", 70, 6, "\"open\""),
        (
            "mid-body-reset",
            &[],
            &[],
            "\"reset\"",
            "\"mid-body\"",
            "200",
            68,
            6,
            "\"rst\"",
        ),
        (
            "truncated-body",
            &[],
            &[],
            "\"truncated\"",
            "null",
            "200",
            68,
            6,
            "\"fin\"",
        ),
        (
            "truncated-chunked",
            &[],
            &[],
            "\"truncated\"",
            "null",
            "200",
            57,
            5,
            "\"fin\"",
        ),
        ("empty-reply", &[], &[], "\"empty\"", "null", "null", 0, 0, "\"fin\""),
        (
            "reset-on-first-byte",
            &[],
            &[],
            "\"reset\"",
            "\"before-response\"",
            "null",
            0,
            0,
            "\"rst\"",
        ),
        // 1 in 1: every request is chosen, whatever the seed.
        (
            "flaky",
            &["chance=1"],
            &[],
            "\"reset\"",
            "\"before-response\"",
            "null",
            0,
            0,
            "\"rst\"",
        ),
        (
            "server-timeout",
            &["after=30ms"],
            &[],
            "\"empty\"",
            "null",
            "null",
            0,
            0,
            "\"fin\"",
        ),
        (
            "server-timeout-reset",
            &["after=30ms"],
            &[],
            "\"reset\"",
            "\"before-response\"",
            "null",
            0,
            0,
            "\"rst\"",
        ),
        (
            "slow-body",
            &["every=2ms"],
            &[],
            "\"complete\"",
            "null",
            "200",
            78,
            13,
            "\"open\"",
        ),
        (
            "hang",
            &[],
            &["--timeout", "150ms"],
            "\"timeout\"",
            "null",
            "null",
            0,
            0,
            "\"timeout\"",
        ),
        (
            "end-keepalive",
            &[],
            &[],
            "\"complete\"",
            "null",
            "200",
            69,
            5,
            "\"open\"",
        ),
        ("end-close", &[], &[], "\"complete\"", "null", "200", 88, 5, "\"fin\""),
        (
            "early-413",
            &[],
            &["--body-bytes", "2MiB"],
            "\"complete\"",
            "null",
            "413",
            72,
            0,
            "\"rst\"",
        ),
        ("end-destroy", &[], &[], "\"complete\"", "null", "200", 69, 5, "\"rst\""),
        (
            "bad-request",
            &[],
            &["-X", "BAD METHOD"],
            "\"complete\"",
            "null",
            "400",
            47,
            0,
            "\"fin\"",
        ),
        (
            "bad-request-custom",
            &[],
            &["-X", "BAD METHOD"],
            "\"complete\"",
            "null",
            "400",
            28,
            0,
            "\"fin\"",
        ),
    ];
    for (scenario, sets, flags, outcome, phase, status, received, body, ended) in cases {
        let server = Server::start(scenario, sets);
        let json = probe_json(&server, flags);
        let got = (
            field(&json, "outcome"),
            field(&json, "phase"),
            field(&json, "status"),
            field(&json, "received_bytes").parse::<u64>().unwrap(),
            field(&json, "body_bytes").parse::<u64>().unwrap(),
            field(&json, "ended"),
        );
        assert_eq!(
            got,
            (*outcome, *phase, *status, *received, *body, *ended),
            "{scenario}: {json}"
        );
    }
}

#[test]
fn reset_on_accept_is_a_reset_before_any_response_byte() {
    // The RST races the probe's connect check: usually the connect itself
    // reports it (nothing was sent), sometimes the request's write or the
    // first read does.
    let server = Server::start("reset-on-accept", &[]);
    for _ in 0..5 {
        let json = probe_json(&server, &[]);
        assert_eq!(field(&json, "outcome"), "\"reset\"", "{json}");
        assert_eq!(field(&json, "ended"), "\"rst\"", "{json}");
        match field(&json, "phase") {
            "\"at-connect\"" | "\"while-sending\"" => assert_eq!(field(&json, "sent_bytes"), "0", "{json}"),
            "\"before-response\"" => {}
            other => panic!("phase {other}: {json}"),
        }
        assert_eq!(field(&json, "received_bytes"), "0", "{json}");
    }
}

#[test]
fn connect_timeout_is_a_timeout_with_nothing_sent() {
    let server = Server::start("connect-timeout", &[]);
    let json = probe_json(&server, &["--timeout", "200ms"]);
    assert_eq!(field(&json, "outcome"), "\"timeout\"", "{json}");
    assert_eq!(field(&json, "received_bytes"), "0", "{json}");
}

#[test]
fn keepalive_reuse_shows_the_second_request_reset() {
    let server = Server::start("keepalive-reset", &[]);
    let json = probe_json(&server, &["--requests", "2", "--gap", "20ms"]);
    let reqs = requests(&json);
    assert_eq!(reqs.len(), 2, "{json}");
    assert_eq!(
        (field(reqs[0], "outcome"), field(reqs[0], "reused")),
        ("\"complete\"", "false")
    );
    assert_eq!(
        (
            field(reqs[1], "outcome"),
            field(reqs[1], "phase"),
            field(reqs[1], "reused")
        ),
        ("\"reset\"", "\"before-response\"", "true")
    );
    assert_eq!(
        field(&json, "outcome"),
        "\"reset\"",
        "the probe's outcome is the last request's"
    );
}

#[test]
fn keepalive_idle_close_seen_during_the_gap() {
    let server = Server::start("keepalive-idle-close", &["idle=30ms"]);
    let json = probe_json(&server, &["--requests", "2", "--gap", "100ms"]);
    let reqs = requests(&json);
    assert_eq!(field(reqs[0], "outcome"), "\"complete\"");
    assert_eq!(field(reqs[1], "outcome"), "\"empty\"");
    assert!(json.contains("\"event\":\"server-fin\""), "{json}");
}

#[test]
fn upload_reset_is_a_reset_while_sending_with_the_bytes_sent() {
    let server = Server::start("upload-reset", &["limit=64KiB"]);
    let json = probe_json(&server, &["--body-bytes", "10MiB"]);
    assert_eq!(
        (field(&json, "outcome"), field(&json, "phase")),
        ("\"reset\"", "\"while-sending\"")
    );
    let sent: u64 = field(&json, "sent_bytes").parse().unwrap();
    let total: u64 = field(&json, "request_bytes").parse().unwrap();
    assert!(sent >= 64 * 1024 && sent < total, "sent {sent} of {total}");
    server.wait_for_log(&[r#""event":"read""#, r#""bytes":65536"#]);
}

#[test]
fn raw_bytes_are_sent_exactly() {
    let server = Server::start("bad-request", &[]);
    let raw = scenario_file("raw-request", "NOT HTTP\r\n\r\n");
    let json = probe_json(&server, &["--raw", &raw]);
    assert_eq!(
        (field(&json, "status"), field(&json, "request_line")),
        ("400", "\"NOT HTTP\"")
    );
    assert_eq!(field(&json, "request_bytes"), "12");
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
    let out = hangup(&["probe", &target, "--count", "200", "--concurrency", "50", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json = text(&out.stdout);
    assert_eq!(field(&json, "probes"), "200");
    assert_eq!(
        field(&json, "\"reset (before-response)\"".trim_matches('"')),
        "200",
        "{json}"
    );
    let p50: f64 = field(&json, "p50").parse().unwrap();
    let max: f64 = field(&json, "max").parse().unwrap();
    assert!(p50 >= 50.0 && max < 2000.0, "{json}");
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
    let usage = hangup(&["probe", "https://example.com/"]);
    assert_eq!(usage.status.code(), Some(2));
    assert_eq!(
        text(&usage.stderr),
        "hangup: https://example.com/: https is not supported; hangup speaks plain HTTP/1.1\n"
    );
}

#[test]
fn every_builtin_is_probed_here() {
    crate::support::assert_every_builtin_in("tests/it/probe.rs", include_str!("probe.rs"), |name| {
        format!("\"{name}\"")
    });
}
