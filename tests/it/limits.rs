//! Limits with clear errors, through the real binary: a scenario file
//! over 1 MiB, a path that is a directory, a file that cannot be read or
//! is not text, and values over the language's limits. `check` exits 1 on
//! each, `serve` exits 2 (a bad scenario is a usage error), both naming
//! the file.

use std::process::{Command, Output};

use crate::support::{BIN, TempDir, hangup, scenario_file, text};

/// `check` and `serve` on `path`: both fail with `message` on stderr.
fn both_refuse(path: &str, message: &str) {
    both_refuse_run_by(&hangup, path, message);
}

/// The same, with `hangup ARGS…` run by `run`.
fn both_refuse_run_by(run: &dyn Fn(&[&str]) -> Output, path: &str, message: &str) {
    let out = run(&["check", path]);
    assert_eq!(out.status.code(), Some(1), "check {path}: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(message),
        "check {path}: {}",
        text(&out.stderr)
    );
    let out = run(&["serve", path, "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2), "serve {path}: {}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(message),
        "serve {path}: {}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "serve {path} must not listen");
}

#[test]
fn a_file_over_1_mib_is_refused_by_name() {
    let path = scenario_file("huge", &format!("{}\nreset\n", "#".repeat(1 << 20)));
    both_refuse(
        &path,
        &format!("cannot read scenario file {path}: it is over the limit of 1 MiB (1048576 bytes) for a scenario\n"),
    );
    // Exactly 1 MiB is fine.
    let path = scenario_file("exactly", &format!("{}\nreset\n", "#".repeat((1 << 20) - 7)));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 1 << 20);
    assert_eq!(hangup(&["check", &path]).status.code(), Some(0));
}

#[test]
fn an_endless_file_is_read_only_up_to_the_limit() {
    // /dev/zero never ends: reading it whole would never finish.
    both_refuse(
        "/dev/zero",
        "cannot read scenario file /dev/zero: it is over the limit of 1 MiB",
    );
}

#[test]
fn a_directory_is_refused_by_name() {
    let dir = TempDir::new("dir");
    let path = dir.join("scenario.hup");
    std::fs::create_dir(&path).unwrap();
    let path = path.to_string_lossy().into_owned();
    both_refuse(
        &path,
        &format!("cannot read scenario file {path}: it is a directory, not a file\n"),
    );
    both_refuse(
        "scenarios/",
        "cannot read scenario file scenarios/: it is a directory, not a file\n",
    );
}

#[test]
fn an_unreadable_file_is_refused_by_name() {
    use std::os::unix::fs::PermissionsExt;
    let path = scenario_file("locked", "reset\n");
    std::fs::set_permissions(&*path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let message = format!("cannot read scenario file {path}: Permission denied");
    if !running_as_root() {
        both_refuse(&path, &message);
        return;
    }
    // chmod 000 does not stop root (CI runs as root): hangup runs as
    // nobody, whom it stops. From a copy of the binary beside it, which
    // nobody can reach wherever the checkout is (/root is not open to all).
    let dir = TempDir::new("nobody");
    let bin = dir.join("hangup");
    std::fs::copy(BIN, &bin).expect("copy the binary");
    let as_nobody = |args: &[&str]| {
        use std::os::unix::process::CommandExt;
        Command::new(&bin)
            .args(args)
            .uid(NOBODY)
            .gid(NOBODY)
            .current_dir(&*dir)
            .output()
            .expect("run hangup as nobody")
    };
    both_refuse_run_by(&as_nobody, &path, &message);
}

/// `nobody` and `nogroup` on Linux.
const NOBODY: u32 = 65534;

/// Whether this process runs as root (uid 0), read from /proc so that the
/// test needs no `unsafe` call.
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let uid = status
                .lines()
                .find(|l| l.starts_with("Uid:"))?
                .split_whitespace()
                .nth(1)?
                .to_string();
            Some(uid == "0")
        })
        .unwrap_or(false)
}

#[test]
fn a_file_that_is_not_text_is_refused_where_it_stops_being_text() {
    let dir = TempDir::new("binary");
    let path = dir.file("binary.hup", b"read request\nwr\xffite\n");
    let path = path.to_string_lossy().into_owned();
    both_refuse(
        &path,
        &format!("{path}:2:3: not UTF-8 text: a scenario is a text file\n"),
    );
}

#[test]
fn values_over_the_limits_are_refused_with_the_limit() {
    for (source, message) in [
        (
            "sleep 9000h\n",
            ":1:7: `9000h` is over the limit of 8760h (365 days) for a duration",
        ),
        (
            "write repeat 2048GiB \"x\"\n",
            ":1:7: `repeat` of 2199023255552 × 1 bytes is over the limit of 1 TiB for one write or body",
        ),
        (
            &("loop\n".repeat(40) + &"end\n".repeat(40)),
            ":33:1: `loop` is nested 33 deep, over the limit of 32",
        ),
    ] {
        let path = scenario_file("over", source);
        both_refuse(&path, &format!("{path}{message}\n"));
    }
    // A `--set` is held to the same limits.
    let out = hangup(&[
        "serve",
        "server-timeout",
        "--set",
        "after=9000h",
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: server-timeout: --set after=9000h: `9000h` is over the limit of 8760h (365 days) for a duration\n"
    );
}
