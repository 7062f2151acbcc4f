//! The static binary runs with nothing beside it: `scripts/chroot-test.sh`
//! builds it, copies it alone into an empty directory, serves a built-in
//! scenario from a chroot, and checks the bytes and the RST from outside.
//! The arm64 one, cross-built on this machine, serves the same bytes and
//! the same RST as the native build, under qemu-aarch64. And
//! `scripts/build-static.sh` takes the binary from where cargo says it
//! built it, never from a fixed `target/` that may hold a stale one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::support::{self, End, GET, TempDir, read_to_end};

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
/// fails to build when `FAKE_FAIL` is set. The executable it reports,
/// `built/TARGET/hangup`, is made anew by each build and says which target
/// it is for. Each build's arguments are appended to `cargo-args`.
const FAKE_CARGO: &str = r#"#!/usr/bin/env bash
case $1 in
  metadata) printf '{"packages":[],"target_directory":"%s","version":1}\n' "$FAKE_TARGET" ;;
  build)
    echo "$*" >>"$FAKE_TARGET/cargo-args"
    if [[ -n ${FAKE_FAIL:-} ]]; then echo "error: could not compile (fake)" >&2; exit 101; fi
    exe=$FAKE_TARGET/built/no-target/hangup
    prev=""
    for arg in "$@"; do
      if [[ $prev == --target ]]; then
        exe=$FAKE_TARGET/built/$arg/hangup
        mkdir -p "${exe%/*}"
        printf 'hangup for %s\n' "$arg" >"$exe"
        chmod +x "$exe"
      fi
      prev=$arg
    done
    printf '{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"hangup"},"executable":"%s"}\n' "$exe"
    printf '{"reason":"build-finished","success":true}\n' ;;
  *) echo "fake cargo: unexpected $*" >&2; exit 1 ;;
esac
"#;

/// A stand-in for rustup: both musl targets are installed.
const FAKE_RUSTUP: &str = r#"#!/usr/bin/env bash
if [[ "$*" == "target list --installed" ]]; then
  printf '%s\n' x86_64-unknown-linux-musl aarch64-unknown-linux-musl
  exit 0
fi
echo "fake rustup: unexpected $*" >&2
exit 1
"#;

/// Whether the fake cargo fails its build.
#[derive(Clone, Copy, PartialEq)]
enum Build {
    Succeeds,
    Fails,
}

/// Run `scripts/SCRIPT ARGS…` with the fake cargo and rustup first on PATH;
/// `(output, the directory holding the fake's `bin/` and `target/`)`. The C
/// compilers are named (`true`) so that nothing is installed.
fn with_fake_cargo(script: &str, args: &[&str], build: Build) -> (Output, TempDir) {
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
    write_executable(&bin.join("rustup"), FAKE_RUSTUP);
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new("bash");
    command
        .arg(Path::new(ROOT).join("scripts").join(script))
        .args(args)
        .env("PATH", path)
        .env("FAKE_TARGET", &target)
        .env("CC_x86_64_unknown_linux_musl", "true")
        .env("CC_aarch64_unknown_linux_musl", "true")
        // Without --target: glibc needs no rustup; the fake cargo stands
        // for the build either way.
        .env("STATIC_LIBC", "gnu");
    if build == Build::Fails {
        command.env("FAKE_FAIL", "1");
    }
    (command.output().expect("run the script"), dir)
}

