//! A request head by the rules of llhttp, the parser inside Node's HTTP
//! server, so that hangup refuses exactly what Node refuses (400) and
//! accepts exactly what Node accepts.
//!
//! [`HeadScanner`] reads the request line itself: one of llhttp's methods
//! (httparse would take any token, so `FOO` would pass), one or more
//! spaces, a URL whose characters llhttp allows (origin form, `*`, an
//! absolute URL, or an authority for `CONNECT`), then `HTTP/` (or llhttp's
//! `RTSP/` and `ICE/`) and one of the versions 0.9, 1.0, 1.1 or 2.0; a
//! request line without a version is HTTP/0.9, as in llhttp. Header lines
//! are [`Fields`]. Everything is resumable: fed the same growing buffer, it
//! goes on where it stopped, and it refuses a bad byte as soon as it
//! arrives, as Node does. Node's 16 KiB limit counts the bytes of the URL,
//! the header names and the header values; that count is kept here too.

use std::ops::Range;

use super::chars::{URL_CHAR, USERINFO};
use super::fields::Fields;
use super::{BadRequest, malformed};

/// Which protocols may carry a method (llhttp's method tables).
const HTTP: u8 = 1;
const RTSP: u8 = 2;
const ICE: u8 = 4;

/// llhttp's request methods: Node's `http.METHODS`, plus `PRI` (the
/// HTTP/2 preface, refused) and the RTSP methods it parses.
const METHODS: &[(&[u8], u8)] = &[
    (b"GET", HTTP | RTSP),
    (b"POST", HTTP | RTSP),
    (b"HEAD", HTTP),
    (b"PUT", HTTP),
    (b"DELETE", HTTP),
    (b"OPTIONS", HTTP | RTSP),
    (b"PATCH", HTTP),
    (b"CONNECT", HTTP),
    (b"TRACE", HTTP),
    (b"ACL", HTTP),
    (b"BIND", HTTP),
    (b"CHECKOUT", HTTP),
    (b"COPY", HTTP),
    (b"LINK", HTTP),
    (b"LOCK", HTTP),
    (b"M-SEARCH", HTTP),
    (b"MERGE", HTTP),
    (b"MKACTIVITY", HTTP),
    (b"MKCALENDAR", HTTP),
    (b"MKCOL", HTTP),
    (b"MOVE", HTTP),
    (b"NOTIFY", HTTP),
    (b"PROPFIND", HTTP),
    (b"PROPPATCH", HTTP),
    (b"PURGE", HTTP),
    (b"QUERY", HTTP),
    (b"REBIND", HTTP),
    (b"REPORT", HTTP),
    (b"SEARCH", HTTP),
    (b"SOURCE", HTTP | ICE),
    (b"SUBSCRIBE", HTTP),
    (b"UNBIND", HTTP),
    (b"UNLINK", HTTP),
    (b"UNLOCK", HTTP),
    (b"UNSUBSCRIBE", HTTP),
    (b"PRI", HTTP),
    (b"DESCRIBE", RTSP),
    (b"ANNOUNCE", RTSP),
    (b"SETUP", RTSP),
    (b"PLAY", RTSP),
    (b"PAUSE", RTSP),
    (b"TEARDOWN", RTSP),
    (b"GET_PARAMETER", RTSP),
    (b"SET_PARAMETER", RTSP),
    (b"REDIRECT", RTSP),
    (b"RECORD", RTSP),
    (b"FLUSH", RTSP),
];

/// The protocols a request line may name, and the methods each allows.
const PROTOCOLS: &[(&[u8], u8)] = &[(b"HTTP/", HTTP), (b"RTSP/", RTSP), (b"ICE/", ICE)];

/// How the body after a head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Body {
    None,
    Length(u64),
    Chunked,
}

/// A complete head.
#[derive(Debug)]
pub(super) struct Head {
    /// Its bytes, up to and including the blank line.
    pub len: usize,
    pub method: Range<usize>,
    pub target: Range<usize>,
    /// Where the header lines start.
    pub fields: Range<usize>,
    /// How many header lines there are.
    pub lines: u32,
    pub body: Body,
}

