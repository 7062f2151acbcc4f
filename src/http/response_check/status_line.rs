//! The status line of a response, as llhttp reads it, and what Python's
//! `http.client` makes of it.

use super::{BOTH, Before, Checker, Head, Kind, NODE, PYTHON, Section, Stop, after, bytes};
use crate::http::NODE_HEADER_LIMIT;

/// What llhttp takes before a response's version.
const PROTOCOLS: [&[u8]; 3] = [b"HTTP/", b"RTSP/", b"ICE/"];

impl Checker<'_> {
    /// A status line and header fields, up to and including the empty line.
    pub(super) fn head(&mut self, before: Before) -> Result<Head, Stop> {
        let line_start = self.pos;
        self.long_line(line_start);
        let python_reads = python_reads_status_line(&self.b[line_start..]);
        // Where Node refuses the status line, whether Python does too.
        let refused_by = if python_reads { NODE } else { BOTH };
        let mut counted = 0;
        // Protocol and version: `HTTP/d.d `.
        let mut protocol = PROTOCOLS.to_vec();
        let mut p = line_start;
        // llhttp's protocols, a byte at a time: the first that fits.
        while !protocol.iter().any(|name| p - line_start == name.len()) {
            let b = self.at(p, "inside the status line", BOTH)?;
            protocol.retain(|name| name.get(p - line_start) == Some(&b));
            if protocol.is_empty() {
                return self.not_a_status_line(before);
            }
            p += 1;
        }
        let version_at = p;
        let major = self.at(p, "inside the status line", BOTH)?;
        let dot = self.at(p + 1, "inside the status line", BOTH)?;
        let minor = self.at(p + 2, "inside the status line", BOTH)?;
        if !major.is_ascii_digit() || dot != b'.' || !minor.is_ascii_digit() {
            return self.fail(
                Kind::StatusLine,
                p,
                "invalid HTTP version in the status line".into(),
                refused_by,
            );
        }
        let version = (major - b'0', minor - b'0');
        if !matches!(version, (0, 9) | (1, 0) | (1, 1) | (2, 0)) {
            let what = format!("version {}.{} is not one Node accepts", version.0, version.1);
            return self.fail(Kind::StatusLine, version_at, what, refused_by);
        }
        p += 3;
        if self.at(p, "inside the status line", BOTH)? != b' ' {
            return self.fail(
                Kind::StatusLine,
                p,
                "no space after the version in the status line".into(),
                refused_by,
            );
        }
        p += 1;
        let mut status = 0u16;
        for i in 0..3 {
            let b = self.at(p + i, "inside the status line", BOTH)?;
            if !b.is_ascii_digit() {
                return self.fail(
                    Kind::StatusLine,
                    p + i,
                    "the status code is not three digits".into(),
                    refused_by,
                );
            }
            status = status * 10 + u16::from(b - b'0');
        }
        p += 3;
        match self.at(p, "inside the status line", BOTH)? {
            b' ' => p += 1,
            b'\r' | b'\n' => {}
            _ => {
                return self.fail(
                    Kind::StatusLine,
                    p,
                    "the status code is not three digits".into(),
                    refused_by,
                );
            }
        }
        if !python_reads {
            let what = match (version, status) {
                _ if self.b[line_start] != b'H' => "not an HTTP/ status line".to_string(),
                ((2, 0), _) => "HTTP/2.0 in an HTTP/1 status line".to_string(),
                (_, 0..100) => format!("status {status:03} is below 100"),
                _ => "a status line Python's http.client refuses".to_string(),
            };
            self.flag(Kind::StatusLine, line_start, what, PYTHON);
        }
        let reason = p;
        while !matches!(self.at(p, "inside the status line", BOTH)?, b'\r' | b'\n') {
            p += 1;
        }
        counted += p - reason;
        if counted >= NODE_HEADER_LIMIT {
            return self.too_large(p, counted, Section::Head);
        }
        self.pos = self.line_end(p, "the status line")?;
        self.fields(counted, version, status)
    }

    /// The bytes at `pos` do not start with `HTTP/`: say what they are.
    fn not_a_status_line<T>(&mut self, before: Before) -> Result<T, Stop> {
        let stopped = self.what_is_not_a_status_line(before);
        // Bytes after a body belong to the response they follow.
        if matches!(before, Before::Body(_) | Before::Chunked | Before::NoBody(_))
            && let Some((index, _)) = self.found.violations.last_mut()
        {
            *index -= 1;
        }
        stopped
    }

    fn what_is_not_a_status_line<T>(&mut self, before: Before) -> Result<T, Stop> {
        let rest = &self.b[self.pos..];
        let at = self.pos;
        let refused_by = if python_reads_status_line(rest) { NODE } else { BOTH };
        match before {
            Before::Nothing => match rest.windows(5).position(|w| w == b"HTTP/") {
                Some(n) => {
                    let what = format!("{n} stray bytes before the status line");
                    self.fail(Kind::StrayBeforeStatus, at, what, refused_by)
                }
                None => {
                    let what = "not an HTTP response: no HTTP/ status line".to_string();
                    self.fail(Kind::StatusLine, at, what, refused_by)
                }
            },
            Before::NoBody(which) => {
                let what = format!("{} after {which}, which has no body", bytes(rest.len()));
                self.fail(Kind::BodyNotAllowed, at, what, NODE)
            }
            Before::Interim(status) => {
                let what = format!(
                    "{} after the interim {status} response, which has no body",
                    bytes(rest.len())
                );
                self.fail(Kind::BodyNotAllowed, at, what, BOTH)
            }
            Before::Body(_) | Before::Chunked => {
                let what = after(before, rest.len());
                self.fail(Kind::DataAfterBody, at, what, NODE)
            }
        }
    }
}

/// Whether Python's `http.client` takes the status line at the start of
/// `rest`: it splits the line on whitespace into version, status and
/// reason, wants `HTTP/` and three digits from 100 to 999, and knows
/// HTTP/0.9, 1.0 and 1.x only.
fn python_reads_status_line(rest: &[u8]) -> bool {
    let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
    let mut words = rest[..end]
        .split(|b| b.is_ascii_whitespace() || matches!(b, 0x0b | 0x1c..=0x1f | 0x85 | 0xa0))
        .filter(|w| !w.is_empty());
    let (Some(version), Some(status)) = (words.next(), words.next()) else {
        return false;
    };
    let known = matches!(version, b"HTTP/1.0" | b"HTTP/0.9") || version.starts_with(b"HTTP/1.");
    known && status.len() == 3 && status.iter().all(u8::is_ascii_digit) && status[0] != b'0'
}
