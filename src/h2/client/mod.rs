//! One client-side HTTP/2 connection, sans-I/O: what `hangup probe
//! --http2` speaks to a server, the mirror of [`crate::h2::conn`].
//!
//! The driver opens streams ([`Client::open_stream`]), sends their bodies
//! within the server's windows ([`Client::sendable`], [`Client::send_data`]),
//! feeds [`Client::receive`] the bytes the server sent, takes [`Event`]s
//! with [`Client::next_event`], and writes what [`Client::take_output`]
//! hands it, each frame summarised ([`Sent`]) so that the driver can draw
//! it. The connection does by itself what keeps HTTP/2 going: the preface
//! and our SETTINGS first, the ACK of the server's SETTINGS, PING ACKs, and
//! WINDOW_UPDATEs as DATA arrives.
//!
//! It is a client that reports, not one that hides: every frame the server
//! sends becomes an event, in order, and the server's breaches of RFC 9113
//! are named, not smoothed over. One that only the stream suffers (a
//! malformed response head, DATA past END_STREAM) is a
//! [`Event::StreamError`] and the stream is reset; one that leaves the
//! connection unusable (a frame the reader refuses, a header block HPACK
//! cannot decode, a window overrun, a frame on a stream we never opened)
//! is a [`Event::ConnectionError`], the last event: GOAWAY with its code
//! is queued and nothing more is read.
//!
//! Memory is bounded whatever the server sends: a field block by its
//! bytes and CONTINUATION frames ([`Config`]), the decoded header list by
//! HPACK's own bound, and the answers waiting to be written (a PING flood
//! at a probe that cannot write) by a count, past which the connection
//! ends with ENHANCE_YOUR_CALM. No clock: nothing here needs one.

mod receive;
mod response;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use response::{HeadKind, ResponseHead};

use crate::h2::error::{ConnectionError, ErrorCode, StreamError};
use crate::h2::frame::{self, Ack, EndHeaders, EndStream, Frame, FrameReader};
use crate::h2::hpack;
use crate::h2::preface::PREFACE;

/// The initial window of the connection and of every stream (RFC 9113
/// §6.9.2), ours and the server's until its SETTINGS say otherwise.
pub const DEFAULT_WINDOW: u32 = 65_535;

/// How one connection behaves; [`Config::default`] is a plain client.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our SETTINGS, sent right after the preface.
    pub settings: Vec<(u16, u32)>,
    /// A decoded header list larger than this (RFC 9113's count) fails
    /// the stream.
    pub max_header_list: usize,
    /// An encoded field block larger than this ends the connection.
    pub max_header_block: usize,
    /// More CONTINUATION frames than this in one block end it too.
    pub max_continuations: usize,
    /// Answers (ACKs, WINDOW_UPDATEs, RST_STREAMs) that may wait unwritten.
    pub max_answers_waiting: usize,
}

/// The most bytes of a header list the client decodes: what curl allows.
pub const MAX_HEADER_LIST: usize = 64 * 1024;

impl Default for Config {
    fn default() -> Config {
        Config {
            // No server push: a PUSH_PROMISE is then a PROTOCOL_ERROR.
            settings: vec![(frame::setting::ENABLE_PUSH, 0)],
            max_header_list: MAX_HEADER_LIST,
            max_header_block: MAX_HEADER_LIST,
            max_continuations: 64,
            max_answers_waiting: 1000,
        }
    }
}

/// A frame the client wrote, without its payload: for a driver to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The 24-byte preface and our first SETTINGS.
    Preface {
        /// Our SETTINGS.
        settings: Vec<(u16, u32)>,
    },
    /// The ACK of the server's SETTINGS.
    SettingsAck,
    /// A HEADERS (and its CONTINUATIONs) opening a stream.
    Headers {
        /// The stream.
        stream: u32,
        /// END_STREAM: no body follows.
        end_stream: EndStream,
        /// Bytes of the field block.
        block: usize,
        /// Frames it took (1 without CONTINUATION).
        frames: usize,
    },
    /// Body bytes.
    Data {
        /// The stream.
        stream: u32,
        /// Payload bytes.
        len: usize,
        /// END_STREAM.
        end_stream: EndStream,
    },
    /// The answer to the server's PING.
    PingAck,
    /// Window given back.
    WindowUpdate {
        /// The stream, or 0 for the connection.
        stream: u32,
        /// How much.
        increment: u32,
    },
    /// A stream the server broke, reset by us.
    RstStream {
        /// The stream.
        stream: u32,
        /// Why.
        code: ErrorCode,
    },
    /// Our GOAWAY: the server broke the connection's rules.
    GoAway {
        /// Why.
        code: ErrorCode,
    },
}

