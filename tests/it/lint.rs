//! `hangup check` warns about valid scenarios that cannot do what they
//! say (issue 16, item 17): a write after `half-close`, a `read request`
//! in a bad-request handler. Warnings go to stderr; the check still passes.

use crate::support::{hangup, scenario_file, text};

#[test]
fn check_warns_about_a_write_after_half_close_and_still_passes() {
    let path = scenario_file(
        "write-after-half-close",
        "read request\nrespond 200 body \"ok\"\nhalf-close\nwrite \"late\"\n",
    );
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{path}: ok\n"));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "{path}:4:1: warning: `write` after the `half-close` on line 3"
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn check_warns_about_a_read_request_in_a_handler() {
    let path = scenario_file(
        "reread-handler",
        "on bad-request\n  read request\nend\nread request\nrespond 200\n",
    );
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{path}:2:3: warning: `read request` in `on bad-request`")),
        "{stderr}"
    );
}

#[test]
fn a_clean_scenario_has_no_warnings() {
    let path = scenario_file(
        "clean",
        "read request\nrespond 200\nhalf-close\nread until eof\nclose\n",
    );
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
}
