//! Decoding a client's header block (RFC 7541 §6), hostile or not.
//!
//! Every length, index and size the block states is checked against what
//! is there before it is used: a string may not run past the block's end,
//! an index must name an entry, a table size update must come first and
//! stay within our SETTINGS_HEADER_TABLE_SIZE. Nothing indexes a slice
//! unchecked, so arbitrary bytes give an error, never a panic.
//!
//! The header list is bounded as it is built (RFC 9113's count: name,
//! value and 32 bytes per field). That defeats the HPACK bomb: a block of
//! a few KiB that names one 4 KiB dynamic entry thousands of times would
//! otherwise decode to many MiB. Past the bound, fields are no longer
//! copied, only counted, and the rest of the block is still decoded so
//! that the dynamic table stays in step with the peer's encoder: the
//! stream can be refused while the connection goes on.

use std::fmt;

use crate::h2::hpack::huffman::{self, HuffmanError};
use crate::h2::hpack::integer::{self, IntegerError};
use crate::h2::hpack::table::{DynamicTable, entry_size};
use crate::http::Header;

/// Why a header block could not be decoded, and where in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Offset in the block of the representation that failed.
    pub at: usize,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// What was wrong with a header block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// An integer or string ran past the end of the block.
    Truncated,
    /// An integer with too many continuation bytes or over 2^32-1.
    IntegerTooLarge,
    /// An index that names no entry.
    BadIndex {
        /// The index sent.
        index: usize,
        /// The highest valid index then.
        last: usize,
    },
    /// A Huffman-coded string broke the code's rules.
    Huffman(HuffmanError),
    /// A dynamic table size update over our SETTINGS_HEADER_TABLE_SIZE.
    TableSizeTooLarge {
        /// The size asked for.
        size: usize,
        /// Our limit.
        max: usize,
    },
    /// A dynamic table size update after a header field.
    TableSizeUpdateNotFirst,
    /// The decoded header list is larger than allowed. Unlike the others,
    /// the block was decoded to its end and the table is in step: only
    /// this request fails, not the connection.
    ListTooLarge {
        /// The limit.
        limit: usize,
        /// The list's size, counted to the end of the block.
        size: usize,
    },
}

impl DecodeError {
    /// Whether HPACK's state is lost with this error, which RFC 9113
    /// makes a connection error of type COMPRESSION_ERROR. Only a list
    /// too large leaves the table in step.
    pub fn is_compression_error(&self) -> bool {
        !matches!(self.kind, DecodeErrorKind::ListTooLarge { .. })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at;
        match &self.kind {
            DecodeErrorKind::Truncated => write!(f, "header block truncated in the field at byte {at}"),
            DecodeErrorKind::IntegerTooLarge => write!(f, "header block: integer too large at byte {at}"),
            DecodeErrorKind::BadIndex { index, last } => {
                write!(
                    f,
                    "header block: index {index} at byte {at} names no entry (the last is {last})"
                )
            }
            DecodeErrorKind::Huffman(e) => write!(f, "header block: at byte {at}: {e}"),
            DecodeErrorKind::TableSizeTooLarge { size, max } => write!(
                f,
                "header block: table size update to {size} at byte {at}, over SETTINGS_HEADER_TABLE_SIZE ({max})"
            ),
            DecodeErrorKind::TableSizeUpdateNotFirst => {
                write!(f, "header block: table size update at byte {at}, after a header field")
            }
            DecodeErrorKind::ListTooLarge { limit, size } => {
                write!(f, "header list of {size} bytes, over the limit of {limit}")
            }
        }
    }
}

impl From<IntegerError> for DecodeErrorKind {
    fn from(e: IntegerError) -> DecodeErrorKind {
        match e {
            IntegerError::Truncated => DecodeErrorKind::Truncated,
            IntegerError::TooLarge => DecodeErrorKind::IntegerTooLarge,
        }
    }
}

/// One connection's HPACK decoder: its dynamic table and our limit on it.
#[derive(Debug, Clone)]
pub struct Decoder {
    table: DynamicTable,
    /// Our SETTINGS_HEADER_TABLE_SIZE: what a size update may ask for.
    max_table_size: usize,
    /// Bytes of names and values the last `decode` copied into its list.
    copied: usize,
}

/// The bits that tell the representations apart (RFC 7541 §6).
enum Representation {
    /// `1xxxxxxx`: an entry by index.
    Indexed,
    /// `01xxxxxx`: a literal added to the table.
    Incremental,
    /// `001xxxxx`: a dynamic table size update.
    SizeUpdate,
    /// `0000xxxx` and `0001xxxx`: a literal not added (never-indexed is
    /// the same to a decoder that re-encodes nothing).
    NotIndexed,
}

fn representation(first: u8) -> (Representation, u8) {
    match first {
        0x80.. => (Representation::Indexed, 7),
        0x40.. => (Representation::Incremental, 6),
        0x20.. => (Representation::SizeUpdate, 5),
        _ => (Representation::NotIndexed, 4),
    }
}

