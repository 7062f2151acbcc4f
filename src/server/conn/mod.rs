//! One accepted connection: its stream, its input buffer and its
//! interpreter.
//!
//! The connection carries out the interpreter's [`Step`]s on its
//! [`Stream`] and reports back what happened. It is driven by the event
//! loop as a [`Session`]: `on_event` (readiness) and `on_wake` (the time it
//! asked for came), and returns [`Flow::Closed`] once the socket is gone.
//!
//! Input is read only while the script reads (or hangs); what it buffered
//! but the script never read counts as unread when the connection closes,
//! as it would in the kernel. [`input`] reads, [`ending`] ends connections.

mod ending;
mod input;
mod proxy;
mod route;

pub use proxy::UpstreamAddr;

use std::time::{Duration, Instant};

use mio::Registry;
use mio::event::Event as Readiness;
use mio::net::TcpStream;

use super::event_loop::Tally;
use crate::end::End;
use crate::http::RequestReader;
use crate::interp::{Event, Finish, Interp, Step};
use crate::log::{Field, Log};
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, PollAt, Session, Side};
use crate::scenario::ast::ReadGoal;
use crate::stream::{Io, Stream};
use ending::{RESET_FLUSH_FIRST_POLL, RESET_FLUSH_LIMIT};
use proxy::{Both, Forwarding, Pending, ProxySide, Relaying, Retained};

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
    /// A reset is waiting for the send queue to empty (see `Stream::reset`).
    Flushing {
        give_up_at: Instant,
        next_check: Instant,
        interval: Duration,
    },
    /// The script ended with `hang`: discard input until the peer leaves.
    Hanging,
    /// The upstream connect is under way; `then` waits for it.
    Connecting {
        then: Pending,
        give_up_at: Instant,
    },
    /// `forward`: client bytes to the upstream.
    Forwarding(Box<Forwarding>),
    /// `relay`: upstream bytes to the client.
    Relaying(Relaying),
    /// `relay both`.
    Both(Both),
    /// `serve --catalog`: waiting for the first request line, whose path
    /// chooses the script (see `route`).
    Routing {
        deadline: Instant,
    },
    Closed,
}

impl State<'_> {
    /// A reset that waits for the written bytes to leave first.
    fn flushing(now: Instant) -> Self {
        State::Flushing {
            give_up_at: now + RESET_FLUSH_LIMIT,
            next_check: now,
            interval: RESET_FLUSH_FIRST_POLL,
        }
    }
}

enum Reading {
    Request {
        reader: RequestReader,
        head_only: bool,
    },
    /// `read body`: `reader` is `None` when there is no body to read;
    /// `left` counts down a `max`; `got` counts the body bytes read.
    Body {
        reader: Option<Box<RequestReader>>,
        left: Option<u64>,
        got: u64,
    },
    Bytes {
        remaining: u64,
        total: u64,
    },
    Eof {
        got: u64,
    },
}

/// What a state's progress came to.
enum Progress {
    /// Blocked on the socket or a deadline; the event loop will call again.
    Wait,
    /// The step is over; tell the interpreter.
    Next(Event),
    /// The state changed without news for the interpreter: go on.
    Again,
    /// The connection is gone.
    Closed,
}

/// What the event loop lends a connection on every call.
pub struct Turn<'l> {
    /// When the loop woke for this turn.
    pub now: Instant,
    /// The server's event log.
    pub log: &'l mut Log,
    /// What all connections of the server share.
    pub shared: &'l mut Shared,
}

/// What the connections of one server share, beyond the log.
pub struct Shared {
    /// The poll's registry, to register an upstream socket.
    pub registry: Registry,
    /// Where proxy steps connect, with `--upstream`.
    pub upstream: Option<UpstreamAddr>,
    /// With `--record DIR`: every connection written there as a scenario.
    pub record_dir: Option<std::path::PathBuf>,
    /// With `--catalog`: the built-ins a first request's path chooses from.
    pub catalog: Option<crate::server::catalog::Catalog>,
    /// What scenarios' chance draws from (see `crate::chance`).
    pub seed: u64,
    /// The server's counts: requests across connections, upstream ends.
    pub tally: Tally,
}

/// One accepted connection running its scenario.
pub struct Conn<'s> {
    id: u64,
    /// The reactor's key, for the upstream socket's token.
    key: usize,
    stream: Stream,
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
    /// The peer's FIN was seen (and logged).
    peer_half_closed: bool,
    /// How the connection ended, once it has.
    ended: Option<End>,
    /// The upstream side, for a scenario that proxies.
    proxy: Option<Box<ProxySide>>,
    /// After a `read head`, the reader of that request's body, for a
    /// scenario with `read body` (boxed: the others pay 8 bytes).
    body_reader: Option<Box<RequestReader>>,
}

