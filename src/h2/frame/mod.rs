//! HTTP/2 frames (RFC 9113 §4 and §6): what each of the ten types carries,
//! how they are read ([`FrameReader`]) and written ([`Frame::encode`],
//! [`RawFrame`]).
//!
//! Every frame starts with a 9-byte header: a 24-bit payload length, a
//! type, flags, and a reserved bit followed by a 31-bit stream id. The
//! reader checks what one frame can say about itself (its length against
//! SETTINGS_MAX_FRAME_SIZE and its type's own rules, §6); what depends on
//! the frames before it (stream states, CONTINUATION order, windows) is
//! the connection's business ([`crate::h2::conn`]).
//!
//! The writer does the opposite: it writes whatever it is given, checking
//! nothing, because hangup's scenarios misbehave on purpose (a PING on a
//! stream, a GOAWAY with a last-stream-id from the future, a frame whose
//! length lies). Typed frames are written exactly as the RFC lays them
//! out; [`RawFrame`] writes any type, flags, 32-bit stream word and
//! payload as given.

mod read;
mod write;

#[cfg(test)]
mod tests;

pub use read::{FrameReader, Read};
pub use write::RawFrame;

use crate::h2::error::ErrorCode;

/// Bytes in a frame header.
pub const HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE's initial value, and the smallest allowed.
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest SETTINGS_MAX_FRAME_SIZE: 2^24-1, all a length can say.
pub const MAX_MAX_FRAME_SIZE: u32 = (1 << 24) - 1;
/// The largest stream id and window: 2^31-1.
pub const MAX_STREAM_ID: u32 = (1 << 31) - 1;

/// The frame types RFC 9113 defines, by number.
pub mod kind {
    /// DATA (§6.1).
    pub const DATA: u8 = 0x0;
    /// HEADERS (§6.2).
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY (§6.3).
    pub const PRIORITY: u8 = 0x2;
    /// RST_STREAM (§6.4).
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS (§6.5).
    pub const SETTINGS: u8 = 0x4;
    /// PUSH_PROMISE (§6.6).
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING (§6.7).
    pub const PING: u8 = 0x6;
    /// GOAWAY (§6.8).
    pub const GOAWAY: u8 = 0x7;
    /// WINDOW_UPDATE (§6.9).
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION (§6.10).
    pub const CONTINUATION: u8 = 0x9;
}

/// Flag bits, by the name the RFC gives them. The same bit means different
/// things on different types (0x1 is END_STREAM on DATA and HEADERS, ACK
/// on SETTINGS and PING).
pub mod flag {
    /// DATA, HEADERS: the last frame the sender sends on this stream.
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING: this frame answers one of ours.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends here.
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE: a pad length byte and padding.
    pub const PADDED: u8 = 0x8;
    /// HEADERS: the payload starts with dependency and weight.
    pub const PRIORITY: u8 = 0x20;
}

/// SETTINGS parameters RFC 9113 §6.5.2 defines, by identifier.
pub mod setting {
    /// SETTINGS_HEADER_TABLE_SIZE: the largest HPACK dynamic table the
    /// sender's decoder allows.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// SETTINGS_ENABLE_PUSH: 0 or 1.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// SETTINGS_MAX_CONCURRENT_STREAMS.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// SETTINGS_INITIAL_WINDOW_SIZE: each new stream's window.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// SETTINGS_MAX_FRAME_SIZE: the largest payload the sender accepts.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    /// SETTINGS_MAX_HEADER_LIST_SIZE: advisory, in RFC 9113's count.
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
}

/// A frame's 9-byte header, as read: the reserved bit is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length (24 bits).
    pub len: u32,
    /// Frame type.
    pub kind: u8,
    /// Flags, all eight bits as sent.
    pub flags: u8,
    /// Stream id (31 bits).
    pub stream: u32,
}

impl FrameHeader {
    /// Reads a header from the first [`HEADER_LEN`] bytes; `None` if there
    /// are fewer.
    pub fn parse(bytes: &[u8]) -> Option<FrameHeader> {
        let b: &[u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        Some(FrameHeader {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: b[3],
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & MAX_STREAM_ID,
        })
    }

    fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A stream dependency (HEADERS with PRIORITY, and PRIORITY itself).
/// RFC 9113 deprecates the scheme, but the fields still must be read (and
/// a scenario may still send them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priority {
    /// The E bit.
    pub exclusive: bool,
    /// The stream depended on (31 bits).
    pub depends_on: u32,
    /// The weight as sent (the RFC adds one to it).
    pub weight: u8,
}

/// Whether the sender says it is done with the stream (END_STREAM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndStream {
    /// END_STREAM set: nothing more on this stream from this side.
    Yes,
    /// More frames follow.
    No,
}

impl EndStream {
    fn from_flag(flags: u8) -> EndStream {
        if flags & flag::END_STREAM != 0 {
            EndStream::Yes
        } else {
            EndStream::No
        }
    }

    /// Whether END_STREAM is set.
    pub fn is_end(self) -> bool {
        self == EndStream::Yes
    }
}

/// Whether a field block ends in this frame (END_HEADERS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndHeaders {
    /// END_HEADERS set: the block is complete.
    Yes,
    /// CONTINUATION frames follow.
    No,
}

