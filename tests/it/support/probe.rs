//! Running `hangup probe` and reading what it printed: one helper for
//! every probe test, and its JSON report read by request number.

use std::ops::Index;

use super::json::{self, Value};
use super::{hangup, text};

/// What one run of `hangup probe` gave.
pub struct Probed {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// `hangup probe TARGET FLAGS…`, run to its end.
pub fn probe(target: &str, flags: &[&str]) -> Probed {
    let mut args = vec!["probe", target];
    args.extend_from_slice(flags);
    let out = hangup(&args);
    Probed {
        code: out.status.code(),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

/// `hangup probe TARGET --json FLAGS…`, which must exit 0: its report.
pub fn probe_json(target: &str, flags: &[&str]) -> Report {
    let mut args = vec!["--json"];
    args.extend_from_slice(flags);
    let probed = probe(target, &args);
    assert_eq!(probed.code, Some(0), "{}{}", probed.stdout, probed.stderr);
    probed.json()
}

impl Probed {
    /// stdout as a probe's JSON report (of one probe, or a `--count` summary).
    pub fn json(&self) -> Report {
        Report(json::parse(&self.stdout))
    }
}

/// A probe's JSON report; `report["outcome"]` reads a top-level field.
pub struct Report(pub Value);

impl Report {
    /// The report of request `number` (counted from 1, as the report
    /// numbers them; not the index: a long run leaves some out).
    pub fn request(&self, number: u64) -> &Value {
        self.requests()
            .iter()
            .find(|r| r["number"] == number)
            .unwrap_or_else(|| panic!("no request {number} in {self}"))
    }

    /// Every request reported, in order.
    pub fn requests(&self) -> &[Value] {
        self.0["requests"]
            .as_array()
            .unwrap_or_else(|| panic!("no requests in {self}"))
    }

    /// The timeline's marks.
    pub fn timeline(&self) -> &[Value] {
        self.0["timeline"]
            .as_array()
            .unwrap_or_else(|| panic!("no timeline in {self}"))
    }

    /// The timeline's marks of one event (`"body"`, `"server-rst"`, ...).
    pub fn marks(&self, event: &str) -> Vec<&Value> {
        self.timeline().iter().filter(|m| m["event"] == event).collect()
    }
}

impl Index<&str> for Report {
    type Output = Value;
    fn index(&self, key: &str) -> &Value {
        &self.0[key]
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}
