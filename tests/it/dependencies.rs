//! What hangup links: the lock file holds no crate that hangup never uses.

/// mio's default features pull in the `log` crate (for its own debug
/// messages), which hangup never turns on; Cargo.toml turns them off.
#[test]
fn the_lock_file_has_no_log_crate() {
    let lock = include_str!("../../Cargo.lock");
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    assert!(names.contains(&"mio"), "{names:?}");
    assert!(!names.contains(&"log"), "Cargo.lock still has `log`: {names:?}");
}
