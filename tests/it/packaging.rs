//! What a newcomer meets before the first test runs, and what a user
//! gets: `scripts/test.sh` says what Rust lacks, the Docker build context
//! is only what the image is built from, and the published crate holds
//! what `cargo install hangup` builds and the licences, nothing else.

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

/// Cargo.toml's rust-version, as (major, minor).
fn rust_version() -> (u32, u32) {
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml has a rust-version");
    let mut parts = version.split('.').map(|p| p.parse::<u32>().expect("a number"));
    (parts.next().unwrap(), parts.next().unwrap())
}

#[test]
fn test_sh_says_when_rust_is_too_old() {
    let (major, minor) = rust_version();
    let old = format!("{major}.{}.1", minor - 1);
    let out = test_sh_with("old", &old, &["rustfmt", "clippy"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with(&format!(
            "test.sh: hangup needs Rust {major}.{minor} or later (Cargo.toml's rust-version); here: rustc {old}"
        )),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("rustup update stable"), "{}", stderr(&out));
}

#[test]
fn test_sh_says_which_rust_components_are_missing() {
    let (major, minor) = rust_version();
    let out = test_sh_with("components", &format!("{major}.{minor}.0"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "test.sh: Rust's rustfmt clippy missing here; run `rustup component add rustfmt clippy`\n"
    );
    let out = test_sh_with("clippy", &format!("{major}.{}.0", minor + 7), &["rustfmt"]);
    assert_eq!(
        stderr(&out),
        "test.sh: Rust's clippy missing here; run `rustup component add clippy`\n"
    );
}

/// Whether `.dockerignore` leaves `path` out of the build context, for
/// the patterns it uses: `*`, a path (which covers what is under it) and
/// `!` before either to let it back in; the last pattern that matches
/// decides, as in Docker.
fn docker_ignores(patterns: &[&str], path: &str) -> bool {
    let mut ignored = false;
    for pattern in patterns {
        let (let_in, pattern) = match pattern.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, *pattern),
        };
        let pattern = pattern.trim_end_matches('/');
        if pattern == "*" || path == pattern || path.starts_with(&format!("{pattern}/")) {
            ignored = !let_in;
        }
    }
    ignored
}

/// `docker build .` sends the whole directory unless told otherwise, and a
/// test run leaves hundreds of MB in `target/`; what the Dockerfile copies
/// must still be sent, with all that build-static.sh needs.
#[test]
fn docker_context_is_only_what_the_image_is_built_from() {
    let ignore = std::fs::read_to_string(Path::new(ROOT).join(".dockerignore")).expect(".dockerignore");
    let patterns: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    for left_out in ["target", "target/debug/hangup", ".git", "tests/it/main.rs", "README.md"] {
        assert!(docker_ignores(&patterns, left_out), "{left_out} is sent: {patterns:?}");
    }
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();
    let mut copied = Vec::new();
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        copied.extend(words[1..words.len() - 1].iter().map(|s| s.to_string()));
    }
    assert!(copied.contains(&"scripts/build-static.sh".to_string()), "{copied:?}");
    for source in &copied {
        assert!(
            !docker_ignores(&patterns, source),
            "{source} is copied by the Dockerfile but ignored"
        );
    }
    // What build-static.sh reads: its libraries, and the code under the
    // directories copied whole.
    for needed in [
        "scripts/lib/cargo.sh",
        "scripts/lib/apt.sh",
        "src/main.rs",
        "scenarios/hello.hup",
    ] {
        assert!(Path::new(ROOT).join(needed).exists(), "{needed}");
        assert!(
            copied
                .iter()
                .any(|c| needed == c || needed.starts_with(&format!("{c}/"))),
            "{needed} is not copied into the image's build stage"
        );
        assert!(!docker_ignores(&patterns, needed), "{needed} is ignored");
    }
}

/// `cargo package --list`: the files the published crate would hold.
fn packaged_files() -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["package", "--list", "--allow-dirty", "--quiet"])
        .current_dir(ROOT)
        .output()
        .expect("cargo package --list");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// What `cargo install hangup` builds from is all there (the code, the
/// built-in scenarios it compiles in, the lock file for `--locked`), with
/// the README and both licences; the tests, scripts and docs are not.
#[test]
fn the_published_crate_holds_the_code_scenarios_and_licences_only() {
    let files = packaged_files();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/main.rs",
        "src/sys/bsd.rs",
        "scenarios/README.md",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed} is not packaged: {files:?}");
    }
    for scenario in std::fs::read_dir(Path::new(ROOT).join("scenarios")).unwrap() {
        let name = format!("scenarios/{}", scenario.unwrap().file_name().to_string_lossy());
        assert!(files.contains(&name), "{name} is not packaged");
    }
    // All of src/, data a unit test reads with include_str! included.
    let mut dirs = vec![Path::new(ROOT).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.strip_prefix(ROOT).unwrap().to_string_lossy().into_owned();
            assert!(files.contains(&name), "{name} is not packaged");
        }
    }
    for left_out in [
        "tests/",
        "scripts/",
        "docs/",
        "examples/",
        "Dockerfile",
        "proptest-regressions/",
    ] {
        assert!(
            !files.iter().any(|f| f.starts_with(left_out)),
            "{left_out} is packaged: {files:?}"
        );
    }
    let manifest = std::fs::read_to_string(Path::new(ROOT).join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nlicense = \"MIT OR Apache-2.0\"\n"), "{manifest}");
}
