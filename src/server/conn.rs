//! One accepted connection: its socket, its buffers and its interpreter.
//!
//! The connection carries out the interpreter's [`Step`]s on the socket and
//! reports back what happened. It is driven by the event loop through
//! [`Conn::on_event`] (readiness) and [`Conn::on_timer`] (its deadline came),
//! and returns [`Flow::Closed`] once the socket is gone.
//!
//! Readiness is edge-triggered, so the connection remembers "readable" and
//! "writable" until an operation returns `WouldBlock`: a `read` reached after
//! a `sleep` reads at once instead of waiting for an edge that already came.
//! Input is read only while the script is reading (or hanging), so what the
//! script has not read stays in the kernel, where it decides FIN vs RST.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::event::Event as Readiness;
use mio::net::TcpStream;

use crate::http::{RequestReader, Status};
use crate::interp::{Ending, Event, Interp, Step};
use crate::log::{Field, Log};
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, Session};
use crate::scenario::ast::ReadGoal;
use crate::sock;

/// Bytes asked of the kernel per `read`.
const READ_CHUNK: usize = 16 * 1024;
/// Bytes peeked for the request framer: a whole head of the largest
/// allowed size, plus one byte to tell that it is too large.
const WINDOW: usize = crate::http::MAX_HEAD_BYTES + 1;
/// How long a reset waits for written bytes to leave before it discards them.
const RESET_FLUSH_LIMIT: Duration = Duration::from_secs(3);
/// A reset re-checks the send queue after 20 µs, then twice as long each
/// time up to 1 ms: on loopback the ACK is usually back within the first
/// interval, so the RST follows the last byte by microseconds.
const RESET_FLUSH_FIRST_POLL: Duration = Duration::from_micros(20);
const RESET_FLUSH_MAX_POLL: Duration = Duration::from_millis(1);
/// At most this much unread input is read away before a draining close.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// What the connection is doing for the current step.
enum State<'s> {
    /// Sending a payload; `Done` when the kernel has taken all of it.
    Writing(Outgoing<'s>),
    /// Waiting for input, until `deadline` if any.
    Reading {
        reading: Reading,
        deadline: Option<Instant>,
    },
    /// Doing nothing until `until`.
    Sleeping {
        until: Instant,
    },
    /// A reset is waiting for the send queue to empty (see `sock::reset`).
    Flushing {
        give_up_at: Instant,
        next_check: Instant,
        interval: Duration,
    },
    /// The script ended with `hang`: discard input until the peer leaves.
    Hanging,
    Closed,
}

enum Reading {
    Request { reader: RequestReader, head_only: bool },
    Bytes { remaining: u64, total: u64 },
    Eof { got: u64 },
}

/// What a state's progress came to.
enum Progress {
    /// Blocked on the socket or a deadline; the event loop will call again.
    Wait,
    /// The step is over; tell the interpreter.
    Next(Event),
    /// The connection is gone.
    Closed,
}

/// How a connection ended, as the log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Fin,
    Rst,
    PeerFin,
    PeerRst,
    Error,
}

impl End {
    fn name(self) -> &'static str {
        match self {
            End::Fin => "fin",
            End::Rst => "rst",
            End::PeerFin => "peer-fin",
            End::PeerRst => "peer-rst",
            End::Error => "error",
        }
    }
}

pub struct Conn<'s> {
    id: u64,
    stream: Option<TcpStream>,
    accepted: Instant,
    interp: Interp<'s>,
    state: State<'s>,
    /// A peek at the unread input, for the request framer: bytes leave the
    /// kernel only once the framer has used them, so what the script did
    /// not read is still unread when the connection closes.
    window: Vec<u8>,
    readable: bool,
    writable: bool,
    bytes_in: u64,
    bytes_out: u64,
    peer_half_closed: bool,
}

impl<'s> Conn<'s> {
    pub fn new(id: u64, stream: TcpStream, accepted: Instant, interp: Interp<'s>) -> Conn<'s> {
        Conn {
            id,
            stream: Some(stream),
            accepted,
            interp,
            state: State::Sleeping { until: accepted },
            window: Vec::new(),
            // Assume ready: the first operation finds out, and a missed
            // edge would otherwise never come again.
            readable: true,
            writable: true,
            bytes_in: 0,
            bytes_out: 0,
            peer_half_closed: false,
        }
    }

    /// Run the script's first steps.
    pub fn start(&mut self, now: Instant, log: &mut Log) -> Flow {
        let step = self.interp.next(Event::Start, now);
        if self.apply(step, now, log) == Flow::Closed {
            return Flow::Closed;
        }
        self.drive(now, log)
    }
}

impl Session for Conn<'_> {
    fn deadline(&self) -> Option<Instant> {
        match &self.state {
            State::Reading { deadline, .. } => *deadline,
            State::Sleeping { until } => Some(*until),
            State::Flushing { next_check, .. } => Some(*next_check),
            _ => None,
        }
    }

