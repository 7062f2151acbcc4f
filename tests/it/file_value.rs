//! `file "…"`: a byte value that is a file's contents, read from beside the
//! scenario file, sent byte for byte by the real binary.

use std::process::Command;
use std::time::Duration;

use crate::support::{BIN, End, GET, Server, TempDir, exchange, text};

/// A fresh directory for one test's scenario and side files, removed
/// when dropped.
fn temp_dir(name: &str) -> TempDir {
    TempDir::new(&format!("file-value-{name}"))
}

/// Every byte value once, 0 to 255.
fn all_bytes() -> Vec<u8> {
    (0..=255).collect()
}

/// About a megabyte that no `repeat` could write: a xorshift stream.
fn megabyte() -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..1_000_003)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

#[test]
fn write_sends_exactly_the_files_bytes() {
    let dir = temp_dir("write");
    std::fs::write(dir.join("all.bin"), all_bytes()).unwrap();
    std::fs::write(dir.join("big.bin"), megabyte()).unwrap();
    let scenario = dir.join("raw.hup");
    std::fs::write(
        &scenario,
        "read request\nwrite file \"all.bin\"\nwrite \"|\" file \"big.bin\"\nclose\n",
    )
    .unwrap();
    let server = Server::start(scenario.to_str().unwrap(), &[]);
    let (received, end, _) = exchange(&server, GET, Duration::from_secs(10));
    let expected = [all_bytes(), b"|".to_vec(), megabyte()].concat();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "the bytes differ");
    assert_eq!(end, End::PeerFin);
}

#[test]
fn respond_body_is_the_file_with_its_length() {
    let dir = temp_dir("respond");
    std::fs::write(dir.join("all.bin"), all_bytes()).unwrap();
    let scenario = dir.join("page.hup");
    std::fs::write(
        &scenario,
        "read request\nrespond 200 header \"Connection: close\" body file \"all.bin\"\nclose\n",
    )
    .unwrap();
    let server = Server::start(scenario.to_str().unwrap(), &[]);
    let (received, end, _) = exchange(&server, GET, Duration::from_secs(10));
    let head = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 256\r\n\r\n";
    assert_eq!(received, [head.to_vec(), all_bytes()].concat());
    assert_eq!(end, End::PeerFin);
}

#[test]
fn check_reads_the_file_beside_the_scenario_and_names_a_missing_one() {
    let dir = temp_dir("check");
    let sub = dir.join("some/dir");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(sub.join("body.bin"), all_bytes()).unwrap();
    std::fs::write(sub.join("ok.hup"), "read request\nwrite file \"body.bin\"\n").unwrap();
    std::fs::write(
        sub.join("x.hup"),
        "# A side file that is not there.\nread request\nwrite file \"nope.bin\"\n",
    )
    .unwrap();
    // From the directory above, so that the paths are relative: the side
    // file is found beside the scenario, not in the current directory.
    let check = |file: &str| {
        Command::new(BIN)
            .args(["check", file])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let out = check("some/dir/ok.hup");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = check("some/dir/x.hup");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "some/dir/x.hup:3:12: cannot read `nope.bin` (some/dir/nope.bin): No such file or directory\n  |\n\
         3 | write file \"nope.bin\"\n  |            ^^^^^^^^^^\n"
    );
}