#[derive(Debug, Default)]
pub(super) struct HeadScanner {
    /// Bytes of the input scanned so far.
    pos: usize,
    line: Line,
    method_start: usize,
    method_len: u8,
    /// The method's protocols (`HTTP`, `RTSP`, `ICE`), once it is known.
    protocols: u8,
    connect: bool,
    target: Range<usize>,
    fields_start: usize,
    fields: Fields,
}

/// Where in the request line the scanner is (llhttp's states).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Empty lines before a request are skipped.
    #[default]
    Start,
    Method,
    SpacesBeforeUrl,
    UrlStart,
    Schema,
    /// The `//` after `scheme:`; how many slashes came.
    SchemaSlashes(u8),
    /// The host part of an absolute URL (or of a CONNECT authority);
    /// `at` once a `@` was seen.
    Server {
        at: bool,
    },
    Path,
    Query,
    Fragment,
    /// The CR of a request line without a version.
    UrlCr,
    SpacesBeforeProtocol,
    /// `HTTP/` (or another protocol's name); how many bytes of it came.
    Protocol(u8),
    Major,
    Dot,
    Minor,
    VersionCr,
    VersionLf,
    /// The line after the request line, which must not start with a space.
    FieldsStart,
    Fields,
}

/// The next state, and how many bytes the step read (0: the next state
/// reads the same byte again).
type Next = Result<(Line, usize), BadRequest>;

fn eat(line: Line) -> Next {
    Ok((line, 1))
}

fn again(line: Line) -> Next {
    Ok((line, 0))
}

impl HeadScanner {
    /// Scan what `input` holds beyond the last call. `Ok(None)` asks for
    /// more bytes (with the same ones first).
    pub fn scan(&mut self, input: &[u8]) -> Result<Option<Head>, BadRequest> {
        while self.pos < input.len() {
            if self.line == Line::Fields {
                if !self.fields.scan(input, &mut self.pos)? {
                    return Ok(None);
                }
                return self.finish().map(Some);
            }
            if self.line == Line::Start
                && input[self.pos] != b'\r'
                && input[self.pos] != b'\n'
                && self.common_request_line(input)?
            {
                continue;
            }
            let (line, read) = self.step(input)?;
            self.line = line;
            self.pos += read;
        }
        if self.line == Line::Method {
            // Refuse a method as soon as no method starts like it, as
            // llhttp does, rather than when its space comes.
            let prefix = &input[self.method_start..];
            if !METHODS.iter().any(|(name, _)| name.starts_with(prefix)) {
                return Err(malformed("Invalid method encountered"));
            }
        }
        Ok(None)
    }

    /// The common case in one go: a whole `METHOD /path HTTP/1.x` line,
    /// single spaces, an origin-form URL, CRLF. `false` (nothing read)
    /// leaves anything else to the byte machine, which knows every case.
    fn common_request_line(&mut self, input: &[u8]) -> Result<bool, BadRequest> {
        let start = self.pos;
        let line = &input[start..];
        let Some(space) = line.iter().take(14).position(|&b| b == b' ') else {
            return Ok(false);
        };
        let Some(&(_, protocols)) = METHODS.iter().find(|(m, _)| *m == &line[..space]) else {
            return Ok(false);
        };
        let url = space + 1;
        let method = &line[..space];
        if protocols & HTTP == 0 || line.get(url) != Some(&b'/') || method == b"PRI" || method == b"CONNECT" {
            return Ok(false);
        }
        let url_end = url
            + line[url..]
                .iter()
                .position(|&b| !URL_CHAR[b as usize] && b != b'?' && b != b'#')
                .unwrap_or(line.len() - url);
        let Some(version) = line.get(url_end..url_end + 11) else {
            return Ok(false);
        };
        if !matches!(version, b" HTTP/1.1\r\n" | b" HTTP/1.0\r\n") {
            return Ok(false);
        }
        self.fields.count(url_end - url)?;
        self.method_start = start;
        self.method_len = space as u8;
        self.protocols = protocols;
        self.connect = false;
        self.target = start + url..start + url_end;
        self.pos = start + url_end + 11;
        self.line = Line::FieldsStart;
        Ok(true)
    }

