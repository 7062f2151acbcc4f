//! A response's body, by its framing: none, Content-Length, chunked or
//! until the server closes.

use super::fields::Line;
use super::{BOTH, Before, Checker, Head, Kind, NODE, PYTHON, Section, Stop};
use crate::http::NODE_CHUNK_EXTENSIONS_LIMIT;
use crate::http::chars::{HEADER_VALUE, QDTEXT, TOKEN, hex_value};

impl Checker<'_> {
    /// Read the body after `head`, leaving `pos` after it; what the next
    /// bytes come after, or a stop (the body runs to the end of the bytes).
    pub(super) fn body(&mut self, head: &Head, is_head: bool) -> Result<Before, Stop> {
        if is_head {
            return Ok(Before::NoBody("a response to HEAD"));
        }
        match head.status {
            204 => return Ok(Before::NoBody("a 204 response")),
            304 => return Ok(Before::NoBody("a 304 response")),
            101 => return Ok(Before::NoBody("a 101 response")),
            _ => {}
        }
        if head.chunked {
            self.chunks()?;
            return Ok(Before::Chunked);
        }
        let Some(length) = head.length else {
            // Until close: nothing can follow.
            self.pos = self.b.len();
            return Err(Stop);
        };
        let got = (self.b.len() - self.pos) as u64;
        if got < length {
            self.pos = self.b.len();
            if self.closed {
                let what = format!("the connection closed {got} bytes into the {length}-byte body");
                return self.fail(Kind::Truncated, self.pos, what, BOTH);
            }
            return Err(Stop);
        }
        self.pos += length as usize;
        Ok(Before::Body(length))
    }

    fn chunks(&mut self) -> Result<(), Stop> {
        const CUT: &str = "inside the chunked body";
        loop {
            let line = self.pos;
            self.long_line(line);
            let mut p = line;
            let mut size = 0u64;
            while let Some(digit) = hex_value(self.at(p, CUT, BOTH)?) {
                let Some(next) = size.checked_mul(16).and_then(|s| s.checked_add(digit)) else {
                    return self.fail(Kind::ChunkSize, line, "chunk size over 2^64".into(), BOTH);
                };
                size = next;
                p += 1;
            }
            let b = self.b[p];
            if p == line || !matches!(b, b';' | b'\r' | b'\n') {
                let what = if p == line {
                    format!("invalid chunk size (byte 0x{b:02x} where a hex digit must be)")
                } else {
                    format!("invalid chunk size (byte 0x{b:02x} after the digits)")
                };
                let refused_by = if self.python_reads_chunk_size(line) { NODE } else { BOTH };
                return self.fail(Kind::ChunkSize, p, what, refused_by);
            }
            if size > i64::MAX as u64 {
                return self.fail(Kind::ChunkSize, line, format!("chunk size {size} is over 2^63"), PYTHON);
            }
            if b == b';' {
                p = self.extensions(p + 1)?;
            }
            let mut next = self.line_end(p, "a chunk size")?;
            if size == 0 {
                return self.trailer(next);
            }
            let got = (self.b.len() - next) as u64;
            if got < size {
                self.pos = self.b.len();
                if self.closed {
                    let what = format!("the connection closed {got} bytes into a {size}-byte chunk");
                    return self.fail(Kind::Truncated, self.pos, what, BOTH);
                }
                return Err(Stop);
            }
            next += size as usize;
            match self.at(next, CUT, BOTH)? {
                b'\r' if self.at(next + 1, CUT, BOTH)? == b'\n' => next += 2,
                b'\n' => {
                    // Python reads two bytes there whatever they are.
                    let what = format!("bare LF after the {size}-byte chunk data");
                    self.flag(Kind::BareLf, next, what, BOTH);
                    next += 1;
                }
                _ => {
                    let what = format!("no CRLF after the {size}-byte chunk data");
                    return self.fail(Kind::ChunkDataEnd, next, what, BOTH);
                }
            }
            self.pos = next;
        }
    }

    /// `;name[=value]` after a chunk size, from `p` (past the `;`); where
    /// the line end is. Node counts the names' and values' bytes (a quoted
    /// value's quotes too) and refuses a chunk whose count passes 16 KiB.
    fn extensions(&mut self, mut p: usize) -> Result<usize, Stop> {
        const CUT: &str = "inside a chunk extension";
        let mut counted = 0;
        loop {
            let name = p;
            while TOKEN[self.at(p, CUT, BOTH)? as usize] {
                self.count_extension(&mut counted, p)?;
                p += 1;
            }
            if p == name {
                return self.bad_extension(p);
            }
            if self.b[p] == b'=' {
                p += 1;
                if self.at(p, CUT, BOTH)? == b'"' {
                    self.count_extension(&mut counted, p)?;
                    p += 1;
                    loop {
                        match self.at(p, CUT, BOTH)? {
                            b'"' => break,
                            b'\\' if HEADER_VALUE[self.at(p + 1, CUT, BOTH)? as usize] => {
                                self.count_extension(&mut counted, p)?;
                                p += 1;
                            }
                            b if !QDTEXT[b as usize] => return self.bad_extension(p),
                            _ => {}
                        }
                        self.count_extension(&mut counted, p)?;
                        p += 1;
                    }
                    self.count_extension(&mut counted, p)?;
                    p += 1;
                } else {
                    // An empty value is llhttp's too.
                    while TOKEN[self.at(p, CUT, BOTH)? as usize] {
                        self.count_extension(&mut counted, p)?;
                        p += 1;
                    }
                }
            }
            match self.at(p, CUT, BOTH)? {
                b';' => p += 1,
                b'\r' | b'\n' => return Ok(p),
                _ => return self.bad_extension(p),
            }
        }
    }

    /// One more byte (at `at`) of a chunk's extensions: a stop once the
    /// count passes Node's limit, whether or not the line ever ends.
    fn count_extension(&mut self, counted: &mut usize, at: usize) -> Result<(), Stop> {
        *counted += 1;
        if *counted > NODE_CHUNK_EXTENSIONS_LIMIT {
            let what = format!(
                "chunk extensions too large: over {NODE_CHUNK_EXTENSIONS_LIMIT} bytes of names and values in one chunk"
            );
            return self.fail(Kind::ChunkExtensionsTooLarge, at, what, NODE);
        }
        Ok(())
    }

    fn bad_extension<T>(&mut self, p: usize) -> Result<T, Stop> {
        let b = self.b[p];
        self.fail(
            Kind::ChunkExtension,
            p,
            format!("invalid chunk extension (byte 0x{b:02x})"),
            NODE,
        )
    }

    /// The trailer fields after the last chunk, from `p`, and the empty
    /// line. Node counts them as a head's, from nothing.
    fn trailer(&mut self, mut p: usize) -> Result<(), Stop> {
        let mut counted = 0;
        loop {
            let b = self.at(p, "inside the trailer", BOTH)?;
            if matches!(b, b'\r' | b'\n') {
                self.pos = self.line_end(p, "the trailer")?;
                return Ok(());
            }
            let field = self.field(p, Line::Later)?;
            self.count(&mut counted, &field, Section::Trailer)?;
            p = field.next;
        }
    }

    /// Whether Python's `int(line.split(b";")[0], 16)` takes the size line at `line`.
    fn python_reads_chunk_size(&self, line: usize) -> bool {
        let rest = &self.b[line..];
        let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |n| n + 1);
        let text = &rest[..end];
        let text = text.split(|&b| b == b';').next().unwrap_or_default();
        let text = text.trim_ascii();
        let text = text
            .strip_prefix(b"+")
            .or_else(|| text.strip_prefix(b"-"))
            .unwrap_or(text);
        let text = text
            .strip_prefix(b"0x")
            .or_else(|| text.strip_prefix(b"0X"))
            .unwrap_or(text);
        !text.is_empty()
            && !text.starts_with(b"_")
            && !text.ends_with(b"_")
            && !text.windows(2).any(|w| w == b"__")
            && text.iter().all(|&b| b.is_ascii_hexdigit() || b == b'_')
    }
}
