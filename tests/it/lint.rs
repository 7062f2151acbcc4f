//! `hangup check`: every error of a file at once (up to 20, then it says
//! it stopped), and warnings about valid scenarios that cannot do what
//! they say (issue 16, item 17): a write after `half-close`, a `read
//! request` in a bad-request handler. Both go to stderr; warnings alone
//! leave the check passing.

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

#[test]
fn check_reports_every_error_of_a_file_each_with_its_line_and_caret() {
    let path = scenario_file(
        "three-errors",
        "read request\nsleep 5\nrespond 200\nloop 3 tims\n  write \"x\" @\nend\nreste\n",
    );
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let expected = [
        format!("{path}:2:7: `5` needs a unit: 250ms, 2s, 2m, 1h or 500us"),
        "  |".to_string(),
        "2 | sleep 5".to_string(),
        "  |       ^".to_string(),
        String::new(),
        format!("{path}:4:8: expected `times`, found `tims`"),
        "  |".to_string(),
        "4 | loop 3 tims".to_string(),
        "  |        ^^^^".to_string(),
        String::new(),
        format!("{path}:5:13: unexpected character `@`"),
        "  |".to_string(),
        "5 |   write \"x\" @".to_string(),
        "  |             ^".to_string(),
        String::new(),
    ];
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..expected.len()],
        expected.iter().map(String::as_str).collect::<Vec<_>>()[..],
        "{stderr}"
    );
    assert!(
        lines[expected.len()].starts_with(&format!("{path}:7:1: unknown statement `reste`")),
        "{stderr}"
    );
}

#[test]
fn check_stops_after_twenty_errors_and_says_so() {
    let path = scenario_file("thirty-errors", &"jump\n".repeat(30));
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let headlines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&path)).collect();
    assert_eq!(headlines.len(), 21, "{stderr}");
    assert!(headlines[19].starts_with(&format!("{path}:20:1: unknown statement `jump`")));
    assert_eq!(
        headlines[20],
        format!("{path}: stopped after the first 20 errors; fix these and check again for the rest")
    );
}
