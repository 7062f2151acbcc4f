//! Header fields of a response head (and the trailer of a chunked body),
//! byte by byte as llhttp reads them.

use super::{BOTH, Checker, Head, Kind, NODE, PYTHON, PYTHON_MAX_HEADERS, Section, Stop};
use crate::http::NODE_HEADER_LIMIT;
use crate::http::chars::{HEADER_VALUE, TOKEN};

/// One `name: value` line: where its parts are and where the next begins.
pub(super) struct Field {
    pub name: (usize, usize),
    pub value: (usize, usize),
    pub next: usize,
}

/// Which field line [`Checker::field`] checks: whitespace at the start of
/// the head's first is not folding, as there is nothing to fold onto.
#[derive(Clone, Copy)]
pub(super) enum Line {
    /// The head's first field line.
    FirstOfHead,
    /// Any other line of the head, or of a chunked body's trailer.
    Later,
}

impl Checker<'_> {
    /// The header fields from `self.pos` to the empty line, which ends
    /// the head; `counted` is what Node counted of the status line.
    pub(super) fn fields(&mut self, mut counted: usize, version: (u8, u8), status: u16) -> Result<Head, Stop> {
        let mut head = Head {
            status,
            length: None,
            chunked: false,
            transfer_encoding: false,
            keep_alive: version.0 >= 1 && version != (1, 0),
        };
        let mut keep_alive_token = false;
        let mut lines = 0;
        loop {
            let p = self.pos;
            if self.at(p, "inside the head", NODE)? == b'\r' || self.b[p] == b'\n' {
                self.pos = self.line_end(p, "the head")?;
                break;
            }
            lines += 1;
            if lines == PYTHON_MAX_HEADERS + 1 {
                self.flag(
                    Kind::TooManyHeaders,
                    p,
                    format!("over {PYTHON_MAX_HEADERS} header lines"),
                    PYTHON,
                );
            }
            let line = if lines == 1 { Line::FirstOfHead } else { Line::Later };
            let field = self.field(p, line)?;
            self.count(&mut counted, &field, Section::Head)?;
            let name = &self.b[field.name.0..field.name.1];
            let raw = &self.b[field.value.0..field.value.1];
            let value = raw.trim_ascii_end();
            if name.eq_ignore_ascii_case(b"content-length") {
                // Node 20 takes trailing spaces after the digits, not tabs.
                let end = raw.iter().rposition(|&b| b != b' ').map_or(0, |n| n + 1);
                self.content_length(&mut head, &raw[..end], p)?;
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                if head.length.is_some() {
                    let what = "Transfer-Encoding together with Content-Length".to_string();
                    return self.fail(Kind::ContentLengthWithTransferEncoding, p, what, NODE);
                }
                head.transfer_encoding = true;
                let last = value.rsplit(|&b| b == b',').next().unwrap_or_default().trim_ascii();
                head.chunked = last.eq_ignore_ascii_case(b"chunked");
            } else if name.eq_ignore_ascii_case(b"connection") {
                for token in value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                    if token.eq_ignore_ascii_case(b"close") {
                        head.keep_alive = false;
                    }
                    keep_alive_token |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            self.pos = field.next;
        }
        if keep_alive_token && version == (1, 0) {
            head.keep_alive = true;
        }
        Ok(head)
    }

    /// Add `field`'s name and value to what Node counted of the head or
    /// trailer: a stop where the count reaches Node's limit. (Whitespace
    /// before a value is free in Node's count; after it, not.)
    pub(super) fn count(&mut self, counted: &mut usize, field: &Field, section: Section) -> Result<(), Stop> {
        *counted += field.name.1 - field.name.0;
        if *counted >= NODE_HEADER_LIMIT {
            return self.too_large(field.name.1, *counted, section);
        }
        *counted += field.value.1 - field.value.0;
        if *counted >= NODE_HEADER_LIMIT {
            return self.too_large(field.value.1, *counted, section);
        }
        Ok(())
    }

    fn content_length(&mut self, head: &mut Head, value: &[u8], line: usize) -> Result<(), Stop> {
        let shown = String::from_utf8_lossy(value);
        if head.transfer_encoding {
            let what = "Content-Length together with Transfer-Encoding".to_string();
            return self.fail(Kind::ContentLengthWithTransferEncoding, line, what, NODE);
        }
        if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
            let what = format!("Content-Length is not a number ({shown:?})");
            return self.fail(Kind::InvalidContentLength, line, what, NODE);
        }
        let Some(n) = value
            .iter()
            .try_fold(0u64, |n, &d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
        else {
            return self.fail(
                Kind::InvalidContentLength,
                line,
                format!("Content-Length {shown} overflows"),
                BOTH,
            );
        };
        if let Some(first) = head.length {
            let what = format!("Content-Length given twice ({first} and {n})");
            return self.fail(Kind::DuplicateContentLength, line, what, NODE);
        }
        head.length = Some(n);
        Ok(())
    }

    /// The header line at `p`, checked.
    pub(super) fn field(&mut self, p: usize, line: Line) -> Result<Field, Stop> {
        self.long_line(p);
        if matches!(self.b[p], b' ' | b'\t') {
            let what = match line {
                Line::FirstOfHead => "whitespace at the start of the first header line".to_string(),
                Line::Later => "obsolete line folding (a header line starting with whitespace)".to_string(),
            };
            return self.fail(Kind::ObsFold, p, what, NODE);
        }
        let mut q = p;
        while TOKEN[self.at(q, "inside the head", NODE)? as usize] {
            q += 1;
        }
        let b = self.b[q];
        if b != b':' || q == p {
            let what = match b {
                _ if q == p && b == b':' => "a header line with an empty name".to_string(),
                _ if !self.b[q..].iter().take_while(|&&b| b != b'\n').any(|&b| b == b':') => {
                    "a header line without a colon".to_string()
                }
                b' ' | b'\t' => "whitespace between a header name and its colon".to_string(),
                _ => format!("byte 0x{b:02x} in a header name"),
            };
            return self.fail(Kind::HeaderName, q, what, NODE);
        }
        let name = (p, q);
        q += 1;
        while matches!(self.at(q, "inside the head", NODE)?, b' ' | b'\t') {
            q += 1;
        }
        let start = q;
        loop {
            let b = self.at(q, "inside the head", NODE)?;
            if matches!(b, b'\r' | b'\n') {
                break;
            }
            if !HEADER_VALUE[b as usize] {
                let shown = String::from_utf8_lossy(&self.b[name.0..name.1]).into_owned();
                return self.fail(
                    Kind::HeaderValue,
                    q,
                    format!("byte 0x{b:02x} in the value of {shown}"),
                    NODE,
                );
            }
            q += 1;
        }
        let next = self.line_end(q, "a header line")?;
        Ok(Field {
            name,
            value: (start, q),
            next,
        })
    }
}
