//! The chunked transfer coding, by llhttp's rules, counting only.
//!
//! [`Chunked`] finds where a chunked body ends and how many payload bytes
//! it carried; the payload itself is dropped as it goes by, so a large
//! upload costs no memory. It refuses what Node's parser refuses: no
//! whitespace around a chunk size, extensions as `;name[=token|"quoted"]`,
//! CRLF everywhere, and trailer fields by the header rules ([`Fields`]).
//! Like Node, it refuses a chunk whose extensions pass 16 KiB
//! ([`NODE_CHUNK_EXTENSIONS_LIMIT`]). The probe reads chunked responses with
//! it too.

use super::chars::{HEADER_VALUE, QDTEXT, TOKEN, hex_value};
use super::fields::Fields;
use super::{BadRequest, NODE_CHUNK_EXTENSIONS_LIMIT, malformed};

/// Where a chunked body ends: fed bytes as they arrive, it says how many
/// belong to the body and when it is finished.
#[derive(Debug, Default)]
pub struct Chunked {
    state: State,
    size: u64,
    /// Trailer fields, rare enough to live on the heap.
    trailer: Option<Box<Fields>>,
    /// Payload bytes seen so far (chunk data, not framing).
    pub data_bytes: u64,
    /// Bytes of this chunk's extensions as Node counts them: names and
    /// values, quotes and backslashes included, not the `;` and `=`.
    extension_bytes: usize,
    /// Data chunks read whole, their CRLF included (the last, empty chunk
    /// is not one). A `u32` that saturates: it fits beside `state`, so a
    /// request reader (and a connection) is no larger for it.
    pub chunks: u32,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The first hex digit of a chunk size.
    #[default]
    SizeStart,
    /// More hex digits, or what ends the size.
    Size,
    /// After `;`: an extension name starts.
    Extension,
    ExtensionName,
    ExtensionValue,
    Quoted,
    /// After a backslash in a quoted value.
    QuotedPair,
    QuotedDone,
    /// The LF after the size line's CR.
    SizeLf,
    /// `size` more payload bytes.
    Data,
    /// The CR, then the LF, after a chunk's payload.
    DataCr,
    DataLf,
    /// Trailer fields after the last chunk.
    Trailer,
}

