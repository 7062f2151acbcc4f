//! Property test of the command line with what a shell can pass but a
//! user rarely types: arguments that are not UTF-8 and numbers far past
//! any bound. Whatever the arguments, `hangup` exits with a documented
//! code (never a panic or an abort), says why on stderr when it fails,
//! refuses a number over its bound as a usage error, and names an odd
//! path as it was given (shown lossily), never as a stand-in.

use std::ffi::{OsStr, OsString};
use std::net::TcpListener;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::BIN;
use proptest::prelude::*;

/// Numbers past every bound, and some that are not numbers at all. (A
/// count in bounds is left out: a million refused probes are slow.)
const EXTREMES: &[&str] = &[
    "0",
    "1000001",
    "4294967297",
    "1000000000000",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "-1",
    "1e3",
    "1.5",
    ".5",
    "1TiB",
    "16EiB",
];

/// Durations, good and bad.
const DURATIONS: &[&str] = &["1ms", ".5s", "1.s", "0s", "8761h", "1e3s", "-1s", "10"];

/// Any bytes but NUL (which no argument can hold), often not UTF-8.
fn odd() -> impl Strategy<Value = OsString> {
    prop::collection::vec(1u8..=255, 0..10).prop_map(OsString::from_vec)
}

fn extreme() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(EXTREMES).prop_map(str::to_string),
        1 => (1_000_001u64..).prop_map(|n| n.to_string()),
        1 => any::<u128>().prop_map(|n| format!("{n}0")),
    ]
}

fn os(text: &str) -> OsString {
    OsString::from(text)
}

/// A flag and its value (sometimes one more flag it needs).
fn probe_flag() -> impl Strategy<Value = Vec<OsString>> {
    let number = |flag: &'static str| extreme().prop_map(move |n| vec![os(flag), os(&n)]);
    prop_oneof![
        number("--count"),
        number("--requests"),
        extreme().prop_map(|n| vec![os("--concurrency"), os(&n), os("--count"), os("2")]),
        extreme().prop_map(|n| vec![os("--body-bytes"), os(&n)]),
        odd().prop_map(|b| vec![os("-H"), b]),
        odd().prop_map(|b| vec![os("--body"), b]),
        odd().prop_map(|b| vec![os("-X"), b]),
        odd().prop_map(|b| vec![os("--raw"), b]),
        odd().prop_map(|b| vec![os("--body-file"), b]),
        prop::sample::select(DURATIONS).prop_map(|d| vec![os("--timeout"), os(d)]),
        prop::sample::select(DURATIONS).prop_map(|d| vec![os("--linger"), os(d)]),
        odd().prop_map(|b| vec![b]),
    ]
}

/// Argument vectors: `probe` of a closed port, `check` and `serve` of
/// files that do not exist, and odd words.
fn cli_args(port: u16) -> impl Strategy<Value = Vec<OsString>> {
    let probe = prop::collection::vec(probe_flag(), 0..4).prop_map(move |flags| {
        let mut args = vec![os("probe"), os(&format!("127.0.0.1:{port}"))];
        args.extend(flags.concat());
        args
    });
    let check = prop::collection::vec(odd(), 0..4).prop_map(|files| {
        let mut args = vec![os("check")];
        // Never an existing file: a prefix no test creates.
        args.extend(files.into_iter().map(|f| {
            let mut path = b"/nonexistent-hangup/".to_vec();
            path.extend(f.as_bytes());
            OsString::from_vec(path)
        }));
        args
    });
    let serve = (odd(), odd()).prop_map(|(name, set)| {
        let mut path = b"/nonexistent-hangup/".to_vec();
        path.extend(name.as_bytes());
        vec![
            os("serve"),
            OsString::from_vec(path),
            os("--listen"),
            os("127.0.0.1:0"),
            os("--set"),
            set,
        ]
    });
    let words = prop::collection::vec(
        prop_oneof![
            odd(),
            prop::sample::select(&["show", "list", "-h", "-V", "--set"][..]).prop_map(os)
        ],
        0..4,
    );
    prop_oneof![3 => probe, 2 => check, 1 => serve, 1 => words]
}

/// Run `hangup ARGS`; kill it (by its PID) after 10 s.
fn run(args: &[OsString]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hangup");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("try_wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait_with_output().expect("output")
}

fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// True when a count flag in `args` has a value over its bound (or zero).
fn over_a_bound(args: &[OsString]) -> bool {
    args.windows(2).any(|pair| {
        let bound = match pair[0].to_str() {
            Some("--count" | "--requests") => 1_000_000u128,
            Some("--concurrency") => 10_000,
            _ => return false,
        };
        pair[1]
            .to_str()
            .and_then(|n| n.parse::<u128>().ok())
            .is_some_and(|n| n == 0 || n > bound)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn odd_bytes_and_huge_numbers_exit_with_a_documented_code(args in closed_port_args()) {
        let out = run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        prop_assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        let code = out.status.code();
        prop_assert!(code.is_some(), "{args:?}: killed by a signal (abort?): {stderr}");
        let code = code.unwrap_or(0);
        prop_assert!((0..=3).contains(&code), "{args:?}: exit {code}: {stderr}");
        if code != 0 {
            prop_assert!(!stderr.trim().is_empty(), "{args:?}: exit {code} and nothing on stderr");
        }
        // No stand-in for an odd argument ever reaches the user.
        prop_assert!(!stderr.contains('\u{F8FF}'), "{args:?}: {stderr}");
        let first = args.first().map(OsString::as_os_str);
        if first == Some(OsStr::new("probe")) && over_a_bound(&args) {
            prop_assert_eq!(code, 2, "{:?}: {}", args, stderr);
        }
        if first == Some(OsStr::new("check")) {
            for file in &args[1..] {
                let shown = file.to_string_lossy();
                prop_assert!(stderr.contains(&*shown), "{args:?}: {shown} not named in {stderr}");
            }
        }
    }
}

fn closed_port_args() -> impl Strategy<Value = Vec<OsString>> {
    cli_args(closed_port())
}
