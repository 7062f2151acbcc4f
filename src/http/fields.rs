//! Header lines, and the trailer lines of a chunked body, by llhttp's rules.
//!
//! [`Fields`] is fed bytes one run at a time and never looks back, so the
//! same scanner serves a request head (whose bytes stay buffered) and a
//! chunked trailer (whose bytes are dropped as they are read). It checks
//! what Node's parser checks, and no more: a name is a token followed
//! directly by `:`; a value is visible ASCII, space, tab or obs-text; lines
//! end in CRLF (a bare LF is refused); a line that starts with whitespace
//! (obsolete folding) is refused; `Content-Length` is digits and trailing
//! spaces, once; `Transfer-Encoding` must not list anything after
//! `chunked`, and neither may come with the other. It also counts the bytes
//! of names and values, which is what Node holds against its 16 KiB limit.

use super::chars::{CONNECTION_TOKEN, HEADER_VALUE, TOKEN};
use super::{BadRequest, NODE_HEADER_LIMIT, malformed};

#[derive(Debug, Default)]
pub(super) struct Fields {
    state: State,
    /// The header being read, when its name matters.
    kind: Kind,
    /// Bytes of names and values (and, for a head, the URL): Node's count.
    counted: u32,
    /// Header lines seen.
    pub lines: u32,
    pub content_length: Option<u64>,
    pub transfer_encoding: bool,
    pub chunked: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line: a name, or the CR of the blank line.
    #[default]
    LineStart,
    Name,
    /// Whitespace between the colon and the value.
    ValueWs,
    Value,
    /// After the CR that ends a value; `empty` when the value had no bytes.
    ValueCr {
        empty: bool,
    },
    /// After the CRLF: the value is over unless the next line starts with
    /// whitespace, which would be a fold.
    ValueLf {
        empty: bool,
    },
    /// The CR of the blank line that ends the fields.
    EndCr,
    Done,
}

/// What a header's name makes of its value.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Kind {
    #[default]
    Plain,
    /// Reading a name that may still turn out to be `Content-Length` or
    /// `Transfer-Encoding`: which one, and how many bytes of it matched.
    Naming(Special, usize),
    ContentLength {
        value: u64,
        /// Trailing spaces began: only more spaces may follow.
        spaces: bool,
    },
    TransferEncoding(Coding),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    ContentLength,
    TransferEncoding,
}

impl Special {
    /// The special header `name` is, if it is one.
    fn matching(name: &[u8]) -> Option<Special> {
        [Special::ContentLength, Special::TransferEncoding]
            .into_iter()
            .find(|special| name.eq_ignore_ascii_case(special.name()))
    }

    fn name(self) -> &'static [u8] {
        match self {
            Special::ContentLength => b"content-length",
            Special::TransferEncoding => b"transfer-encoding",
        }
    }
}

/// Where a `Transfer-Encoding` value is in llhttp's little machine that
/// decides whether `chunked` is its final coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    /// Matching `chunked` (any case) at the start of an item.
    Chunked(usize),
    /// `chunked` matched; spaces may follow, then the end of the value.
    ChunkedLast,
    /// Another coding's bytes, up to a comma.
    Other,
    /// Whitespace after a comma.
    Ows,
    /// Bytes no coding has: the value is not `chunked`, whatever follows.
    Rest,
}

const CHUNKED: &[u8] = b"chunked";

impl Fields {
    /// Fields of a chunked body's trailer: the head chose chunked, so a
    /// `Content-Length` or another `Transfer-Encoding` here is refused.
    pub fn trailer() -> Fields {
        Fields {
            transfer_encoding: true,
            chunked: true,
            ..Fields::default()
        }
    }

    /// Add `n` bytes to Node's count; at 16 KiB it answers 431.
    pub fn count(&mut self, n: usize) -> Result<(), BadRequest> {
        // Saturating: a run of bytes may be longer than u32 (it is refused
        // either way).
        self.counted = self.counted.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        if self.counted as usize >= NODE_HEADER_LIMIT {
            return Err(BadRequest::HeadersTooLarge);
        }
        Ok(())
    }

