//! What each frame from the server does to the client's connection (RFC
//! 9113 §5, §6): the rules that depend on what came before, which the
//! frame reader cannot see.
//!
//! The order of checks follows the RFC: the server's first frame must be
//! SETTINGS (§3.4); a field block in progress admits only its
//! CONTINUATION (§6.10); then per type. DATA counts against the
//! connection's window even on a stream that is gone, or the two sides'
//! windows would drift apart; a field block on a stream that is gone is
//! decoded all the same, or HPACK would.
//!
//! A server that answers the preface in HTTP/1.1 (`HTTP/1.1 400 Bad
//! Request`: it does not speak h2c) is told apart from one whose frames
//! are broken: its first bytes would otherwise read as a frame of 4 MiB.

use super::response::{self, HeadKind, ResponseHead};
use super::{Block, Client, Event, Phase, Sent, State, Step};
use crate::h2::error::{ConnectionError, ErrorCode, StreamError};
use crate::h2::frame::{self, Ack, EndHeaders, EndStream, Frame, MAX_STREAM_ID, Read, setting};

type Checked = Result<(), ConnectionError>;

fn protocol(why: String) -> ConnectionError {
    ConnectionError::new(ErrorCode::PROTOCOL_ERROR, why)
}

/// The most of an HTTP/1.x answer's first line quoted in the error.
const QUOTED_LINE: usize = 80;

impl Client {
    /// Reads one frame from the start of `input`.
    pub(super) fn step(&mut self, input: &[u8]) -> Step {
        if self.phase == Phase::Failed {
            return Step::More;
        }
        if self.phase == Phase::Preface
            && let Some(error) = http1_answer(input)
        {
            return Step::Failed(error);
        }
        match self.reader.read(input) {
            Read::Partial => Step::More,
            Read::Error(error) => Step::Failed(error),
            Read::StreamError(error, used) => match self.stream_error(error) {
                Ok(()) => Step::Took(used),
                Err(error) => Step::Failed(error),
            },
            Read::Frame(frame, used) => match self.frame(frame) {
                Ok(()) => Step::Took(used),
                Err(error) => Step::Failed(error),
            },
        }
    }

    fn frame(&mut self, frame: Frame) -> Checked {
        if let Some(block) = &self.block {
            let same = matches!(frame, Frame::Continuation { stream, .. } if stream == block.stream);
            if !same {
                return Err(protocol(format!(
                    "{} frame on stream {} while the field block of stream {} awaits CONTINUATION",
                    frame.name(),
                    frame.stream(),
                    block.stream
                )));
            }
        }
        if self.phase == Phase::Preface {
            let first = match frame {
                Frame::Settings { ack: Ack::No, .. } => None,
                Frame::Settings { ack: Ack::Yes, .. } => Some("a SETTINGS ACK"),
                _ => Some(frame.name()),
            };
            if let Some(first) = first {
                return Err(protocol(format!("the server's first frame is {first}, not SETTINGS")));
            }
            self.phase = Phase::Open;
        }
        match frame {
            Frame::Data {
                stream,
                data,
                end_stream,
                pad,
            } => {
                let padding = pad.map_or(0, |p| usize::from(p) + 1);
                self.data(stream, data.len(), padding, end_stream)
            }
            Frame::Headers {
                stream,
                block,
                end_stream,
                end_headers,
                ..
            } => self.headers(stream, block, end_stream, end_headers),
            Frame::Continuation {
                stream,
                block,
                end_headers,
            } => self.continuation(stream, &block, end_headers),
            Frame::Priority { stream, .. } => {
                self.events.push_back(Event::Priority { stream });
                Ok(())
            }
            Frame::RstStream { stream, code } => {
                if self.is_idle(stream) {
                    return Err(protocol(format!(
                        "RST_STREAM on stream {stream}, which the probe never opened"
                    )));
                }
                if let Some(s) = self.stream_mut(stream) {
                    s.state = State::Closed;
                }
                self.events.push_back(Event::RstStream { stream, code });
                Ok(())
            }
            Frame::Settings { ack: Ack::No, params } => self.settings(params),
            Frame::Settings { ack: Ack::Yes, .. } => {
                self.events.push_back(Event::SettingsAck);
                Ok(())
            }
            Frame::PushPromise { stream, promised, .. } => Err(protocol(format!(
                "PUSH_PROMISE (stream {promised}, on stream {stream}) though the probe's SETTINGS_ENABLE_PUSH is 0"
            ))),
            Frame::Ping { ack: Ack::No, data } => {
                self.answer(&Frame::Ping { ack: Ack::Yes, data }, Sent::PingAck)?;
                self.events.push_back(Event::Ping { ack: Ack::No });
                Ok(())
            }
            Frame::Ping { ack: Ack::Yes, .. } => {
                self.events.push_back(Event::Ping { ack: Ack::Yes });
                Ok(())
            }
            Frame::GoAway {
                last_stream,
                code,
                debug,
            } => {
                self.events.push_back(Event::GoAway {
                    last_stream,
                    code,
                    debug,
                });
                Ok(())
            }
            Frame::WindowUpdate { stream, increment } => self.window_update(stream, increment),
            Frame::Unknown {
                kind,
                flags,
                stream,
                payload,
            } => {
                self.events.push_back(Event::Unknown {
                    kind,
                    flags,
                    stream,
                    len: payload.len(),
                });
                Ok(())
            }
        }
    }

