//! SIGHUP loads the scenario file again (issue 24, item 15): new
//! connections run the new script, open ones finish theirs, and a file that
//! no longer loads is logged with its place while the running script stays.

use std::io::Write;
use std::time::Duration;

use crate::support::{End, GET, Server, exchange, read_to_end, scenario_file, text};

const SHORT: Duration = Duration::from_secs(3);

fn answer(body: &str) -> String {
    format!("read request\nrespond 200 body \"{body}\"\nclose\n")
}

#[test]
fn sighup_gives_new_connections_the_new_script_and_open_ones_keep_theirs() {
    let path = scenario_file("reload-me", &answer("first"));
    let server = Server::start(&path, &[]);
    // Accepted under the first script; its request comes after the reload.
    let mut open = server.connect();
    server.wait_for_log(&[r#""event":"accept""#]);

    std::fs::write(&path, answer("second")).unwrap();
    server.signal("HUP");
    let line = server.wait_for_log(&[r#""event":"reloaded""#]);
    assert!(line.contains(&format!(r#""scenario":"{path}""#)), "{line}");

    open.write_all(GET).unwrap();
    let (bytes, end) = read_to_end(&mut open, SHORT);
    assert!(text(&bytes).ends_with("\r\n\r\nfirst"), "{}", text(&bytes));
    assert_eq!(end, End::PeerFin);
    let (bytes, _, _) = exchange(&server, GET, SHORT);
    assert!(text(&bytes).ends_with("\r\n\r\nsecond"), "{}", text(&bytes));

    // A file that no longer parses: logged with its place, script kept.
    std::fs::write(&path, "read request\nwrte \"third\"\n").unwrap();
    server.signal("HUP");
    let kept = server.wait_for_log(&[r#""event":"reload-kept""#]);
    assert!(kept.contains(&format!("{path}:2:1: ")), "{kept}");
    let (bytes, _, _) = exchange(&server, GET, SHORT);
    assert!(text(&bytes).ends_with("\r\n\r\nsecond"), "{}", text(&bytes));

    // The server still stops as usual.
    let (code, _) = server.stop("TERM");
    assert_eq!(code, Some(0));
}

#[test]
fn sighup_to_a_built_in_keeps_it_and_says_why() {
    let server = Server::start("hello", &[]);
    server.signal("HUP");
    let kept = server.wait_for_log(&[r#""event":"reload-kept""#]);
    assert!(kept.contains("built-in"), "{kept}");
    // hello keeps the connection open after its answer.
    let (bytes, _, _) = exchange(&server, GET, Duration::from_millis(300));
    assert!(text(&bytes).ends_with("hello\n"), "{}", text(&bytes));
}
