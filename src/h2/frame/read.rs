//! Reading frames from the bytes received so far, sans-I/O: the caller
//! keeps the buffer, [`FrameReader::read`] looks at its start and answers
//! as httparse does: not enough yet, or one frame and how many bytes it
//! took, or an error.
//!
//! A frame longer than SETTINGS_MAX_FRAME_SIZE is refused from its header
//! alone, before its payload arrives, so a peer cannot make us buffer 16
//! MiB by announcing it. Each type's own rules (RFC 9113 §6) are checked
//! here with the code the RFC names. A few rules make only the stream
//! fail, not the connection ([`Read::StreamError`]); where the RFC allows
//! either and the frame carries a field block, the connection fails,
//! since skipping a field block would leave HPACK out of step.

use crate::h2::error::{ConnectionError, ErrorCode, StreamError};
use crate::h2::frame::{
    Ack, DEFAULT_MAX_FRAME_SIZE, EndHeaders, EndStream, Frame, FrameHeader, HEADER_LEN, MAX_MAX_FRAME_SIZE,
    MAX_STREAM_ID, Priority, flag, kind, setting,
};

/// What [`FrameReader::read`] found at the start of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Not a whole frame yet: read more and call again with all of it.
    Partial,
    /// One frame, which took this many bytes (header included).
    Frame(Frame, usize),
    /// A frame (of this many bytes) that breaks a rule whose penalty is a
    /// RST_STREAM; the connection goes on after it.
    StreamError(StreamError, usize),
    /// The connection must end: GOAWAY with this code.
    Error(ConnectionError),
}

/// Reads frames, enforcing the local SETTINGS_MAX_FRAME_SIZE.
#[derive(Debug, Clone)]
pub struct FrameReader {
    max_frame_size: u32,
}

impl Default for FrameReader {
    fn default() -> FrameReader {
        FrameReader {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
        }
    }
}

type Checked<T> = Result<T, ConnectionError>;

fn fail<T>(code: ErrorCode, why: String) -> Checked<T> {
    Err(ConnectionError::new(code, why))
}

impl FrameReader {
    /// A reader that accepts payloads up to `max_frame_size` bytes, kept
    /// within the RFC's bounds (16,384 to 2^24-1).
    pub fn new(max_frame_size: u32) -> FrameReader {
        FrameReader {
            max_frame_size: max_frame_size.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE),
        }
    }

    /// The largest payload accepted.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// Looks for one frame at the start of `buf`.
    pub fn read(&self, buf: &[u8]) -> Read {
        let Some(header) = FrameHeader::parse(buf) else {
            return Read::Partial;
        };
        if header.len > self.max_frame_size {
            return Read::Error(ConnectionError::new(
                ErrorCode::FRAME_SIZE_ERROR,
                format!(
                    "a frame of type {} announces {} bytes, more than SETTINGS_MAX_FRAME_SIZE ({})",
                    header.kind, header.len, self.max_frame_size
                ),
            ));
        }
        let total = HEADER_LEN + header.len as usize;
        let Some(payload) = buf.get(HEADER_LEN..total) else {
            return Read::Partial;
        };
        match parse(header, payload) {
            Ok(Parsed::Frame(frame)) => Read::Frame(frame, total),
            Ok(Parsed::StreamError(code, why)) => Read::StreamError(
                StreamError {
                    stream: header.stream,
                    code,
                    why,
                },
                total,
            ),
            Err(error) => Read::Error(error),
        }
    }
}

enum Parsed {
    Frame(Frame),
    StreamError(ErrorCode, String),
}