    fn on_timer(&mut self, now: Instant, log: &mut Log) -> Flow {
        self.drive(now, log)
    }

    fn on_event(&mut self, event: &Readiness, now: Instant, log: &mut Log) -> Flow {
        // Error and hang-up flags are hints; the next operation tells.
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            self.writable = true;
        }
        let idle = matches!(self.state, State::Sleeping { .. } | State::Flushing { .. });
        if idle && event.is_error() {
            // Nothing is reading or writing, so ask the socket directly:
            // an RST while the script sleeps ends the connection now.
            let error = self.stream.as_ref().and_then(|s| s.take_error().ok().flatten());
            if let Some(error) = error {
                return self.fail(&error, now, log);
            }
        }
        if idle && event.is_read_closed() && !self.peer_half_closed {
            self.peer_half_closed = true;
            self.log(log, now, "peer-half-close", &[]);
        }
        self.drive(now, log)
    }
}

impl<'s> Conn<'s> {
    /// Make progress until blocked, carrying out steps as they come.
    fn drive(&mut self, now: Instant, log: &mut Log) -> Flow {
        loop {
            let progress = match self.state {
                State::Writing(_) => self.progress_write(now, log),
                State::Reading { .. } => self.progress_read(now, log),
                State::Sleeping { until } if now >= until => Progress::Next(Event::Done),
                State::Sleeping { .. } => Progress::Wait,
                State::Flushing { .. } => self.progress_flush(now, log),
                State::Hanging => self.progress_hang(now, log),
                State::Closed => Progress::Closed,
            };
            match progress {
                Progress::Wait => return Flow::Open,
                Progress::Closed => return Flow::Closed,
                Progress::Next(event) => {
                    let step = self.interp.next(event, now);
                    if self.apply(step, now, log) == Flow::Closed {
                        return Flow::Closed;
                    }
                }
            }
        }
    }

    /// Enter the state that carries out `step`.
    fn apply(&mut self, step: Step<'s>, now: Instant, log: &mut Log) -> Flow {
        // The window only mirrors the kernel for the read that peeked it.
        self.window.clear();
        self.state = match step {
            Step::Write(payload) => State::Writing(Outgoing::new(payload)),
            Step::Read { goal, deadline } => State::Reading {
                reading: match goal {
                    ReadGoal::Request => Reading::Request {
                        reader: RequestReader::new(false),
                        head_only: false,
                    },
                    ReadGoal::Head => Reading::Request {
                        reader: RequestReader::new(true),
                        head_only: true,
                    },
                    ReadGoal::Bytes(n) => Reading::Bytes { remaining: n, total: n },
                    ReadGoal::Eof => Reading::Eof { got: 0 },
                },
                deadline,
            },
            Step::Sleep { until } => {
                let ms = until.saturating_duration_since(now).as_millis() as u64;
                self.log(log, now, "sleep", &[("ms", Field::Num(ms))]);
                State::Sleeping { until }
            }
            Step::HalfClose => {
                let result = self.stream.as_ref().map(|s| s.shutdown(Shutdown::Write));
                if let Some(Err(error)) = result {
                    return self.fail(&error, now, log);
                }
                self.log(log, now, "half-close", &[]);
                // An already-due sleep: the next drive reports `Done`.
                State::Sleeping { until: now }
            }
            Step::Log(message) => {
                self.log(log, now, "log", &[("message", Field::Str(message))]);
                State::Sleeping { until: now }
            }
            Step::End(Ending::Reset) => State::Flushing {
                give_up_at: now + RESET_FLUSH_LIMIT,
                next_check: now,
                interval: RESET_FLUSH_FIRST_POLL,
            },
            Step::End(Ending::Close { drain }) => {
                self.close(drain, now, log);
                return Flow::Closed;
            }
            Step::End(Ending::Stuck) => {
                self.log(
                    log,
                    now,
                    "stuck",
                    &[(
                        "why",
                        Field::Str("the script ran 10000 statements without I/O; closing"),
                    )],
                );
                self.close(true, now, log);
                return Flow::Closed;
            }
            Step::End(Ending::Hang) => {
                self.log(log, now, "hang", &[]);
                State::Hanging
            }
        };
        Flow::Open
    }