    fn data(&mut self, stream: u32, len: usize, padding: usize, end_stream: EndStream) -> Checked {
        let flow_len = len + padding;
        if !self.recv_window.receive(flow_len) {
            return Err(ConnectionError::new(
                ErrorCode::FLOW_CONTROL_ERROR,
                format!("DATA of {flow_len} bytes on stream {stream} overflows the connection's window"),
            ));
        }
        if self.is_idle(stream) {
            return Err(protocol(format!(
                "DATA on stream {stream}, which the probe never opened"
            )));
        }
        self.events.push_back(Event::Data {
            stream,
            len,
            padding,
            end_stream,
        });
        if let Some(increment) = self.recv_window.replenish() {
            self.answer(
                &Frame::WindowUpdate { stream: 0, increment },
                Sent::WindowUpdate { stream: 0, increment },
            )?;
        }
        let error = |code, why: &str| StreamError {
            stream,
            code,
            why: why.to_string(),
        };
        let Some(s) = self.stream_mut(stream) else {
            return Ok(());
        };
        if s.reset_by_us {
            return Ok(());
        }
        if !s.may_receive() {
            let why = if s.state == State::Closed {
                "DATA on a closed stream"
            } else {
                "DATA after END_STREAM"
            };
            return self.stream_error(error(ErrorCode::STREAM_CLOSED, why));
        }
        if !s.responded {
            return self.stream_error(error(ErrorCode::PROTOCOL_ERROR, "DATA before the response's HEADERS"));
        }
        if !s.recv.receive(flow_len) {
            return self.stream_error(error(
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA overflows the stream's window",
            ));
        }
        if end_stream.is_end() {
            s.state = remote_end(s.state);
            return Ok(());
        }
        match s.recv.replenish() {
            Some(increment) => self.answer(
                &Frame::WindowUpdate { stream, increment },
                Sent::WindowUpdate { stream, increment },
            ),
            None => Ok(()),
        }
    }

    fn headers(&mut self, stream: u32, fragment: Vec<u8>, end_stream: EndStream, end: EndHeaders) -> Checked {
        if self.is_idle(stream) {
            return Err(protocol(format!(
                "HEADERS on stream {stream}, which the probe never opened"
            )));
        }
        self.block = Some(Block {
            stream,
            end_stream,
            bytes: Vec::new(),
            frames: 0,
        });
        self.continuation(stream, &fragment, end)
    }

    /// Adds a fragment (a HEADERS' or a CONTINUATION's) to the block in
    /// progress, within the bounds; the block ends with END_HEADERS.
    fn continuation(&mut self, stream: u32, fragment: &[u8], end: EndHeaders) -> Checked {
        let (max_bytes, max_continuations) = (self.config.max_header_block, self.config.max_continuations);
        let Some(block) = self.block.as_mut() else {
            return Err(protocol(format!(
                "CONTINUATION on stream {stream} without a HEADERS before it"
            )));
        };
        block.frames += 1;
        block.bytes.extend_from_slice(fragment);
        let kind = if block.frames == 1 {
            frame::kind::HEADERS
        } else {
            frame::kind::CONTINUATION
        };
        if block.bytes.len() > max_bytes || block.frames > max_continuations + 1 {
            let why = format!(
                "the field block on stream {stream} passed {max_bytes} bytes or {max_continuations} \
                 CONTINUATION frames ({} bytes in {} frames so far)",
                block.bytes.len(),
                block.frames
            );
            return Err(ConnectionError::new(ErrorCode::ENHANCE_YOUR_CALM, why));
        }
        if !end.is_end() {
            self.events.push_back(Event::HeaderFragment {
                stream,
                kind,
                len: fragment.len(),
            });
            return Ok(());
        }
        let Some(block) = self.block.take() else { return Ok(()) };
        self.end_block(block)
    }