fn build_static_with_fake_cargo(build: Build) -> (Output, TempDir) {
    with_fake_cargo("build-static.sh", &[], build)
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
    let copied = std::fs::read_to_string(&copy).unwrap();
    let arch = std::env::consts::ARCH;
    assert_eq!(copied, format!("hangup for {arch}-unknown-linux-gnu\n"));
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

#[test]
fn build_static_builds_for_the_target_asked_into_a_directory_of_its_own() {
    let args = ["--target", "aarch64-unknown-linux-musl", "--no-default-features"];
    let (out, dir) = with_fake_cargo("build-static.sh", &args, Build::Succeeds);
    let target = dir.join("target");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let copy = target.join("static/aarch64-unknown-linux-musl/no-default-features/hangup");
    assert!(
        stdout.starts_with(&format!("{}  aarch64-unknown-linux-musl  ", copy.display())),
        "{stdout}\n{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        "hangup for aarch64-unknown-linux-musl\n"
    );
    let cargo_args = std::fs::read_to_string(target.join("cargo-args")).unwrap();
    for arg in ["--release", "--locked", "--no-default-features", "--bin hangup"] {
        assert!(
            cargo_args.contains(arg),
            "{arg} missing from cargo's arguments: {cargo_args}"
        );
    }
}

#[test]
fn build_static_refuses_a_target_it_has_no_static_build_for() {
    let args = ["--target", "x86_64-apple-darwin"];
    let (out, dir) = with_fake_cargo("build-static.sh", &args, Build::Succeeds);
    let target = dir.join("target");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        "build-static.sh: no static build for x86_64-apple-darwin; \
         use x86_64-unknown-linux-musl or aarch64-unknown-linux-musl\n"
    );
    assert!(!target.join("cargo-args").exists(), "cargo was run");
}

#[test]
fn release_archives_each_static_binary_with_the_licences_and_their_checksums() {
    let out_dir = TempDir::new("release");
    let dist = out_dir.join("dist");
    let (out, _fake) = with_fake_cargo("release.sh", &[dist.to_str().unwrap()], Build::Succeeds);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let version = env!("CARGO_PKG_VERSION");
    let targets = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];
    let mut listed: Vec<String> = targets
        .iter()
        .map(|t| format!("{}/hangup-{version}-{t}.tar.gz", dist.display()))
        .collect();
    listed.push(format!("{}/SHA256SUMS", dist.display()));
    assert_eq!(stdout.lines().collect::<Vec<_>>(), listed, "{stderr}");

    // What the README tells a user to run, from the download directory.
    let check = Command::new("sha256sum")
        .args(["--check", "SHA256SUMS"])
        .current_dir(&dist)
        .output()
        .expect("sha256sum");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    assert_eq!(String::from_utf8_lossy(&check.stdout).matches(": OK\n").count(), 2);

    for target_triple in targets {
        let name = format!("hangup-{version}-{target_triple}");
        let listing = Command::new("tar")
            .args(["-tvzf", &format!("{name}.tar.gz")])
            .current_dir(&dist)
            .output()
            .expect("tar");
        let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
        let mut files: Vec<&str> = listing.lines().filter_map(|l| l.split_whitespace().last()).collect();
        files.sort();
        let expected: Vec<String> = ["", "LICENSE-APACHE", "LICENSE-MIT", "README.md", "hangup"]
            .iter()
            .map(|f| format!("{name}/{f}"))
            .collect();
        assert_eq!(files, expected, "{listing}");
        assert!(
            listing
                .lines()
                .any(|l| l.starts_with("-rwxr-xr-x 0/0") && l.ends_with("/hangup")),
            "{listing}"
        );
        let binary = Command::new("tar")
            .args(["-xzOf", &format!("{name}.tar.gz"), &format!("{name}/hangup")])
            .current_dir(&dist)
            .output()
            .expect("tar");
        assert_eq!(support::text(&binary.stdout), format!("hangup for {target_triple}\n"));
    }
}

/// The arm64 static binary: the one `scripts/test.sh` built before the
/// tests (`HANGUP_STATIC_AARCH64`), or built now.
fn arm64_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HANGUP_STATIC_AARCH64") {
        return PathBuf::from(path);
    }
    let out = Command::new("bash")
        .arg(Path::new(ROOT).join("scripts/build-static.sh"))
        .args(["--target", "aarch64-unknown-linux-musl"])
        .output()
        .expect("run build-static.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(stdout.split_whitespace().next().expect("a path"))
}

