//! Every example in `README.md` and `docs/` does what it shows.
//!
//! - A ```console block is run, command by command, as a reader would in
//!   one terminal (see [`shell`]): `$ hangup serve NAME &` starts a server
//!   in the background, later commands talk to it, `$ kill %1` stops it.
//!   Every command must exit as its comment says (`# exit 56`), or 0. The
//!   output of hangup, and of `cat`, `tail`, `head`, `grep` and `ls`
//!   (which show files hangup wrote: its log, a recording), must match what
//!   the block shows, line for line, with trycmd's elisions and times and
//!   ephemeral ports left free (see [`matching`]). curl's must have the
//!   same lines in any order ([`Check::AnyOrder`] says why). Other
//!   programs' output (node's, python's, psql's messages) is shown for the
//!   reader and not compared: it is theirs and changes with their
//!   versions; only their exit status is checked.
//!   A ```console tls block needs the TLS build, and is skipped without
//!   the `tls` feature.
//! - A ```hup block with `file=NAME` is written to NAME in the directory
//!   the file's examples run in, for the examples after it.
//! - A ```sh block is not run as a whole (it builds, installs, runs the
//!   suite or docker), but each `hangup serve` in it (or `cargo run --
//!   serve`) must start and listen, and each `hangup show`, `list` or
//!   `check` must exit 0.
//! - A ```text block is not run: output of other tools, or an example that
//!   needs what the test machine lacks (a PostgreSQL server).
//!
//! Why not trycmd: it runs one command per case and cannot start a server
//! in the background and run curl against it, which is what nearly every
//! example here does. snapbox has trycmd's matching, but its redactions
//! of times need its regex feature, and the matching is 60 lines here.
//!
//! `cargo run -- ARGS` in the docs runs as `hangup ARGS` with this test's
//! build: the commands are the same, and a release build inside a test
//! would take minutes.

mod markdown;
mod matching;
mod process;
mod shell;

use std::path::{Path, PathBuf};

use markdown::{Block, Command};
use shell::{How, Shell};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const BIN: &str = env!("CARGO_BIN_EXE_hangup");

/// How a command's output is held to what the docs show.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// Line for line: hangup's output, and the files it wrote (its log, a
    /// recording) shown by `cat`, `tail`, `head`, `grep` and `ls`.
    InOrder,
    /// The same lines in any order: curl, which on a terminal writes its
    /// message before the last, unfinished line of the body, and in a pipe
    /// before all of it. What it prints is the server's bytes and the
    /// messages the outcome table already holds it to (`-sS` keeps only
    /// those).
    AnyOrder,
    /// Only the exit status: another program (node, python3, psql), whose
    /// messages change with its version.
    ExitStatus,
}

fn check_for(program: &str) -> Check {
    match program {
        "hangup" | "cat" | "tail" | "head" | "grep" | "ls" => Check::InOrder,
        "curl" => Check::AnyOrder,
        _ => Check::ExitStatus,
    }
}