impl<'s> Conn<'s> {
    /// A connection `accept` gave, about to run `interp`'s script.
    pub fn new(id: u64, key: usize, socket: TcpStream, accepted: Instant, interp: Interp<'s>) -> Conn<'s> {
        Conn {
            id,
            key,
            stream: Stream::accepted(socket),
            accepted,
            interp,
            state: State::Sleeping { until: accepted },
            inbuf: Vec::new(),
            yielded: false,
            peer_half_closed: false,
            ended: None,
            proxy: None,
            body_reader: None,
        }
    }

    /// Record what goes through the client side, and write it as a
    /// replayable scenario into `dir` when the connection ends.
    pub fn record_into(&mut self, dir: std::path::PathBuf, upstream: String, now: Instant) {
        self.stream
            .record(crate::record::Tape::new(dir, self.id, upstream, now));
    }

    /// How the connection ended, once it has.
    pub fn end(&self) -> Option<End> {
        self.ended
    }

    /// How its upstream side ended, if it had one.
    pub fn upstream_end(&self) -> Option<End> {
        self.proxy.as_ref().and_then(|p| p.upstream_ended)
    }

    /// A `reset` is waiting for written bytes to leave: stopping the server
    /// now would turn the scripted RST into a FIN.
    pub fn is_flushing(&self) -> bool {
        matches!(self.state, State::Flushing { .. })
    }

    /// Run the script's first steps (or, for the catalog, wait for the
    /// request line that chooses the script).
    pub fn start(&mut self, turn: &mut Turn) -> Flow {
        if !matches!(self.state, State::Routing { .. }) {
            let step = self.interp.next(Event::Start, turn.now);
            if self.apply(step, turn) == Flow::Closed {
                return Flow::Closed;
            }
        }
        self.drive(turn)
    }
}

impl Session for Conn<'_> {
    type Context<'c> = Turn<'c>;

    fn poll_at(&self) -> PollAt {
        if self.yielded {
            return PollAt::Now;
        }
        let at = match &self.state {
            State::Reading { deadline, .. } => *deadline,
            State::Routing { deadline } => Some(*deadline),
            State::Sleeping { until } => Some(*until),
            State::Flushing { next_check, .. } => Some(*next_check),
            _ => self.proxy_poll_at(),
        };
        at.map_or(PollAt::Idle, PollAt::At)
    }

    fn on_wake(&mut self, turn: &mut Turn) -> Flow {
        self.yielded = false;
        self.drive(turn)
    }

    fn on_event(&mut self, side: Side, event: &Readiness, turn: &mut Turn) -> Flow {
        match side {
            Side::Downstream => self.stream.on_event(event),
            Side::Upstream => {
                self.on_upstream_event(event);
                if !self.in_proxy_step() {
                    // Nobody reads the upstream now: watch for its end.
                    return self.watch_upstream(turn.now, turn.log);
                }
            }
        }
        let idle = matches!(
            self.state,
            State::Sleeping { .. } | State::Flushing { .. } | State::Connecting { .. } | State::Relaying(_)
        );
        if idle && self.check_idle_hints(turn.log) == Flow::Closed {
            return Flow::Closed;
        }
        self.drive(turn)
    }
}

impl<'s> Conn<'s> {
    /// While nothing reads or writes, act on what events hinted: an RST
    /// ends the connection at once (asked of the socket directly), a FIN
    /// is logged once and the script goes on.
    fn check_idle_hints(&mut self, log: &mut Log) -> Flow {
        if let Some(error) = self.stream.take_hinted_error() {
            return self.fail(Io::Reset(error), log);
        }
        if self.stream.fin_hinted() && !self.peer_half_closed {
            self.peer_half_closed = true;
            self.log(log, "peer-half-close", &[]);
        }
        Flow::Open
    }

    /// Make progress until blocked, carrying out steps as they come.
    fn drive(&mut self, turn: &mut Turn) -> Flow {
        let now = turn.now;
        for _ in 0..STEPS_PER_TURN {
            let progress = match self.state {
                State::Writing(_) => self.progress_write(turn.log),
                State::Reading { .. } => self.progress_read(turn),
                State::Routing { .. } => self.progress_route(turn),
                State::Sleeping { until } if now >= until => Progress::Next(Event::Done),
                State::Sleeping { .. } => Progress::Wait,
                State::Flushing { .. } => self.progress_flush(now, turn.log),
                State::Hanging => self.progress_hang(turn.log),
                State::Connecting { .. } => self.progress_connect(turn),
                State::Forwarding(_) => self.progress_forward(turn),
                State::Relaying(_) => self.progress_relay(now, turn.log),
                State::Both(_) => self.progress_both(now, turn.log),
                State::Closed => Progress::Closed,
            };
            match progress {
                Progress::Wait => return Flow::Open,
                Progress::Closed => return Flow::Closed,
                Progress::Again => {}
                Progress::Next(event) => {
                    let step = self.interp.next(event, now);
                    if self.apply(step, turn) == Flow::Closed {
                        return Flow::Closed;
                    }
                }
            }
        }
        // Steps that never touch the socket (`read 0 bytes`, a read
        // `within 0us`) would never see the peer leave: look now.
        self.yielded = true;
        self.check_idle_hints(turn.log)
    }