    /// Scan `input[*pos..]`, moving `pos` past what was read. `Ok(true)`
    /// once the blank line that ends the fields is read.
    pub fn scan(&mut self, input: &[u8], pos: &mut usize) -> Result<bool, BadRequest> {
        while *pos < input.len() {
            if self.state == State::Done {
                return Ok(true);
            }
            if self.state == State::LineStart
                && let Some(read) = self.whole_plain_line(&input[*pos..])?
            {
                *pos += read;
                continue;
            }
            // Runs of plain name and value bytes are the common case.
            let run = match (self.state, self.kind) {
                (State::Name, Kind::Plain) => run_of(&TOKEN, &input[*pos..]),
                (State::Value, Kind::Plain) => run_of(&HEADER_VALUE, &input[*pos..]),
                _ => 0,
            };
            if run > 0 {
                self.count(run)?;
                *pos += run;
                continue;
            }
            self.byte(input[*pos])?;
            *pos += 1;
        }
        Ok(self.state == State::Done)
    }

    /// The common case in one go: a whole `Name: value` line whose name
    /// is not special, followed by the first byte of the next line (which
    /// says the value is not folded). `None` leaves it to the byte machine.
    fn whole_plain_line(&mut self, rest: &[u8]) -> Result<Option<usize>, BadRequest> {
        let name = run_of(&TOKEN, rest);
        if name == 0 || rest.get(name) != Some(&b':') || Special::matching(&rest[..name]).is_some() {
            return Ok(None);
        }
        let mut value = name + 1;
        while matches!(rest.get(value), Some(b' ' | b'\t')) {
            value += 1;
        }
        let end = value + run_of(&HEADER_VALUE, &rest[value..]);
        match rest.get(end..end + 3) {
            Some([b'\r', b'\n', next]) if *next != b' ' && *next != b'\t' => {
                self.count(name + end - value)?;
                self.lines += 1;
                Ok(Some(end + 2))
            }
            _ => Ok(None),
        }
    }

    fn byte(&mut self, b: u8) -> Result<(), BadRequest> {
        match self.state {
            State::LineStart => match b {
                b'\r' => self.state = State::EndCr,
                b'\n' => return Err(malformed("Invalid header field char (LF without CR)")),
                _ if TOKEN[b as usize] => {
                    self.kind = match b.to_ascii_lowercase() {
                        b'c' => Kind::Naming(Special::ContentLength, 1),
                        b't' => Kind::Naming(Special::TransferEncoding, 1),
                        _ => Kind::Plain,
                    };
                    self.count(1)?;
                    self.state = State::Name;
                }
                _ => return Err(malformed("Invalid header token")),
            },
            State::Name => match b {
                b':' => self.end_name()?,
                b' ' => return Err(malformed("Invalid header field char (space before colon)")),
                _ if TOKEN[b as usize] => {
                    if let Kind::Naming(special, matched) = self.kind {
                        let name = special.name();
                        self.kind = if name.get(matched) == Some(&b.to_ascii_lowercase()) {
                            Kind::Naming(special, matched + 1)
                        } else {
                            Kind::Plain
                        };
                    }
                    self.count(1)?;
                }
                _ => return Err(malformed("Invalid header token")),
            },
            State::ValueWs => match b {
                b' ' | b'\t' => {}
                b'\r' => self.state = State::ValueCr { empty: true },
                b'\n' => return Err(malformed("Invalid header value char (LF without CR)")),
                _ => {
                    self.start_value()?;
                    self.state = State::Value;
                    self.value_byte(b)?;
                }
            },
            State::Value => self.value_byte(b)?,
            State::ValueCr { empty } => {
                if b != b'\n' {
                    return Err(malformed("Missing expected LF after header value"));
                }
                self.state = State::ValueLf { empty };
            }
            State::ValueLf { empty } => {
                if b == b' ' || b == b'\t' {
                    return Err(malformed(
                        "Unexpected whitespace after header value (obsolete line folding)",
                    ));
                }
                self.end_value(empty)?;
                self.state = State::LineStart;
                return self.byte(b);
            }
            State::EndCr => {
                if b != b'\n' {
                    return Err(malformed("Expected LF after headers"));
                }
                self.state = State::Done;
            }
            State::Done => {}
        }
        Ok(())
    }

