//! One server-side HTTP/2 connection's state, sans-I/O, for a driver that
//! owns the socket and the scenario.
//!
//! The driver feeds [`Conn::receive`] the bytes the client sent, takes
//! [`Event`]s with [`Conn::next_event`] (a request, body bytes, a reset, a
//! GOAWAY, an error), writes [`Conn::pending_output`] to the socket and
//! reports what went with [`Conn::written`]. What a scenario says is sent
//! with the `send_*` methods (`send.rs`), which write what they are told,
//! rules or not; state is tracked along the way, so that a window or a
//! stream ended by the scenario is known to the reading side.
//!
//! By itself the connection only does what keeps HTTP/2 going: our
//! SETTINGS first, the ACK of the client's, PING ACKs and WINDOW_UPDATEs
//! (each [`Answer::Automatic`] unless the scenario wants to withhold it),
//! and RST_STREAM for a stream the client broke. A connection error stops
//! all reading; the driver then sends GOAWAY with the error's code
//! ([`Conn::send_goaway`]) and closes.
//!
//! Phases: [`Phase::Preface`] until the 24 bytes are in, then
//! [`Phase::FirstSettings`] until the client's SETTINGS (nothing else may
//! come first), then [`Phase::Open`]; any connection error leads to
//! [`Phase::Failed`], where received bytes are dropped.
//!
//! No clock: nothing here needs one. Floods are bounded by counts
//! ([`Config`]): answers waiting to be sent, frames between requests,
//! bytes and CONTINUATION frames of one field block.

mod block;
mod flow;
mod output;
mod receive;
mod request;
mod send;
mod streams;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;

pub use flow::DEFAULT_WINDOW;
pub use request::Head;
pub use send::{Flow, LastStream};

use crate::h2::error::{ConnectionError, ErrorCode, StreamError};
use crate::h2::frame::{self, EndStream, Frame, FrameReader};
use crate::h2::hpack;
use crate::http::Header;
use block::Block;
use flow::{RecvWindow, Window};
use output::Output;
use streams::Streams;

/// Whether the connection sends an answer by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// As any HTTP/2 server would.
    Automatic,
    /// Only when the scenario sends it: to test a client that waits for
    /// it (SETTINGS_TIMEOUT, a PING never answered, a stalled upload).
    Manual,
}

/// How one connection behaves; [`Config::default`] is a plain server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our SETTINGS, sent first, in this order.
    pub settings: Vec<(u16, u32)>,
    /// ACK the client's SETTINGS.
    pub settings_ack: Answer,
    /// ACK the client's PINGs.
    pub ping_ack: Answer,
    /// Give back the receive windows the client's DATA used.
    pub window_updates: Answer,
    /// A decoded header list larger than this (RFC 9113's count) refuses
    /// the stream.
    pub max_header_list: usize,
    /// An encoded field block larger than this ends the connection.
    pub max_header_block: usize,
    /// More CONTINUATION frames than this in one block end it too.
    pub max_continuations: usize,
    /// Automatic answers that may wait unsent (see `output.rs`).
    pub max_answers_waiting: usize,
    /// PING, SETTINGS, PRIORITY, empty DATA and unknown frames the client
    /// may send in a row without a request or body bytes between.
    pub max_idle_frames: usize,
}

/// SETTINGS_MAX_HEADER_LIST_SIZE we announce, and the limit we apply.
pub const MAX_HEADER_LIST: usize = 64 * 1024;

impl Default for Config {
    fn default() -> Config {
        Config {
            settings: vec![
                (frame::setting::MAX_CONCURRENT_STREAMS, 100),
                (frame::setting::MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST as u32),
            ],
            settings_ack: Answer::Automatic,
            ping_ack: Answer::Automatic,
            window_updates: Answer::Automatic,
            max_header_list: MAX_HEADER_LIST,
            max_header_block: MAX_HEADER_LIST,
            max_continuations: 64,
            max_answers_waiting: 1000,
            max_idle_frames: 10_000,
        }
    }
}