/// Bytes to write, and the frames they hold, in order.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// The bytes.
    pub bytes: Vec<u8>,
    /// What they are.
    pub frames: Vec<Sent>,
}

/// What the server did, for the driver: one event per frame received
/// (a field block's frames but the last give [`Event::HeaderFragment`]),
/// then the errors the client found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The server's SETTINGS, applied; the ACK is queued.
    Settings {
        /// (identifier, value) as sent.
        params: Vec<(u16, u32)>,
    },
    /// The server acknowledged our SETTINGS.
    SettingsAck,
    /// A whole field block on one of our streams: the response head, an
    /// interim (1xx) head, or trailers. Sent when its last frame came.
    Headers {
        /// The stream.
        stream: u32,
        /// What the block is, decoded and checked.
        head: ResponseHead,
        /// The HEADERS frame's END_STREAM.
        end_stream: EndStream,
        /// Bytes of the encoded block.
        block: usize,
        /// Frames it came in (1 without CONTINUATION).
        frames: usize,
    },
    /// A HEADERS or CONTINUATION that does not end its field block.
    HeaderFragment {
        /// The stream.
        stream: u32,
        /// `frame::kind::HEADERS` or `CONTINUATION`.
        kind: u8,
        /// Bytes of the fragment.
        len: usize,
    },
    /// Body bytes on a stream.
    Data {
        /// The stream.
        stream: u32,
        /// Body bytes, padding not included.
        len: usize,
        /// Bytes of padding (with its length byte), if PADDED.
        padding: usize,
        /// END_STREAM.
        end_stream: EndStream,
    },
    /// The server reset a stream.
    RstStream {
        /// The stream.
        stream: u32,
        /// Its code.
        code: ErrorCode,
    },
    /// The server pinged (answered) or answered our PING.
    Ping {
        /// ACK.
        ack: Ack,
    },
    /// The server is going away.
    GoAway {
        /// The last of our streams it processed or may still process.
        last_stream: u32,
        /// Why.
        code: ErrorCode,
        /// Its debug data.
        debug: Vec<u8>,
    },
    /// The server gave us more window.
    WindowUpdate {
        /// The stream, or 0 for the connection.
        stream: u32,
        /// How much.
        increment: u32,
    },
    /// PRIORITY (deprecated, ignored).
    Priority {
        /// The stream.
        stream: u32,
    },
    /// A frame of a type RFC 9113 does not define (ignored, §4.1).
    Unknown {
        /// The type byte.
        kind: u8,
        /// The flags byte.
        flags: u8,
        /// The stream.
        stream: u32,
        /// The payload's length.
        len: usize,
    },
    /// The server broke a stream's rules: RST_STREAM is queued.
    StreamError(StreamError),
    /// The server broke the connection's rules, or its bytes are not
    /// HTTP/2: the last event. GOAWAY with the code is queued.
    ConnectionError(ConnectionError),
}

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Nothing read yet: the server's first frame must be SETTINGS.
    Preface,
    /// Frames flow both ways.
    Open,
    /// A connection error was reported; nothing more is read.
    Failed,
}

/// A stream's state, from our side (RFC 9113 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Both sides may send.
    Open,
    /// We sent END_STREAM; the server may still send.
    HalfClosedLocal,
    /// The server sent END_STREAM; we may still send.
    HalfClosedRemote,
    /// Done: both ended, or a reset.
    Closed,
}

/// One of our streams.
#[derive(Debug)]
struct Stream {
    id: u32,
    state: State,
    /// What we may still send on it.
    send: i64,
    /// What the server may still send on it, and what it sent that we
    /// have not given back.
    recv: RecvWindow,
    /// The final (non-1xx) response head came.
    responded: bool,
    /// The reset came from us (a frame after it is then no error).
    reset_by_us: bool,
}

impl Stream {
    fn may_receive(&self) -> bool {
        matches!(self.state, State::Open | State::HalfClosedLocal)
    }

    fn may_send(&self) -> bool {
        matches!(self.state, State::Open | State::HalfClosedRemote)
    }
}

/// A field block being put together from HEADERS and CONTINUATIONs.
#[derive(Debug)]
struct Block {
    stream: u32,
    end_stream: EndStream,
    bytes: Vec<u8>,
    frames: usize,
}

/// Our receive side of a window.
#[derive(Debug, Clone, Copy)]
struct RecvWindow {
    available: i64,
    unacked: u32,
}

impl RecvWindow {
    fn new() -> RecvWindow {
        RecvWindow {
            available: i64::from(DEFAULT_WINDOW),
            unacked: 0,
        }
    }

