//! A bare HTTP/2 client for tests, written from RFC 9113 alone and sharing
//! nothing with hangup's codec: it sends the preface, an empty SETTINGS
//! and a GET on stream 1, then reads frames until the connection ends, so
//! that a test asserts exactly which frames a scenario sent, in which
//! order, and how the TCP connection ended after them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{End, Server};

/// HTTP/2's connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (RFC 9113 §6).
pub const DATA: u8 = 0x0;
pub const HEADERS: u8 = 0x1;
pub const RST_STREAM: u8 = 0x3;
pub const SETTINGS: u8 = 0x4;
pub const PING: u8 = 0x6;
pub const GOAWAY: u8 = 0x7;
pub const WINDOW_UPDATE: u8 = 0x8;

/// Flags.
pub const END_STREAM: u8 = 0x1;
pub const ACK: u8 = 0x1;
pub const END_HEADERS: u8 = 0x4;

/// One frame as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The 4-byte big-endian word at `at` of the payload.
    pub fn word(&self, at: usize) -> u32 {
        u32::from_be_bytes(self.payload[at..at + 4].try_into().expect("4 bytes"))
    }

    /// A GOAWAY's last-stream-id, error code and debug data.
    pub fn goaway(&self) -> (u32, u32, String) {
        assert_eq!(self.kind, GOAWAY, "{self:?}");
        (
            self.word(0) & 0x7fff_ffff,
            self.word(4),
            String::from_utf8_lossy(&self.payload[8..]).into_owned(),
        )
    }

    /// The fields of a HEADERS block made of literals with new names and
    /// no Huffman coding (RFC 7541 §6.2.2), which is how hangup encodes.
    pub fn fields(&self) -> Vec<(String, String)> {
        assert_eq!(self.kind, HEADERS, "{self:?}");
        let mut fields = Vec::new();
        let mut rest = self.payload.as_slice();
        while let [0x00, after @ ..] = rest {
            let (name, after) = string(after);
            let (value, after) = string(after);
            fields.push((name, value));
            rest = after;
        }
        assert!(rest.is_empty(), "a field this reader does not know: {rest:?}");
        fields
    }

    /// `:status` of a HEADERS frame.
    pub fn status(&self) -> String {
        self.fields()
            .into_iter()
            .find(|(name, _)| name == ":status")
            .map(|(_, value)| value)
            .expect(":status")
    }
}

/// A string literal without Huffman coding whose length fits the 7-bit
/// prefix, and what follows it.
fn string(bytes: &[u8]) -> (String, &[u8]) {
    let len = usize::from(bytes[0]);
    assert!(len < 0x7f, "a length this reader does not know");
    let text = String::from_utf8_lossy(&bytes[1..1 + len]).into_owned();
    (text, &bytes[1 + len..])
}

/// A frame's bytes.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut bytes = len.to_be_bytes()[1..].to_vec();
    bytes.extend_from_slice(&[kind, flags]);
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// A header block of literals without indexing (names and values under
/// 127 bytes).
pub fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0x00);
        for text in [name, value] {
            out.push(text.len() as u8);
            out.extend_from_slice(text.as_bytes());
        }
    }
    out
}

/// The preface, an empty SETTINGS, and `GET path` on stream 1 (END_STREAM).
pub fn get(path: &str) -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, &[]));
    let fields = [
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "127.0.0.1"),
        (":path", path),
    ];
    bytes.extend(frame(HEADERS, END_STREAM | END_HEADERS, 1, &block(&fields)));
    bytes
}

/// Connect to `server`, send `bytes`, and read frames for up to `wait`:
/// the frames, and how the connection ended (`End::Open` if it had not).
pub fn exchange(server: &Server, bytes: &[u8], wait: Duration) -> (Vec<Frame>, End) {
    let mut stream = server.connect();
    stream.write_all(bytes).expect("send");
    read_frames(&mut stream, wait)
}

/// Read frames until the connection ends or `wait` is over.
pub fn read_frames(stream: &mut TcpStream, wait: Duration) -> (Vec<Frame>, End) {
    let (bytes, end) = super::read_to_end(stream, wait);
    (parse(&bytes), end)
}

/// Read frames until one satisfies `stop` (or the connection ends, or
/// `wait` is over): everything read so far.
pub fn read_until(stream: &mut TcpStream, wait: Duration, stop: impl Fn(&Frame) -> bool) -> Vec<Frame> {
    let give_up = Instant::now() + wait;
    let mut bytes = Vec::new();
    let mut buf = [0; 65536];
    loop {
        let frames = parse(&bytes);
        if frames.iter().any(&stop) {
            return frames;
        }
        let left = give_up.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return frames;
        }
        stream.set_read_timeout(Some(left)).expect("timeout");
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return frames,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
        }
    }
}

/// Every whole frame in `bytes`.
pub fn parse(mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while bytes.len() >= 9 {
        let len = u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]]) as usize;
        if bytes.len() < 9 + len {
            break;
        }
        frames.push(Frame {
            kind: bytes[3],
            flags: bytes[4],
            stream: u32::from_be_bytes(bytes[5..9].try_into().expect("4 bytes")) & 0x7fff_ffff,
            payload: bytes[9..9 + len].to_vec(),
        });
        bytes = &bytes[9 + len..];
    }
    frames
}

/// The frames without SETTINGS, its ACKs and WINDOW_UPDATEs: what a
/// scenario chose to send.
pub fn scripted(frames: &[Frame]) -> Vec<&Frame> {
    frames
        .iter()
        .filter(|f| f.kind != SETTINGS && f.kind != WINDOW_UPDATE)
        .collect()
}

/// More frame types (RFC 9113 §6), for hostile input.
pub const PRIORITY: u8 = 0x2;
pub const PUSH_PROMISE: u8 = 0x5;
pub const CONTINUATION: u8 = 0x9;

/// More flags.
pub const PADDED: u8 = 0x8;
pub const PRIORITY_FLAG: u8 = 0x20;

/// The preface and an empty SETTINGS: a connection ready for frames.
pub fn opening() -> Vec<u8> {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(frame(SETTINGS, 0, 0, &[]));
    bytes
}

/// The header block of `GET path`, as [`get`] sends it.
pub fn get_block(path: &str) -> Vec<u8> {
    block(&[
        (":method", "GET"),
        (":scheme", "http"),
        (":authority", "127.0.0.1"),
        (":path", path),
    ])
}

/// HEADERS with `GET path` on `stream`, END_HEADERS and these `flags`
/// besides (END_STREAM, or 0 for a request whose body may follow).
pub fn request(stream: u32, path: &str, flags: u8) -> Vec<u8> {
    frame(HEADERS, END_HEADERS | flags, stream, &get_block(path))
}

/// An HPACK integer (RFC 7541 §5.1) in a `prefix`-bit prefix, after the
/// representation's `pattern` bits.
pub fn integer(value: usize, prefix: u8, pattern: u8) -> Vec<u8> {
    let max = (1usize << prefix) - 1;
    if value < max {
        return vec![pattern | value as u8];
    }
    let mut out = vec![pattern | max as u8];
    let mut rest = value - max;
    while rest >= 128 {
        out.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    out.push(rest as u8);
    out
}

/// A string literal without Huffman coding, any length (RFC 7541 §5.2).
pub fn string_literal(bytes: &[u8]) -> Vec<u8> {
    let mut out = integer(bytes.len(), 7, 0);
    out.extend_from_slice(bytes);
    out
}
