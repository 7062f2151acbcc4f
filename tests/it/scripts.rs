//! Every script in `scripts/` runs green: each story's reproduction prints
//! REPRODUCED and exits 0, the demo runs straight through, the outcome
//! table in docs/clients.md matches a fresh run (and a run through `--catalog`), the
//! quick soak passes, and all of them are shellcheck-clean.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Run a script with this build's binary (so the script does not build).
fn script(name: &str, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(Path::new(ROOT).join("scripts").join(name))
        .args(args)
        .env("HANGUP", env!("CARGO_BIN_EXE_hangup"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_reproduces(name: &str) {
    let out = script(name, &[]);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("\nREPRODUCED: ") && !stdout.contains("NOT REPRODUCED"),
        "{name} did not reproduce (exit {:?}):\n{stdout}\n{}",
        out.status.code(),
        text(&out.stderr)
    );
}

#[test]
fn seed_000_server_timeout() {
    assert_reproduces("repro-server-timeout.sh");
}

#[test]
fn seed_001_keepalive_race() {
    assert_reproduces("repro-keepalive-race.sh");
}

#[test]
fn seed_002_mid_body_reset() {
    assert_reproduces("repro-mid-body-reset.sh");
}

#[test]
fn seed_003_client_error() {
    assert_reproduces("repro-client-error.sh");
}

#[test]
fn seed_004_res_end() {
    assert_reproduces("repro-res-end.sh");
}

#[test]
fn proxy_reset_after_in_front_of_a_real_node_server() {
    assert_reproduces("repro-proxy-reset.sh");
}

#[test]
fn flaky_resets_replay_by_seed() {
    assert_reproduces("repro-flaky.sh");
}

#[test]
fn early_413_is_lost_by_a_client_still_uploading() {
    assert_reproduces("repro-early-413.sh");
}

#[test]
fn connect_timeout_without_root() {
    assert_reproduces("repro-connect-timeout.sh");
}

#[test]
fn big_header_overflows_node_but_not_curl() {
    assert_reproduces("repro-big-header.sh");
}

/// Node's "Client network socket disconnected before secure TLS
/// connection was established" from a FIN after the ClientHello.
#[test]
fn tls_handshake_cut_disconnects_node() {
    assert_reproduces("repro-tls-disconnected.sh");
}

/// OpenSSL's "unexpected eof while reading" without close_notify, which
/// curl, node and python's urllib accept.
#[cfg(feature = "tls")]
#[test]
fn tls_no_close_notify_is_an_openssl_eof_error() {
    assert_reproduces("repro-tls-no-close-notify.sh");
}

/// badssl.com's four bad certificates, offline.
#[cfg(feature = "tls")]
#[test]
fn tls_bad_certificates_are_refused_each_for_its_reason() {
    assert_reproduces("repro-tls-bad-certs.sh");
}

/// grpc-js's 14 UNAVAILABLE on a call that outlives a max-age drain.
#[test]
fn grpc_call_cut_by_a_max_age_drain_is_unavailable() {
    assert_reproduces("repro-grpc-max-age.sh");
}

/// Node's http2 client ending a response cut before END_STREAM without
/// an error, where curl says (18).
#[test]
fn h2_response_cut_before_end_stream_ends_normally_in_node() {
    assert_reproduces("repro-h2-silent-truncation.sh");
}

#[test]
fn demo_runs_straight_through() {
    let out = script("demo.sh", &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{}", text(&out.stderr));
    assert_eq!(stdout.matches("What the clients say:").count(), 7, "{stdout}");
    assert!(stdout.contains("reset (mid-body)"), "{stdout}");
    assert!(stdout.contains("curl: (52) Empty reply from server"), "{stdout}");
}

// The table has TLS rows, which a build without TLS cannot serve.
#[cfg(feature = "tls")]
#[test]
fn outcome_table_in_the_docs_matches_a_fresh_run() {
    let out = script("outcome-table.sh", &["--check"]);
    assert!(out.status.success(), "{}\n{}", text(&out.stdout), text(&out.stderr));
}

/// A run through the catalog checks the table and never rewrites it; the
/// old flag names (`--update-readme`, from when the table was in the
/// README) still mean `--update`.
#[test]
fn outcome_table_is_not_updated_from_the_catalog() {
    for update in ["--update", "--update-readme"] {
        let out = script("outcome-table.sh", &["--catalog", update]);
        assert_eq!(out.status.code(), Some(2), "{update}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("--catalog does not update docs/clients.md"),
            "{update}: {}",
            text(&out.stderr)
        );
    }
}

/// The rows `--catalog` cannot serve by path: a fault before the request
/// that names the path is read, and the proxies (they need --upstream).
#[cfg(feature = "tls")]
const NOT_BY_PATH: &str = "not available by path: reset-on-accept, connect-timeout, proxy, \
     proxy-reset-after, proxy-close-after, proxy-fail-first, tcp-proxy, tcp-reset-after";

/// Every row of the docs' table again, each scenario chosen by path from a
/// `hangup serve --catalog` (one per row, so that connection numbers and
/// flaky's seeded draws are those of the scenario served alone): every
/// client ends as it does against the scenario alone. The rows no path can
/// reach are left out, and named; every other row must be in the run.
// The table has TLS rows, which a build without TLS cannot serve.
#[cfg(feature = "tls")]
#[test]
fn outcome_table_through_the_catalog_matches_the_docs() {
    let out = script("outcome-table.sh", &["--catalog", "--check"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains(&format!("\n{NOT_BY_PATH}\n")), "{stdout}");
    let left_out: Vec<&str> = NOT_BY_PATH.split_once(": ").unwrap().1.split(", ").collect();
    for row in docs_table().lines().skip(2) {
        let name = row.split(" | ").next().unwrap().trim_start_matches("| ");
        let by_path = !left_out.contains(&name.trim_matches('`'));
        assert_eq!(
            stdout.contains(&format!("\n| {name} | ")),
            by_path,
            "{name} run through the catalog: expected {by_path}\n{stdout}"
        );
    }
}

/// The outcome table in docs/clients.md, header included, as the script
/// prints it.
fn docs_table() -> String {
    let doc = std::fs::read_to_string(Path::new(ROOT).join("docs/clients.md")).unwrap();
    let begin = doc.find("<!-- outcome-table:begin").expect("table begin");
    let body = &doc[begin..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("<!-- outcome-table:end").expect("table end")].to_string()
}

/// `outcome-table.sh --compare` (what `--check` runs) of the docs' table
/// and a variant of it.
fn compare_with_docs(name: &str, variant: &str) -> Output {
    compare_with_docs_flags(name, &[], variant)
}

/// The same, with `--compare`'s flags (`--allow-missing`).
fn compare_with_docs_flags(name: &str, flags: &[&str], variant: &str) -> Output {
    let dir = TempDir::new(&format!("outcome-{name}"));
    let (expected, actual) = (dir.join("expected.md"), dir.join("actual.md"));
    std::fs::write(&expected, docs_table()).unwrap();
    std::fs::write(&actual, variant).unwrap();
    let mut args = vec!["--compare"];
    args.extend(flags);
    args.extend([expected.to_str().unwrap(), actual.to_str().unwrap()]);
    script("outcome-table.sh", &args)
}

/// A machine whose clients are other versions (Debian's python3 3.11.2
/// where the table says 3.11.7) passes when they behave the same, and is
/// told which versions differ.
#[test]
fn outcome_table_check_is_of_behaviour_not_versions() {
    let table = docs_table();
    let header = table.lines().next().unwrap();
    let other = header
        .replace(" | node v", " | node v0.0.0-was-v")
        .replace(" | python ", " | python 0.0.0-was-");
    let out = compare_with_docs("versions", &table.replacen(header, &other, 1));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(
        stdout.contains("Other client versions here: node v0.0.0-was-v"),
        "{stdout}"
    );
}

/// `table` with python's cell in the `hello` row made "status 500", and
/// the cell it replaced.
fn hello_python_says_500(table: &str) -> (String, String) {
    let hello = table.lines().find(|l| l.starts_with("| `hello` |")).expect("hello row");
    let python = hello.rsplit(" | ").next().unwrap().trim_end_matches(" |");
    // The last cell is python's (node's may say the same).
    let cut = hello.rfind(&format!("| {python} |")).unwrap();
    let changed = format!("{}| status 500 |", &hello[..cut]);
    assert_ne!(changed, hello);
    (table.replacen(hello, &changed, 1), python.to_string())
}

/// A client that really behaves otherwise fails the check, which names the
/// scenario, the client, both versions and both texts.
#[test]
fn outcome_table_check_names_a_client_that_behaves_otherwise() {
    let table = docs_table();
    let (variant, python) = hello_python_says_500(&table);
    let out = compare_with_docs("behaviour", &variant);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let version = table
        .lines()
        .next()
        .unwrap()
        .rsplit(" | ")
        .next()
        .unwrap()
        .trim_end_matches(" |");
    assert!(
        stdout.contains(&format!("`hello`, python: expected ({version}) \"{python}\"")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("this run ({version}) \"status 500\"")),
        "{stdout}"
    );
}

/// `--allow-missing` (what `--catalog --check` compares with) lets
/// rows be absent from the run, not differ: a row that is there and says
/// otherwise is still named. Without it, an absent row is a difference.
#[test]
fn outcome_table_check_with_absent_rows_allowed_still_names_a_difference() {
    let table = docs_table();
    let (variant, python) = hello_python_says_500(&table);
    // The proxies' rows: the ones a --catalog run leaves out.
    let fewer: String = variant
        .lines()
        .filter(|l| !l.starts_with("| `proxy") && !l.starts_with("| `tcp-"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(fewer.len() < variant.len());

    let out = compare_with_docs_flags("allow-missing", &["--allow-missing"], &fewer);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("`hello`, python: expected ("), "{stdout}");
    assert!(stdout.contains(&format!("\"{python}\"")), "{stdout}");
    assert!(
        !stdout.contains("`proxy`"),
        "an absent row allowed is no difference:\n{stdout}"
    );

    let same = fewer.replace("| status 500 |", &format!("| {python} |"));
    let out = compare_with_docs_flags("allow-missing-same", &["--allow-missing"], &same);
    assert!(out.status.success(), "{}", text(&out.stdout));

    let out = compare_with_docs("missing", &fewer);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("`proxy`: in the expected table, not in this run"),
        "{stdout}"
    );
}

/// About 10 s: 2,000 idle connections and hostile clients against this
/// build; hangup must survive, its good client see no error, and its
/// descriptors and memory come back.
#[test]
fn quick_soak_passes() {
    let out = script("soak.sh", &["--quick"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "soak failed:\n{stdout}\n{}", text(&out.stderr));
    for row in [
        "| well-behaved client",
        "| its latency p50 / p99",
        "| hangup RSS",
        "| hangup open descriptors",
    ] {
        assert!(stdout.contains(row), "no {row:?} row:\n{stdout}");
    }
    assert!(stdout.contains("\nPASS: "), "{stdout}");
}

/// CARGO_TARGET_DIR (or a `build.target-dir`) moves what cargo builds: a
/// script that names `target/` breaks there, or worse runs a stale binary
/// left in `target/`. Scripts ask cargo instead (scripts/lib/cargo.sh).
#[test]
fn no_script_assumes_cargo_builds_into_target() {
    for dir in ["scripts", "scripts/lib"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "sh") {
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap();
            for (n, line) in source.lines().enumerate() {
                let code = line.trim_start();
                assert!(
                    code.starts_with('#') || !code.contains("target/"),
                    "{}:{}: names target/: {line}",
                    path.display(),
                    n + 1
                );
            }
        }
    }
}

#[test]
fn scripts_are_shellcheck_clean() {
    let mut files = vec![".ci/run".to_string()];
    for dir in ["scripts", "scripts/lib"] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sh") {
                files.push(path.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    for file in &files {
        let syntax = Command::new("bash")
            .args(["-n", file])
            .current_dir(ROOT)
            .output()
            .unwrap();
        assert!(syntax.status.success(), "bash -n {file}: {}", text(&syntax.stderr));
    }
    let out = Command::new("shellcheck")
        .arg("-x")
        .args(&files)
        .current_dir(ROOT)
        .output()
        .expect("shellcheck (scripts/test.sh installs it)");
    assert!(out.status.success(), "{}", text(&out.stdout));
}