    /// The server sent `n` flow-controlled bytes; `false` past the window.
    fn receive(&mut self, n: usize) -> bool {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        if n > self.available {
            return false;
        }
        self.available -= n;
        self.unacked = self.unacked.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
        true
    }

    /// The increment to give back now: all that was used, once that is
    /// half the window (as nghttp2 does).
    fn replenish(&mut self) -> Option<u32> {
        if self.unacked == 0 || self.unacked < DEFAULT_WINDOW / 2 {
            return None;
        }
        let increment = std::mem::take(&mut self.unacked);
        self.available += i64::from(increment);
        Some(increment)
    }
}

/// One client-side HTTP/2 connection.
#[derive(Debug)]
pub struct Client {
    config: Config,
    phase: Phase,
    /// Received bytes not yet read as frames.
    input: Vec<u8>,
    reader: FrameReader,
    decoder: hpack::Decoder,
    block: Option<Block>,
    streams: Vec<Stream>,
    next_stream: u32,
    output: Output,
    answers_waiting: usize,
    events: VecDeque<Event>,
    /// What we may send on the connection.
    send_window: i64,
    recv_window: RecvWindow,
    /// The server's SETTINGS_MAX_FRAME_SIZE: how we cut DATA and blocks.
    peer_max_frame: u32,
    /// The server's SETTINGS_INITIAL_WINDOW_SIZE.
    peer_initial_window: u32,
}

impl Client {
    /// A connection that has read nothing; the preface and our SETTINGS
    /// are queued at once.
    pub fn new(config: Config) -> Client {
        let mut client = Client {
            phase: Phase::Preface,
            input: Vec::new(),
            reader: FrameReader::default(),
            decoder: hpack::Decoder::new(hpack::DEFAULT_TABLE_SIZE),
            block: None,
            streams: Vec::new(),
            next_stream: 1,
            output: Output::default(),
            answers_waiting: 0,
            events: VecDeque::new(),
            send_window: i64::from(DEFAULT_WINDOW),
            recv_window: RecvWindow::new(),
            peer_max_frame: frame::DEFAULT_MAX_FRAME_SIZE,
            peer_initial_window: DEFAULT_WINDOW,
            config,
        };
        client.output.bytes.extend_from_slice(PREFACE);
        let settings = client.config.settings.clone();
        Frame::Settings {
            ack: Ack::No,
            params: settings.clone(),
        }
        .encode(&mut client.output.bytes);
        client.output.frames.push(Sent::Preface { settings });
        client
    }

