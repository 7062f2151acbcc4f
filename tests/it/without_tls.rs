//! Built without the `tls` feature: `--tls` and `probe https://` say so,
//! as usage errors.

use std::time::Duration;

use crate::support::{hangup_within, text};

#[test]
fn tls_is_refused_with_the_reason() {
    let out = hangup_within(
        &["serve", "hello", "--listen", "127.0.0.1:0", "--tls"],
        Duration::from_secs(5),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("built without TLS"), "{}", text(&out.stderr));
}

/// A script that handshakes itself cannot be served either; the language
/// is the same, so `check` takes it.
#[test]
fn a_scenario_that_handshakes_is_refused_and_still_checks() {
    let out = hangup_within(
        &["serve", "tls-expired", "--listen", "127.0.0.1:0"],
        Duration::from_secs(5),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("built without TLS"), "{}", text(&out.stderr));
    assert_eq!(crate::support::hangup(&["check", "tls-expired"]).status.code(), Some(0));
}

#[test]
fn probing_https_is_refused_with_the_reason() {
    let out = hangup_within(&["probe", "https://127.0.0.1:9/"], Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: https:// needs TLS, and this hangup was built without it (cargo's --no-default-features): \
         build it with the default features\n"
    );
}

/// The catalog's index says why a TLS built-in is not there, in this
/// build's terms: no `--tls` to send the reader to.
#[test]
fn the_catalog_says_a_handshaking_built_in_needs_the_tls_build() {
    use std::io::{Read, Write};
    let server = crate::support::Server::start_with("--catalog", &[]);
    let mut stream = server.connect();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut index = String::new();
    stream.read_to_string(&mut index).expect("the index");
    let line = |name: &str| {
        index
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("tls-expired").contains("built without TLS"), "{index}");
    assert!(
        line("tls-reset-on-hello").contains("serve it alone: hangup serve tls-reset-on-hello"),
        "{index}"
    );
    let tls_lines = index.lines().filter(|l| l.starts_with("tls-"));
    assert!(tls_lines.clone().count() >= 10, "{index}");
    assert!(tls_lines.clone().all(|l| !l.contains("--tls")), "{index}");
}
