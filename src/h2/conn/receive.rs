//! What each frame from the client does to the connection (RFC 9113 §5,
//! §6): the rules that depend on what came before, which the frame
//! reader cannot see.
//!
//! The order of checks follows the RFC: a field block in progress admits
//! only its CONTINUATION (§6.10); the first frame must be SETTINGS
//! (§3.4); then per type. DATA counts against the connection's window
//! even on a stream that is gone, or the two sides' windows would drift
//! apart; a field block on a closed or refused stream is decoded all the
//! same, or HPACK would.

use crate::h2::conn::block::{Block, Limits, Purpose};
use crate::h2::conn::streams::{Lookup, State};
use crate::h2::conn::{Answer, Conn, Event, Phase, request};
use crate::h2::error::{ConnectionError, ErrorCode, StreamError};
use crate::h2::frame::{Ack, EndHeaders, EndStream, Frame, setting};

type Checked = Result<(), ConnectionError>;

fn protocol(why: String) -> ConnectionError {
    ConnectionError::new(ErrorCode::PROTOCOL_ERROR, why)
}

impl Conn {
    /// Handles one frame read from the client.
    pub(super) fn frame(&mut self, frame: Frame) -> Checked {
        if let Some(block) = &self.block {
            let same = matches!(frame, Frame::Continuation { stream, .. } if stream == block.stream);
            if !same {
                let why = format!(
                    "{} frame on stream {} while the field block of stream {} awaits CONTINUATION",
                    frame.name(),
                    frame.stream(),
                    block.stream
                );
                return Err(protocol(why));
            }
        }
        if self.phase == Phase::FirstSettings {
            if !matches!(frame, Frame::Settings { ack: Ack::No, .. }) {
                return Err(protocol(format!(
                    "the client's first frame is {}, not SETTINGS",
                    frame.name()
                )));
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
                let flow_len = data.len() + pad.map_or(0, |p| usize::from(p) + 1);
                self.data(stream, data.len(), flow_len, end_stream)
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
            } => {
                let limits = self.limits();
                let Some(open) = self.block.as_mut() else {
                    return Err(protocol(format!(
                        "CONTINUATION on stream {stream} without a HEADERS before it"
                    )));
                };
                open.continue_with(&block, limits)?;
                if end_headers.is_end() { self.end_block() } else { Ok(()) }
            }
            Frame::Priority { .. } => self.idle_frame("PRIORITY"),
            Frame::RstStream { stream, code } => match self.streams.lookup(stream) {
                Lookup::Idle => Err(protocol(format!("RST_STREAM on idle stream {stream}"))),
                Lookup::Closed => Ok(()),
                Lookup::Active(_) => {
                    self.streams.close(stream);
                    self.events.push_back(Event::RstStream { stream, code });
                    Ok(())
                }
            },
            Frame::Settings { ack: Ack::No, params } => self.settings(params),
            Frame::Settings { ack: Ack::Yes, .. } => {
                if let Some(ours) = self.unacked_settings.pop_front() {
                    self.apply_ours(&ours, Applied::Acknowledged)?;
                }
                self.events.push_back(Event::SettingsAck);
                Ok(())
            }
            Frame::PushPromise { stream, .. } => Err(protocol(format!("PUSH_PROMISE from a client (stream {stream})"))),
            Frame::Ping { ack: Ack::No, data } => {
                self.idle_frame("PING")?;
                if self.config.ping_ack == Answer::Automatic {
                    self.output.answer(&Frame::Ping { ack: Ack::Yes, data })?;
                }
                self.events.push_back(Event::Ping { data });
                Ok(())
            }
            Frame::Ping { ack: Ack::Yes, data } => {
                self.events.push_back(Event::PingAck { data });
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
            Frame::Unknown { kind, .. } => self.idle_frame(&format!("frame of unknown type {kind}")),
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            bytes: self.config.max_header_block,
            continuations: self.config.max_continuations,
        }
    }

    fn data(&mut self, stream: u32, len: usize, flow_len: usize, end_stream: EndStream) -> Checked {
        if self.recv_window.receive(flow_len).is_err() {
            let why = format!("DATA of {flow_len} bytes on stream {stream} overflows the connection's window");
            return Err(ConnectionError::new(ErrorCode::FLOW_CONTROL_ERROR, why));
        }
        // Body bytes, or the end of a body the scenario may wait for, are
        // news; an empty DATA, or one that ends a stream already over, is
        // not (CVE-2019-9518's empty frames).
        if len > 0 || (end_stream.is_end() && self.streams.get(stream).is_some()) {
            self.idle_frames = 0;
        } else {
            self.idle_frame("empty DATA")?;
        }
        self.replenish(0)?;
        let error = |code, why: &str| StreamError {
            stream,
            code,
            why: why.to_string(),
        };
        let s = match self.streams.lookup(stream) {
            Lookup::Idle => return Err(protocol(format!("DATA on idle stream {stream}"))),
            Lookup::Closed => return Ok(()),
            Lookup::Active(s) => s,
        };
        if s.state == State::HalfClosedRemote {
            return self.stream_error(error(ErrorCode::STREAM_CLOSED, "DATA after END_STREAM"));
        }
        if s.recv.receive(flow_len).is_err() {
            return self.stream_error(error(
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA overflows the stream's window",
            ));
        }
        self.events.push_back(Event::Data {
            stream,
            len,
            end_stream,
        });
        if end_stream.is_end() {
            self.streams.remote_end(stream);
        } else {
            self.replenish(stream)?;
        }
        Ok(())
    }

    /// Gives the client back the window its DATA used, if automatic.
    fn replenish(&mut self, stream: u32) -> Checked {
        if self.config.window_updates == Answer::Manual {
            return Ok(());
        }
        let initial = self.streams.recv_initial();
        let increment = match stream {
            0 => self.recv_window.replenish(crate::h2::conn::DEFAULT_WINDOW),
            _ => self.streams.get_mut(stream).and_then(|s| s.recv.replenish(initial)),
        };
        match increment {
            Some(increment) => self.output.answer(&Frame::WindowUpdate { stream, increment }),
            None => Ok(()),
        }
    }

    fn headers(&mut self, stream: u32, fragment: Vec<u8>, end_stream: EndStream, end: EndHeaders) -> Checked {
        let (was_reset, last) = (self.streams.was_reset(stream), self.streams.last_opened());
        let purpose = match self.streams.lookup(stream) {
            Lookup::Active(s) if s.state == State::HalfClosedRemote => {
                Purpose::Reject(ErrorCode::STREAM_CLOSED, "HEADERS after END_STREAM".into())
            }
            Lookup::Active(_) if !end_stream.is_end() => {
                Purpose::Reject(ErrorCode::PROTOCOL_ERROR, "trailers without END_STREAM".into())
            }
            Lookup::Active(_) => Purpose::Trailers,
            // Opened past our GOAWAY and ignored, or reset by us before
            // the client knew: what it sent meanwhile is dropped.
            Lookup::Closed if self.goaway_sent.is_some_and(|ours| stream > ours) => Purpose::Discard,
            Lookup::Closed if was_reset => Purpose::Discard,
            // Going down, or back to a stream the client itself ended:
            // §5.1.1 makes the first a connection error, §5.1 allows it
            // for the second (Go's server does the same for both).
            Lookup::Closed => {
                return Err(protocol(format!(
                    "HEADERS on stream {stream}, which is closed or below the last stream opened ({last}): \
                     stream ids only go up"
                )));
            }
            Lookup::Idle if stream.is_multiple_of(2) => {
                return Err(protocol(format!(
                    "HEADERS on stream {stream}: a client's streams are odd"
                )));
            }
            Lookup::Idle if self.goaway_sent.is_some_and(|last| stream > last) => {
                self.streams.use_id(stream);
                Purpose::Discard
            }
            Lookup::Idle => Purpose::Request,
        };
        self.block = Some(Block::start(stream, end_stream, purpose, fragment, self.limits())?);
        if end.is_end() { self.end_block() } else { Ok(()) }
    }

    /// The field block is complete: decode it and act on it.
    fn end_block(&mut self) -> Checked {
        let Some(block) = self.block.take() else {
            return Ok(());
        };
        let (stream, end_stream) = (block.stream, block.end_stream);
        let decoded = self.decoder.decode(block.bytes(), self.config.max_header_list);
        let fields = match decoded {
            Err(e) if e.is_compression_error() => {
                return Err(ConnectionError::new(
                    ErrorCode::COMPRESSION_ERROR,
                    format!("stream {stream}: {e}"),
                ));
            }
            Err(e) => Err(e.to_string()),
            Ok(fields) => Ok(fields),
        };
        match block.purpose {
            Purpose::Discard => Ok(()),
            Purpose::Reject(code, why) => self.stream_error(StreamError { stream, code, why }),
            Purpose::Request => {
                self.streams.use_id(stream);
                self.idle_frames = 0;
                let refused = |why: String| StreamError {
                    stream,
                    code: ErrorCode::REFUSED_STREAM,
                    why,
                };
                if self.streams.active() >= self.max_streams as usize {
                    let why = format!("{} streams are open, SETTINGS_MAX_CONCURRENT_STREAMS", self.max_streams);
                    return self.stream_error(refused(why));
                }
                let head = match fields {
                    Err(why) => return self.stream_error(refused(why)),
                    Ok(fields) => request::head(fields),
                };
                match head {
                    Err(why) => self.stream_error(StreamError {
                        stream,
                        code: ErrorCode::PROTOCOL_ERROR,
                        why,
                    }),
                    Ok(head) => {
                        self.streams.open(stream, end_stream.is_end());
                        self.events.push_back(Event::Request {
                            stream,
                            head,
                            end_stream,
                        });
                        Ok(())
                    }
                }
            }
            Purpose::Trailers => {
                let checked = fields.and_then(|f| {
                    f.iter().try_for_each(|(n, v)| request::check_regular(n, v))?;
                    Ok(f)
                });
                match checked {
                    Err(why) => self.stream_error(StreamError {
                        stream,
                        code: ErrorCode::PROTOCOL_ERROR,
                        why,
                    }),
                    Ok(headers) => {
                        self.streams.remote_end(stream);
                        self.events.push_back(Event::Trailers { stream, headers });
                        Ok(())
                    }
                }
            }
        }
    }

    fn settings(&mut self, params: Vec<(u16, u32)>) -> Checked {
        self.idle_frame("SETTINGS")?;
        for &(id, value) in &params {
            match id {
                setting::INITIAL_WINDOW_SIZE => self.streams.set_send_initial(value).map_err(|_| {
                    let why = format!("SETTINGS_INITIAL_WINDOW_SIZE = {value} takes a stream's window past 2^31-1");
                    ConnectionError::new(ErrorCode::FLOW_CONTROL_ERROR, why)
                })?,
                setting::MAX_FRAME_SIZE => self.peer_max_frame = value,
                // The encoder indexes nothing, so the client's table size
                // and the rest change nothing we do.
                _ => {}
            }
        }
        if self.config.settings_ack == Answer::Automatic {
            self.output.answer(&Frame::Settings {
                ack: Ack::Yes,
                params: Vec::new(),
            })?;
        }
        self.events.push_back(Event::Settings { params });
        Ok(())
    }

    fn window_update(&mut self, stream: u32, increment: u32) -> Checked {
        let overflow = |what: String| {
            let why = format!("WINDOW_UPDATE of {increment} takes {what} window past 2^31-1");
            ConnectionError::new(ErrorCode::FLOW_CONTROL_ERROR, why)
        };
        if stream == 0 {
            self.send_window
                .adjust(i64::from(increment))
                .map_err(|_| overflow("the connection's".into()))?;
        } else {
            match self.streams.lookup(stream) {
                Lookup::Idle => return Err(protocol(format!("WINDOW_UPDATE on idle stream {stream}"))),
                Lookup::Closed => return Ok(()),
                Lookup::Active(s) => {
                    if s.send.adjust(i64::from(increment)).is_err() {
                        let why = format!("WINDOW_UPDATE of {increment} takes the stream's window past 2^31-1");
                        return self.stream_error(StreamError {
                            stream,
                            code: ErrorCode::FLOW_CONTROL_ERROR,
                            why,
                        });
                    }
                }
            }
        }
        self.events.push_back(Event::WindowUpdate { stream, increment });
        Ok(())
    }
}

/// When our own SETTINGS take effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Applied {
    /// As they are sent: what makes us more lenient (a larger frame,
    /// table or window), since the client may not have seen them yet; and
    /// the limit on streams, which a client could otherwise ignore by
    /// never acknowledging.
    Sent,
    /// The client acknowledged them: the rest.
    Acknowledged,
}