    /// Where the connection is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Opens the next stream with a HEADERS carrying `fields` (pseudo-
    /// headers first, names as given: HTTP/2 wants them in lowercase),
    /// cut into CONTINUATIONs at the server's frame size. Its id.
    pub fn open_stream<'a>(
        &mut self,
        fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
        end_stream: EndStream,
    ) -> u32 {
        let id = self.next_stream;
        self.next_stream += 2;
        let mut block = Vec::new();
        hpack::encode(fields, &mut block);
        let max = self.peer_max_frame as usize;
        let mut pieces = block.chunks(max);
        let first = pieces.next().unwrap_or_default();
        let rest: Vec<&[u8]> = pieces.collect();
        Frame::Headers {
            stream: id,
            block: first.to_vec(),
            end_stream,
            end_headers: end_headers(rest.is_empty()),
            priority: None,
            pad: None,
        }
        .encode(&mut self.output.bytes);
        for (i, piece) in rest.iter().enumerate() {
            Frame::Continuation {
                stream: id,
                block: piece.to_vec(),
                end_headers: end_headers(i + 1 == rest.len()),
            }
            .encode(&mut self.output.bytes);
        }
        self.output.frames.push(Sent::Headers {
            stream: id,
            end_stream,
            block: block.len(),
            frames: 1 + rest.len(),
        });
        self.streams.push(Stream {
            id,
            state: if end_stream.is_end() {
                State::HalfClosedLocal
            } else {
                State::Open
            },
            send: i64::from(self.peer_initial_window),
            recv: RecvWindow::new(),
            responded: false,
            reset_by_us: false,
        });
        id
    }

    /// Body bytes that may be sent on `stream` now: within both windows,
    /// while the stream is open on our side.
    pub fn sendable(&self, stream: u32) -> usize {
        match self.stream(stream) {
            Some(s) if s.may_send() => usize::try_from(s.send.min(self.send_window)).unwrap_or(0),
            _ => 0,
        }
    }

    /// Queues `data` on `stream` as DATA frames of at most the server's
    /// frame size, the last with `end_stream`, counted against the
    /// windows. The driver keeps within [`Client::sendable`]; what it
    /// sends past it is sent all the same.
    pub fn send_data(&mut self, stream: u32, data: &[u8], end_stream: EndStream) {
        let max = self.peer_max_frame as usize;
        let mut pieces: Vec<&[u8]> = data.chunks(max).collect();
        if pieces.is_empty() {
            pieces.push(&[]);
        }
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let end = if i == last { end_stream } else { EndStream::No };
            Frame::Data {
                stream,
                data: piece.to_vec(),
                end_stream: end,
                pad: None,
            }
            .encode(&mut self.output.bytes);
            self.output.frames.push(Sent::Data {
                stream,
                len: piece.len(),
                end_stream: end,
            });
        }
        let n = i64::try_from(data.len()).unwrap_or(i64::MAX);
        self.send_window -= n;
        if let Some(s) = self.stream_mut(stream) {
            s.send -= n;
            if end_stream.is_end() {
                s.state = match s.state {
                    State::Open => State::HalfClosedLocal,
                    _ => State::Closed,
                };
            }
        }
    }

    /// Whether nothing waits to be written.
    pub fn output_is_empty(&self) -> bool {
        self.output.bytes.is_empty()
    }

    /// Bytes waiting to be written.
    pub fn output_len(&self) -> usize {
        self.output.bytes.len()
    }

    /// Everything waiting to be written, and what it is; `None` when
    /// nothing does.
    pub fn take_output(&mut self) -> Option<Output> {
        if self.output.bytes.is_empty() {
            return None;
        }
        self.answers_waiting = 0;
        Some(std::mem::take(&mut self.output))
    }

    /// The next event, oldest first.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Feeds bytes received from the server; events and answers follow.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Failed {
            return;
        }
        // Taken out while frames are read from it, which needs `self`.
        let mut input = std::mem::take(&mut self.input);
        input.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            match self.step(&input[at..]) {
                Step::More => break,
                Step::Took(n) => at += n,
                Step::Failed(error) => {
                    self.fail(error);
                    return;
                }
            }
        }
        input.drain(..at);
        self.input = input;
    }

    fn stream(&self, id: u32) -> Option<&Stream> {
        self.streams.iter().find(|s| s.id == id)
    }

    fn stream_mut(&mut self, id: u32) -> Option<&mut Stream> {
        self.streams.iter_mut().find(|s| s.id == id)
    }

    /// Whether `id` is a stream we never opened (an even id, or one past
    /// the last we did).
    fn is_idle(&self, id: u32) -> bool {
        id.is_multiple_of(2) || id >= self.next_stream
    }

    /// Queues a frame the connection sends by itself, within the bound.
    fn answer(&mut self, frame: &Frame, sent: Sent) -> Result<(), ConnectionError> {
        self.answers_waiting += 1;
        if self.answers_waiting > self.config.max_answers_waiting {
            let why = format!(
                "{} answers (SETTINGS and PING ACKs, WINDOW_UPDATEs) wait to be written: \
                 the server sends faster than it reads",
                self.answers_waiting
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        frame.encode(&mut self.output.bytes);
        self.output.frames.push(sent);
        Ok(())
    }

    /// The server broke the connection's rules: say so, queue GOAWAY with
    /// the code, and read no more.
    fn fail(&mut self, error: ConnectionError) {
        self.phase = Phase::Failed;
        self.block = None;
        self.input = Vec::new();
        Frame::GoAway {
            last_stream: 0,
            code: error.code,
            debug: Vec::new(),
        }
        .encode(&mut self.output.bytes);
        self.output.frames.push(Sent::GoAway { code: error.code });
        self.events.push_back(Event::ConnectionError(error));
    }

    /// The server broke a stream's rules: reset it and say so. A stream
    /// we never opened cannot be reset (§5.1), so there the error ends
    /// the connection.
    fn stream_error(&mut self, error: StreamError) -> Result<(), ConnectionError> {
        if self.is_idle(error.stream) {
            return Err(ConnectionError::new(
                error.code,
                format!("{}, on a stream the probe never opened", error),
            ));
        }
        if let Some(s) = self.stream_mut(error.stream) {
            s.state = State::Closed;
            s.reset_by_us = true;
        }
        let frame = Frame::RstStream {
            stream: error.stream,
            code: error.code,
        };
        let sent = Sent::RstStream {
            stream: error.stream,
            code: error.code,
        };
        self.answer(&frame, sent)?;
        self.events.push_back(Event::StreamError(error));
        Ok(())
    }
}

/// What one step of reading found.
enum Step {
    /// Not a whole frame yet.
    More,
    /// A frame (or the server's wrong first bytes) of this many bytes.
    Took(usize),
    Failed(ConnectionError),
}

fn end_headers(end: bool) -> EndHeaders {
    if end { EndHeaders::Yes } else { EndHeaders::No }
}