    fn progress_write(&mut self, now: Instant, log: &mut Log) -> Progress {
        let (State::Writing(out), Some(stream)) = (&mut self.state, self.stream.as_mut()) else {
            return Progress::Closed;
        };
        while let Some(chunk) = out.chunk() {
            if !self.writable {
                return Progress::Wait;
            }
            match stream.write(chunk) {
                Ok(n) => {
                    out.advance(n);
                    self.bytes_out += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.writable = false;
                    return Progress::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let written = out.written();
                    self.log(log, now, "write", &[("bytes", Field::Num(written))]);
                    return self.fail_progress(&e, now, log);
                }
            }
        }
        let written = out.written();
        self.log(log, now, "write", &[("bytes", Field::Num(written))]);
        Progress::Next(Event::Done)
    }

    fn progress_read(&mut self, now: Instant, log: &mut Log) -> Progress {
        loop {
            let State::Reading { reading, deadline } = &mut self.state else {
                return Progress::Closed;
            };
            let deadline = *deadline;
            // 1. Use what is already known to be there.
            let outcome = match reading {
                Reading::Request { reader, head_only } => {
                    let fed = reader.feed(&self.window);
                    let head_only = *head_only;
                    if let Err(e) = self.consume(fed.consumed) {
                        return self.fail_progress(&e, now, log);
                    }
                    match fed.status {
                        Status::Partial => None,
                        Status::Complete(info) => {
                            let event = if head_only { "head" } else { "request" };
                            self.log(
                                log,
                                now,
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
                            self.log(log, now, "bad-request", &[("why", Field::Str(&reason))]);
                            Some(Event::BadRequest(bad))
                        }
                    }
                }
                Reading::Bytes { remaining: 0, total } => {
                    let total = *total;
                    self.log(log, now, "read", &[("bytes", Field::Num(total))]);
                    Some(Event::ReadDone)
                }
                Reading::Bytes { .. } | Reading::Eof { .. } => None,
            };
            if let Some(event) = outcome {
                return Progress::Next(event);
            }
            if deadline.is_some_and(|d| now >= d) {
                self.log(log, now, "timeout", &[]);
                return Progress::Next(Event::TimedOut);
            }
            if !self.readable {
                return Progress::Wait;
            }
            // 2. Ask the socket for more.
            let result = match &mut self.state {
                State::Reading {
                    reading: Reading::Request { .. },
                    ..
                } => self.peek_window(),
                State::Reading {
                    reading: Reading::Bytes { remaining, .. },
                    ..
                } => {
                    let want = (*remaining).min(READ_CHUNK as u64) as usize;
                    let result = read_discard(self.stream.as_mut(), want);
                    if let (
                        Ok(n),
                        State::Reading {
                            reading: Reading::Bytes { remaining, .. },
                            ..
                        },
                    ) = (&result, &mut self.state)
                    {
                        *remaining -= *n as u64;
                    }
                    result
                }
                State::Reading {
                    reading: Reading::Eof { got },
                    ..
                } => {
                    let result = read_discard(self.stream.as_mut(), READ_CHUNK);
                    *got += *result.as_ref().unwrap_or(&0) as u64;
                    result
                }
                _ => return Progress::Closed,
            };
            match result {
                Ok(0) => {
                    self.peer_half_closed = true;
                    if let State::Reading {
                        reading: Reading::Eof { got },
                        ..
                    } = self.state
                    {
                        self.log(log, now, "eof", &[("bytes", Field::Num(got))]);
                        return Progress::Next(Event::ReadDone);
                    }
                    let unparsed = self.window.len() as u64;
                    let fields = [("unparsed", Field::Num(unparsed))];
                    self.finish(End::PeerFin, now, log, if unparsed > 0 { &fields } else { &[] });
                    return Progress::Closed;
                }
                Ok(n) => self.bytes_in += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Progress::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, now, log),
            }
        }
    }