impl Conn {
    /// Puts our SETTINGS into force (see [`Applied`]).
    pub(super) fn apply_ours(&mut self, params: &[(u16, u32)], when: Applied) -> Checked {
        let raise = |now: u32, new: u32| when == Applied::Acknowledged || new > now;
        for &(id, value) in params {
            match id {
                setting::MAX_FRAME_SIZE if raise(self.reader.max_frame_size(), value) => {
                    self.reader = crate::h2::frame::FrameReader::new(value);
                }
                setting::HEADER_TABLE_SIZE if raise(clamp(self.decoder.max_table_size()), value) => {
                    self.decoder.set_max_table_size(value as usize);
                }
                setting::INITIAL_WINDOW_SIZE if raise(self.streams.recv_initial(), value) => {
                    self.streams.set_recv_initial(value).map_err(|_| {
                        let why = format!("our SETTINGS_INITIAL_WINDOW_SIZE = {value} overflows a stream's window");
                        ConnectionError::new(ErrorCode::FLOW_CONTROL_ERROR, why)
                    })?
                }
                // Binds from the moment it is sent, either way, as in Go
                // and nghttp2: a client that never acknowledges must not
                // open streams without end. A stream it opened before it
                // saw the limit is refused, which it may retry (§5.1.2).
                setting::MAX_CONCURRENT_STREAMS if when == Applied::Sent => self.max_streams = value,
                _ => {}
            }
        }
        Ok(())
    }
}

fn clamp(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