/// An ELF file's machine (`e_machine`) and whether it names a dynamic
/// loader (a `PT_INTERP` program header): a static binary names none.
fn elf_machine_and_interpreter(path: &Path) -> (u16, bool) {
    let elf = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        elf.starts_with(b"\x7fELF\x02\x01"),
        "{} is no 64-bit little-endian ELF",
        path.display()
    );
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes(elf[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(elf[at..at + 8].try_into().unwrap());
    let (phoff, phentsize, phnum) = (u64_at(32) as usize, u16_at(54) as usize, u16_at(56) as usize);
    const PT_INTERP: u32 = 3;
    let interpreter = (0..phnum).any(|i| u32_at(phoff + i * phentsize) == PT_INTERP);
    (u16_at(18), interpreter)
}

/// `EM_AARCH64`, the ELF machine number of arm64.
const EM_AARCH64: u16 = 183;

/// A `hangup serve` process, killed by its PID when dropped.
struct Serving {
    child: Child,
    addr: SocketAddr,
}

impl Serving {
    /// Run `program ARGS… serve SCENARIO FLAGS…` on a free loopback port
    /// and wait for its `listening on` line.
    fn start(program: &str, args: &[&Path], scenario: &str, flags: &[&str]) -> Serving {
        let mut child = Command::new(program)
            .args(args)
            .args(["serve", scenario, "--listen", "127.0.0.1:0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {program} (scripts/test.sh installs qemu-user): {e}"));
        let mut line = String::new();
        let _ = BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line);
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let mut stderr = String::new();
            let _ = child.stderr.take().expect("stderr").read_to_string(&mut stderr);
            panic!("{program} {args:?} serve {scenario} did not start: {line:?}\n{stderr}");
        };
        let addr = addr.parse().expect("an address");
        Serving { child, addr }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What curl printed (the head and the body) and its exit code.
fn curl(addr: SocketAddr) -> (Vec<u8>, Option<i32>) {
    let out = Command::new("curl")
        .args(["-sS", "--raw", "-i", "--max-time", "10"])
        .arg(format!("http://{addr}/"))
        .output()
        .expect("curl");
    (out.stdout, out.status.code())
}

/// Send a GET on a socket of our own and read to the end.
fn raw_get(addr: SocketAddr) -> (Vec<u8>, End) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.write_all(GET).expect("send the request");
    read_to_end(&mut stream, Duration::from_secs(10))
}

#[test]
fn the_arm64_static_binary_serves_the_same_bytes_and_rst_under_qemu() {
    let binary = arm64_binary();
    assert_eq!(
        elf_machine_and_interpreter(&binary),
        (EM_AARCH64, false),
        "{} is not a static arm64 binary",
        binary.display()
    );
    // (scenario, its flags, curl's exit code: 56 is "failure receiving
    // data", here the reset after the first bytes of the body). `hello`
    // keeps the connection open for `idle`, then sends FIN.
    let cases: [(&str, &[&str], i32); 2] = [("hello", &["--set", "idle=50ms"], 0), ("mid-body-reset", &[], 56)];
    for (scenario, flags, curl_exit) in cases {
        let arm64 = Serving::start("qemu-aarch64", &[&binary], scenario, flags);
        let native = Serving::start(support::BIN, &[], scenario, flags);
        let (arm64_bytes, arm64_exit) = curl(arm64.addr);
        let (native_bytes, native_exit) = curl(native.addr);
        assert_eq!(
            arm64_exit,
            Some(curl_exit),
            "{scenario}: {}",
            support::text(&arm64_bytes)
        );
        assert_eq!(
            (support::text(&arm64_bytes), arm64_exit),
            (support::text(&native_bytes), native_exit),
            "{scenario}: arm64 under qemu, then native"
        );
        let (arm64_raw, arm64_end) = raw_get(arm64.addr);
        let (native_raw, native_end) = raw_get(native.addr);
        assert_eq!((arm64_raw, arm64_end), (native_raw, native_end), "{scenario}");
        let expected_end = if curl_exit == 0 { End::PeerFin } else { End::PeerRst };
        assert_eq!(arm64_end, expected_end, "{scenario}");
    }
}
