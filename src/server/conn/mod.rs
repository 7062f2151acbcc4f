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
//! Input is read only while the script reads (or hangs); what it buffered
//! but the script never read counts as unread when the connection closes,
//! as it would in the kernel. [`input`] reads, [`ending`] ends connections.

mod ending;
mod input;

use std::io::{self, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use mio::event::Event as Readiness;
use mio::net::TcpStream;

use crate::http::RequestReader;
use crate::interp::{Ending, Event, Interp, Step};
use crate::log::{Field, Log};
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, Session};
use crate::scenario::ast::ReadGoal;
use ending::{RESET_FLUSH_FIRST_POLL, RESET_FLUSH_LIMIT};

/// Steps one connection may take per wake-up before it lets the others
/// run: a client that always has its next request ready must not keep the
/// loop to itself.
const STEPS_PER_TURN: usize = 32;

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
pub enum End {
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
    /// How the connection ended, once it has.
    ended: Option<End>,
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
            ended: None,
        }
    }

    /// How the connection ended, once it has.
    pub fn end(&self) -> Option<End> {
        self.ended
    }

    /// A `reset` is waiting for written bytes to leave: stopping the server
    /// now would turn the scripted RST into a FIN.
    pub fn is_flushing(&self) -> bool {
        matches!(self.state, State::Flushing { .. })
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
        if idle && self.check_idle_hints(log) == Flow::Closed {
            return Flow::Closed;
        }
        self.drive(now, log)
    }
}

impl<'s> Conn<'s> {
    /// While nothing reads or writes, act on what events hinted: an RST
    /// ends the connection at once (asked of the socket directly), a FIN
    /// is logged once and the script goes on.
    fn check_idle_hints(&mut self, log: &mut Log) -> Flow {
        if std::mem::take(&mut self.error_hint) {
            let error = self.stream.as_ref().and_then(|s| s.take_error().ok().flatten());
            if let Some(error) = error {
                return self.fail(&error, log);
            }
        }
        if self.fin_hint && !self.peer_half_closed {
            self.peer_half_closed = true;
            self.log(log, "peer-half-close", &[]);
        }
        Flow::Open
    }

    /// Make progress until blocked, carrying out steps as they come.
    fn drive(&mut self, now: Instant, log: &mut Log) -> Flow {
        for _ in 0..STEPS_PER_TURN {
            let progress = match self.state {
                State::Writing(_) => self.progress_write(log),
                State::Reading { .. } => self.progress_read(now, log),
                State::Sleeping { until } if now >= until => Progress::Next(Event::Done),
                State::Sleeping { .. } => Progress::Wait,
                State::Flushing { .. } => self.progress_flush(now, log),
                State::Hanging => self.progress_hang(log),
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
                self.log(log, "sleep", &[("ms", Field::Num(ms))]);
                self.state = State::Sleeping { until };
                return self.check_idle_hints(log);
            }
            Step::HalfClose => {
                let result = self.stream.as_ref().map(|s| s.shutdown(Shutdown::Write));
                if let Some(Err(error)) = result {
                    return self.fail(&error, log);
                }
                self.log(log, "half-close", &[]);
                // An already-due sleep: the next drive reports `Done`.
                State::Sleeping { until: now }
            }
            Step::Log(message) => {
                self.log(log, "log", &[("message", Field::Str(message))]);
                State::Sleeping { until: now }
            }
            Step::End(Ending::Reset) => State::Flushing {
                give_up_at: now + RESET_FLUSH_LIMIT,
                next_check: now,
                interval: RESET_FLUSH_FIRST_POLL,
            },
            Step::End(Ending::Close { drain }) => {
                self.close(drain, log);
                return Flow::Closed;
            }
            Step::End(Ending::Stuck) => {
                self.log(
                    log,
                    "stuck",
                    &[(
                        "why",
                        Field::Str("the script ran 10000 statements without I/O; closing"),
                    )],
                );
                self.close(true, log);
                return Flow::Closed;
            }
            Step::End(Ending::Hang) => {
                self.log(log, "hang", &[]);
                State::Hanging
            }
        };
        Flow::Open
    }

    fn progress_write(&mut self, log: &mut Log) -> Progress {
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
                    self.log(log, "write", &[("bytes", Field::Num(written))]);
                    return self.fail_progress(&e, log);
                }
            }
        }
        let written = out.written();
        self.log(log, "write", &[("bytes", Field::Num(written))]);
        Progress::Next(Event::Done)
    }

    /// Log with the real time of the action: `now` is when the loop woke,
    /// and one turn may write, reset and more after it.
    fn log(&self, log: &mut Log, event: &str, fields: &[(&str, Field)]) {
        if log.enabled() {
            log.conn(self.id, self.accepted.elapsed(), event, fields);
        }
    }
}