/// What the client did, for the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A new stream with a whole, well-formed request head.
    Request {
        /// Its stream.
        stream: u32,
        /// Method, path, authority and fields.
        head: Head,
        /// The HEADERS had END_STREAM: no body follows.
        end_stream: EndStream,
    },
    /// Body bytes (counted, not kept) on a stream.
    Data {
        /// The stream.
        stream: u32,
        /// Body bytes, padding not included.
        len: usize,
        /// The client's last frame on the stream.
        end_stream: EndStream,
    },
    /// Trailers, which end the client's side of the stream.
    Trailers {
        /// The stream.
        stream: u32,
        /// The fields.
        headers: Vec<Header>,
    },
    /// The client reset a stream.
    RstStream {
        /// The stream.
        stream: u32,
        /// Its code.
        code: ErrorCode,
    },
    /// The client is going away.
    GoAway {
        /// The last of our streams it processed (we open none: 0).
        last_stream: u32,
        /// Why.
        code: ErrorCode,
        /// Its debug data.
        debug: Vec<u8>,
    },
    /// The client's SETTINGS, applied (and acknowledged, if automatic).
    Settings {
        /// (identifier, value) as sent.
        params: Vec<(u16, u32)>,
    },
    /// The client acknowledged our SETTINGS.
    SettingsAck,
    /// The client pinged (answered, if automatic).
    Ping {
        /// Its opaque data.
        data: [u8; 8],
    },
    /// The client answered our PING.
    PingAck {
        /// The data echoed.
        data: [u8; 8],
    },
    /// The client gave us more window: DATA held back may go now.
    WindowUpdate {
        /// The stream, or 0 for the connection.
        stream: u32,
        /// How much more.
        increment: u32,
    },
    /// The client broke a stream's rules; RST_STREAM is queued.
    StreamError(StreamError),
    /// The client broke the connection's rules: the last event. Send
    /// GOAWAY with its code and close.
    ConnectionError(ConnectionError),
}

/// Where the connection is (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the 24-byte preface. Left when it is complete.
    Preface,
    /// Preface read; the next frame must be the client's SETTINGS.
    FirstSettings,
    /// Frames flow both ways.
    Open,
    /// A connection error was reported; nothing more is read.
    Failed,
}

/// One server-side HTTP/2 connection.
#[derive(Debug)]
pub struct Conn {
    config: Config,
    phase: Phase,
    /// Received bytes not yet read as frames, from `input_at` on.
    input: Vec<u8>,
    input_at: usize,
    reader: FrameReader,
    decoder: hpack::Decoder,
    block: Option<Block>,
    streams: Streams,
    output: Output,
    events: VecDeque<Event>,
    /// What we may send on the connection.
    send_window: Window,
    /// What the client may send on the connection.
    recv_window: RecvWindow,
    /// The client's SETTINGS_MAX_FRAME_SIZE: how we cut DATA and blocks.
    peer_max_frame: u32,
    /// Our SETTINGS_MAX_CONCURRENT_STREAMS, from the moment it was sent.
    max_streams: u32,
    /// Our SETTINGS frames not yet acknowledged, oldest first.
    unacked_settings: VecDeque<Vec<(u16, u32)>>,
    /// The last-stream-id of the GOAWAY we sent, if any: newer streams
    /// are ignored.
    goaway_sent: Option<u32>,
    /// Frames received since the last request or body bytes that asked
    /// nothing of the scenario.
    idle_frames: usize,
}

impl Conn {
    /// A connection that has sent nothing and read nothing; our SETTINGS
    /// are queued at once (a server may send them before the preface).
    pub fn new(config: Config) -> Conn {
        let settings = config.settings.clone();
        let mut conn = Conn {
            phase: Phase::Preface,
            input: Vec::new(),
            input_at: 0,
            reader: FrameReader::default(),
            decoder: hpack::Decoder::new(hpack::DEFAULT_TABLE_SIZE),
            block: None,
            streams: Streams::new(DEFAULT_WINDOW, DEFAULT_WINDOW),
            output: Output::new(config.max_answers_waiting),
            events: VecDeque::new(),
            send_window: Window::new(DEFAULT_WINDOW),
            recv_window: RecvWindow::new(DEFAULT_WINDOW),
            peer_max_frame: frame::DEFAULT_MAX_FRAME_SIZE,
            max_streams: u32::MAX,
            unacked_settings: VecDeque::new(),
            goaway_sent: None,
            idle_frames: 0,
            config,
        };
        conn.send_settings(&settings);
        conn
    }

