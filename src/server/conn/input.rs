//! Reading: requests, bodies, byte counts and EOF for `read`, discarding for `hang`.
//!
//! Input is read ahead into the connection's buffer, so a request costs
//! one `recv`; the stream keeps only what arrived (see [`crate::stream`]).

use super::{Conn, End, Progress, Reading, State, Turn};
use crate::http::{BadRequest, RequestInfo, RequestReader, Status};
use crate::interp::Event;
use crate::log::{Field, Log};
use crate::stream::{Io, READ_CHUNK};

impl Conn<'_> {
    pub(super) fn progress_read(&mut self, turn: &mut Turn) -> Progress {
        let now = turn.now;
        loop {
            let State::Reading { reading, deadline } = &mut self.state else {
                return Progress::Closed;
            };
            let deadline = *deadline;
            // First use what is already buffered.
            let mut want = READ_CHUNK;
            let outcome = match reading {
                Reading::Request { reader, head_only } => {
                    let fed = reader.feed(&self.inbuf);
                    let head_only = *head_only;
                    if self.interp.proxies() {
                        // Kept for `forward request`, up to a limit.
                        let proxy = self.proxy.get_or_insert_with(Box::default);
                        proxy.retained.keep(&self.inbuf[..fed.consumed]);
                    }
                    self.inbuf.drain(..fed.consumed);
                    if self.inbuf.is_empty() && self.inbuf.capacity() > 4096 {
                        // A big head is done with; an idle connection keeps nothing.
                        self.inbuf = Vec::new();
                    }
                    match fed.status {
                        Status::Partial => None,
                        Status::Complete(info) => {
                            if head_only && self.interp.proxies() {
                                // `forward request` streams the body after it.
                                let done = std::mem::replace(reader, RequestReader::new(true, false));
                                self.proxy.get_or_insert_with(Box::default).body_reader = Some(done.into_body_reader());
                            } else if head_only && self.interp.reads_body() {
                                // For a `read body` to come.
                                let done = std::mem::replace(reader, RequestReader::new(true, false));
                                self.body_reader = Some(Box::new(done.into_body_reader()));
                            }
                            return self.request_arrived(info, head_only, turn);
                        }
                        Status::Bad(bad) => {
                            let reason = bad.to_string();
                            self.log(turn.log, "bad-request", &[("why", Field::Str(&reason))]);
                            Some(Event::BadRequest(bad))
                        }
                    }
                }
                Reading::Body { reader, left, got } => match feed_body(&mut self.inbuf, reader, left, got) {
                    BodyFed::More(more) => {
                        want = more;
                        None
                    }
                    BodyFed::Done { bytes, rest } => {
                        // A body cut short by `max` is there for a next `read body`.
                        self.body_reader = rest;
                        let unread = [("bytes", Field::Num(bytes)), ("rest", Field::Str("unread"))];
                        let fields = if self.body_reader.is_some() {
                            &unread[..]
                        } else {
                            &unread[..1]
                        };
                        self.log(turn.log, "body", fields);
                        Some(Event::BodyRead(bytes))
                    }
                    BodyFed::Bad(bad) => {
                        // Broken chunked framing: refused as `read request` refuses it.
                        let reason = bad.to_string();
                        self.log(turn.log, "bad-request", &[("why", Field::Str(&reason))]);
                        Some(Event::BadRequest(bad))
                    }
                },
                Reading::Bytes { remaining, total } => {
                    let take = (*remaining).min(self.inbuf.len() as u64);
                    self.inbuf.drain(..take as usize);
                    *remaining -= take;
                    want = (*remaining).min(READ_CHUNK as u64) as usize;
                    if *remaining == 0 {
                        let total = *total;
                        self.log(turn.log, "read", &[("bytes", Field::Num(total))]);
                        Some(Event::ReadDone)
                    } else {
                        None
                    }
                }
                Reading::Eof { got } => {
                    *got += self.inbuf.len() as u64;
                    self.inbuf.clear();
                    None
                }
            };
            if let Some(event) = outcome {
                return Progress::Next(event);
            }
            if deadline.is_some_and(|d| now >= d) {
                self.log(turn.log, "timeout", &[]);
                return Progress::Next(Event::TimedOut);
            }
            if !self.stream.is_readable() {
                return Progress::Wait;
            }
            // Then ask the socket for more.
            match self.read_more(want) {
                Io::Eof => {
                    self.peer_half_closed = true;
                    if let State::Reading {
                        reading: Reading::Eof { got },
                        ..
                    } = self.state
                    {
                        self.log(turn.log, "eof", &[("bytes", Field::Num(got))]);
                        return Progress::Next(Event::ReadDone);
                    }
                    return self.peer_left(turn.log);
                }
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                failed => return self.fail_progress(failed, turn.log),
            }
        }
    }

    /// The peer's FIN came while a request was awaited: the end, with
    /// what it sent of one.
    pub(super) fn peer_left(&mut self, log: &mut Log) -> Progress {
        let unparsed = self.inbuf.len() as u64;
        let fields = [("unparsed", Field::Num(unparsed))];
        self.finish(End::PeerFin, log, if unparsed > 0 { &fields } else { &[] });
        Progress::Closed
    }

    /// A whole request (or head) was read: log it, count it across the
    /// server, and tell the interpreter.
    pub(super) fn request_arrived(&mut self, info: RequestInfo, head_only: bool, turn: &mut Turn) -> Progress {
        turn.shared.tally.requests += 1;
        self.interp.note_server_request(turn.shared.tally.requests);
        if let Some(tape) = self.stream.tape_mut() {
            tape.request(turn.now);
        }
        let event = if head_only { "head" } else { "request" };
        self.log(
            turn.log,
            event,
            &[
                ("method", Field::Bytes(&info.method)),
                ("path", Field::Bytes(&info.path)),
                ("bytes", Field::Num(info.bytes)),
                ("number", Field::Num(self.interp.requests() + 1)),
            ],
        );
        if self.interp.requests() > 0
            && let Some(catalog) = &turn.shared.catalog
            && let Some(named) = catalog.other_builtin(&info.path, self.interp.scenario_name())
        {
            // A pooled keep-alive connection reused for another path.
            let why = "the connection's first request chose its scenario; this request is that scenario's";
            self.log(
                turn.log,
                "catalog-mismatch",
                &[
                    ("path_names", Field::Str(named)),
                    ("serving", Field::Str(self.interp.scenario_name())),
                    ("why", Field::Str(why)),
                ],
            );
        }
        Progress::Next(Event::Request(info))
    }

    /// Append up to `want` bytes from the socket to `inbuf`.
    pub(super) fn read_more(&mut self, want: usize) -> Io {
        let inbuf = &mut self.inbuf;
        self.stream.read(want, |bytes| inbuf.extend_from_slice(bytes))
    }

    /// `hang`: throw input away until the peer leaves.
    pub(super) fn progress_hang(&mut self, log: &mut Log) -> Progress {
        self.inbuf.clear();
        match self.stream.discard(u64::MAX).1 {
            Io::Eof => {
                self.finish(End::PeerFin, log, &[]);
                Progress::Closed
            }
            Io::Blocked | Io::Data(_) => Progress::Wait,
            failed => self.fail_progress(failed, log),
        }
    }
}

