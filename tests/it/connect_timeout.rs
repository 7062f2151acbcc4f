//! `connect-timeout` from real clients: curl's connect times out (exit 28)
//! every time, node's `net.connect` hears its own timeout and never
//! `connect`, and hangup spends no CPU while they wait.

use std::process::{Command, Stdio};

use crate::support::{Server, json, text};

/// utime + stime of a process, in clock ticks (/proc/PID/stat fields 14
/// and 15, counted after the `)` that ends the command name).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Field 3 (state) is index 0 here, so utime (14) and stime (15) are 11, 12.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// The issue's check: 10 of 10 curls with `--connect-timeout 1` exit 28.
/// They run at once, so the test takes about one second, and hangup's CPU
/// time is read around them.
#[test]
fn curl_connect_times_out_every_time_and_hangup_stays_idle() {
    let server = Server::start("connect-timeout", &[]);
    let before = cpu_ticks(server.pid());
    let url = format!("http://{}/", server.addr);
    let curls: Vec<_> = (0..10)
        .map(|_| {
            Command::new("curl")
                .args(["-sS", "--connect-timeout", "1", "-o", "/dev/null", &url])
                .stderr(Stdio::piped())
                .spawn()
                .expect("curl")
        })
        .collect();
    for curl in curls {
        let out = curl.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(28), "{stderr}");
        assert!(
            stderr.contains("Failed to connect") || stderr.contains("timed out"),
            "{stderr}"
        );
    }
    let used = cpu_ticks(server.pid()) - before;
    // A tick is 10 ms: a second of waiting costs none; 10 allows for noise.
    assert!(used <= 10, "hangup used {used} ticks of CPU while not accepting");
    let (_, log) = server.stop("TERM");
    let summary = json::event(&log, "stopped");
    assert_eq!(summary["accepted"], 0, "{summary}");
}

#[test]
fn node_connect_hears_its_own_timeout() {
    let server = Server::start("connect-timeout", &[]);
    let script = r#"
        const s = require("net").connect(+process.env.PORT, "127.0.0.1");
        s.setTimeout(1000);
        s.on("connect", () => { console.log("connect"); s.destroy(); });
        s.on("timeout", () => { console.log("timeout"); s.destroy(); });
        s.on("error", (e) => console.log("error " + e.code));
    "#;
    let out = Command::new("node")
        .args(["-e", script])
        .env("PORT", server.addr.port().to_string())
        .output()
        .expect("node");
    assert_eq!(text(&out.stdout).trim(), "timeout", "{}", text(&out.stderr));
}

#[test]
fn a_scenario_that_never_accepts_has_no_statements() {
    let path = crate::support::scenario_file("accept-never-and-write", "accept never\nwrite \"x\"\n");
    let out = crate::support::hangup(&["check", &path]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("`accept never` on line 1 leaves no connection"),
        "{}",
        text(&out.stderr)
    );
}
