//! The static binary runs with nothing beside it: `scripts/chroot-test.sh`
//! builds it, copies it alone into an empty directory, serves a built-in
//! scenario from a chroot, and checks the bytes and the RST from outside.
//! And `scripts/build-static.sh` takes the binary from where cargo says it
//! built it, never from a fixed `target/` that may hold a stale one.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn static_binary_serves_from_an_empty_chroot() {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/chroot-test.sh"))
        .output()
        .expect("run scripts/chroot-test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("PASS: the static binary alone served mid-body-reset"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("the jail holds: ./hangup \n"), "{stdout}");
}

/// A stand-in for cargo, first on PATH: it reports a target directory and
/// an executable in a temporary directory (as CARGO_TARGET_DIR would), or
/// fails to build when `FAKE_FAIL` is set.
const FAKE_CARGO: &str = r#"#!/usr/bin/env bash
case $1 in
  metadata) printf '{"packages":[],"target_directory":"%s","version":1}\n' "$FAKE_TARGET" ;;
  build)
    if [[ -n ${FAKE_FAIL:-} ]]; then echo "error: could not compile (fake)" >&2; exit 101; fi
    printf '{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"hangup"},"executable":"%s"}\n' "$FAKE_TARGET/built/hangup"
    printf '{"reason":"build-finished","success":true}\n' ;;
  *) echo "fake cargo: unexpected $*" >&2; exit 1 ;;
esac
"#;

/// What the fake cargo's build does.
enum Build {
    Succeeds,
    Fails,
}

/// Run build-static.sh with the fake cargo; `(output, the directory that
/// holds the fake's `bin/` and `target/`)`.
fn build_static_with_fake_cargo(build: Build) -> (Output, TempDir) {
    let dir = TempDir::new("fake-cargo");
    let bin = dir.join("bin");
    let target = dir.join("target");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(target.join("built")).unwrap();
    let write_executable = |path: &Path, text: &str| {
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    };
    write_executable(&bin.join("cargo"), FAKE_CARGO);
    write_executable(&target.join("built/hangup"), "fresh\n");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new("bash");
    command
        .arg(Path::new(ROOT).join("scripts/build-static.sh"))
        .env("PATH", path)
        .env("FAKE_TARGET", &target)
        // glibc needs no rustup; the fake cargo stands for the build either way.
        .env("STATIC_LIBC", "gnu");
    if let Build::Fails = build {
        command.env("FAKE_FAIL", "1");
    }
    (command.output().expect("run build-static.sh"), dir)
}

#[test]
fn build_static_copies_the_binary_cargo_reports() {
    let (out, dir) = build_static_with_fake_cargo(Build::Succeeds);
    let target = dir.join("target");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let copy = target.join("static/hangup");
    assert!(
        stdout.starts_with(&format!("{}  ", copy.display())),
        "{stdout}\n{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), "fresh\n");
}

#[test]
fn build_static_fails_loudly_when_the_build_fails() {
    let (out, dir) = build_static_with_fake_cargo(Build::Fails);
    let target = dir.join("target");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("failed"), "{stderr}");
    assert!(!target.join("static/hangup").exists());
}
