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
//! `tests/it/node_response_parity.rs` holds every rule to a live Node and
//! Python client.
//!
//! Who refuses what, as that test found it: Node alone refuses bytes
//! after a body (Python never reads them), bare LF and lone CR line ends,
//! any duplicate, non-numeric or tab-padded `Content-Length`, one with
//! `Transfer-Encoding`, a chunk size Python's `int(s, 16)` reads (`0x5`,
//! spaces) and bad chunk extensions, a head or a trailer counting 16 KiB
//! (each counted afresh), one chunk's extensions counting over 16 KiB, bad
//! header name or value bytes, obsolete folding, a body on HEAD, 204 or
//! 304, and a status line Python splits on whitespace anyway. Both refuse
//! a chunk size neither reads, chunk data without its CRLF, a
//! `Content-Length` or chunk size past 64 bits, stray bytes before or
//! after an interim response, a status code not of three digits, and a cut
//! body. Python alone refuses a line over 64 KiB, over 100 header lines,
//! an empty line before the status line, HTTP/2.0, RTSP/ and statuses
//! below 100. A whole response nobody asked for is refused by neither.
//!
//! Empty lines before the status line are Python's to refuse, however
//! many: Node skips them without a limit, so a server that sends nothing
//! else keeps a Node client waiting (2 GB in 4 s, no error until the
//! server closed). The check names the run even when no status line ever
//! came.

use super::NODE_HEADER_LIMIT;

const NODE: &[&str] = &["node"];
const PYTHON: &[&str] = &["python"];
const BOTH: &[&str] = &["node", "python"];
const NOBODY: &[&str] = &[];
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
    /// One chunk's extensions over Node's 16 KiB.
    ChunkExtensionsTooLarge,
    ChunkDataEnd,
    HeadTooLarge,
    /// The trailer after a chunked body over Node's 16 KiB.
    TrailerTooLarge,
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
            Kind::ChunkExtensionsTooLarge => "chunk-extensions-too-large",
            Kind::ChunkDataEnd => "chunk-data-end",
            Kind::HeadTooLarge => "head-too-large",
            Kind::TrailerTooLarge => "trailer-too-large",
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

/// Which block of header fields is read: Node counts each against its
/// limit afresh (a head of 10 KiB and a trailer of 10 KiB pass).
#[derive(Clone, Copy)]
enum Section {
    Head,
    Trailer,
}

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
            if blank > 0 && matches!(before, Before::Nothing) {
                let what = if self.pos + blank < self.b.len() {
                    "an empty line before the status line".to_string()
                } else if self.closed {
                    format!("{} of empty lines and no status line", bytes(blank))
                } else {
                    format!(
                        "{} of empty lines and no status line yet (Node reads on without end)",
                        bytes(blank)
                    )
                };
                self.flag(Kind::StatusLine, self.pos, what, PYTHON);
            }
            if self.pos + blank == self.b.len() {
                if self.found.responses.len() < head_requests.len() && interim.is_empty() && self.closed {
                    let n = self.found.responses.len() + 1;
                    let what = format!("the connection closed before response {n}");
                    self.flag(Kind::Truncated, self.b.len(), what, BOTH);
                }
                return;
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

    fn too_large<T>(&mut self, at: usize, counted: usize, section: Section) -> Result<T, Stop> {
        let (kind, what) = match section {
            Section::Head => (
                Kind::HeadTooLarge,
                format!(
                    "head too large: {counted} bytes of status text, header names and values (Node refuses {NODE_HEADER_LIMIT})"
                ),
            ),
            Section::Trailer => (
                Kind::TrailerTooLarge,
                format!(
                    "trailer too large: {counted} bytes of trailer field names and values after the last chunk (Node refuses {NODE_HEADER_LIMIT})"
                ),
            ),
        };
        self.fail(kind, at, what, NODE)
    }
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
mod status_line;

#[cfg(test)]
mod tests;
