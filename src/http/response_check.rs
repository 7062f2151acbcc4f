//! Judges the bytes a client received on one connection as strict clients
//! judge them, after the fact: Node's parser (llhttp, in strict mode) first,
//! and Python's `http.client` where it refuses what Node accepts.
//!
//! [`check`] takes everything received, which requests were `HEAD` (in the
//! order sent) and whether the server closed the connection, and returns
//! every response's span in order (pipelined responses are split one per
//! request; interim 1xx heads go with the response they precede) and the
//! violations found, each with its byte offset in `received` and the
//! clients known to refuse it (`refused_by`, empty when no tested client
//! does). Node stops at the first fault it finds, and so does this check,
//! except where llhttp's lenient mode shows an obvious way on (a bare LF
//! is read as a line end) or the fault is one Node does not see.
//! `tests/node_response_parity.rs` holds every rule to a live Node and
//! Python client.

use super::NODE_HEADER_LIMIT;

const NODE: &[&str] = &["node"];
const PYTHON: &[&str] = &["python"];
const BOTH: &[&str] = &["node", "python"];
const NOBODY: &[&str] = &[];
/// What llhttp takes before a response's version.
const PROTOCOLS: [&[u8]; 3] = [b"HTTP/", b"RTSP/", b"ICE/"];
/// `http.client` refuses a line longer than this (`_MAXLINE`), terminator included.
const PYTHON_MAX_LINE: usize = 65536;
/// `http.client` refuses a head with more header lines than this.
const PYTHON_MAX_HEADERS: usize = 100;

/// What is wrong, for a script to test; the text is in [`Violation::what`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Bytes after a response's body that are not a next response.
    DataAfterBody,
    /// Bytes after the head of a response that has no body (HEAD, 204, 304, 1xx).
    BodyNotAllowed,
    /// A whole response that no request asked for.
    UnrequestedResponse,
    BareLf,
    /// A CR not followed by LF.
    LoneCr,
    DuplicateContentLength,
    InvalidContentLength,
    ContentLengthWithTransferEncoding,
    ChunkSize,
    ChunkExtension,
    ChunkDataEnd,
    HeadTooLarge,
    HeaderName,
    HeaderValue,
    ObsFold,
    StrayBeforeStatus,
    StatusLine,
    /// A line over Python's 64 KiB.
    LongLine,
    /// More header lines than Python takes.
    TooManyHeaders,
    /// The server closed the connection before the response was whole.
    Truncated,
}

impl Kind {
    /// A short stable name, as tests and `--json` show it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::DataAfterBody => "data-after-body",
            Kind::BodyNotAllowed => "body-not-allowed",
            Kind::UnrequestedResponse => "unrequested-response",
            Kind::BareLf => "bare-lf",
            Kind::LoneCr => "lone-cr",
            Kind::DuplicateContentLength => "duplicate-content-length",
            Kind::InvalidContentLength => "invalid-content-length",
            Kind::ContentLengthWithTransferEncoding => "content-length-with-transfer-encoding",
            Kind::ChunkSize => "chunk-size",
            Kind::ChunkExtension => "chunk-extension",
            Kind::ChunkDataEnd => "chunk-data-end",
            Kind::HeadTooLarge => "head-too-large",
            Kind::HeaderName => "header-name",
            Kind::HeaderValue => "header-value",
            Kind::ObsFold => "obs-fold",
            Kind::StrayBeforeStatus => "stray-before-status",
            Kind::StatusLine => "status-line",
            Kind::LongLine => "long-line",
            Kind::TooManyHeaders => "too-many-headers",
            Kind::Truncated => "truncated",
        }
    }
}

/// One fault, where it is and who refuses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Violation {
    pub kind: Kind,
    /// Offset in the bytes received on the connection.
    pub offset: u64,
    pub what: String,
    pub refused_by: &'static [&'static str],
}

/// Where one final response lies in the bytes received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseSpan {
    /// Its first byte: the first interim head's, if it had any.
    pub start: u64,
    /// One past its last byte.
    pub end: u64,
    /// The 1xx statuses seen before it.
    pub interim: Vec<u16>,
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub responses: Vec<ResponseSpan>,
    /// Each with the index of the response it belongs to (the next one
    /// expected, for bytes that never became a response).
    pub violations: Vec<(usize, Violation)>,
}

/// Check `received`, the bytes of one connection; `head_requests[i]` says
/// whether request `i` was `HEAD`, `closed_by_server` whether the stream
/// ended (a response cut short is then a violation, not just incomplete).
pub(crate) fn check(received: &[u8], head_requests: &[bool], closed_by_server: bool) -> Checked {
    let mut checker = Checker {
        b: received,
        pos: 0,
        closed: closed_by_server,
        found: Checked::default(),
    };
    checker.run(head_requests);
    checker.found
}

/// Stop reading: Node gave up here, or the bytes ran out.
struct Stop;

/// What came before the bytes being read, to name what is wrong with them.
#[derive(Clone, Copy)]
enum Before {
    Nothing,
    Body(u64),
    Chunked,
    NoBody(&'static str),
    Interim(u16),
}

struct Head {
    status: u16,
    length: Option<u64>,
    chunked: bool,
    transfer_encoding: bool,
    keep_alive: bool,
}

struct Checker<'a> {
    b: &'a [u8],
    pos: usize,
    closed: bool,
    found: Checked,
}

