//! A field block in pieces: a HEADERS without END_HEADERS, then
//! CONTINUATION frames until one has it (RFC 9113 §6.10).
//!
//! Nothing else may come in between, and HPACK can only decode the whole
//! block, so the pieces must be kept. That is what the 2024 CONTINUATION
//! floods abused (CVE-2024-27316 and friends): an endless block, or
//! endless empty CONTINUATION frames, held in memory or spinning the
//! server. Both are bounded here: by the bytes of the block and by the
//! number of frames, whichever comes first; past either the connection
//! ends with ENHANCE_YOUR_CALM.

use crate::h2::error::{ConnectionError, ErrorCode};
use crate::h2::frame::EndStream;

/// What the block is for, decided by the HEADERS that started it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// It opens a new stream: a request.
    Request,
    /// It comes on an open stream: trailers.
    Trailers,
    /// Its stream is closed, or newer than our GOAWAY: decoded only to
    /// keep HPACK in step, then dropped.
    Discard,
    /// It breaks a stream's rules: decoded to keep HPACK in step, then
    /// the stream is reset with this code.
    Reject(ErrorCode, String),
}

/// The limits on one block.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of the encoded block (all fragments).
    pub bytes: usize,
    /// CONTINUATION frames after the HEADERS.
    pub continuations: usize,
}

/// A block being put together.
#[derive(Debug)]
pub struct Block {
    /// The stream of the HEADERS.
    pub stream: u32,
    /// The HEADERS frame's END_STREAM.
    pub end_stream: EndStream,
    /// What the block is for.
    pub purpose: Purpose,
    fragments: Vec<u8>,
    continuations: usize,
}

impl Block {
    /// A block started by a HEADERS frame's fragment.
    pub fn start(
        stream: u32,
        end_stream: EndStream,
        purpose: Purpose,
        fragment: Vec<u8>,
        limits: Limits,
    ) -> Result<Block, ConnectionError> {
        let block = Block {
            stream,
            end_stream,
            purpose,
            fragments: fragment,
            continuations: 0,
        };
        block.check(limits)?;
        Ok(block)
    }

    /// Adds a CONTINUATION frame's fragment.
    pub fn continue_with(&mut self, fragment: &[u8], limits: Limits) -> Result<(), ConnectionError> {
        self.continuations += 1;
        self.fragments.extend_from_slice(fragment);
        self.check(limits)
    }

    /// The whole encoded block.
    pub fn bytes(&self) -> &[u8] {
        &self.fragments
    }

    fn check(&self, limits: Limits) -> Result<(), ConnectionError> {
        if self.fragments.len() > limits.bytes {
            let why = format!(
                "the field block on stream {} passed {} bytes ({} so far, {} CONTINUATION frames)",
                self.stream,
                limits.bytes,
                self.fragments.len(),
                self.continuations
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        if self.continuations > limits.continuations {
            let why = format!(
                "the field block on stream {} passed {} CONTINUATION frames ({} bytes so far)",
                self.stream,
                limits.continuations,
                self.fragments.len()
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        Ok(())
    }
}
