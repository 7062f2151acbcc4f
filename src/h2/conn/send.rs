//! What a scenario sends: each method queues its frames as told, valid or
//! not, and keeps the connection's state in step with what was sent (a
//! stream we ended, a window we used or gave, a GOAWAY's last stream), so
//! that what the client does next is judged against what it saw.
//!
//! DATA is the one place where the rules are kept unless the scenario
//! says otherwise ([`Flow`]): a client that enforces its windows would
//! otherwise end the connection, which is a fault of its own to script
//! on purpose.

use crate::h2::conn::Conn;
use crate::h2::conn::receive::Applied;
use crate::h2::error::ErrorCode;
use crate::h2::frame::{Ack, EndHeaders, EndStream, Frame, MAX_STREAM_ID, RawFrame};
use crate::h2::hpack;
use crate::http::Header;

/// Whether DATA keeps within the client's flow-control windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Send only what the windows allow now; the rest is the caller's to
    /// send after a WINDOW_UPDATE.
    Honour,
    /// Send it all, as a misbehaving server would; the windows go
    /// negative.
    Ignore,
}

/// The last-stream-id a GOAWAY carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LastStream {
    /// This number, whatever it is.
    Id(u32),
    /// The highest stream the client has opened: a graceful shutdown
    /// that still serves what came.
    LastSeen,
    /// 2^31-1: the first step of a two-step graceful shutdown.
    Max,
}

impl Conn {
    /// HEADERS with `:status` and `headers` (lowercase names, as HTTP/2
    /// requires, unless the scenario wants otherwise).
    pub fn send_response(&mut self, stream: u32, status: u16, headers: &[Header], end: EndStream) {
        let status = status.to_string();
        let fields = std::iter::once((&b":status"[..], status.as_bytes()))
            .chain(headers.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
        self.send_fields(stream, fields, end);
    }

    /// HEADERS (and CONTINUATION frames, if the block is larger than the
    /// client's SETTINGS_MAX_FRAME_SIZE) with exactly these fields:
    /// pseudo-headers, trailers, or anything else.
    pub fn send_headers(&mut self, stream: u32, fields: &[Header], end: EndStream) {
        self.send_fields(stream, fields.iter().map(|(n, v)| (n.as_slice(), v.as_slice())), end);
    }

    fn send_fields<'a>(&mut self, stream: u32, fields: impl IntoIterator<Item = (&'a [u8], &'a [u8])>, end: EndStream) {
        let mut block = Vec::new();
        hpack::encode(fields, &mut block);
        let max = self.peer_max_frame as usize;
        let mut pieces = block.chunks(max.max(1));
        let first = pieces.next().unwrap_or(&[]).to_vec();
        let rest: Vec<&[u8]> = pieces.collect();
        let end_headers = if rest.is_empty() {
            EndHeaders::Yes
        } else {
            EndHeaders::No
        };
        let headers = Frame::Headers {
            stream,
            block: first,
            end_stream: end,
            end_headers,
            priority: None,
            pad: None,
        };
        self.output.frame(&headers);
        for (i, piece) in rest.iter().enumerate() {
            let end_headers = if i + 1 == rest.len() {
                EndHeaders::Yes
            } else {
                EndHeaders::No
            };
            self.output.frame(&Frame::Continuation {
                stream,
                block: piece.to_vec(),
                end_headers,
            });
        }
        if end.is_end() {
            self.streams.local_end(stream);
        }
    }

