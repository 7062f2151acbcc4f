//! Encoding our header blocks: every field a literal without indexing,
//! with its name spelt out, and no Huffman coding (RFC 7541 §6.2.2).
//!
//! A block written so adds nothing to the peer's dynamic table and uses
//! none of it, so the encoder has no state to keep in step: any block can
//! be sent at any time, out of order or never, and a scenario that
//! resets a stream halfway through its headers leaves nothing behind.
//! Names and values go out byte for byte as given, uppercase or not, so a
//! scenario can send a malformed field on purpose.

use crate::h2::hpack::integer;

/// The pattern of a literal without indexing with a new name: `0000` and
/// an index of 0.
const LITERAL_NEW_NAME: u8 = 0x00;

/// Appends the block for `fields` (name, value) to `out`.
pub fn encode<'a>(fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>, out: &mut Vec<u8>) {
    for (name, value) in fields {
        out.push(LITERAL_NEW_NAME);
        string(name, out);
        string(value, out);
    }
}

fn string(bytes: &[u8], out: &mut Vec<u8>) {
    integer::encode(bytes.len(), 7, 0, out);
    out.extend_from_slice(bytes);
}
