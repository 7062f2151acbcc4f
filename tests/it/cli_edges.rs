//! The command line's edges, from the real binary: short help flags, hints,
//! a bare port, flags that would do nothing, the built-in/file rule, bounds
//! on counts and files, arguments that are not UTF-8, a stdout or stderr
//! that cannot be written, a FIFO, escaped excerpts, and one value syntax
//! for files and `--set`. Each test failed before the change it names.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{BIN, Server, TempDir, hangup, scenario_file, spawn_listening, text};

/// A fresh directory of this test's own, removed when dropped.
fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("cli-edges-{name}"))
}

/// Wait for `child` at most `limit`; kill it (by its PID) if it is still
/// running, and fail naming `what`.
fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what}: still running after {limit:?}");
}

/// Run `hangup ARGS` (bytes) with stdout and stderr piped, bounded in time.
fn hangup_os(args: &[&OsStr]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangup");
    finish(child, Duration::from_secs(10), &format!("hangup {args:?}"))
}

fn os(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

fn full() -> std::fs::File {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
}

// Issue 15, item 5: the command line's rough edges.

#[test]
fn short_help_and_version_flags_work() {
    let out = hangup(&["-h"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("Usage: hangup"), "{}", text(&out.stdout));
    let out = hangup(&["-V"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("hangup {}\n", env!("CARGO_PKG_VERSION")));
    for sub in ["serve", "probe", "check", "show", "list"] {
        let out = hangup(&[sub, "-h"]);
        assert_eq!(out.status.code(), Some(0), "{sub}: {}", text(&out.stderr));
        assert!(
            text(&out.stdout).starts_with(&format!("Usage: hangup {sub}")),
            "{sub}: {}",
            text(&out.stdout)
        );
    }
    // A usage error points to the subcommand's own help.
    let out = hangup(&["serve", "hello", "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).ends_with("Run `hangup serve --help` for usage.\n"),
        "{}",
        text(&out.stderr)
    );
    // `-h` as a value is a value, not a request for help.
    let out = hangup(&["serve", "hello", "--listen", "127.0.0.1:1", "--log", "-h"]);
    assert_eq!(text(&out.stderr), "hangup: --log -h: expected `text` or `json`\n");
}

#[test]
fn set_with_a_space_hints_at_name_equals_value() {
    let out = hangup(&["serve", "server-timeout", "--set", "after", "2s"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("--set takes NAME=VALUE as one argument: --set after=VALUE, like --set after=2s"),
        "{stderr}"
    );
}

#[test]
fn a_bare_port_is_loopback_and_the_report_names_the_address() {
    let server = Server::start("hello", &[]);
    let port = server.addr.port().to_string();
    let out = hangup(&["probe", &port, "--expect", "complete"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(
        report.starts_with(&format!("address   127.0.0.1:{port}\nsent ")),
        "{report}"
    );
    let out = hangup(&["probe", "99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), "hangup: 99999: a bare port must be 1 to 65535\n");
}

#[test]
fn flags_that_would_do_nothing_are_usage_errors() {
    for (flags, message) in [
        (
            &["--gap", "10ms"][..],
            "hangup: --gap is the pause between requests on one connection: give --requests N with it\n",
        ),
        (
            &["--concurrency", "5"][..],
            "hangup: --concurrency paces several probes: give --count N with it\n",
        ),
        (
            &["--interval", "1ms"][..],
            "hangup: --interval paces several probes: give --count N with it\n",
        ),
    ] {
        let mut args = vec!["probe", "127.0.0.1:1"];
        args.extend_from_slice(flags);
        let out = hangup(&args);
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert_eq!(text(&out.stderr), message, "{flags:?}");
    }
}

#[test]
fn a_builtin_name_that_is_also_a_file_runs_the_builtin_and_says_so() {
    let dir = temp_dir("shadow");
    std::fs::write(dir.join("hello"), "bogus\n").expect("write");
    let out = Command::new(BIN)
        .args(["check", "hello"])
        .current_dir(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "hangup: note: `hello` is the built-in scenario; for the file of that name, write ./hello\n"
    );
    // With a `/` it is the file.
    let out = Command::new(BIN)
        .args(["check", "./hello"])
        .current_dir(&dir)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).starts_with("./hello:1:1: "), "{}", text(&out.stderr));
    // No file of that name: no note.
    let out = hangup(&["check", "hello"]);
    assert_eq!(text(&out.stderr), "");
}

// Issue 16, item 1: counts are bounded, nothing is reserved from them.

#[test]
fn huge_counts_are_usage_errors_not_aborts() {
    for (flag, value) in [
        ("--count", "18446744073709551615"),
        ("--count", "4294967297"),
        ("--count", "1000000000000"),
        ("--requests", "1000000000000"),
        ("--concurrency", "18446744073709551615"),
        ("--count", "0"),
    ] {
        let mut args = vec!["probe", "127.0.0.1:1", flag, value];
        if flag == "--concurrency" {
            args.extend(["--count", "2"]);
        }
        let out = hangup(&args);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).starts_with(&format!("hangup: {flag} {value}: ")),
            "{}",
            text(&out.stderr)
        );
    }
    let out = hangup(&["probe", "127.0.0.1:1", "--count", "99999999999999999999"]);
    assert_eq!(out.status.code(), Some(2));
}

// Issue 16, item 2: arguments that are not UTF-8.

#[test]
fn paths_that_are_not_utf8_are_read_as_given() {
    let dir = temp_dir("bytes");
    let mut name = dir.as_os_str().as_bytes().to_vec();
    name.extend_from_slice(b"/x\xff.hup");
    let path = os(&name);
    std::fs::write(Path::new(path), "read request\nrespond 200 body \"hi\"\nclose\n").expect("write");
    let out = hangup_os(&[OsStr::new("check"), path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with("/x\u{FFFD}.hup: ok\n"),
        "{}",
        text(&out.stdout)
    );
    // A missing one is an error that shows the name, not a panic.
    let mut missing = name.clone();
    missing.extend_from_slice(b".gone");
    let out = hangup_os(&[OsStr::new("check"), os(&missing)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("x\u{FFFD}.hup.gone: No such file"),
        "{}",
        text(&out.stderr)
    );
    // `serve` runs it.
    let (mut child, addr) = spawn_listening(
        Command::new(BIN)
            .arg("serve")
            .arg(path)
            .args(["--listen", "127.0.0.1:0"]),
    );
    let out = hangup(&["probe", &addr.to_string(), "--expect-status", "200"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // `probe --raw` sends the file's bytes.
    let mut raw = dir.as_os_str().as_bytes().to_vec();
    raw.extend_from_slice(b"/r\xfe");
    std::fs::write(Path::new(os(&raw)), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
    let server = Server::start("hello", &[]);
    let out = hangup_os(&[
        OsStr::new("probe"),
        OsStr::new(&server.addr.to_string()),
        OsStr::new("--raw"),
        os(&raw),
        OsStr::new("--expect"),
        OsStr::new("complete"),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_header_that_is_not_utf8_is_sent_as_given() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    listener.set_nonblocking(true).expect("nonblocking");
    let server = std::thread::spawn(move || {
        // Bounded: a probe that never connects fails the test, not hangs it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => return format!("no connection: {e}").into_bytes(),
            }
        };
        stream.set_nonblocking(false).expect("blocking");
        stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
        head
    });
    let out = hangup_os(&[
        OsStr::new("probe"),
        OsStr::new(&addr.to_string()),
        OsStr::new("-H"),
        os(b"X-Odd: \xff\xfe"),
        OsStr::new("--body"),
        os(b"\x80"),
        OsStr::new("--linger"),
        OsStr::new("1ms"),
    ]);
    let head = server.join().expect("server thread");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(head.windows(11).any(|w| w == b"X-Odd: \xff\xfe\r\n"), "{}", text(&head));
    // Text flags refuse odd bytes with a usage error.
    let out = hangup_os(&[
        OsStr::new("serve"),
        OsStr::new("hello"),
        OsStr::new("--listen"),
        os(b"\xff"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: --listen \u{FFFD}: not UTF-8 text (only paths, headers and --body may be any bytes)\n"
    );
    let out = hangup_os(&[OsStr::new("bogus\u{F8FF}"), os(b"\xff")]);
    assert_eq!(out.status.code(), Some(2));
}

// Issue 16, items 3 and 4: stderr and stdout that cannot be written.

#[test]
fn an_unwritable_stderr_keeps_the_exit_code() {
    for (args, code) in [
        (&["check", "/nonexistent"][..], 1),
        (&["bogus"][..], 2),
        (&["serve", "/nonexistent.hup"][..], 2),
        (&["probe", "127.0.0.1:1", "--count", "0"][..], 2),
        // The non-loopback warning comes first; 192.0.2.1 (TEST-NET-1) is
        // on no interface here, so the bind fails and nothing listens.
        (&["serve", "hang", "--listen", "192.0.2.1:0", "--quiet"][..], 3),
    ] {
        let out = Command::new(BIN).args(args).stderr(full()).output().expect("run");
        assert_eq!(out.status.code(), Some(code), "{args:?} 2>/dev/full");
        // A stderr pipe whose reader has gone.
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stderr.take());
        let status = child.wait().expect("wait");
        assert_eq!(status.code(), Some(code), "{args:?} 2>closed pipe");
    }
}

#[test]
fn output_that_cannot_be_written_is_a_failure_but_a_closed_pipe_is_not() {
    let server = Server::start("hello", &[]);
    let target = server.addr.to_string();
    for args in [
        &["list"][..],
        &["show", "hello"][..],
        &["check", "hello"][..],
        &["--help"][..],
        &["-V"][..],
        &["probe", &target, "--json"][..],
    ] {
        let out = Command::new(BIN).args(args).stdout(full()).output().expect("run");
        assert_eq!(out.status.code(), Some(3), "{args:?} >/dev/full");
        assert_eq!(
            text(&out.stderr),
            "hangup: cannot write the output to stdout: No space left on device (os error 28)\n",
            "{args:?}"
        );
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        assert_eq!(child.wait().expect("wait").code(), Some(0), "{args:?} | closed pipe");
    }
}

// Issue 16, item 9: a FIFO is not a scenario file.

#[test]
fn check_and_serve_refuse_a_fifo_at_once() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("pipe.hup");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates a file.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
    let out = hangup_os(&[OsStr::new("check"), fifo.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        format!(
            "cannot read scenario file {}: it is a FIFO, not a regular file\n",
            fifo.display()
        )
    );
    let out = hangup_os(&[
        OsStr::new("serve"),
        fifo.as_os_str(),
        OsStr::new("--listen"),
        OsStr::new("127.0.0.1:0"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

// Issue 16, item 11: files read whole are capped.

#[test]
fn endless_files_for_the_probe_are_refused_at_the_cap() {
    for (flag, path) in [
        ("--raw", "/dev/zero"),
        ("--body-file", "/dev/zero"),
        ("--raw", "/dev/urandom"),
    ] {
        let started = Instant::now();
        let out = hangup_os(&[
            OsStr::new("probe"),
            OsStr::new("127.0.0.1:1"),
            OsStr::new(flag),
            OsStr::new(path),
        ]);
        assert_eq!(out.status.code(), Some(2), "{flag} {path}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stderr),
            format!(
                "hangup: {flag} {path}: over the limit of 16 MiB for a file sent whole; --body-bytes sends any size\n"
            )
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{flag} {path}: {:?}",
            started.elapsed()
        );
    }
}

// Issue 16, item 18: excerpts are escaped.

#[test]
fn check_escapes_what_would_act_on_the_terminal() {
    // `(source, the excerpt line, the caret line)`.
    for (source, excerpt, caret) in [
        // A title change and a screen clear, after a tab: escaped, and the
        // caret under the escape that is refused.
        (
            "\tsleep 5 \u{1b}]0;title\u{7}\u{1b}[2J\n",
            "1 | \\tsleep 5 \\u{1b}]0;title\\u{7}\\u{1b}[2J",
            "  |           ^^^^^^",
        ),
        // A bare CR no longer sends the cursor back over the line.
        ("sleep 5\rx\n", "1 | sleep 5\\rx", "  |       ^"),
        // A BOM is shown, not an invisible character.
        ("\u{feff}sleep 1s\n", "1 | \\u{feff}sleep 1s", "  | ^^^^^^^^"),
    ] {
        let file = scenario_file("escapes", source);
        let out = hangup(&["check", &file]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = text(&out.stderr);
        assert!(
            !stderr.bytes().any(|b| b == 0x1b || b == b'\r' || b == b'\t' || b == 7),
            "{stderr:?}"
        );
        assert!(!stderr.contains('\u{feff}'), "{stderr:?}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(&lines[2..], [excerpt, caret], "{stderr}");
    }
}

// Issue 16, item 20: one value syntax for files and `--set`.

#[test]
fn set_values_follow_the_languages_syntax() {
    for (set, message) in [
        (
            "after=.5s",
            "hangup: server-timeout: --set after=.5s: `.5s` is not a duration like 250ms or 2s\n",
        ),
        (
            "after=1.s",
            "hangup: server-timeout: --set after=1.s: `1.s` is not a duration like 250ms or 2s\n",
        ),
    ] {
        // Bounded: a value taken would serve for ever.
        let out = hangup_os(&["serve", "server-timeout", "--listen", "127.0.0.1:0", "--set", set].map(OsStr::new));
        assert_eq!(out.status.code(), Some(2), "{set}");
        assert_eq!(text(&out.stderr), message, "{set}");
    }
    // The file refuses them too.
    for (value, message) in [(".5s", "unexpected character `.`"), ("1.s", "")] {
        let file = scenario_file("dot", &format!("sleep {value}\n"));
        let out = hangup(&["check", &file]);
        assert_eq!(out.status.code(), Some(1), "{value}");
        assert!(text(&out.stderr).contains(message), "{value}: {}", text(&out.stderr));
    }
    // The size error lists exactly what is accepted; TiB is one of them.
    let out = hangup(&["serve", "upload-reset", "--listen", "127.0.0.1:0", "--set", "limit=1PB"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: upload-reset: --set limit=1PB: `PB` is not a size unit; use B, KiB, MiB, GiB, TiB, KB, kB, MB, GB, TB, k, M, G or none\n"
    );
    let file = scenario_file("tib", "read request\nwrite repeat 1TiB \"x\"\nclose\n");
    let out = hangup(&["check", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // An empty `--set` string is the flag's fault, not the line's.
    let file = scenario_file("empty", "param s = \"x\"\nread request\nwrite $s\nclose\n");
    let out = hangup(&["serve", &file, "--listen", "127.0.0.1:0", "--set", "s="]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        format!(
            "hangup: {file}: --set s=: an empty string leaves line 3 with no bytes; expected bytes to write: a string, `hex \"…\"`, `repeat N \"…\"`\n"
        )
    );
}