    /// Read one byte of the request line (or a run of URL bytes).
    fn step(&mut self, input: &[u8]) -> Next {
        let b = input[self.pos];
        match self.line {
            Line::Start => match b {
                b'\r' | b'\n' => eat(Line::Start),
                _ => {
                    self.method_start = self.pos;
                    again(Line::Method)
                }
            },
            Line::Method => match b {
                b'A'..=b'Z' | b'-' | b'_' => eat(Line::Method),
                b' ' => {
                    let name = &input[self.method_start..self.pos];
                    let Some(&(_, protocols)) = METHODS.iter().find(|(m, _)| *m == name) else {
                        return Err(malformed("Invalid method encountered"));
                    };
                    self.protocols = protocols;
                    // The longest method has 13 bytes.
                    self.method_len = name.len() as u8;
                    self.connect = name == b"CONNECT";
                    eat(Line::SpacesBeforeUrl)
                }
                _ => Err(malformed("Invalid method encountered")),
            },
            Line::SpacesBeforeUrl if b == b' ' => eat(Line::SpacesBeforeUrl),
            Line::SpacesBeforeUrl => {
                self.target.start = self.pos;
                again(if self.connect {
                    Line::Server { at: false }
                } else {
                    Line::UrlStart
                })
            }
            Line::UrlStart => match b {
                b'/' | b'*' => self.url_byte(Line::Path),
                _ if b.is_ascii_alphabetic() => self.url_byte(Line::Schema),
                _ => Err(malformed("Unexpected start char in url")),
            },
            Line::Schema => match b {
                _ if b.is_ascii_alphabetic() => self.url_byte(Line::Schema),
                b':' => self.url_byte(Line::SchemaSlashes(0)),
                _ => Err(malformed("Unexpected char in url schema")),
            },
            Line::SchemaSlashes(n) => match b {
                b'/' if n == 1 => self.url_byte(Line::Server { at: false }),
                b'/' => self.url_byte(Line::SchemaSlashes(1)),
                _ => Err(malformed("Unexpected char in url schema")),
            },
            Line::Server { at } => match b {
                b'/' => self.url_byte(Line::Path),
                b'?' => self.url_byte(Line::Query),
                b'@' if at => Err(malformed("Double @ in url")),
                b'@' => self.url_byte(Line::Server { at: true }),
                _ if b == b'[' || b == b']' || USERINFO[b as usize] => self.url_byte(self.line),
                _ => self.end_url(self.pos, b, "Unexpected char in url server"),
            },
            Line::Path | Line::Query | Line::Fragment => self.url_run(input),
            Line::UrlCr if b == b'\n' => eat(Line::FieldsStart),
            Line::UrlCr => Err(malformed("Expected CRLF after url")),
            Line::SpacesBeforeProtocol if b == b' ' => eat(Line::SpacesBeforeProtocol),
            Line::SpacesBeforeProtocol => again(Line::Protocol(0)),
            Line::Protocol(seen) => self.protocol(input, seen),
            Line::Major if b.is_ascii_digit() => eat(Line::Dot),
            Line::Major => Err(malformed("Invalid major version")),
            Line::Dot if b == b'.' => eat(Line::Minor),
            Line::Dot => Err(malformed("Expected dot")),
            Line::Minor if b.is_ascii_digit() => {
                let version = (input[self.pos - 2], b);
                if !matches!(version, (b'0', b'9') | (b'1', b'0') | (b'1', b'1') | (b'2', b'0')) {
                    return Err(malformed("Invalid HTTP version"));
                }
                if &input[self.method()] == b"PRI" {
                    return Err(malformed("an HTTP/2 connection preface (PRI), not an HTTP/1.1 request"));
                }
                eat(Line::VersionCr)
            }
            Line::Minor => Err(malformed("Invalid minor version")),
            Line::VersionCr if b == b'\r' => eat(Line::VersionLf),
            Line::VersionLf if b == b'\n' => eat(Line::FieldsStart),
            Line::VersionCr | Line::VersionLf => Err(malformed("Expected CRLF after version")),
            Line::FieldsStart if b == b' ' => Err(malformed("Unexpected space after start line")),
            Line::FieldsStart => {
                self.fields_start = self.pos;
                again(Line::Fields)
            }
            // `scan` hands these bytes to `Fields`.
            Line::Fields => again(Line::Fields),
        }
    }