impl Checker<'_> {
    fn flag(&mut self, kind: Kind, at: usize, what: String, refused_by: &'static [&'static str]) {
        let index = self.found.responses.len();
        let violation = Violation {
            kind,
            offset: at as u64,
            what,
            refused_by,
        };
        self.found.violations.push((index, violation));
    }

    fn fail<T>(&mut self, kind: Kind, at: usize, what: String, refused_by: &'static [&'static str]) -> Result<T, Stop> {
        self.flag(kind, at, what, refused_by);
        Err(Stop)
    }

    /// The byte at `at`, or a stop at the end of the bytes (a violation if
    /// the server closed the connection there, `cut` saying what was cut).
    fn at(&mut self, at: usize, cut: &str, refused_by: &'static [&'static str]) -> Result<u8, Stop> {
        match self.b.get(at) {
            Some(&b) => Ok(b),
            None if self.closed => self.fail(Kind::Truncated, at, format!("the connection closed {cut}"), refused_by),
            None => Err(Stop),
        }
    }

    fn run(&mut self, head_requests: &[bool]) {
        let mut before = Before::Nothing;
        let mut interim = Vec::new();
        let mut start = 0;
        loop {
            // llhttp skips empty lines between messages; Python reads one as
            // a status line.
            let blank = self.b[self.pos..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if self.pos + blank == self.b.len() {
                if self.found.responses.len() < head_requests.len() && interim.is_empty() && self.closed {
                    let n = self.found.responses.len() + 1;
                    let what = format!("the connection closed before response {n}");
                    self.flag(Kind::Truncated, self.b.len(), what, BOTH);
                }
                return;
            }
            if blank > 0 && matches!(before, Before::Nothing) {
                self.flag(
                    Kind::StatusLine,
                    self.pos,
                    "an empty line before the status line".into(),
                    PYTHON,
                );
            }
            self.pos += blank;
            if interim.is_empty() {
                start = self.pos;
            }
            let Ok(head) = self.head(before) else { return };
            if (100..200).contains(&head.status) && head.status != 101 {
                interim.push(head.status);
                before = Before::Interim(head.status);
                continue;
            }
            let index = self.found.responses.len();
            let unrequested = index >= head_requests.len();
            let is_head = head_requests.get(index).copied().unwrap_or(false);
            let body = self.body(&head, is_head);
            self.found.responses.push(ResponseSpan {
                start: start as u64,
                end: self.pos as u64,
                interim: std::mem::take(&mut interim),
            });
            if unrequested {
                let what = format!(
                    "a whole response ({} at byte {start}) that no request asked for",
                    head.status
                );
                self.found
                    .violations
                    .push((index, self.violation(Kind::UnrequestedResponse, start, what)));
            }
            let Ok(next) = body else { return };
            before = next;
            if !head.keep_alive {
                self.after_close(before);
                return;
            }
        }
    }

    fn violation(&self, kind: Kind, at: usize, what: String) -> Violation {
        Violation {
            kind,
            offset: at as u64,
            what,
            refused_by: NOBODY,
        }
    }

    /// After a response that ends the connection llhttp takes nothing but
    /// empty lines.
    fn after_close(&mut self, before: Before) {
        let rest = &self.b[self.pos..];
        if let Some(skip) = rest.iter().position(|b| !matches!(b, b'\r' | b'\n')) {
            let at = self.pos + skip;
            let what = format!(
                "{} of a response that closes the connection",
                after(before, rest.len() - skip)
            );
            // Attributed to the response that closed, not a next one.
            let index = self.found.responses.len() - 1;
            let violation = Violation {
                kind: Kind::DataAfterBody,
                offset: at as u64,
                what,
                refused_by: NODE,
            };
            self.found.violations.push((index, violation));
        }
    }

    /// A status line and header fields, up to and including the empty line.
    fn head(&mut self, before: Before) -> Result<Head, Stop> {
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
            return self.too_large(p, counted);
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

    /// `p` holds CR or LF ending a line: the offset after the line end.
    fn line_end(&mut self, p: usize, line: &str) -> Result<usize, Stop> {
        if self.b[p] == b'\n' {
            self.flag(Kind::BareLf, p, format!("bare LF line end after {line}"), NODE);
            return Ok(p + 1);
        }
        match self.at(p + 1, &format!("inside {line}"), BOTH)? {
            b'\n' => Ok(p + 2),
            _ => self.fail(Kind::LoneCr, p, format!("CR not followed by LF after {line}"), NODE),
        }
    }

    /// Python refuses a line over 64 KiB; Node counts it with the rest.
    fn long_line(&mut self, start: usize) {
        let rest = &self.b[start..];
        let len = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
        if len > PYTHON_MAX_LINE {
            self.flag(
                Kind::LongLine,
                start,
                format!("a line of {len} bytes, over Python's 64 KiB"),
                PYTHON,
            );
        }
    }

    fn too_large<T>(&mut self, at: usize, counted: usize) -> Result<T, Stop> {
        let what = format!(
            "head too large: {counted} bytes of status text, header names and values (Node refuses {NODE_HEADER_LIMIT})"
        );
        self.fail(Kind::HeadTooLarge, at, what, NODE)
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

/// "31 bytes after the 5-byte body", and so on.
fn after(before: Before, n: usize) -> String {
    match before {
        Before::Body(len) => format!("{} after the {len}-byte body", bytes(n)),
        Before::Chunked => format!("{} after the last chunk", bytes(n)),
        Before::NoBody(which) => format!("{} after {which}, which has no body", bytes(n)),
        Before::Interim(status) => format!("{} after the interim {status} response", bytes(n)),
        Before::Nothing => format!("{} before the status line", bytes(n)),
    }
}

fn bytes(n: usize) -> String {
    if n == 1 { "1 byte".into() } else { format!("{n} bytes") }
}

mod body;
mod fields;

#[cfg(test)]
mod tests;
