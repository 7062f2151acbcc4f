//! The static binary runs with nothing beside it: `scripts/chroot-test.sh`
//! builds it, copies it alone into an empty directory, serves a built-in
//! scenario from a chroot, and checks the bytes and the RST from outside.

use std::process::Command;

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