    /// The colon: the name is known.
    fn end_name(&mut self) -> Result<(), BadRequest> {
        self.kind = match self.kind {
            Kind::Naming(special, matched) if matched == special.name().len() => match special {
                Special::ContentLength if self.transfer_encoding => {
                    return Err(malformed("Content-Length can't be present with Transfer-Encoding"));
                }
                Special::TransferEncoding if self.content_length.is_some() => {
                    return Err(malformed("Transfer-Encoding can't be present with Content-Length"));
                }
                Special::ContentLength => Kind::ContentLength {
                    value: 0,
                    spaces: false,
                },
                Special::TransferEncoding => Kind::TransferEncoding(Coding::Chunked(0)),
            },
            _ => Kind::Plain,
        };
        self.state = State::ValueWs;
        Ok(())
    }

    /// The first byte of a non-empty value.
    fn start_value(&mut self) -> Result<(), BadRequest> {
        match self.kind {
            Kind::ContentLength { .. } if self.content_length.is_some() => Err(malformed("Duplicate Content-Length")),
            Kind::TransferEncoding(_) if self.chunked => Err(malformed(
                "Invalid Transfer-Encoding header value (a coding after chunked)",
            )),
            Kind::TransferEncoding(_) => {
                self.transfer_encoding = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn value_byte(&mut self, b: u8) -> Result<(), BadRequest> {
        match b {
            b'\r' => {
                self.state = State::ValueCr { empty: false };
                return Ok(());
            }
            b'\n' => return Err(malformed("Missing expected CR after header value")),
            _ if !HEADER_VALUE[b as usize] => return Err(malformed("Invalid header value char")),
            _ => {}
        }
        self.count(1)?;
        match &mut self.kind {
            Kind::ContentLength { value, spaces } => match b {
                b'0'..=b'9' if !*spaces => {
                    *value = value
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(u64::from(b - b'0')))
                        .ok_or_else(|| malformed("Content-Length overflow"))?;
                }
                b' ' => *spaces = true,
                _ => return Err(malformed("Invalid character in Content-Length")),
            },
            Kind::TransferEncoding(coding) => *coding = next_coding(*coding, b)?,
            Kind::Plain | Kind::Naming(..) => {}
        }
        Ok(())
    }

    /// The value is over (the next line is not a fold).
    fn end_value(&mut self, empty: bool) -> Result<(), BadRequest> {
        match self.kind {
            Kind::ContentLength { .. } if empty => return Err(malformed("Empty Content-Length")),
            Kind::ContentLength { value, .. } => self.content_length = Some(value),
            Kind::TransferEncoding(coding) if !empty => self.chunked = coding == Coding::ChunkedLast,
            _ => {}
        }
        self.kind = Kind::Plain;
        self.lines += 1;
        Ok(())
    }
}

/// One byte further in a `Transfer-Encoding` value.
fn next_coding(coding: Coding, b: u8) -> Result<Coding, BadRequest> {
    Ok(match coding {
        Coding::Chunked(matched) if CHUNKED[matched] == b.to_ascii_lowercase() => {
            if matched + 1 == CHUNKED.len() {
                Coding::ChunkedLast
            } else {
                Coding::Chunked(matched + 1)
            }
        }
        Coding::Chunked(_) => next_coding(Coding::Other, b)?,
        Coding::ChunkedLast => match b {
            b' ' => Coding::ChunkedLast,
            b',' => {
                return Err(malformed(
                    "Invalid Transfer-Encoding header value (a coding after chunked)",
                ));
            }
            _ => next_coding(Coding::Other, b)?,
        },
        Coding::Other => match b {
            b',' => Coding::Ows,
            _ if CONNECTION_TOKEN[b as usize] => Coding::Other,
            _ => Coding::Rest,
        },
        Coding::Ows => match b {
            b' ' | b'\t' => Coding::Ows,
            _ => next_coding(Coding::Chunked(0), b)?,
        },
        Coding::Rest => Coding::Rest,
    })
}

/// How many bytes at the start of `input` are in `class`.
fn run_of(class: &[bool; 256], input: &[u8]) -> usize {
    input.iter().position(|&b| !class[b as usize]).unwrap_or(input.len())
}