    /// A whole field block: decoded (always, to keep HPACK in step), then
    /// read as what it is on its stream.
    fn end_block(&mut self, block: Block) -> Checked {
        let Block {
            stream,
            end_stream,
            bytes,
            frames,
        } = block;
        let fields = match self.decoder.decode(&bytes, self.config.max_header_list) {
            Ok(fields) => Ok(fields),
            Err(e) if e.is_compression_error() => {
                return Err(ConnectionError::new(
                    ErrorCode::COMPRESSION_ERROR,
                    format!("stream {stream}: {e}"),
                ));
            }
            Err(e) => Err(e.to_string()),
        };
        let event = |head| Event::Headers {
            stream,
            head,
            end_stream,
            block: bytes.len(),
            frames,
        };
        let ignored = |fields| ResponseHead {
            kind: HeadKind::Ignored,
            status: None,
            fields,
        };
        let Some(s) = self.stream_mut(stream) else {
            return Ok(());
        };
        if s.reset_by_us {
            self.events.push_back(event(ignored(fields.unwrap_or_default())));
            return Ok(());
        }
        if !s.may_receive() {
            let why = if s.state == State::Closed {
                "HEADERS on a closed stream"
            } else {
                "HEADERS after END_STREAM"
            };
            self.events.push_back(event(ignored(fields.unwrap_or_default())));
            return self.stream_error(StreamError {
                stream,
                code: ErrorCode::STREAM_CLOSED,
                why: why.into(),
            });
        }
        let fields = match fields {
            Ok(fields) => fields,
            Err(why) => {
                self.events.push_back(event(ignored(Vec::new())));
                // A list too large: the table is in step, only the
                // stream fails. CANCEL: the probe no longer wants it.
                return self.stream_error(StreamError {
                    stream,
                    code: ErrorCode::CANCEL,
                    why,
                });
            }
        };
        let responded = s.responded;
        match response::read(fields, responded, end_stream) {
            Ok(head) => {
                if head.kind == HeadKind::Response {
                    s.responded = true;
                }
                if end_stream.is_end() {
                    s.state = remote_end(s.state);
                }
                self.events.push_back(event(head));
                Ok(())
            }
            Err((head, why)) => {
                self.events.push_back(event(head));
                self.stream_error(StreamError {
                    stream,
                    code: ErrorCode::PROTOCOL_ERROR,
                    why: format!("malformed response: {why}"),
                })
            }
        }
    }

    /// The server's SETTINGS: applied, acknowledged.
    fn settings(&mut self, params: Vec<(u16, u32)>) -> Checked {
        for &(id, value) in &params {
            match id {
                setting::ENABLE_PUSH if value != 0 => {
                    return Err(protocol(format!(
                        "SETTINGS_ENABLE_PUSH = {value} from a server (only 0 may be sent)"
                    )));
                }
                setting::INITIAL_WINDOW_SIZE => {
                    let delta = i64::from(value) - i64::from(self.peer_initial_window);
                    self.peer_initial_window = value;
                    for s in &mut self.streams {
                        s.send += delta;
                        if s.send > i64::from(MAX_STREAM_ID) {
                            return Err(ConnectionError::new(
                                ErrorCode::FLOW_CONTROL_ERROR,
                                format!(
                                    "SETTINGS_INITIAL_WINDOW_SIZE = {value} takes stream {}'s window past 2^31-1",
                                    s.id
                                ),
                            ));
                        }
                    }
                }
                setting::MAX_FRAME_SIZE => self.peer_max_frame = value,
                _ => {}
            }
        }
        self.answer(
            &Frame::Settings {
                ack: Ack::Yes,
                params: Vec::new(),
            },
            Sent::SettingsAck,
        )?;
        self.events.push_back(Event::Settings { params });
        Ok(())
    }

    fn window_update(&mut self, stream: u32, increment: u32) -> Checked {
        self.events.push_back(Event::WindowUpdate { stream, increment });
        let overflow = |window: i64| window + i64::from(increment) > i64::from(MAX_STREAM_ID);
        if stream == 0 {
            if overflow(self.send_window) {
                return Err(ConnectionError::new(
                    ErrorCode::FLOW_CONTROL_ERROR,
                    format!("WINDOW_UPDATE +{increment} takes the connection's window past 2^31-1"),
                ));
            }
            self.send_window += i64::from(increment);
            return Ok(());
        }
        if self.is_idle(stream) {
            return Err(protocol(format!(
                "WINDOW_UPDATE on stream {stream}, which the probe never opened"
            )));
        }
        let Some(s) = self.stream_mut(stream) else {
            return Ok(());
        };
        if s.state == State::Closed {
            return Ok(());
        }
        if overflow(s.send) {
            return self.stream_error(StreamError {
                stream,
                code: ErrorCode::FLOW_CONTROL_ERROR,
                why: format!("WINDOW_UPDATE +{increment} takes the stream's window past 2^31-1"),
            });
        }
        s.send += i64::from(increment);
        Ok(())
    }
}

/// The state after the server's END_STREAM.
fn remote_end(state: State) -> State {
    match state {
        State::Open => State::HalfClosedRemote,
        _ => State::Closed,
    }
}

/// The error for a server whose first bytes are an HTTP/1.x status line
/// (it does not speak HTTP/2 with prior knowledge), quoting the line.
fn http1_answer(input: &[u8]) -> Option<ConnectionError> {
    let prefix = b"HTTP/";
    let n = input.len().min(prefix.len());
    if n < prefix.len() || input[..n] != prefix[..n] {
        return None;
    }
    let line = input.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
    let line = &line[..line.len().min(QUOTED_LINE)];
    let shown: String = String::from_utf8_lossy(line)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    Some(protocol(format!(
        "the server answered in HTTP/1: `{shown}` (it does not speak HTTP/2 with prior knowledge)"
    )))
}