/// Where a `read body` stands after [`feed_body`].
enum BodyFed {
    /// Not over: ask the socket for at most this many bytes.
    More(usize),
    /// Over, with this many body bytes; `rest` is the reader when `max`
    /// stopped the read before the body's end.
    Done {
        bytes: u64,
        rest: Option<Box<RequestReader>>,
    },
    /// The chunked framing is broken.
    Bad(BadRequest),
}

/// `read body`: feed the buffered bytes (as many as `left` allows) to the
/// body's reader, taking what belongs to the body out of `inbuf`. No
/// reader: nothing to read, done at once.
fn feed_body(
    inbuf: &mut Vec<u8>,
    reader: &mut Option<Box<RequestReader>>,
    left: &mut Option<u64>,
    got: &mut u64,
) -> BodyFed {
    let Some(body) = reader else {
        return BodyFed::Done { bytes: 0, rest: None };
    };
    let allowed = left.map_or(inbuf.len(), |left| left.min(inbuf.len() as u64) as usize);
    let fed = body.feed(&inbuf[..allowed]);
    inbuf.drain(..fed.consumed);
    *got += fed.consumed as u64;
    if let Some(left) = left {
        *left -= fed.consumed as u64;
    }
    match fed.status {
        Status::Complete(_) => BodyFed::Done {
            bytes: *got,
            rest: None,
        },
        Status::Partial if *left == Some(0) => BodyFed::Done {
            bytes: *got,
            rest: reader.take(),
        },
        Status::Partial => BodyFed::More(left.map_or(READ_CHUNK, |left| left.min(READ_CHUNK as u64) as usize)),
        Status::Bad(bad) => BodyFed::Bad(bad),
    }
}
