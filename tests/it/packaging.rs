//! What a newcomer meets before the first test runs: `scripts/test.sh`
//! says what Rust lacks, and the Docker build context leaves out `target/`.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Run scripts/test.sh with stand-ins for rustc and cargo first on PATH:
/// rustc reports `rustc_version`; `cargo fmt` / `cargo clippy` exist only
/// when named in `components`. Anything else the fake cargo is asked fails,
/// so the script can never go on to run the real suite.
fn test_sh_with(name: &str, rustc_version: &str, components: &[&str]) -> Output {
    let dir = TempDir::new(&format!("test-sh-{name}"));
    let write = |file: &str, text: String| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    write(
        "rustc",
        format!("#!/bin/sh\necho 'rustc {rustc_version} (fake 2024-01-01)'\n"),
    );
    let mut cargo = String::from("#!/bin/sh\ncase \"$1 $2\" in\n");
    for component in components {
        let command = if *component == "rustfmt" { "fmt" } else { "clippy" };
        cargo.push_str(&format!("  '{command} --version') echo '{component} 1.0'; exit 0 ;;\n"));
    }
    cargo.push_str("esac\necho \"fake cargo: no $1\" >&2\nexit 101\n");
    write("cargo", cargo);
    let path = format!("{}:{}", dir.display(), std::env::var("PATH").unwrap_or_default());
    Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/test.sh"))
        .env("PATH", path)
        .output()
        .expect("run scripts/test.sh")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn test_sh_says_when_rust_is_too_old() {
    let out = test_sh_with("old", "1.84.1", &["rustfmt", "clippy"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("test.sh: hangup needs Rust 1.85 or later (edition 2024); here: rustc 1.84.1"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("rustup update stable"), "{}", stderr(&out));
}

#[test]
fn test_sh_says_which_rust_components_are_missing() {
    let out = test_sh_with("components", "1.85.0", &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "test.sh: Rust's rustfmt clippy missing here; run `rustup component add rustfmt clippy`\n"
    );
    let out = test_sh_with("clippy", "1.95.0", &["rustfmt"]);
    assert_eq!(
        stderr(&out),
        "test.sh: Rust's clippy missing here; run `rustup component add clippy`\n"
    );
}

/// `docker build .` sends the whole directory unless told otherwise, and a
/// test run leaves hundreds of MB in `target/`; what the Dockerfile copies
/// must still be sent.
#[test]
fn docker_context_leaves_out_target_but_not_what_the_image_needs() {
    let ignore = std::fs::read_to_string(Path::new(ROOT).join(".dockerignore")).expect(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(
        patterns.iter().any(|p| p.trim_end_matches('/') == "target"),
        "{patterns:?}"
    );
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(
                !patterns.iter().any(|p| p.trim_end_matches('/') == *source || *p == "*"),
                "{source} is copied by the Dockerfile but ignored"
            );
        }
    }
}
