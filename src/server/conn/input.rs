//! Reading: requests, byte counts and EOF for `read`, discarding for `hang`.
//!
//! Input is read ahead into the connection's buffer through one per-thread
//! read buffer, so a request costs one `recv` and an idle connection holds
//! no read-sized memory.

use std::io::{self, Read};
use std::time::Instant;

use super::{Conn, End, Progress, Reading, State};
use crate::http::Status;
use crate::interp::Event;
use crate::log::{Field, Log};

/// Bytes asked of the kernel per `read`.
pub(super) const READ_CHUNK: usize = 16 * 1024;
thread_local! {
    /// The event loop is one thread: its connections share one read buffer.
    static READ_BUFFER: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

impl Conn<'_> {
    pub(super) fn progress_read(&mut self, now: Instant, log: &mut Log) -> Progress {
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
                    self.inbuf.drain(..fed.consumed);
                    if self.inbuf.is_empty() && self.inbuf.capacity() > 4096 {
                        // A big head is done with; an idle connection keeps nothing.
                        self.inbuf = Vec::new();
                    }
                    match fed.status {
                        Status::Partial => None,
                        Status::Complete(info) => {
                            let event = if head_only { "head" } else { "request" };
                            self.log(
                                log,
                                event,
                                &[
                                    ("method", Field::Bytes(&info.method)),
                                    ("path", Field::Bytes(&info.path)),
                                    ("bytes", Field::Num(info.bytes)),
                                    ("number", Field::Num(self.interp.requests() + 1)),
                                ],
                            );
                            Some(Event::Request(info))
                        }
                        Status::Bad(bad) => {
                            let reason = bad.to_string();
                            self.log(log, "bad-request", &[("why", Field::Str(&reason))]);
                            Some(Event::BadRequest(bad))
                        }
                    }
                }
                Reading::Bytes { remaining, total } => {
                    let take = (*remaining).min(self.inbuf.len() as u64);
                    self.inbuf.drain(..take as usize);
                    *remaining -= take;
                    want = (*remaining).min(READ_CHUNK as u64) as usize;
                    if *remaining == 0 {
                        let total = *total;
                        self.log(log, "read", &[("bytes", Field::Num(total))]);
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
                self.log(log, "timeout", &[]);
                return Progress::Next(Event::TimedOut);
            }
            if !self.readable {
                return Progress::Wait;
            }
            // Then ask the socket for more.
            match self.read_more(want) {
                Ok(0) => {
                    self.peer_half_closed = true;
                    if let State::Reading {
                        reading: Reading::Eof { got },
                        ..
                    } = self.state
                    {
                        self.log(log, "eof", &[("bytes", Field::Num(got))]);
                        return Progress::Next(Event::ReadDone);
                    }
                    let unparsed = self.inbuf.len() as u64;
                    let fields = [("unparsed", Field::Num(unparsed))];
                    self.finish(End::PeerFin, log, if unparsed > 0 { &fields } else { &[] });
                    return Progress::Closed;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, log),
            }
        }
    }

    /// Append up to `want` bytes from the socket to `inbuf`. A read that
    /// returns fewer bytes than asked for drained the socket: any later
    /// data raises a new edge, so the `WouldBlock` read is skipped. Not so
    /// for a FIN or an error the last event already reported: it came with
    /// the data, raises no new edge, and only the next read reveals it.
    pub(super) fn read_more(&mut self, want: usize) -> io::Result<usize> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        // Read into the loop's one buffer and keep only what arrived: an
        // idle connection must not hold a read-sized buffer (10,000 of them
        // would be 160 MB), and a fresh zeroed one per read cost 69% of all
        // instructions (callgrind).
        let want = want.min(READ_CHUNK);
        let result = READ_BUFFER.with_borrow_mut(|scratch| {
            let result = stream.read(&mut scratch[..want]);
            if let Ok(n) = result {
                self.inbuf.extend_from_slice(&scratch[..n]);
            }
            result
        });
        let n = *result.as_ref().unwrap_or(&0);
        self.bytes_in += n as u64;
        match &result {
            Ok(n) if *n > 0 && *n < want && !self.fin_hint && !self.error_hint => self.readable = false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
            _ => {}
        }
        result
    }

    pub(super) fn progress_hang(&mut self, log: &mut Log) -> Progress {
        loop {
            if !self.readable {
                return Progress::Wait;
            }
            self.inbuf.clear();
            match self.read_more(READ_CHUNK) {
                Ok(0) => {
                    self.finish(End::PeerFin, log, &[]);
                    return Progress::Closed;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Progress::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, log),
            }
        }
    }
}