    /// Enter the state that carries out `step`.
    fn apply(&mut self, step: Step<'s>, turn: &mut Turn) -> Flow {
        let (now, log) = (turn.now, &mut *turn.log);
        if let Some(pending) = Self::proxy_step(&step) {
            return self.apply_proxy(pending, turn);
        }
        self.state = match step {
            Step::Write(payload) => State::Writing(Outgoing::new(payload)),
            Step::Read { goal, deadline } => {
                if matches!(goal, ReadGoal::Request | ReadGoal::Head) {
                    // A new request: what `forward request` sends is its,
                    // and so is the body `read body` reads.
                    self.body_reader = None;
                    if let Some(proxy) = self.proxy.as_mut() {
                        proxy.retained = Retained::Nothing;
                        proxy.body_reader = None;
                    }
                }
                State::Reading {
                    reading: match goal {
                        ReadGoal::Request => Reading::Request {
                            reader: RequestReader::new(false, self.interp.uses_headers()),
                            head_only: false,
                        },
                        ReadGoal::Head => Reading::Request {
                            reader: RequestReader::new(true, self.interp.uses_headers()),
                            head_only: true,
                        },
                        ReadGoal::Body { max } => Reading::Body {
                            // A proxying scenario keeps it for `forward request`.
                            reader: self.body_reader.take().or_else(|| {
                                let proxy = self.proxy.as_mut()?;
                                proxy.body_reader.take().map(Box::new)
                            }),
                            left: max,
                            got: 0,
                        },
                        ReadGoal::Bytes(n) => Reading::Bytes { remaining: n, total: n },
                        ReadGoal::Eof => Reading::Eof { got: 0 },
                    },
                    deadline,
                }
            }
            Step::Sleep { until } => {
                let ms = until.saturating_duration_since(now).as_millis() as u64;
                self.log(log, "sleep", &[("ms", Field::Num(ms))]);
                self.state = State::Sleeping { until };
                return self.check_idle_hints(log);
            }
            Step::HalfClose => {
                if let Err(error) = self.stream.shutdown_write() {
                    return self.fail(Io::Failed(error), log);
                }
                self.log(log, "half-close", &[]);
                // An already-due sleep: the next drive reports `Done`.
                State::Sleeping { until: now }
            }
            Step::Log(message) => {
                self.log(log, "log", &[("message", Field::Str(message))]);
                State::Sleeping { until: now }
            }
            Step::Chance(choice) => {
                let odds = format!("{}/{}", choice.hits, choice.of);
                let result = if choice.yes { "yes" } else { "no" };
                self.log(
                    log,
                    "chance",
                    &[
                        ("odds", Field::Str(&odds)),
                        ("request", Field::Num(choice.request)),
                        ("result", Field::Str(result)),
                    ],
                );
                State::Sleeping { until: now }
            }
            Step::Finish(Finish::Reset) => State::flushing(now),
            Step::Finish(Finish::Close { drain }) => {
                self.close(drain, log);
                return Flow::Closed;
            }
            Step::Finish(Finish::Stuck) => {
                let why = self.interp.why_stuck();
                self.log(log, "stuck", &[("why", Field::Str(why))]);
                self.close(true, log);
                return Flow::Closed;
            }
            Step::Finish(Finish::Hang) => {
                self.log(log, "hang", &[]);
                State::Hanging
            }
            Step::Forward(_) | Step::Relay(_) | Step::Upstream(_) => unreachable!("proxy steps are applied above"),
        };
        Flow::Open
    }

    fn progress_write(&mut self, log: &mut Log) -> Progress {
        let State::Writing(out) = &mut self.state else {
            return Progress::Closed;
        };
        let io = self.stream.send(out);
        let written = out.written();
        match io {
            Io::Blocked => Progress::Wait,
            Io::Data(_) => {
                self.log(log, "write", &[("bytes", Field::Num(written))]);
                Progress::Next(Event::Done)
            }
            failed => {
                self.log(log, "write", &[("bytes", Field::Num(written))]);
                self.fail_progress(failed, log)
            }
        }
    }

    /// Log with the real time of the action: `now` is when the loop woke,
    /// and one turn may write, reset and more after it.
    fn log(&self, log: &mut Log, event: &str, fields: &[(&str, Field)]) {
        log_line(self.id, self.accepted, log, event, fields);
    }
}

/// One line of connection `id`'s log, timed since it was accepted (for
/// code that holds parts of the connection borrowed).
fn log_line(id: u64, accepted: Instant, log: &mut Log, event: &str, fields: &[(&str, Field)]) {
    if log.enabled() {
        log.conn(id, accepted.elapsed(), event, fields);
    }
}

#[cfg(test)]
mod tests {
    /// Every idle connection holds one `Conn` in the reactor's table: the
    /// performance docs promise at most 1 KiB of hangup's memory per connection,
    /// and proxy state is boxed so that only proxying scenarios pay for it.
    #[test]
    fn a_connection_fits_in_half_a_kibibyte() {
        let size = std::mem::size_of::<super::Conn>();
        assert!(size <= 512, "Conn is {size} bytes");
    }
}