    /// Count a URL byte against Node's limit and move to `next`.
    fn url_byte(&mut self, next: Line) -> Next {
        self.fields.count(1)?;
        eat(next)
    }

    /// A run of path, query or fragment bytes, then what ends it.
    fn url_run(&mut self, input: &[u8]) -> Next {
        // A query may hold more `?`; a fragment more `?` and `#`.
        let also: &[u8] = match self.line {
            Line::Path => b"",
            Line::Query => b"?",
            _ => b"?#",
        };
        let rest = &input[self.pos..];
        let run = rest
            .iter()
            .position(|&b| !URL_CHAR[b as usize] && !also.contains(&b))
            .unwrap_or(rest.len());
        self.fields.count(run)?;
        let Some(&b) = rest.get(run) else {
            return Ok((self.line, run));
        };
        let (line, read) = match (self.line, b) {
            (Line::Path, b'?') => self.url_byte(Line::Query)?,
            (Line::Path | Line::Query, b'#') => self.url_byte(Line::Fragment)?,
            _ => self.end_url(self.pos + run, b, "Invalid char in url")?,
        };
        Ok((line, run + read))
    }

    /// A byte that is not part of the URL: a space before the version, or
    /// the end of a request line without one (HTTP/0.9).
    fn end_url(&mut self, at: usize, b: u8, otherwise: &'static str) -> Next {
        self.target.end = at;
        match b {
            b' ' => eat(Line::SpacesBeforeProtocol),
            b'\r' => eat(Line::UrlCr),
            // llhttp takes a bare LF here (and only here).
            b'\n' => eat(Line::FieldsStart),
            _ => Err(malformed(otherwise)),
        }
    }

    /// `HTTP/`, `RTSP/` or `ICE/`, which must allow the method.
    fn protocol(&mut self, input: &[u8], seen: u8) -> Next {
        let seen = &input[self.pos - seen as usize..=self.pos];
        let Some(&(name, methods)) = PROTOCOLS.iter().find(|(name, _)| name.starts_with(seen)) else {
            return Err(malformed("Expected HTTP/, RTSP/ or ICE/"));
        };
        if seen.len() < name.len() {
            return eat(Line::Protocol(seen.len() as u8));
        }
        if self.protocols & methods == 0 {
            return Err(malformed("Invalid method for the protocol of the request line"));
        }
        eat(Line::Major)
    }

    fn method(&self) -> Range<usize> {
        self.method_start..self.method_start + self.method_len as usize
    }

    /// The head is whole: decide how its body is framed.
    fn finish(&self) -> Result<Head, BadRequest> {
        let fields = &self.fields;
        let body = if self.connect {
            // What follows a CONNECT is a tunnel, not a body.
            Body::None
        } else if fields.chunked {
            Body::Chunked
        } else if fields.transfer_encoding {
            return Err(malformed(
                "Request has invalid Transfer-Encoding (chunked is not the final coding)",
            ));
        } else {
            fields.content_length.map_or(Body::None, Body::Length)
        };
        Ok(Head {
            len: self.pos,
            method: self.method(),
            target: self.target.clone(),
            fields: self.fields_start..self.pos,
            lines: fields.lines,
            body,
        })
    }
}