    /// DATA frames with `data`, cut to the client's SETTINGS_MAX_FRAME_SIZE;
    /// END_STREAM on the last if `end` and all of `data` went. Answers how
    /// many bytes were queued: with [`Flow::Honour`], at most
    /// [`Conn::sendable`].
    pub fn send_data(&mut self, stream: u32, data: &[u8], end: EndStream, flow: Flow) -> usize {
        let n = match flow {
            Flow::Honour => data.len().min(self.sendable(stream)),
            Flow::Ignore => data.len(),
        };
        let all = n == data.len();
        let end_stream = if all && end.is_end() {
            EndStream::Yes
        } else {
            EndStream::No
        };
        if n == 0 && end_stream == EndStream::No {
            return 0;
        }
        let mut pieces: Vec<&[u8]> = data[..n].chunks(self.peer_max_frame.max(1) as usize).collect();
        if pieces.is_empty() {
            pieces.push(&[]);
        }
        let last = pieces.len() - 1;
        for (i, piece) in pieces.into_iter().enumerate() {
            let end_stream = if i == last { end_stream } else { EndStream::No };
            self.output.frame(&Frame::Data {
                stream,
                data: piece.to_vec(),
                end_stream,
                pad: None,
            });
        }
        self.send_window.take(n);
        if let Some(s) = self.streams.get_mut(stream) {
            s.send.take(n);
        }
        if end_stream.is_end() {
            self.streams.local_end(stream);
        }
        n
    }

    /// RST_STREAM: the stream ends here.
    pub fn send_rst_stream(&mut self, stream: u32, code: ErrorCode) {
        self.output.frame(&Frame::RstStream { stream, code });
        self.streams.reset(stream);
    }

    /// GOAWAY; answers the last-stream-id it carried. Streams the client
    /// opens above it are ignored from now on, as the RFC allows.
    pub fn send_goaway(&mut self, last: LastStream, code: ErrorCode, debug: &[u8]) -> u32 {
        let last_stream = match last {
            LastStream::Id(id) => id,
            LastStream::LastSeen => self.streams.last_opened(),
            LastStream::Max => MAX_STREAM_ID,
        };
        self.output.frame(&Frame::GoAway {
            last_stream,
            code,
            debug: debug.to_vec(),
        });
        self.goaway_sent = Some(self.goaway_sent.map_or(last_stream, |before| before.min(last_stream)));
        last_stream
    }

    /// SETTINGS with these parameters, any values. They take effect for
    /// the reading side when the client acknowledges them (at once where
    /// that only makes us more lenient; SETTINGS_MAX_CONCURRENT_STREAMS at
    /// once either way).
    pub fn send_settings(&mut self, params: &[(u16, u32)]) {
        self.output.frame(&Frame::Settings {
            ack: Ack::No,
            params: params.to_vec(),
        });
        self.unacked_settings.push_back(params.to_vec());
        // Our own values cannot wrong the client, and a window they push
        // past 2^31-1 is the scenario's choice: nothing to refuse here.
        let _ = self.apply_ours(params, Applied::Sent);
    }

    /// SETTINGS with ACK, when [`crate::h2::conn::Config::settings_ack`] is
    /// manual (or to send one nobody asked for).
    pub fn send_settings_ack(&mut self) {
        self.output.frame(&Frame::Settings {
            ack: Ack::Yes,
            params: Vec::new(),
        });
    }

    /// PING, or its ACK.
    pub fn send_ping(&mut self, ack: Ack, data: [u8; 8]) {
        self.output.frame(&Frame::Ping { ack, data });
    }

    /// WINDOW_UPDATE: the client may send `increment` more bytes on
    /// `stream` (0: the connection).
    pub fn send_window_update(&mut self, stream: u32, increment: u32) {
        self.output.frame(&Frame::WindowUpdate { stream, increment });
        // A window we push past 2^31-1 is the scenario's fault to make;
        // ours stays where it was.
        let _ = match stream {
            0 => self.recv_window.grow(i64::from(increment)),
            _ => self
                .streams
                .get_mut(stream)
                .map_or(Ok(()), |s| s.recv.grow(i64::from(increment))),
        };
    }

    /// Any typed frame, as it is, changing no state.
    pub fn send_frame(&mut self, frame: &Frame) {
        self.output.frame(frame);
    }

    /// Any bytes in a frame's shape, changing no state.
    pub fn send_raw(&mut self, raw: &RawFrame) {
        self.output.raw(raw);
    }
}