impl Decoder {
    /// A decoder whose table starts at, and may grow to, `max_table_size`
    /// (4,096 unless our SETTINGS say otherwise).
    pub fn new(max_table_size: usize) -> Decoder {
        Decoder {
            table: DynamicTable::new(max_table_size),
            max_table_size,
            copied: 0,
        }
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE changed (and was acknowledged).
    /// A smaller one also shrinks the table at once.
    pub fn set_max_table_size(&mut self, max: usize) {
        self.max_table_size = max;
        if self.table.max_size() > max {
            self.table.set_max_size(max);
        }
    }

    /// Our SETTINGS_HEADER_TABLE_SIZE as the decoder applies it.
    pub fn max_table_size(&self) -> usize {
        self.max_table_size
    }

    /// Bytes of names and values the last [`Decoder::decode`] copied into
    /// its list: at most the limit, however large the list it refused
    /// (the bomb's test measures this, not time).
    pub fn copied(&self) -> usize {
        self.copied
    }

    /// The dynamic table, for tests and logs.
    pub fn table(&self) -> &DynamicTable {
        &self.table
    }

    /// Decodes one whole header block (HEADERS and its CONTINUATIONs put
    /// together) into its fields, refusing a list over `max_list_size`.
    pub fn decode(&mut self, block: &[u8], max_list_size: usize) -> Result<Vec<Header>, DecodeError> {
        let mut fields = Vec::new();
        let mut list_size = 0usize;
        let mut at = 0;
        let mut seen_field = false;
        let mut copied = 0;
        while let Some(&first) = block.get(at) {
            let rest = &block[at..];
            let wrap = |kind| DecodeError { at, kind };
            let (what, prefix) = representation(first);
            let (number, mut used) = integer::decode(rest, prefix).map_err(|e| wrap(e.into()))?;
            let field = match what {
                Representation::SizeUpdate => {
                    if seen_field {
                        return Err(wrap(DecodeErrorKind::TableSizeUpdateNotFirst));
                    }
                    if number > self.max_table_size {
                        let max = self.max_table_size;
                        return Err(wrap(DecodeErrorKind::TableSizeTooLarge { size: number, max }));
                    }
                    self.table.set_max_size(number);
                    at += used;
                    continue;
                }
                Representation::Indexed => {
                    let (name, value) = self.entry(number).map_err(wrap)?;
                    Field::Borrowed(name, value)
                }
                Representation::Incremental | Representation::NotIndexed => {
                    let name = match number {
                        0 => string(rest, &mut used).map_err(wrap)?,
                        index => self.entry(index).map_err(wrap)?.0.to_vec(),
                    };
                    let value = string(rest, &mut used).map_err(wrap)?;
                    Field::Owned(name, value, matches!(what, Representation::Incremental))
                }
            };
            seen_field = true;
            at += used;
            let (name, value) = field.parts();
            list_size = list_size.saturating_add(entry_size(name, value));
            if list_size <= max_list_size {
                fields.push((name.to_vec(), value.to_vec()));
                copied += name.len() + value.len();
            } else if !fields.is_empty() {
                fields = Vec::new();
            }
            if let Field::Owned(name, value, true) = field {
                self.table.insert(name, value);
            }
        }
        self.copied = copied;
        if list_size > max_list_size {
            let kind = DecodeErrorKind::ListTooLarge {
                limit: max_list_size,
                size: list_size,
            };
            return Err(DecodeError { at: block.len(), kind });
        }
        Ok(fields)
    }

    fn entry(&self, index: usize) -> Result<(&[u8], &[u8]), DecodeErrorKind> {
        self.table.get(index).ok_or(DecodeErrorKind::BadIndex {
            index,
            last: self.table.last_index(),
        })
    }
}

/// A decoded field: an indexed one stays in the table (no copy until it is
/// known to fit the list), a literal is owned and may go into the table.
enum Field<'a> {
    Borrowed(&'a [u8], &'a [u8]),
    Owned(Vec<u8>, Vec<u8>, bool),
}

impl Field<'_> {
    fn parts(&self) -> (&[u8], &[u8]) {
        match self {
            Field::Borrowed(name, value) => (name, value),
            Field::Owned(name, value, _) => (name, value),
        }
    }
}

/// Reads a string literal (§5.2) at `rest[*used..]`, moving `used` past it.
fn string(rest: &[u8], used: &mut usize) -> Result<Vec<u8>, DecodeErrorKind> {
    let at = rest.get(*used..).ok_or(DecodeErrorKind::Truncated)?;
    let first = at.first().ok_or(DecodeErrorKind::Truncated)?;
    let (len, n) = integer::decode(at, 7)?;
    let bytes = at
        .get(n..)
        .and_then(|b| b.get(..len))
        .ok_or(DecodeErrorKind::Truncated)?;
    *used += n + len;
    if first & 0x80 == 0 {
        return Ok(bytes.to_vec());
    }
    let mut out = Vec::with_capacity(len + len / 2);
    huffman::decode(bytes, &mut out).map_err(DecodeErrorKind::Huffman)?;
    Ok(out)
}