    /// Refresh `window` with a peek at the unread input. Returns the count
    /// of new bytes; when there are none, the socket is not readable until
    /// its next edge (a peek never says `WouldBlock` while data waits).
    fn peek_window(&mut self) -> io::Result<usize> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        let before = self.window.len();
        self.window.resize(WINDOW, 0);
        let result = stream.peek(&mut self.window);
        let seen = *result.as_ref().unwrap_or(&0);
        self.window.truncate(seen);
        match result {
            Ok(0) => Ok(0),
            Ok(n) if n <= before => {
                self.window.truncate(n);
                Err(io::ErrorKind::WouldBlock.into())
            }
            Ok(n) => Ok(n - before),
            Err(e) => Err(e),
        }
    }

    /// Take `n` bytes the framer used out of the kernel and the window.
    fn consume(&mut self, n: usize) -> io::Result<()> {
        let mut left = n;
        while left > 0 {
            match read_discard(self.stream.as_mut(), left) {
                Ok(0) => break,
                Ok(got) => left -= got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.window.drain(..n.min(self.window.len()));
        Ok(())
    }

    fn progress_flush(&mut self, now: Instant, log: &mut Log) -> Progress {
        let State::Flushing {
            give_up_at,
            next_check,
            interval,
        } = self.state
        else {
            return Progress::Closed;
        };
        if now < next_check {
            return Progress::Wait;
        }
        let unsent = self.stream.as_ref().map_or(Ok(0), sock::unsent_bytes).unwrap_or(0);
        if unsent > 0 && now < give_up_at {
            self.state = State::Flushing {
                give_up_at,
                next_check: now + interval,
                interval: (interval * 2).min(RESET_FLUSH_MAX_POLL),
            };
            return Progress::Wait;
        }
        let result = self.stream.take().map_or(Ok(()), sock::reset);
        if let Err(e) = result {
            self.finish(End::Error, now, log, &[("error", Field::Str(&e.to_string()))]);
        } else if unsent > 0 {
            self.finish(End::Rst, now, log, &[("discarded", Field::Num(unsent as u64))]);
        } else {
            self.finish(End::Rst, now, log, &[]);
        }
        Progress::Closed
    }

    fn progress_hang(&mut self, now: Instant, log: &mut Log) -> Progress {
        loop {
            if !self.readable {
                return Progress::Wait;
            }
            match read_discard(self.stream.as_mut(), READ_CHUNK) {
                Ok(0) => {
                    self.finish(End::PeerFin, now, log, &[]);
                    return Progress::Closed;
                }
                Ok(n) => self.bytes_in += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Progress::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, now, log),
            }
        }
    }

    /// close(2). With `drain`, read away what the peer already sent first,
    /// so the kernel sends FIN; unread input would make it send RST, and
    /// the log says which happened.
    fn close(&mut self, drain: bool, now: Instant, log: &mut Log) {
        let mut drained = 0usize;
        if drain {
            let mut scratch = [0u8; 4096];
            while let Some(stream) = self.stream.as_mut() {
                match stream.read(&mut scratch) {
                    Ok(0) => break,
                    Ok(n) => {
                        drained += n;
                        self.bytes_in += n as u64;
                        if drained >= DRAIN_LIMIT {
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        self.finish(End::PeerRst, now, log, &[("error", Field::Str(&e.to_string()))]);
                        return;
                    }
                }
            }
        }
        let unread = self.stream.as_ref().map_or(Ok(0), sock::unread_bytes).unwrap_or(0);
        self.stream = None;
        let mut fields = vec![];
        if drained > 0 {
            fields.push(("drained", Field::Num(drained as u64)));
        }
        if unread > 0 {
            // The kernel's rule: close with unread input sends RST.
            fields.push(("unread", Field::Num(unread as u64)));
            self.finish(End::Rst, now, log, &fields);
        } else {
            self.finish(End::Fin, now, log, &fields);
        }
    }

    fn fail_progress(&mut self, error: &io::Error, now: Instant, log: &mut Log) -> Progress {
        self.fail(error, now, log);
        Progress::Closed
    }

    /// The socket failed: the peer reset it, or something else went wrong.
    fn fail(&mut self, error: &io::Error, now: Instant, log: &mut Log) -> Flow {
        let how = match error.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted => {
                End::PeerRst
            }
            _ => End::Error,
        };
        let text = error.to_string();
        self.finish(how, now, log, &[("error", Field::Str(&text))]);
        Flow::Closed
    }

    /// Drop the socket (if still held) and log the end.
    fn finish(&mut self, how: End, now: Instant, log: &mut Log, extra: &[(&str, Field)]) {
        self.stream = None;
        self.state = State::Closed;
        if !log.enabled() {
            return;
        }
        let mut fields = vec![
            ("how", Field::Str(how.name())),
            ("bytes_in", Field::Num(self.bytes_in)),
            ("bytes_out", Field::Num(self.bytes_out)),
            ("requests", Field::Num(self.interp.requests())),
        ];
        fields.extend_from_slice(extra);
        self.log(log, now, "end", &fields);
    }

    /// Log with the real time of the action: `now` is when the loop woke,
    /// and one turn may write, reset and more after it.
    fn log(&self, log: &mut Log, _now: Instant, event: &str, fields: &[(&str, Field)]) {
        if log.enabled() {
            log.conn(self.id, self.accepted.elapsed(), event, fields);
        }
    }
}

/// Read up to `max` bytes and throw them away.
fn read_discard(stream: Option<&mut TcpStream>, max: usize) -> io::Result<usize> {
    let Some(stream) = stream else { return Ok(0) };
    let mut scratch = [0u8; READ_CHUNK];
    stream.read(&mut scratch[..max.min(READ_CHUNK)])
}