/// A temporary directory for one file's examples, removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(doc: &str) -> WorkDir {
        let name = format!("hangup-docs-{}-{}", std::process::id(), doc.replace(['/', '.'], "-"));
        let dir = std::env::temp_dir().join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run every example of one markdown file (a path from the repository's
/// root) and fail with all that went wrong.
fn check(doc: &str) {
    let failures = run_examples(doc);
    assert!(
        failures.is_empty(),
        "{} example(s) in {doc} do not do what they show:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn run_examples(doc: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(doc)).expect("read the doc");
    let dir = WorkDir::new(doc);
    let mut failures = Vec::new();
    for block in markdown::blocks(&text) {
        match block.language() {
            // What needs TLS is not there to run without it.
            "console" if block.has("tls") && !cfg!(feature = "tls") => {}
            "console" => failures.extend(run_console(doc, &block, &dir.0)),
            "sh" => failures.extend(check_sh(doc, &block, &dir.0)),
            "hup" => {
                if let Some(name) = block.attribute("file") {
                    let source = block.lines.join("\n") + "\n";
                    std::fs::write(dir.0.join(name), source).expect("write a scenario file");
                }
            }
            _ => {}
        }
    }
    failures
}

fn bin_dir() -> &'static Path {
    Path::new(BIN).parent().expect("the binary's directory")
}

fn run_console(doc: &str, block: &Block, dir: &Path) -> Vec<String> {
    let commands = match markdown::commands(block) {
        Ok(commands) => commands,
        Err(e) => return vec![format!("{doc}: {e}")],
    };
    let mut shell = Shell::new(dir, bin_dir());
    let mut failures = Vec::new();
    for command in &commands {
        let words: Vec<String> = shell::as_installed(&command.code)
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect();
        if words == ["hangup", "serve"] && !command.background && command.exit == 0 {
            // It would run until the test's limit.
            failures.push(format!(
                "{doc}:{}: $ {}
  `hangup serve` runs until it is stopped: end the line with `&`",
                command.line, command.typed
            ));
            break;
        }
        let check = check_for(shell::program(&shell::as_installed(&command.code)));
        let how = match (command.background, check) {
            (true, _) => How::Background,
            (false, Check::AnyOrder) => How::Apart,
            (false, _) => How::Merged,
        };
        let ran = match shell.run(&command.code, how) {
            Ok(ran) => ran,
            Err(e) => {
                // The rest of the block depends on this one.
                failures.push(format!("{doc}:{}: $ {}\n  {e}", command.line, command.typed));
                break;
            }
        };
        if let Some(failure) = compare(&shell, command, &ran, check) {
            failures.push(format!("{doc}:{}: $ {}\n{failure}", command.line, command.typed));
        }
    }
    let ends = shell.finish();
    failures.extend(
        ends.into_iter()
            .map(|e| format!("{doc}:{}: at the block's end: {e}", block.line)),
    );
    failures
}

/// What differs between what `command` shows and what it did, if anything.
fn compare(shell: &Shell, command: &Command, ran: &shell::Ran, check: Check) -> Option<String> {
    let servers = shell.servers();
    let shown = matching::lines(&command.expected.join("\n"));
    let printed = matching::lines(&shell.as_documented(&ran.output));
    let normalise =
        |lines: &[String]| -> Vec<String> { lines.iter().map(|l| matching::normalise(l, &servers)).collect() };
    let (expected, actual) = (normalise(&shown), normalise(&printed));
    let output_differs = match check {
        Check::InOrder => !matching::matches(&expected, &actual),
        Check::AnyOrder => !matching::matches_in_any_order(&expected, &actual),
        Check::ExitStatus => false,
    };
    let status_differs = !command.background && ran.status != Some(command.exit);
    if !output_differs && !status_differs {
        return None;
    }
    let mut report = String::new();
    if status_differs {
        let status = ran.status.map_or("a signal".to_string(), |code| code.to_string());
        report.push_str(&format!("  exit status: shown {}, got {status}\n", command.exit));
    }
    if output_differs
        && check == Check::InOrder
        && let Some(line) = matching::first_difference(&expected, &actual)
    {
        let at = |lines: &[String]| lines.get(line).cloned().unwrap_or_else(|| "(no line)".into());
        report.push_str(&format!(
            "  output line {}:\n    shown: {}\n    got:   {}\n",
            line + 1,
            at(&shown),
            at(&printed)
        ));
    }
    report.push_str("  shown:\n");
    shown.iter().for_each(|l| report.push_str(&format!("    | {l}\n")));
    report.push_str("  got:\n");
    printed.iter().for_each(|l| report.push_str(&format!("    | {l}\n")));
    Some(report.trim_end().to_string())
}

/// The `hangup` commands of a ```sh block that can run alone: every
/// `serve` must start and listen (and is stopped again), every `show`,
/// `list` and `check` must exit 0.
fn check_sh(doc: &str, block: &Block, dir: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for (offset, line) in block.lines.iter().enumerate() {
        let number = block.line + 1 + offset;
        let (code, _) = markdown::split_comment(line);
        let code = shell::as_installed(code.trim());
        let code = code.trim_end_matches('&').trim_end();
        let words: Vec<&str> = code.split_whitespace().collect();
        let mut shell = Shell::new(dir, bin_dir());
        let result = match words.as_slice() {
            ["hangup", "serve", ..] => shell.run(code, How::Background).map(|_| ()),
            ["hangup", "show" | "list" | "check", ..] => match shell.run(code, How::Merged) {
                Ok(ran) if ran.status == Some(0) => Ok(()),
                Ok(ran) => Err(format!("exited with {:?}:\n{}", ran.status, ran.output)),
                Err(e) => Err(e),
            },
            _ => continue,
        };
        let ends = shell.finish();
        if let Err(e) = result {
            failures.push(format!("{doc}:{number}: {code}\n  {e}"));
        }
        failures.extend(ends.into_iter().map(|e| format!("{doc}:{number}: {e}")));
    }
    failures
}

/// The docs whose examples run, from the repository's root.
fn docs() -> Vec<String> {
    let mut docs = vec!["README.md".to_string()];
    let dir = Path::new(ROOT).join("docs");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .expect("read docs/")
        .map(|entry| entry.expect("a docs/ entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    found.sort();
    docs.extend(found);
    docs
}

/// One test per doc, so they run side by side and a failure names its
/// file; [`the_other_docs`] runs any doc not named here.
macro_rules! examples {
    ($($(#[$only:meta])* $test:ident: $doc:literal,)*) => {
        $(
            #[test]
            $(#[$only])*
            fn $test() {
                check($doc);
            }
        )*
        const NAMED: &[&str] = &[$($doc),*];
    };
}

examples! {
    readme: "README.md",
    docs_index: "docs/README.md",
    docs_cli: "docs/cli.md",
    docs_probe: "docs/probe.md",
    docs_scenarios: "docs/scenarios.md",
    // Its examples serve the TLS built-ins too (`--catalog --tls`).
    #[cfg(feature = "tls")]
    docs_catalog: "docs/catalog.md",
    docs_proxy_and_record: "docs/proxy-and-record.md",
    docs_clients: "docs/clients.md",
    docs_ci: "docs/ci.md",
    docs_performance: "docs/performance.md",
    docs_architecture: "docs/architecture.md",
    docs_event_log: "docs/event-log.md",
    #[cfg(feature = "tls")]
    docs_tls: "docs/tls.md",
    docs_http2: "docs/http2.md",
}

#[test]
fn the_other_docs() {
    let failures: Vec<String> = docs()
        .iter()
        .filter(|doc| !NAMED.contains(&doc.as_str()))
        .flat_map(|doc| run_examples(doc))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A console example that stops matching fails with the line that
/// changed, and so does a wrong exit status.
#[test]
fn a_changed_output_fails_with_the_line_that_changed() {
    let dir = WorkDir::new("self-test");
    let doc = dir.0.join("doc.md");
    std::fs::write(
        &doc,
        "```console\n$ hangup serve mid-body-reset &\nlistening on 127.0.0.1:9000\n\
         $ hangup probe http://127.0.0.1:9000/\nsent      79 B      GET / HTTP/1.1\n\
         received  69 B      [..]\n...\n$ curl -sS http://127.0.0.1:9000/\n```\n",
    )
    .unwrap();
    let failures = run_examples(doc.to_str().unwrap());
    assert_eq!(failures.len(), 2, "{failures:#?}");
    assert!(
        failures[0].contains("output line 2:\n    shown: received  69 B      [..]\n    got:   received  68 B "),
        "{}",
        failures[0]
    );
    assert!(failures[1].contains("exit status: shown 0, got 56"), "{}", failures[1]);
}
