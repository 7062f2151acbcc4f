//! The bytes of one `write` step on their way to the socket.
//!
//! A payload may hold a repeat of gigabytes; [`Outgoing`] hands out slices
//! from a small scratch buffer filled with whole copies of the pattern, so
//! memory stays bounded however large the write.

use std::borrow::Cow;

use crate::scenario::ast::{Payload, Piece};

/// Scratch size for repeated patterns: large enough for one big `write`.
const SCRATCH_BYTES: usize = 64 * 1024;

pub struct Outgoing<'s> {
    payload: Cow<'s, Payload>,
    piece: usize,
    /// Bytes of the current piece already written.
    offset: u64,
    /// Whole copies of the current repeat's pattern.
    scratch: Vec<u8>,
    scratch_piece: Option<usize>,
    written: u64,
}

impl<'s> Outgoing<'s> {
    pub fn new(payload: Cow<'s, Payload>) -> Outgoing<'s> {
        Outgoing {
            payload,
            piece: 0,
            offset: 0,
            scratch: Vec::new(),
            scratch_piece: None,
            written: 0,
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// The next bytes to write, or `None` when all are written.
    pub fn chunk(&mut self) -> Option<&[u8]> {
        loop {
            let piece = self.payload.pieces.get(self.piece)?;
            if self.offset < piece.len() {
                break;
            }
            self.piece += 1;
            self.offset = 0;
        }
        let piece = &self.payload.pieces[self.piece];
        match piece {
            Piece::Bytes(bytes) => Some(&bytes[self.offset as usize..]),
            Piece::Repeat { pattern, .. } => {
                let phase = (self.offset % pattern.len() as u64) as usize;
                let left = piece.len() - self.offset;
                if pattern.len() >= SCRATCH_BYTES {
                    // Large enough to write from as it is: a copy per
                    // connection would cost memory for nothing.
                    let end = (phase as u64 + left).min(pattern.len() as u64) as usize;
                    return Some(&pattern[phase..end]);
                }
                if self.scratch_piece != Some(self.piece) {
                    let copies = (SCRATCH_BYTES / pattern.len()).max(1);
                    self.scratch = pattern.repeat(copies);
                    self.scratch_piece = Some(self.piece);
                }
                let end = (phase as u64 + left).min(self.scratch.len() as u64) as usize;
                Some(&self.scratch[phase..end])
            }
        }
    }

    /// Record that `n` bytes of the last chunk were written.
    pub fn advance(&mut self, n: usize) {
        self.offset += n as u64;
        self.written += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yields_exactly_the_payload_in_any_write_sizes() {
        let payload = Payload {
            pieces: vec![
                Piece::Bytes(b"head".to_vec()),
                Piece::Repeat {
                    pattern: b"abc".to_vec(),
                    count: 50_000,
                },
                Piece::Bytes(Vec::new()),
                Piece::Bytes(b"tail".to_vec()),
            ],
        };
        let expected = payload.to_vec();
        for step in [1, 7, 4096, 100_000] {
            assert_eq!(write_in_steps(&payload, step), expected, "step {step}");
        }
    }

    #[test]
    fn a_pattern_over_the_scratch_size_is_written_from_itself() {
        let pattern: Vec<u8> = (0..SCRATCH_BYTES + 1000).map(|i| (i % 251) as u8).collect();
        let payload = Payload {
            pieces: vec![Piece::Repeat { pattern, count: 3 }, Piece::Bytes(b"end".to_vec())],
        };
        let expected = payload.to_vec();
        for step in [1000, 4096, SCRATCH_BYTES, 1 << 20] {
            let (got, out) = drain(Outgoing::new(Cow::Borrowed(&payload)), step);
            assert!(got == expected, "step {step}");
            assert_eq!(out.scratch.capacity(), 0, "no copy of the pattern");
        }
    }

    /// All of `payload`, taken `step` bytes at most per write.
    fn write_in_steps(payload: &Payload, step: usize) -> Vec<u8> {
        let (got, out) = drain(Outgoing::new(Cow::Borrowed(payload)), step);
        assert_eq!(out.written(), got.len() as u64);
        got
    }

    /// Take everything `out` has, `step` bytes at most at a time, as a
    /// socket that accepts partial writes would.
    fn drain(mut out: Outgoing<'_>, step: usize) -> (Vec<u8>, Outgoing<'_>) {
        let mut got = Vec::new();
        while let Some(chunk) = out.chunk() {
            let n = chunk.len().min(step);
            got.extend_from_slice(&chunk[..n]);
            out.advance(n);
        }
        (got, out)
    }
}
