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
thread_local! {
    /// The event loop is one thread: its connections share one read buffer.
    static READ_BUFFER: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// Steps one connection may take per wake-up before it lets the others
/// run: a client that always has its next request ready must not keep the
/// loop to itself.
const STEPS_PER_TURN: usize = 32;
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
    /// Received bytes the script has not read yet. They outlive a step
    /// (a pipelined request belongs to the next read), and they count as
    /// unread when the connection closes.
    inbuf: Vec<u8>,
    /// The connection gave way to others (see STEPS_PER_TURN) and wants to
    /// go on at the next turn.
    yielded: bool,
    readable: bool,
    writable: bool,
    bytes_in: u64,
    bytes_out: u64,
    peer_half_closed: bool,
    /// An event said the peer sent FIN, or that the socket has an error.
    /// A read that is not made at once (the request was already whole)
    /// leaves these for when the script goes idle.
    fin_hint: bool,
    error_hint: bool,
}

impl<'s> Conn<'s> {
    pub fn new(id: u64, stream: TcpStream, accepted: Instant, interp: Interp<'s>) -> Conn<'s> {
        Conn {
            id,
            stream: Some(stream),
            accepted,
            interp,
            state: State::Sleeping { until: accepted },
            inbuf: Vec::new(),
            yielded: false,
            // Assume ready: the first operation finds out, and a missed
            // edge would otherwise never come again.
            readable: true,
            writable: true,
            bytes_in: 0,
            bytes_out: 0,
            peer_half_closed: false,
            fin_hint: false,
            error_hint: false,
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
        if self.yielded {
            // Already due: the reactor resumes it at the next turn.
            return Some(self.accepted);
        }
        match &self.state {
            State::Reading { deadline, .. } => *deadline,
            State::Sleeping { until } => Some(*until),
            State::Flushing { next_check, .. } => Some(*next_check),
            _ => None,
        }
    }

    fn on_timer(&mut self, now: Instant, log: &mut Log) -> Flow {
        self.yielded = false;
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
        self.fin_hint |= event.is_read_closed();
        self.error_hint |= event.is_error();
        let idle = matches!(self.state, State::Sleeping { .. } | State::Flushing { .. });
        if idle && self.check_idle_hints(now, log) == Flow::Closed {
            return Flow::Closed;
        }
        self.drive(now, log)
    }
}

impl<'s> Conn<'s> {
    /// While nothing reads or writes, act on what events hinted: an RST
    /// ends the connection at once (asked of the socket directly), a FIN
    /// is logged once and the script goes on.
    fn check_idle_hints(&mut self, now: Instant, log: &mut Log) -> Flow {
        if std::mem::take(&mut self.error_hint) {
            let error = self.stream.as_ref().and_then(|s| s.take_error().ok().flatten());
            if let Some(error) = error {
                return self.fail(&error, now, log);
            }
        }
        if self.fin_hint && !self.peer_half_closed {
            self.peer_half_closed = true;
            self.log(log, now, "peer-half-close", &[]);
        }
        Flow::Open
    }

    /// Make progress until blocked, carrying out steps as they come.
    fn drive(&mut self, now: Instant, log: &mut Log) -> Flow {
        for _ in 0..STEPS_PER_TURN {
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
        self.yielded = true;
        Flow::Open
    }

    /// Enter the state that carries out `step`.
    fn apply(&mut self, step: Step<'s>, now: Instant, log: &mut Log) -> Flow {
        self.state = match step {
            Step::Write(payload) => State::Writing(Outgoing::new(payload)),
            Step::Read { goal, deadline } => State::Reading {
                reading: match goal {
                    ReadGoal::Request => Reading::Request {
                        reader: RequestReader::new(false, self.interp.uses_headers()),
                        head_only: false,
                    },
                    ReadGoal::Head => Reading::Request {
                        reader: RequestReader::new(true, self.interp.uses_headers()),
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
                self.state = State::Sleeping { until };
                return self.check_idle_hints(now, log);
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
                Reading::Bytes { remaining, total } => {
                    let take = (*remaining).min(self.inbuf.len() as u64);
                    self.inbuf.drain(..take as usize);
                    *remaining -= take;
                    want = (*remaining).min(READ_CHUNK as u64) as usize;
                    if *remaining == 0 {
                        let total = *total;
                        self.log(log, now, "read", &[("bytes", Field::Num(total))]);
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
                self.log(log, now, "timeout", &[]);
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
                        self.log(log, now, "eof", &[("bytes", Field::Num(got))]);
                        return Progress::Next(Event::ReadDone);
                    }
                    let unparsed = self.inbuf.len() as u64;
                    let fields = [("unparsed", Field::Num(unparsed))];
                    self.finish(End::PeerFin, now, log, if unparsed > 0 { &fields } else { &[] });
                    return Progress::Closed;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Progress::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, now, log),
            }
        }
    }

    /// Append up to `want` bytes from the socket to `inbuf`. A read that
    /// returns fewer bytes than asked for drained the socket: any later
    /// data raises a new edge, so the `WouldBlock` read is skipped.
    fn read_more(&mut self, want: usize) -> io::Result<usize> {
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
            Ok(n) if *n > 0 && *n < want => self.readable = false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
            _ => {}
        }
        result
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
            self.inbuf.clear();
            match self.read_more(READ_CHUNK) {
                Ok(0) => {
                    self.finish(End::PeerFin, now, log, &[]);
                    return Progress::Closed;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.readable = false;
                    return Progress::Wait;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail_progress(&e, now, log),
            }
        }
    }

    /// close(2). With `drain`, first read away what the peer already sent,
    /// so the peer gets FIN. Without it, the kernel's rule holds: closing
    /// with unread input sends RST. Input hangup has buffered but the
    /// script never read counts as unread too, so the end on the wire is
    /// the same as if it had stayed in the kernel; the log says which.
    fn close(&mut self, drain: bool, now: Instant, log: &mut Log) {
        let mut drained = 0usize;
        if drain {
            drained += self.inbuf.len();
            self.inbuf.clear();
            while drained < DRAIN_LIMIT && self.readable {
                match self.read_more(READ_CHUNK) {
                    Ok(0) => break,
                    Ok(n) => {
                        drained += n;
                        self.inbuf.clear();
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
        let in_kernel = self.stream.as_ref().map_or(Ok(0), sock::unread_bytes).unwrap_or(0);
        let unread = in_kernel + self.inbuf.len();
        let mut fields = vec![];
        if drained > 0 {
            fields.push(("drained", Field::Num(drained as u64)));
        }
        if unread == 0 {
            self.stream = None;
            self.finish(End::Fin, now, log, &fields);
            return;
        }
        // The kernel's rule: close with unread input sends RST.
        fields.push(("unread", Field::Num(unread as u64)));
        if let Some(stream) = self.stream.take() {
            let _ = sock::reset(stream);
        }
        self.finish(End::Rst, now, log, &fields);
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