    /// Where the connection is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The next event, oldest first.
    pub fn next_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The bytes waiting to be sent.
    pub fn pending_output(&self) -> &[u8] {
        self.output.pending()
    }

    /// The socket took the first `n` bytes of [`Conn::pending_output`].
    pub fn written(&mut self, n: usize) {
        self.output.written(n);
    }

    /// The highest stream id the client has used (for a GOAWAY).
    pub fn last_stream(&self) -> u32 {
        self.streams.last_opened()
    }

    /// Whether `stream` is open or half-closed.
    pub fn is_active(&self, stream: u32) -> bool {
        self.streams.get(stream).is_some()
    }

    /// Bytes of DATA that may be sent on `stream` now without passing the
    /// client's windows (0 for a stream that is not active).
    pub fn sendable(&self, stream: u32) -> usize {
        self.streams
            .get(stream)
            .map_or(0, |s| s.send.available().min(self.send_window.available()))
    }

    /// Feeds bytes received from the client; events and answers follow.
    pub fn receive(&mut self, bytes: &[u8]) {
        if self.phase == Phase::Failed {
            return;
        }
        self.input.extend_from_slice(bytes);
        while let Some(step) = self.step() {
            if let Err(error) = step {
                self.fail(error);
                break;
            }
        }
        self.input.drain(..self.input_at.min(self.input.len()));
        self.input_at = 0;
    }

    /// Reads one thing from the input: `None` when more bytes are needed.
    fn step(&mut self) -> Option<Result<(), ConnectionError>> {
        let input = &self.input[self.input_at..];
        if self.phase == Phase::Preface {
            return match crate::h2::preface::check(input) {
                crate::h2::preface::Preface::Partial => None,
                crate::h2::preface::Preface::Complete => {
                    self.input_at += crate::h2::preface::PREFACE.len();
                    self.phase = Phase::FirstSettings;
                    Some(Ok(()))
                }
                crate::h2::preface::Preface::Mismatch => Some(Err(ConnectionError::new(
                    ErrorCode::PROTOCOL_ERROR,
                    "the connection does not start with the HTTP/2 preface",
                ))),
            };
        }
        match self.reader.read(input) {
            frame::Read::Partial => None,
            frame::Read::Error(error) => Some(Err(error)),
            frame::Read::StreamError(error, used) => {
                self.input_at += used;
                Some(self.stream_error(error))
            }
            frame::Read::Frame(frame, used) => {
                self.input_at += used;
                Some(self.frame(frame))
            }
        }
    }

    fn fail(&mut self, error: ConnectionError) {
        self.phase = Phase::Failed;
        self.block = None;
        self.input.clear();
        self.input_at = 0;
        self.events.push_back(Event::ConnectionError(error));
    }

    /// Resets a stream the client broke, and says so. An idle stream
    /// cannot be reset (§5.1), so there the error ends the connection.
    fn stream_error(&mut self, error: StreamError) -> Result<(), ConnectionError> {
        if matches!(self.streams.lookup(error.stream), streams::Lookup::Idle) {
            return Err(ConnectionError::new(error.code, format!("idle {error}")));
        }
        self.streams.reset(error.stream);
        self.output.answer(&Frame::RstStream {
            stream: error.stream,
            code: error.code,
        })?;
        self.events.push_back(Event::StreamError(error));
        Ok(())
    }

    /// Counts a frame that asked nothing of the scenario.
    fn idle_frame(&mut self, what: &str) -> Result<(), ConnectionError> {
        self.idle_frames += 1;
        if self.idle_frames > self.config.max_idle_frames {
            let why = format!(
                "{} frames in a row without a request or body bytes (the last a {what})",
                self.idle_frames
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        Ok(())
    }
}
