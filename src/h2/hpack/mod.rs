//! HPACK (RFC 7541): header compression for HTTP/2.
//!
//! The two directions are not alike. Our own blocks ([`encode`]) are
//! literals without indexing and without Huffman: no table state, so the
//! scenario can send anything in any order. A client's blocks use all of
//! HPACK, so the [`Decoder`] has the Huffman code ([`huffman`]), the static
//! and dynamic tables ([`table`]) and prefixed integers ([`integer`]).
//!
//! Written here rather than taken from a crate. `hpack` 0.3 (unmaintained
//! since 2016) and `fluke-hpack` 0.3.1 panic on the one byte `0x3f`
//! (RUSTSEC-2023-0085). `loona-hpack`, the maintained fork, brings
//! `thiserror` and `tracing` (proc macros, `syn`) for a few hundred lines
//! of logic, cannot stop building a header list at a size limit (its
//! callback cannot fail, so the bomb is bounded only by the caller's
//! patience), accepts a table size update in the middle of a block and
//! refuses a block that ends with one, which RFC 7541 allows. The h2
//! crate's decoder is not public. Ours is about 700 lines before its
//! tests (half of them doc comments and the two tables), with the limit
//! where it belongs, inside the decoding loop.

mod decoder;
mod encoder;
pub mod huffman;
pub mod integer;
pub mod table;

#[cfg(test)]
mod tests;

pub use decoder::{DecodeError, DecodeErrorKind, Decoder};
pub use encoder::encode;

/// SETTINGS_HEADER_TABLE_SIZE's initial value.
pub const DEFAULT_TABLE_SIZE: usize = 4096;
