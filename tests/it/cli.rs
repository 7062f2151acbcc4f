//! The command line: subcommands, messages and exit codes.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};

use crate::support::{BIN, Server, hangup, scenario_file, text};

#[test]
fn list_names_every_builtin_with_a_summary() {
    let out = hangup(&["list"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    for (name, _) in hangup::scenario::catalog::BUILTINS {
        let line = listing
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing"));
        assert!(line.len() > name.len() + 10, "no summary: {line}");
    }
}

/// A stdout pipe whose reader is gone before hangup writes: every write
/// gets EPIPE (Rust ignores SIGPIPE), however short the output. A reader
/// closed only after the first write (`hangup list | head -1`) never tests
/// this, since the whole listing fits in the pipe's buffer.
#[test]
fn list_into_a_closed_pipe_does_not_panic() {
    let mut fds = [0; 2];
    // SAFETY: pipe() fills two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe()");
    // SAFETY: fds[0] and fds[1] are open and owned by nobody else.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    for args in [&["list"][..], &["show", "hello"]] {
        let out = Command::new(BIN)
            .args(args)
            .stdout(Stdio::from(writer.try_clone().unwrap()))
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // A closed pipe is a success, as `hangup list | head` must be.
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn show_prints_the_source_and_rejects_unknown_names() {
    let out = hangup(&["show", "mid-body-reset"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), include_str!("../../scenarios/mid-body-reset.hup"));
    let out = hangup(&["show", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: no built-in scenario named `nope`; `hangup list` shows them all\n"
    );
}

#[test]
fn check_accepts_valid_files_and_shows_errors_with_a_caret() {
    let good = scenario_file("good", "read request\nreset\n");
    let bad = scenario_file("bad", "read request\nsleep 5\n");
    let out = hangup(&["check", &good]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), format!("{good}: ok\n"));
    let out = hangup(&["check", &good, &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!("{bad}:2:7: `5` needs a unit: 250ms, 2s, 2m, 1h or 500us\n  |\n2 | sleep 5\n  |       ^\n")
    );
}

#[test]
fn check_accepts_builtin_names_too() {
    let out = hangup(&["check", "hello", "keepalive-reset"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn unknown_scenario_is_a_usage_error() {
    let out = hangup(&["serve", "no-such-thing"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: unknown scenario `no-such-thing`: not a built-in (see `hangup list`) and no such file\n"
    );
    let out = hangup(&["serve", "./missing.hup"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("hangup: cannot read scenario file ./missing.hup: No such file"));
}

#[test]
fn bad_set_is_a_usage_error() {
    for (set, message) in [
        ("after", "hangup: --set after: expected NAME=VALUE, like after=2s\n"),
        (
            "before=1s",
            "hangup: server-timeout: --set before: no parameter named `before`; its parameters are: after\n",
        ),
        (
            "after=soon",
            "hangup: server-timeout: --set after=soon: `soon` is not a duration like 250ms or 2s\n",
        ),
    ] {
        let out = hangup(&["serve", "server-timeout", "--listen", "127.0.0.1:0", "--set", set]);
        assert_eq!(out.status.code(), Some(2), "{set}");
        assert_eq!(text(&out.stderr), message, "{set}");
    }
}

#[test]
fn address_in_use_is_a_system_error_naming_the_address_and_what_to_do() {
    let server = Server::start("hang", &[]);
    let addr = server.addr.to_string();
    let out = hangup(&["serve", "hang", "--listen", &addr]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        format!(
            "hangup: failed to listen on {addr}: Address already in use (os error 98); another server \
             (an earlier hangup?) has that port: stop it, or take any free port with --listen 127.0.0.1:0\n"
        )
    );
}

#[test]
fn a_non_loopback_address_is_warned_about() {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: the bind fails, so
    // nothing ever listens beyond loopback, but the warning comes first.
    let out = hangup(&["serve", "hang", "--listen", "192.0.2.1:0", "--quiet"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        text(&out.stderr),
        "hangup: warning: 192.0.2.1:0 is not a loopback address: anyone who can reach this port can make hangup misbehave\n\
         hangup: failed to listen on 192.0.2.1:0: Cannot assign requested address (os error 99)\n"
    );
    // Loopback, the default, is not warned about. The warning would come
    // before the first connection's line: once that is in, so is it.
    let server = Server::start("hang", &[]);
    let _client = server.connect();
    server.wait_for_log(&[r#""event":"accept""#]);
    assert!(
        !server.log().iter().any(|l| l.contains("warning")),
        "{:?}",
        server.log()
    );
}

#[test]
fn bad_flags_and_missing_subcommand_are_usage_errors() {
    let out = hangup(&["serve"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hangup(&["serve", "hello", "--log", "xml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "hangup: --log xml: expected `text` or `json`\n");
    let out = hangup(&["serve", "hello", "--listen", "nowhere"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hangup(&[]);
    assert_eq!(out.status.code(), Some(2));
    let out = hangup(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("serve"));
}

#[test]
fn text_log_is_one_readable_line_per_event() {
    let server = Server::spawn(Command::new(BIN).args(["serve", "empty-reply", "--listen", "127.0.0.1:0"]));
    crate::support::exchange(&server, crate::support::GET, std::time::Duration::from_secs(2));
    server.wait_for_log(&[" end how="]);
    let log = server.log().join("\n");
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("#1 +0.000ms accept peer=127.0.0.1:"), "{log}");
    assert!(
        lines[1].contains(" request method=GET path=/ bytes=35 number=1"),
        "{log}"
    );
    assert!(
        lines[2].contains(" end how=fin bytes_in=35 bytes_out=0 requests=1"),
        "{log}"
    );
}