fn parse(h: FrameHeader, payload: &[u8]) -> Checked<Parsed> {
    let frame = match h.kind {
        kind::DATA => {
            on_a_stream(h, "DATA")?;
            let (pad, _, data) = unpad(h, payload, 0, "DATA")?;
            Frame::Data {
                stream: h.stream,
                data: data.to_vec(),
                end_stream: EndStream::from_flag(h.flags),
                pad,
            }
        }
        kind::HEADERS => headers(h, payload)?,
        kind::PRIORITY => {
            on_a_stream(h, "PRIORITY")?;
            if payload.len() != 5 {
                let why = format!("PRIORITY frame of {} bytes (must be 5)", payload.len());
                return Ok(Parsed::StreamError(ErrorCode::FRAME_SIZE_ERROR, why));
            }
            let priority = priority(payload);
            if priority.depends_on == h.stream {
                let why = format!("stream {} depends on itself", h.stream);
                return Ok(Parsed::StreamError(ErrorCode::PROTOCOL_ERROR, why));
            }
            Frame::Priority {
                stream: h.stream,
                priority,
            }
        }
        kind::RST_STREAM => {
            on_a_stream(h, "RST_STREAM")?;
            let code = ErrorCode(exactly_4(payload, "RST_STREAM")?);
            Frame::RstStream { stream: h.stream, code }
        }
        kind::SETTINGS => settings(h, payload)?,
        kind::PUSH_PROMISE => {
            on_a_stream(h, "PUSH_PROMISE")?;
            let (pad, promised, block) = unpad(h, payload, 4, "PUSH_PROMISE")?;
            Frame::PushPromise {
                stream: h.stream,
                promised: be32(promised) & MAX_STREAM_ID,
                block: block.to_vec(),
                end_headers: EndHeaders::from_flag(h.flags),
                pad,
            }
        }
        kind::PING => {
            on_the_connection(h, "PING")?;
            let Ok(data) = <[u8; 8]>::try_from(payload) else {
                return fail(
                    ErrorCode::FRAME_SIZE_ERROR,
                    format!("PING frame of {} bytes (must be 8)", payload.len()),
                );
            };
            Frame::Ping {
                ack: Ack::from_flag(h.flags),
                data,
            }
        }
        kind::GOAWAY => {
            on_the_connection(h, "GOAWAY")?;
            if payload.len() < 8 {
                let why = format!("GOAWAY frame of {} bytes (at least 8)", payload.len());
                return fail(ErrorCode::FRAME_SIZE_ERROR, why);
            }
            Frame::GoAway {
                last_stream: be32(&payload[..4]) & MAX_STREAM_ID,
                code: ErrorCode(be32(&payload[4..8])),
                debug: payload[8..].to_vec(),
            }
        }
        kind::WINDOW_UPDATE => {
            let increment = exactly_4(payload, "WINDOW_UPDATE")? & MAX_STREAM_ID;
            if increment == 0 {
                let why = "WINDOW_UPDATE with an increment of 0".to_string();
                if h.stream == 0 {
                    return fail(ErrorCode::PROTOCOL_ERROR, why);
                }
                return Ok(Parsed::StreamError(ErrorCode::PROTOCOL_ERROR, why));
            }
            Frame::WindowUpdate {
                stream: h.stream,
                increment,
            }
        }
        kind::CONTINUATION => {
            on_a_stream(h, "CONTINUATION")?;
            Frame::Continuation {
                stream: h.stream,
                block: payload.to_vec(),
                end_headers: EndHeaders::from_flag(h.flags),
            }
        }
        other => Frame::Unknown {
            kind: other,
            flags: h.flags,
            stream: h.stream,
            payload: payload.to_vec(),
        },
    };
    Ok(Parsed::Frame(frame))
}

fn headers(h: FrameHeader, payload: &[u8]) -> Checked<Frame> {
    on_a_stream(h, "HEADERS")?;
    let fixed = if h.has(flag::PRIORITY) { 5 } else { 0 };
    let (pad, fields, block) = unpad(h, payload, fixed, "HEADERS")?;
    let priority = (fixed > 0).then(|| priority(fields));
    if priority.is_some_and(|p| p.depends_on == h.stream) {
        // A stream error in the RFC; but the field block must still be
        // decoded to keep HPACK in step, so the connection ends instead.
        return fail(
            ErrorCode::PROTOCOL_ERROR,
            format!("HEADERS on stream {} depends on itself", h.stream),
        );
    }
    Ok(Frame::Headers {
        stream: h.stream,
        block: block.to_vec(),
        end_stream: EndStream::from_flag(h.flags),
        end_headers: EndHeaders::from_flag(h.flags),
        priority,
        pad,
    })
}

