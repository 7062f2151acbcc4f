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
        format!("{path}:4:8: expected `times`, found `tims`; did you mean `times`?"),
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
    let headlines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&*path)).collect();
    assert_eq!(headlines.len(), 21, "{stderr}");
    assert!(headlines[19].starts_with(&format!("{path}:20:1: unknown statement `jump`")));
    assert_eq!(
        headlines[20],
        format!("{path}: stopped after the first 20 errors; fix these and check again for the rest")
    );
}

#[test]
fn check_warns_about_a_param_that_nothing_uses() {
    let path = scenario_file("unused-param", "param after = 2s\nread request\nrespond 200\n");
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{path}:1:7: warning: parameter `after` is never used: no `$after` in the scenario, so `--set after=…` changes nothing\n"
        )
    );
}

#[test]
fn a_mistyped_statement_or_keyword_gets_the_nearest_one() {
    let path = scenario_file("typos", "read reqest\nwrte \"x\"\nreste\nclose nwo\nsleep 1s\njump\n");
    let out = hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let headlines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&*path)).collect();
    assert_eq!(
        headlines,
        [
            format!(
                "{path}:1:6: expected what to read: `request`, `head`, `body`, a byte count, `until eof`, `tls-hello` or `preface`, found `reqest`; did you mean `request`?"
            ),
            format!("{path}:2:1: unknown statement `wrte`; did you mean `write`?"),
            format!("{path}:3:1: unknown statement `reste`; did you mean `reset`?"),
            format!("{path}:4:7: expected end of line, found `nwo`; did you mean `now`?"),
            // Nothing is near `jump`: no guess, the whole list.
            format!(
                "{path}:6:1: unknown statement `jump`; expected one of read, write, respond, sleep, close, reset, half-close, hang, loop, if, log, forward, relay, upstream, tls, h2"
            ),
        ],
        "{stderr}"
    );
}

#[test]
fn a_mistyped_built_in_name_gets_the_nearest_one() {
    let out = hangup(&["serve", "mid-body-rest", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it must not listen");
    assert_eq!(
        text(&out.stderr),
        "hangup: unknown scenario `mid-body-rest`: not a built-in (see `hangup list`) and no such file; did you mean `mid-body-reset`?\n"
    );
    let out = hangup(&["show", "helo"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "hangup: no built-in scenario named `helo`; did you mean `hello`? `hangup list` shows them all\n"
    );
    // Far from every name: no guess.
    let out = hangup(&["show", "nothing-like-it"]);
    assert_eq!(
        text(&out.stderr),
        "hangup: no built-in scenario named `nothing-like-it`; `hangup list` shows them all\n"
    );
}
