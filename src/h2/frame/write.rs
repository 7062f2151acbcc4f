//! Writing frames: the bytes of any [`Frame`], valid or not, and of a
//! [`RawFrame`] whose every field a scenario chooses.
//!
//! Nothing here refuses anything. A typed frame is laid out as the RFC
//! says, with whatever values it holds (a SETTINGS ACK with parameters, a
//! PING on no stream at all, a window increment of 0); only the reserved
//! bits are written as zero, as the RFC asks. To set those, or to send a
//! frame whose length does not match its payload, use [`RawFrame`].

use crate::h2::frame::{Ack, Frame, MAX_MAX_FRAME_SIZE, MAX_STREAM_ID, Priority, flag, kind};

/// A frame written exactly as given: for scenarios that break the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    /// The type byte (any, defined or not).
    pub kind: u8,
    /// The flags byte.
    pub flags: u8,
    /// The 32-bit word after the flags: stream id and reserved bit
    /// together, written as given.
    pub stream_word: u32,
    /// The length field; `None` writes the payload's own length. A length
    /// that lies makes the peer read the next frame out of step.
    pub declared_len: Option<u32>,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl RawFrame {
    /// Appends the frame's bytes to `out`. Only the low 24 bits of the
    /// length fit the field: a payload of 16 MiB or more gets the largest
    /// length the field can hold, followed by all its bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let len = self.declared_len.unwrap_or_else(|| clamp_len(self.payload.len()));
        header(
            out,
            len.min(MAX_MAX_FRAME_SIZE),
            self.kind,
            self.flags,
            self.stream_word,
        );
        out.extend_from_slice(&self.payload);
    }
}

fn clamp_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX).min(MAX_MAX_FRAME_SIZE)
}

fn header(out: &mut Vec<u8>, len: u32, kind: u8, flags: u8, stream_word: u32) {
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream_word.to_be_bytes());
}

/// Appends a frame whose payload is `parts`, one after the other.
fn frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    header(out, clamp_len(len), kind, flags, stream & MAX_STREAM_ID);
    for part in parts {
        out.extend_from_slice(part);
    }
}

fn priority_bytes(p: &Priority) -> [u8; 5] {
    let word = (p.depends_on & MAX_STREAM_ID) | if p.exclusive { 1 << 31 } else { 0 };
    let w = word.to_be_bytes();
    [w[0], w[1], w[2], w[3], p.weight]
}

/// The pad length byte and the zeros of padding, if any.
fn padding(pad: Option<u8>) -> (Vec<u8>, Vec<u8>, u8) {
    match pad {
        Some(n) => (vec![n], vec![0; usize::from(n)], flag::PADDED),
        None => (Vec::new(), Vec::new(), 0),
    }
}

impl Frame {
    /// Appends this frame's bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Data {
                stream,
                data,
                end_stream,
                pad,
            } => {
                let (pad_len, zeros, padded) = padding(*pad);
                let flags = padded | if end_stream.is_end() { flag::END_STREAM } else { 0 };
                frame(out, kind::DATA, flags, *stream, &[&pad_len, data, &zeros]);
            }
            Frame::Headers {
                stream,
                block,
                end_stream,
                end_headers,
                priority,
                pad,
            } => {
                let (pad_len, zeros, padded) = padding(*pad);
                let mut flags = padded;
                flags |= if end_stream.is_end() { flag::END_STREAM } else { 0 };
                flags |= if end_headers.is_end() { flag::END_HEADERS } else { 0 };
                let prio = priority.as_ref().map(priority_bytes);
                flags |= if prio.is_some() { flag::PRIORITY } else { 0 };
                let prio: &[u8] = prio.as_ref().map_or(&[], |p| p);
                frame(out, kind::HEADERS, flags, *stream, &[&pad_len, prio, block, &zeros]);
            }
            Frame::Priority { stream, priority } => {
                frame(out, kind::PRIORITY, 0, *stream, &[&priority_bytes(priority)]);
            }
            Frame::RstStream { stream, code } => {
                frame(out, kind::RST_STREAM, 0, *stream, &[&code.0.to_be_bytes()]);
            }
            Frame::Settings { ack, params } => {
                let mut payload = Vec::with_capacity(params.len() * 6);
                for (id, value) in params {
                    payload.extend_from_slice(&id.to_be_bytes());
                    payload.extend_from_slice(&value.to_be_bytes());
                }
                frame(out, kind::SETTINGS, ack_flag(*ack), 0, &[&payload]);
            }
            Frame::PushPromise {
                stream,
                promised,
                block,
                end_headers,
                pad,
            } => {
                let (pad_len, zeros, padded) = padding(*pad);
                let flags = padded | if end_headers.is_end() { flag::END_HEADERS } else { 0 };
                let promised = (promised & MAX_STREAM_ID).to_be_bytes();
                frame(
                    out,
                    kind::PUSH_PROMISE,
                    flags,
                    *stream,
                    &[&pad_len, &promised, block, &zeros],
                );
            }
            Frame::Ping { ack, data } => frame(out, kind::PING, ack_flag(*ack), 0, &[data]),
            Frame::GoAway {
                last_stream,
                code,
                debug,
            } => {
                let last = (last_stream & MAX_STREAM_ID).to_be_bytes();
                frame(out, kind::GOAWAY, 0, 0, &[&last, &code.0.to_be_bytes(), debug]);
            }
            Frame::WindowUpdate { stream, increment } => {
                let increment = (increment & MAX_STREAM_ID).to_be_bytes();
                frame(out, kind::WINDOW_UPDATE, 0, *stream, &[&increment]);
            }
            Frame::Continuation {
                stream,
                block,
                end_headers,
            } => {
                let flags = if end_headers.is_end() { flag::END_HEADERS } else { 0 };
                frame(out, kind::CONTINUATION, flags, *stream, &[block]);
            }
            Frame::Unknown {
                kind,
                flags,
                stream,
                payload,
            } => frame(out, *kind, *flags, *stream, &[payload]),
        }
    }

    /// This frame's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

fn ack_flag(ack: Ack) -> u8 {
    if ack == Ack::Yes { flag::ACK } else { 0 }
}