fn settings(h: FrameHeader, payload: &[u8]) -> Checked<Frame> {
    on_the_connection(h, "SETTINGS")?;
    let ack = Ack::from_flag(h.flags);
    if ack == Ack::Yes && !payload.is_empty() {
        return fail(
            ErrorCode::FRAME_SIZE_ERROR,
            format!("SETTINGS ACK with {} bytes (must be 0)", payload.len()),
        );
    }
    if !payload.len().is_multiple_of(6) {
        let why = format!("SETTINGS frame of {} bytes (must be a multiple of 6)", payload.len());
        return fail(ErrorCode::FRAME_SIZE_ERROR, why);
    }
    let mut params = Vec::with_capacity(payload.len() / 6);
    for p in payload.chunks_exact(6) {
        let (id, value) = (u16::from_be_bytes([p[0], p[1]]), be32(&p[2..6]));
        match id {
            setting::ENABLE_PUSH if value > 1 => {
                return fail(
                    ErrorCode::PROTOCOL_ERROR,
                    format!("SETTINGS_ENABLE_PUSH = {value} (must be 0 or 1)"),
                );
            }
            setting::INITIAL_WINDOW_SIZE if value > MAX_STREAM_ID => {
                let why = format!("SETTINGS_INITIAL_WINDOW_SIZE = {value} (at most 2^31-1)");
                return fail(ErrorCode::FLOW_CONTROL_ERROR, why);
            }
            setting::MAX_FRAME_SIZE if !(DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) => {
                let why = format!("SETTINGS_MAX_FRAME_SIZE = {value} (must be 16384 to 2^24-1)");
                return fail(ErrorCode::PROTOCOL_ERROR, why);
            }
            _ => params.push((id, value)),
        }
    }
    Ok(Frame::Settings { ack, params })
}

/// Splits a payload that may be PADDED into (pad length, the `fixed`
/// bytes that follow the pad length, the rest without padding).
fn unpad<'a>(h: FrameHeader, payload: &'a [u8], fixed: usize, what: &str) -> Checked<(Option<u8>, &'a [u8], &'a [u8])> {
    let padded = h.has(flag::PADDED);
    let before = usize::from(padded) + fixed;
    if payload.len() < before {
        let why = format!(
            "{what} frame of {} bytes, too short for its fields ({before})",
            payload.len()
        );
        return fail(ErrorCode::FRAME_SIZE_ERROR, why);
    }
    let pad = padded.then(|| payload[0]);
    let rest = &payload[usize::from(padded)..];
    let (fields, rest) = rest.split_at(fixed);
    let pad_len = usize::from(pad.unwrap_or(0));
    if pad_len > rest.len() {
        let why = format!(
            "{what} frame of {} bytes with {pad_len} bytes of padding",
            payload.len()
        );
        return fail(ErrorCode::PROTOCOL_ERROR, why);
    }
    Ok((pad, fields, &rest[..rest.len() - pad_len]))
}

fn priority(b: &[u8]) -> Priority {
    let word = be32(&b[..4]);
    Priority {
        exclusive: word >> 31 == 1,
        depends_on: word & MAX_STREAM_ID,
        weight: b[4],
    }
}

fn on_a_stream(h: FrameHeader, what: &str) -> Checked<()> {
    if h.stream == 0 {
        return fail(ErrorCode::PROTOCOL_ERROR, format!("{what} frame on stream 0"));
    }
    Ok(())
}

fn on_the_connection(h: FrameHeader, what: &str) -> Checked<()> {
    if h.stream != 0 {
        return fail(
            ErrorCode::PROTOCOL_ERROR,
            format!("{what} frame on stream {} (must be 0)", h.stream),
        );
    }
    Ok(())
}

fn exactly_4(payload: &[u8], what: &str) -> Checked<u32> {
    match <[u8; 4]>::try_from(payload) {
        Ok(b) => Ok(u32::from_be_bytes(b)),
        Err(_) => fail(
            ErrorCode::FRAME_SIZE_ERROR,
            format!("{what} frame of {} bytes (must be 4)", payload.len()),
        ),
    }
}

/// The first four bytes as a big-endian number; callers have checked
/// there are four.
fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}