impl EndHeaders {
    fn from_flag(flags: u8) -> EndHeaders {
        if flags & flag::END_HEADERS != 0 {
            EndHeaders::Yes
        } else {
            EndHeaders::No
        }
    }

    /// Whether END_HEADERS is set.
    pub fn is_end(self) -> bool {
        self == EndHeaders::Yes
    }
}

/// Whether a SETTINGS or PING frame is an acknowledgement (ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// ACK set: this answers the peer's frame.
    Yes,
    /// A frame of its own, to be answered.
    No,
}

impl Ack {
    fn from_flag(flags: u8) -> Ack {
        if flags & flag::ACK != 0 { Ack::Yes } else { Ack::No }
    }
}

/// One frame, by type. `stream` is the 31-bit stream id (0: the
/// connection). Padding is kept as its length (`pad`: `Some(n)` is the
/// PADDED flag with `n` bytes of padding), so that a frame reads back as
/// it was written and flow control can count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// DATA: body bytes on a stream.
    Data {
        /// The stream.
        stream: u32,
        /// The body bytes, without padding.
        data: Vec<u8>,
        /// END_STREAM.
        end_stream: EndStream,
        /// PADDED, and how many bytes of padding.
        pad: Option<u8>,
    },
    /// HEADERS: opens a stream (or carries trailers) with a field block
    /// fragment.
    Headers {
        /// The stream.
        stream: u32,
        /// The field block fragment (HPACK).
        block: Vec<u8>,
        /// END_STREAM.
        end_stream: EndStream,
        /// END_HEADERS: no CONTINUATION follows.
        end_headers: EndHeaders,
        /// The PRIORITY flag's fields.
        priority: Option<Priority>,
        /// PADDED, and how many bytes of padding.
        pad: Option<u8>,
    },
    /// PRIORITY: deprecated, read and ignored.
    Priority {
        /// The stream.
        stream: u32,
        /// Its fields.
        priority: Priority,
    },
    /// RST_STREAM: the stream ends now, with this code.
    RstStream {
        /// The stream.
        stream: u32,
        /// Why.
        code: ErrorCode,
    },
    /// SETTINGS: parameters, or an acknowledgement with none.
    Settings {
        /// ACK.
        ack: Ack,
        /// (identifier, value) in the order sent, duplicates kept.
        params: Vec<(u16, u32)>,
    },
    /// PUSH_PROMISE: only a server may send one.
    PushPromise {
        /// The stream it is sent on.
        stream: u32,
        /// The stream it reserves.
        promised: u32,
        /// The field block fragment of the promised request.
        block: Vec<u8>,
        /// END_HEADERS.
        end_headers: EndHeaders,
        /// PADDED, and how many bytes of padding.
        pad: Option<u8>,
    },
    /// PING: eight opaque bytes, echoed with ACK.
    Ping {
        /// ACK.
        ack: Ack,
        /// The opaque data.
        data: [u8; 8],
    },
    /// GOAWAY: no stream above `last_stream` was or will be processed.
    GoAway {
        /// The last stream the sender processed or may still process.
        last_stream: u32,
        /// Why.
        code: ErrorCode,
        /// Opaque debug data (often text).
        debug: Vec<u8>,
    },
    /// WINDOW_UPDATE: the receiver may send `increment` more bytes.
    WindowUpdate {
        /// The stream, or 0 for the connection's window.
        stream: u32,
        /// Bytes added to the window (31 bits).
        increment: u32,
    },
    /// CONTINUATION: more of a field block.
    Continuation {
        /// The stream.
        stream: u32,
        /// The next fragment.
        block: Vec<u8>,
        /// END_HEADERS.
        end_headers: EndHeaders,
    },
    /// A type RFC 9113 does not define: to be ignored (§4.1), unless it
    /// comes in the middle of a field block.
    Unknown {
        /// The type byte.
        kind: u8,
        /// The flags byte.
        flags: u8,
        /// The stream.
        stream: u32,
        /// The payload.
        payload: Vec<u8>,
    },
}

impl Frame {
    /// The stream the frame is on (0: the connection).
    pub fn stream(&self) -> u32 {
        match self {
            Frame::Data { stream, .. }
            | Frame::Headers { stream, .. }
            | Frame::Priority { stream, .. }
            | Frame::RstStream { stream, .. }
            | Frame::PushPromise { stream, .. }
            | Frame::WindowUpdate { stream, .. }
            | Frame::Continuation { stream, .. }
            | Frame::Unknown { stream, .. } => *stream,
            Frame::Settings { .. } | Frame::Ping { .. } | Frame::GoAway { .. } => 0,
        }
    }

    /// The type's name as the RFC writes it (`WINDOW_UPDATE`), for logs.
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Data { .. } => "DATA",
            Frame::Headers { .. } => "HEADERS",
            Frame::Priority { .. } => "PRIORITY",
            Frame::RstStream { .. } => "RST_STREAM",
            Frame::Settings { .. } => "SETTINGS",
            Frame::PushPromise { .. } => "PUSH_PROMISE",
            Frame::Ping { .. } => "PING",
            Frame::GoAway { .. } => "GOAWAY",
            Frame::WindowUpdate { .. } => "WINDOW_UPDATE",
            Frame::Continuation { .. } => "CONTINUATION",
            Frame::Unknown { .. } => "unknown",
        }
    }
}