impl Chunked {
    /// `(bytes used, finished)`; the error says why the body is malformed,
    /// in words that fit a response as well as a request (the probe's use).
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), String> {
        self.feed_until(input, None)
    }

    /// Like [`Chunked::feed`], taking no byte past the end of the
    /// `stop_after`th chunk (a relay cut after N chunks): it stops there,
    /// unfinished.
    pub fn feed_until(&mut self, input: &[u8], stop_after: Option<u64>) -> Result<(usize, bool), String> {
        self.scan_until(input, stop_after).map_err(|bad| match bad {
            BadRequest::Malformed(why) => why,
            BadRequest::HeadersTooLarge => format!(
                "trailer fields over Node's limit of {} bytes of names and values",
                super::NODE_HEADER_LIMIT
            ),
            BadRequest::ChunkExtensionsTooLarge => {
                format!("chunk extensions over Node's limit of {NODE_CHUNK_EXTENSIONS_LIMIT} bytes in one chunk")
            }
        })
    }

    /// Like [`Chunked::feed`], but a trailer (431) or chunk extensions
    /// (413) over Node's limits are told apart from a malformed body (400).
    pub(super) fn scan(&mut self, input: &[u8]) -> Result<(usize, bool), BadRequest> {
        self.scan_until(input, None)
    }

    fn scan_until(&mut self, input: &[u8], stop_after: Option<u64>) -> Result<(usize, bool), BadRequest> {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::SizeStart && stop_after.is_some_and(|n| u64::from(self.chunks) >= n) {
                return Ok((i, false));
            }
            match self.state {
                State::Data => {
                    let take = self.size.min((input.len() - i) as u64);
                    self.size -= take;
                    self.data_bytes += take;
                    i += take as usize;
                    if self.size == 0 {
                        self.state = State::DataCr;
                    }
                }
                State::Trailer => {
                    let fields = self.trailer.get_or_insert_with(|| Box::new(Fields::trailer()));
                    let done = fields.scan(input, &mut i)?;
                    return Ok((i, done));
                }
                _ => {
                    self.byte(input[i])?;
                    i += 1;
                }
            }
        }
        Ok((i, false))
    }

    fn byte(&mut self, b: u8) -> Result<(), BadRequest> {
        self.state = match self.state {
            State::SizeStart | State::Size => match (self.state, hex_value(b), b) {
                (_, Some(digit), _) => {
                    self.size = self
                        .size
                        .checked_mul(16)
                        .and_then(|s| s.checked_add(digit))
                        .ok_or_else(|| malformed("Chunk size overflow"))?;
                    State::Size
                }
                (State::Size, None, b'\r') => State::SizeLf,
                (State::Size, None, b';') => {
                    self.extension_bytes = 0;
                    State::Extension
                }
                (State::Size, None, b'\n') => return Err(malformed("Missing expected CR after chunk size")),
                _ => return Err(malformed("Invalid character in chunk size")),
            },
            State::Extension => match b {
                b' ' | b'\r' => return Err(malformed("Invalid character in chunk extensions")),
                _ => return self.extension_name(b),
            },
            State::ExtensionName => return self.extension_name(b),
            State::ExtensionValue => match b {
                b'"' => self.counted(State::Quoted)?,
                _ if TOKEN[b as usize] => self.counted(State::ExtensionValue)?,
                _ => self.extension_end(b, "Invalid character in chunk extensions value")?,
            },
            State::Quoted => match b {
                b'"' => self.counted(State::QuotedDone)?,
                b'\\' => self.counted(State::QuotedPair)?,
                _ if QDTEXT[b as usize] => self.counted(State::Quoted)?,
                _ => return Err(malformed("Invalid character in chunk extensions quoted value")),
            },
            State::QuotedPair if HEADER_VALUE[b as usize] => self.counted(State::Quoted)?,
            State::QuotedPair => return Err(malformed("Invalid quoted-pair in chunk extensions quoted value")),
            State::QuotedDone => self.extension_end(b, "Invalid character in chunk extensions quote value")?,
            State::SizeLf if b == b'\n' && self.size == 0 => State::Trailer,
            State::SizeLf if b == b'\n' => State::Data,
            State::SizeLf => return Err(malformed("Expected LF after chunk size")),
            State::DataCr => match b {
                b'\r' => State::DataLf,
                b'\n' => return Err(malformed("Missing expected CR after chunk data")),
                _ => return Err(malformed("Expected LF after chunk data")),
            },
            State::DataLf if b == b'\n' => {
                self.chunks = self.chunks.saturating_add(1);
                State::SizeStart
            }
            State::DataLf => return Err(malformed("Expected LF after chunk data")),
            // Handled in `scan`, which never passes their bytes here.
            State::Data | State::Trailer => self.state,
        };
        Ok(())
    }

    fn extension_name(&mut self, b: u8) -> Result<(), BadRequest> {
        self.state = match b {
            b'=' => State::ExtensionValue,
            _ if TOKEN[b as usize] => self.counted(State::ExtensionName)?,
            _ => self.extension_end(b, "Invalid character in chunk extensions name")?,
        };
        Ok(())
    }

    /// One more byte of a name or value: Node refuses the chunk (413) once
    /// its extensions pass the limit, which bounds a size line that would
    /// otherwise go on for ever.
    fn counted(&mut self, next: State) -> Result<State, BadRequest> {
        self.extension_bytes += 1;
        if self.extension_bytes > NODE_CHUNK_EXTENSIONS_LIMIT {
            return Err(BadRequest::ChunkExtensionsTooLarge);
        }
        Ok(next)
    }

    /// What may follow an extension name or value: another extension, or
    /// the end of the size line.
    fn extension_end(&self, b: u8, otherwise: &'static str) -> Result<State, BadRequest> {
        match b {
            b';' => Ok(State::Extension),
            b'\r' => Ok(State::SizeLf),
            b'\n' => Err(malformed("Missing expected CR after chunk extension")),
            _ => Err(malformed(otherwise)),
        }
    }
}
