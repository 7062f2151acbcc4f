//! The scenario interpreter, sans-I/O.
//!
//! An [`Interp`] runs one connection's script. It never touches a socket or
//! a clock: the connection tells it what happened ([`Event`]) and when
//! (`now`), and it answers with the next thing to do ([`Step`]). Time is
//! only ever a deadline it hands back, so a test can drive hours of scenario
//! time in microseconds, and the same code can serve and be unit-tested.
//!
//! Control flow is a stack of [`Frame`]s, one per block being run (the body,
//! a loop's body, a chosen `if` branch, a handler). A frame remembers where
//! it is and how many more times it repeats.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use crate::chance::Draw;
use crate::http::response::{Framing, Head};
use crate::http::{BadRequest, RequestInfo};
use crate::scenario::ast::{
    Atom, Cond, Drip, Forward, H2Frame, Interval, Odds, Payload, ReadGoal, Relay, RelayWhat, Response, Scenario, Stmt,
    TlsAlert, TlsHandshake, UpstreamEnd,
};

/// Statements run without any I/O before the script is judged stuck (for
/// example a `loop` around nothing but `log`, or an `if` that never holds).
const SPIN_LIMIT: usize = 10_000;

/// Steps in a row that cost nothing (see [`Interp::costs_nothing`]) before
/// the script is judged stuck. Each goes through the connection and the
/// event loop (and logs a line), so the bound is far lower than
/// [`SPIN_LIMIT`]: a hundred is more than any script that means well needs
/// (one `sleep 0us` between real steps never comes near it).
const FREE_STEP_LIMIT: usize = 100;

/// Logged before a script that spins on free steps ends as stuck. Made
/// from [`FREE_STEP_LIMIT`] once, so that the words follow the number.
pub static FREE_SPIN_WHY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{FREE_STEP_LIMIT} steps in a row did nothing (sleep 0, read 0 bytes, a read within 0 that timed out, \
         a half-close after a half-close): stuck"
    )
});

/// Why a script that ran [`SPIN_LIMIT`] statements without I/O ended.
static SPIN_WHY: LazyLock<String> =
    LazyLock::new(|| format!("the script ran {SPIN_LIMIT} statements without I/O; closing"));

/// What an HTTP/1.1 client gets from a script that speaks HTTP/2 (see
/// [`Event::NotHttp2`]): 505, what to do instead, and the close.
static NOT_HTTP2: LazyLock<Vec<Stmt>> = LazyLock::new(|| {
    let body = "505 HTTP Version Not Supported: this scenario speaks HTTP/2. With curl, use \
                --http2-prior-knowledge (h2c), or serve it with --tls and ask for https:// (h2 by ALPN).\n";
    let head = format!(
        "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    vec![
        Stmt::Write {
            payload: Payload {
                pieces: vec![crate::scenario::ast::Piece::Bytes(
                    [head.as_bytes(), body.as_bytes()].concat(),
                )],
            },
            every: None,
        },
        Stmt::Close {
            drain: true,
            notify: true,
        },
    ]
});

/// Logged before a `read request` or `read head` after a bad request ends
/// the connection.
pub const REREAD_WHY: &str = "read request after a bad request: the refused bytes cannot be read as a request again (as in Node, which stops parsing after a clientError); closing";

/// What just happened, as reported by the connection.
#[derive(Debug)]
pub enum Event {
    /// The connection was accepted; nothing has run yet.
    Start,
    /// The last step finished (bytes written, sleep over, half-closed).
    Done,
    /// A `read request` or `read head` got a whole request (or head).
    Request(RequestInfo),
    /// A `read` of bytes or until EOF finished.
    ReadDone,
    /// A `read body` finished, with this many bytes of the body (0: there
    /// was none left, or no head was read to have one).
    BodyRead(u64),
    /// A `read … within` ran out of time.
    TimedOut,
    /// The request could not be parsed; the handler runs instead.
    BadRequest(BadRequest),
    /// A `forward` or `upstream` step is done.
    Forwarded,
    /// A `relay` is done; with the head of the response it relayed, if it
    /// relayed one.
    Relayed(Option<Head>),
    /// The upstream refused the connection or did not answer it in time;
    /// the `on upstream-error` handler runs instead.
    UpstreamFailed,
    /// A `read tls-hello` got a whole ClientHello.
    TlsHello,
    /// A `read tls-hello` got bytes that are no ClientHello (plaintext
    /// HTTP, a broken record): the script is over and the connection
    /// closes, as a TLS server gives up on a peer that does not speak TLS.
    BadTlsHello,
    /// An HTTP/2 step (`read preface`, `h2 …`) on a connection whose client
    /// does not speak HTTP/2: the script is over, and the client gets 505.
    NotHttp2,
}

/// What the connection must do next.
#[derive(Debug, PartialEq)]
pub enum Step<'s> {
    /// Send all of these bytes, then report [`Event::Done`].
    Write(Cow<'s, Payload>),
    /// Read; report `Request`, `ReadDone`, `BodyRead`, `TimedOut`,
    /// `BadRequest`, `TlsHello` or `BadTlsHello`.
    Read { goal: ReadGoal, deadline: Option<Instant> },
    /// Do nothing until `until`, then report `Done`.
    Sleep { until: Instant },
    /// shutdown(SHUT_WR), then report `Done`.
    HalfClose,
    /// Put a line in the event log, then report `Done`.
    Log(&'s str),
    /// Log a `chance` condition's choice, then report `Done`.
    Chance(Choice),
    /// The script is over; end the connection this way.
    Finish(Finish),
    /// Send client bytes upstream (connecting first if need be); report
    /// `Forwarded` or `UpstreamFailed`.
    Forward(Forward),
    /// Carry upstream bytes to the client; report `Relayed` or
    /// `UpstreamFailed`. An end of either side along the way is mirrored
    /// on the other, and ends the connection.
    Relay(Relay),
    /// End the upstream side; report `Forwarded`.
    Upstream(UpstreamEnd),
    /// Send this TLS alert: its plaintext record before a handshake, sealed
    /// with the connection's keys after one; report `Done`.
    TlsAlert(&'s TlsAlert),
    /// Do the server's side of a TLS handshake; report `Done` when it is
    /// done (or stalled as asked).
    TlsHandshake(&'s TlsHandshake),
    /// Send close_notify; report `Done`.
    TlsCloseNotify,
    /// Let only this many more bytes of TLS records out; report `Done`.
    TlsCut(u64),
    /// `respond`: on HTTP/1.1 these bytes (`wire`, built when the scenario
    /// was parsed); on HTTP/2, HEADERS and DATA made from `response`.
    /// Report `Done`.
    Respond {
        response: &'s Response,
        to: crate::scenario::respond::Request,
    },
    /// An HTTP/2 frame other than DATA; report `Done`.
    H2(&'s H2Frame),
    /// DATA frames with these bytes, on the stream and as `frame` (an `h2
    /// data`) says; END_STREAM only with the `last` piece of a drip.
    /// Report `Done`.
    H2Data {
        frame: &'s H2Frame,
        piece: Cow<'s, Payload>,
        last: bool,
    },
}

/// How the script asks to end the connection. This is an instruction, not
/// an outcome: how the connection really ended is a [`crate::end::End`],
/// which the session decides on the wire (a close with unread input is an
/// RST; a peer may leave first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// FIN. With `drain`, first read what the peer already sent so the
    /// kernel does not turn the close into an RST. Under TLS, with
    /// `notify`, close_notify first.
    Close { drain: bool, notify: bool },
    /// RST, once the bytes written so far have left.
    Reset,
    /// Stay open and silent until the peer leaves.
    Hang,
    /// The script ran in circles without I/O; closed with FIN.
    Stuck,
}

/// A `chance` condition as it was decided, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The odds, `hits` in `of`.
    pub hits: u64,
    pub of: u64,
    /// The request it was drawn for (0: before any).
    pub request: u64,
    /// Whether the condition held.
    pub yes: bool,
}

/// One block being run.
#[derive(Debug)]
struct Frame<'s> {
    body: &'s [Stmt],
    next: usize,
    /// More passes after this one: `Some(n)` for `loop N times`, `None`
    /// for `loop` forever; blocks that are not loops have `Some(0)`.
    repeats_left: Option<u64>,
}

/// A `write … every` or an `h2 data … every` in progress: one piece per
/// interval. Only the statement is kept, borrowed, and its bytes and
/// pace are found in it: a copy would make every connection larger (see
/// `Conn`'s size test).
#[derive(Debug)]
struct Dripping<'s> {
    stmt: &'s Stmt,
    /// Bytes sent so far.
    offset: u64,
    /// Whether the next step is the pause (after a piece) or a piece.
    pause_next: bool,
}

impl<'s> Dripping<'s> {
    /// The bytes, the pace (drawn anew for each pause when it is a
    /// `between`), and the `h2 data` frame they go in, if they do.
    fn parts(&self) -> Option<(&'s Payload, &'s Drip, Option<&'s H2Frame>)> {
        match self.stmt {
            Stmt::Write {
                payload,
                every: Some(drip),
            } => Some((payload, drip, None)),
            Stmt::H2(
                frame @ H2Frame::Data {
                    payload,
                    every: Some(drip),
                    ..
                },
            ) => Some((payload, drip, Some(frame))),
            _ => None,
        }
    }
}

#[derive(Debug)]
pub struct Interp<'s> {
    scenario: &'s Scenario,
    stack: Vec<Frame<'s>>,
    /// This connection's number since the server started, from 1.
    connection: u64,
    /// Requests read on this connection so far.
    requests: u64,
    last_request: Option<RequestInfo>,
    /// Requests the whole server had read when this connection's last
    /// one arrived (see [`Interp::note_server_request`]).
    server_requests: u64,
    /// The head of the upstream response the last relay carried.
    last_response: Option<Box<Head>>,
    /// The `else` of the read in progress.
    on_timeout: Option<&'s Stmt>,
    drip: Option<Dripping<'s>>,
    /// Statements run since the last step that did I/O; `log` does not
    /// count as I/O, so this spans calls to `next`.
    since_io: usize,
    /// Steps that cost nothing, since the last one that did I/O.
    free_in_a_row: usize,
    /// The read in progress is `read 0 bytes`: its `ReadDone` is no input.
    reading_nothing: bool,
    /// The script half-closed: another `half-close` does nothing.
    half_closed: bool,
    /// A request was refused: its bytes are still first in line, so a
    /// later `read request` would refuse them again, for ever.
    refused: bool,
    /// The step after the `log` that explains it.
    pending_end: Option<Finish>,
    /// What `chance` and `between` need; `None` for a script
    /// without them, which is most, so that they cost one word (the
    /// performance docs promise a small connection).
    chance: Option<Box<Chances>>,
}

/// A connection's draws by chance (see [`crate::chance`]).
#[derive(Debug, Default)]
struct Chances {
    seed: u64,
    /// For each chance site: the request it last drew for, and how many
    /// times it drew for that request.
    draws: Vec<(u64, u64)>,
    /// Choices made by the last `if`, still to log, the next one last.
    choices: Vec<Choice>,
}

impl<'s> Interp<'s> {
    pub fn new(scenario: &'s Scenario, connection: u64) -> Interp<'s> {
        Interp {
            scenario,
            stack: vec![Frame {
                body: &scenario.body,
                next: 0,
                repeats_left: Some(0),
            }],
            connection,
            requests: 0,
            last_request: None,
            server_requests: 0,
            last_response: None,
            on_timeout: None,
            drip: None,
            since_io: 0,
            free_in_a_row: 0,
            reading_nothing: false,
            half_closed: false,
            refused: false,
            pending_end: None,
            chance: (scenario.chance_sites > 0).then(|| {
                Box::new(Chances {
                    draws: vec![(0, 0); scenario.chance_sites as usize],
                    ..Chances::default()
                })
            }),
        }
    }

    /// Draw by chance from `seed` (without it, from seed 0).
    pub fn with_seed(mut self, seed: u64) -> Interp<'s> {
        if let Some(chance) = self.chance.as_mut() {
            chance.seed = seed;
        }
        self
    }

    /// The chance state, which a script with a chance site has.
    fn chances(&mut self) -> &mut Chances {
        self.chance.get_or_insert_with(Box::default)
    }

    /// The scenario this interpreter runs.
    pub fn scenario(&self) -> &'s Scenario {
        self.scenario
    }

    /// Whether the scenario talks to an upstream.
    pub fn proxies(&self) -> bool {
        self.scenario.proxies
    }

    /// Whether the scenario has a `read body`: a head-only request's body
    /// reader is kept for it.
    pub fn reads_body(&self) -> bool {
        self.scenario.reads_body
    }

    /// Whether the scenario tests request headers (see `RequestReader`).
    pub fn uses_headers(&self) -> bool {
        self.scenario.uses_headers
    }

    /// Why the script ended as [`Finish::Stuck`], for the `stuck` event.
    pub fn why_stuck(&self) -> &'static str {
        if self.free_in_a_row > FREE_STEP_LIMIT {
            &FREE_SPIN_WHY
        } else {
            &SPIN_WHY
        }
    }

    /// The request just read is the `n`th the whole server has read: for
    /// `server request` conditions, which count across connections.
    pub fn note_server_request(&mut self, n: u64) {
        self.server_requests = n;
    }

    /// Whether the last request read was a HEAD (its response has no body).
    pub fn last_was_head(&self) -> bool {
        self.last_request.as_ref().is_some_and(|r| r.method == b"HEAD")
    }

    /// Requests read on this connection so far.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Take in what happened and answer what to do next.
    pub fn next(&mut self, event: Event, now: Instant) -> Step<'s> {
        if let Some(ending) = self.pending_end.take() {
            return Step::Finish(ending);
        }
        if let Some(choice) = self.chance.as_mut().and_then(|c| c.choices.pop()) {
            return Step::Chance(choice);
        }
        let on_timeout = self.on_timeout.take();
        let reading_nothing = std::mem::take(&mut self.reading_nothing);
        match event {
            Event::Start | Event::Done => {}
            Event::ReadDone => {
                if !reading_nothing {
                    self.input_arrived();
                }
            }
            Event::BodyRead(bytes) => {
                // A `read body` with nothing left is free, like `read 0 bytes`.
                if bytes > 0 {
                    self.input_arrived();
                }
            }
            Event::Request(info) => {
                self.requests += 1;
                self.last_request = Some(info);
                // A `read … within 0` that found a request did real work.
                self.input_arrived();
            }
            Event::TimedOut => {
                if let Some(stmt) = on_timeout {
                    self.push_block(std::slice::from_ref(stmt), Some(0));
                }
            }
            Event::Forwarded => {}
            Event::TlsHello => self.input_arrived(),
            Event::NotHttp2 => {
                // The script speaks HTTP/2 and the client HTTP/1.1: it
                // ends, and the client is told so in its own protocol.
                self.stack.clear();
                self.drip = None;
                self.input_arrived();
                self.push_block(NOT_HTTP2.as_slice(), Some(0));
            }
            Event::BadTlsHello => {
                // Nothing of the script can make sense of a peer that does
                // not speak TLS: it ends, and running off its end closes.
                self.stack.clear();
                self.drip = None;
                self.input_arrived();
            }
            Event::Relayed(head) => {
                self.input_arrived();
                if let Some(head) = head {
                    // Boxed: only a proxying connection pays for it.
                    self.last_response = Some(Box::new(head));
                }
            }
            Event::UpstreamFailed => {
                // As a bad request does, the handler replaces the script.
                self.stack.clear();
                self.drip = None;
                self.input_arrived();
                self.push_block(&self.scenario.on_upstream_error, Some(0));
            }
            Event::BadRequest(bad) => {
                // The handler replaces the rest of the script, as Node's
                // clientError replaces the request handler.
                self.stack.clear();
                self.drip = None;
                self.refused = true;
                self.input_arrived();
                let handler = match bad {
                    BadRequest::Malformed(_) => &self.scenario.on_bad_request,
                    BadRequest::HeadersTooLarge => &self.scenario.on_headers_too_large,
                    BadRequest::ChunkExtensionsTooLarge => &self.scenario.on_chunk_extensions_too_large,
                };
                self.push_block(handler, Some(0));
            }
        }
        if let Some(step) = self.next_drip(now) {
            return step;
        }
        self.run(now)
    }

    /// Input was read: the script is making progress.
    fn input_arrived(&mut self) {
        self.since_io = 0;
        self.free_in_a_row = 0;
    }

    /// Whether `step` surely does no I/O and takes no time, so that a loop
    /// of it would spin: `sleep 0us`, `read 0 bytes`, a read whose time
    /// limit is already over or a `read body` (each counts as I/O after all
    /// if input arrives, see `next`: a body may have nothing left), a
    /// `half-close` after a `half-close`, an empty `write`.
    fn costs_nothing(&self, step: &Step, now: Instant) -> bool {
        match step {
            Step::Sleep { until } => *until <= now,
            Step::Read {
                goal: ReadGoal::Bytes(0) | ReadGoal::Body { .. },
                ..
            } => true,
            Step::Read { deadline, .. } => deadline.is_some_and(|d| d <= now),
            Step::HalfClose => self.half_closed,
            Step::Write(payload) => payload.is_empty(),
            Step::Respond { .. } | Step::H2(_) | Step::H2Data { .. } => false,
            Step::Forward(Forward::Bytes(0)) => true,
            Step::Relay(Relay {
                what: RelayWhat::Bytes(0),
                ..
            }) => true,
            // A cut says what later writes may send; it writes nothing.
            Step::TlsCut(_) => true,
            Step::Log(_)
            | Step::Chance(_)
            | Step::Finish(_)
            | Step::Forward(_)
            | Step::Relay(_)
            | Step::Upstream(_)
            | Step::TlsAlert(_)
            | Step::TlsHandshake(_)
            | Step::TlsCloseNotify => false,
        }
    }

    fn push_block(&mut self, body: &'s [Stmt], repeats_left: Option<u64>) {
        self.stack.push(Frame {
            body,
            next: 0,
            repeats_left,
        });
    }

    fn next_drip(&mut self, now: Instant) -> Option<Step<'s>> {
        let drip = self.drip.as_mut()?;
        let Some((payload, pace, h2)) = drip.parts() else {
            self.drip = None;
            return None;
        };
        if drip.pause_next {
            drip.pause_next = false;
            return Some(Step::Sleep {
                until: now + self.length(&pace.every),
            });
        }
        let piece = payload.slice(drip.offset, pace.piece);
        if piece.is_empty() {
            self.drip = None;
            return None;
        }
        drip.offset += piece.len();
        drip.pause_next = drip.offset < payload.len();
        Some(match h2 {
            Some(frame) => Step::H2Data {
                frame,
                piece: Cow::Owned(piece),
                last: !drip.pause_next,
            },
            None => Step::Write(Cow::Owned(piece)),
        })
    }

    /// Run statements until one needs the connection.
    fn run(&mut self, now: Instant) -> Step<'s> {
        while self.since_io < SPIN_LIMIT {
            self.since_io += 1;
            let Some(frame) = self.stack.last_mut() else {
                // A script that runs off its end closes gracefully.
                return Step::Finish(Finish::Close {
                    drain: true,
                    notify: true,
                });
            };
            if frame.next == frame.body.len() {
                match frame.repeats_left {
                    Some(0) => {
                        self.stack.pop();
                    }
                    Some(n) => {
                        frame.repeats_left = Some(n - 1);
                        frame.next = 0;
                    }
                    None => frame.next = 0,
                }
                continue;
            }
            let stmt = &frame.body[frame.next];
            frame.next += 1;
            if let Some(step) = self.exec(stmt, now) {
                if self.costs_nothing(&step, now) {
                    // Not I/O: `since_io` goes on counting too.
                    self.free_in_a_row += 1;
                    if self.free_in_a_row > FREE_STEP_LIMIT {
                        self.pending_end = Some(Finish::Stuck);
                        return Step::Log(&FREE_SPIN_WHY);
                    }
                } else if !matches!(step, Step::Log(_) | Step::Chance(_)) {
                    self.since_io = 0;
                    self.free_in_a_row = 0;
                }
                if matches!(step, Step::HalfClose) {
                    self.half_closed = true;
                }
                return step;
            }
        }
        Step::Finish(Finish::Stuck)
    }

    /// Run one statement: a step for the connection, or `None` when it only
    /// changed the control flow.
    fn exec(&mut self, stmt: &'s Stmt, now: Instant) -> Option<Step<'s>> {
        Some(match stmt {
            Stmt::Read {
                what,
                within,
                on_timeout,
            } => {
                if self.refused && matches!(what, ReadGoal::Request | ReadGoal::Head) {
                    self.pending_end = Some(Finish::Close {
                        drain: true,
                        notify: true,
                    });
                    return Some(Step::Log(REREAD_WHY));
                }
                self.on_timeout = on_timeout.as_deref();
                self.reading_nothing = *what == ReadGoal::Bytes(0);
                Step::Read {
                    goal: *what,
                    // Drawn when the read starts, as a sleep is.
                    deadline: within.as_ref().map(|within| now + self.length(within)),
                }
            }
            Stmt::Write { payload, every: None } => Step::Write(Cow::Borrowed(payload)),
            Stmt::Write { every: Some(_), .. } => {
                self.drip = Some(Dripping {
                    stmt,
                    offset: 0,
                    pause_next: false,
                });
                return self.next_drip(now);
            }
            Stmt::Respond(response) => {
                let head_request = self.last_request.as_ref().is_some_and(|r| r.method == b"HEAD");
                let to = if head_request {
                    crate::scenario::respond::Request::Head
                } else {
                    crate::scenario::respond::Request::Other
                };
                Step::Respond { response, to }
            }
            Stmt::Sleep(interval) => Step::Sleep {
                until: now + self.length(interval),
            },
            Stmt::Close { drain, notify } => Step::Finish(Finish::Close {
                drain: *drain,
                notify: *notify,
            }),
            Stmt::Reset => Step::Finish(Finish::Reset),
            Stmt::HalfClose => Step::HalfClose,
            Stmt::Hang => Step::Finish(Finish::Hang),
            Stmt::Log(message) => Step::Log(message),
            Stmt::Forward(forward) => Step::Forward(*forward),
            Stmt::Relay(relay) => Step::Relay(*relay),
            Stmt::Upstream(end) => Step::Upstream(*end),
            // Plain bytes before a handshake (built at parse time), sealed
            // after one: the connection knows which.
            Stmt::TlsAlert(alert) => Step::TlsAlert(alert),
            Stmt::TlsHandshake(handshake) => Step::TlsHandshake(handshake),
            Stmt::TlsCloseNotify => Step::TlsCloseNotify,
            Stmt::TlsCut(n) => Step::TlsCut(*n),
            Stmt::H2(H2Frame::Data { every: Some(_), .. }) => {
                self.drip = Some(Dripping {
                    stmt,
                    offset: 0,
                    pause_next: false,
                });
                return self.next_drip(now);
            }
            Stmt::H2(frame @ H2Frame::Data { payload, .. }) => Step::H2Data {
                frame,
                piece: Cow::Borrowed(payload),
                last: true,
            },
            Stmt::H2(frame) => Step::H2(frame),
            Stmt::Loop { times, body } => {
                match times {
                    Some(0) => {}
                    Some(n) => self.push_block(body, Some(n - 1)),
                    None => self.push_block(body, None),
                }
                return None;
            }
            Stmt::If { branches, otherwise } => {
                let chosen = branches
                    .iter()
                    .find(|(cond, _)| self.holds(cond))
                    .map(|(_, body)| body)
                    .unwrap_or(otherwise);
                self.push_block(chosen, Some(0));
                // The choices, in the order drawn, before the branch runs.
                let chance = self.chance.as_mut()?;
                chance.choices.reverse();
                return chance.choices.pop().map(Step::Chance);
            }
        })
    }

    /// How long `interval` lasts this time: as written, or drawn.
    fn length(&mut self, interval: &Interval) -> Duration {
        match interval {
            Interval::Fixed(duration) => *duration,
            Interval::Drawn(between) => self.draw(between.site).between(between.low, between.high),
        }
    }

    /// The next draw of chance site `site` for the current request.
    fn draw(&mut self, site: u32) -> Draw {
        let (connection, request) = (self.connection, self.requests);
        let chance = self.chances();
        let site_index = site as usize;
        if chance.draws.len() <= site_index {
            chance.draws.resize(site_index + 1, (0, 0));
        }
        let (drawn_for, nth) = &mut chance.draws[site_index];
        if *drawn_for != request {
            *drawn_for = request;
            *nth = 0;
        }
        let draw = Draw {
            seed: chance.seed,
            connection,
            request,
            site,
            nth: *nth,
        };
        *nth += 1;
        draw
    }

    /// Decide `chance` and remember the choice for the log.
    fn chance(&mut self, odds: &Odds) -> bool {
        let yes = self.draw(odds.site).holds(odds.hits, odds.of);
        let request = self.requests;
        self.chances().choices.push(Choice {
            hits: odds.hits,
            of: odds.of,
            request,
            yes,
        });
        yes
    }

    fn holds(&mut self, cond: &Cond) -> bool {
        if let Cond::Atom(Atom::Chance(odds)) = cond {
            return self.chance(odds);
        }
        match cond {
            Cond::Not(inner) => !self.holds(inner),
            Cond::And(a, b) => self.holds(a) && self.holds(b),
            Cond::Or(a, b) => self.holds(a) || self.holds(b),
            Cond::Atom(atom) => {
                let last = self.last_request.as_ref();
                match atom {
                    Atom::Request(cmp, n) => cmp.holds(self.requests, *n),
                    Atom::Connection(cmp, n) => cmp.holds(self.connection, *n),
                    Atom::Method(m) => last.is_some_and(|r| r.method.eq_ignore_ascii_case(m)),
                    Atom::Path(test) => last.is_some_and(|r| test.holds(&r.path)),
                    Atom::Header(name, value) => last
                        .and_then(|r| r.header(name))
                        .is_some_and(|v| value.as_ref().is_none_or(|want| v == want.as_slice())),
                    Atom::ServerRequest(cmp, n) => cmp.holds(self.server_requests, *n),
                    Atom::UpstreamStatus(cmp, n) => self
                        .last_response
                        .as_ref()
                        .is_some_and(|h| cmp.holds(u64::from(h.status), *n)),
                    Atom::UpstreamLength(cmp, n) => self
                        .last_response
                        .as_ref()
                        .and_then(|h| match h.framing {
                            Framing::Length(length) => Some(length),
                            _ => h.header("content-length").and_then(|v| v.trim().parse().ok()),
                        })
                        .is_some_and(|length| cmp.holds(length, *n)),
                    Atom::UpstreamHeader(name, value) => {
                        let name = String::from_utf8_lossy(name);
                        self.last_response
                            .as_ref()
                            .and_then(|h| h.header(&name))
                            .is_some_and(|v| value.as_ref().is_none_or(|want| v.as_bytes() == want.as_slice()))
                    }
                    Atom::Chance(_) => unreachable!("decided above, with `&mut self`"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parser::parse;
    use std::collections::BTreeMap;

    fn scenario(src: &str) -> Scenario {
        parse(src, &BTreeMap::new()).unwrap()
    }

    fn request(method: &str, path: &str) -> Event {
        Event::Request(RequestInfo {
            method: method.as_bytes().to_vec(),
            path: path.as_bytes().to_vec(),
            ..RequestInfo::default()
        })
    }

    fn written(step: Step) -> Vec<u8> {
        match step {
            Step::Write(payload) => payload.to_vec(),
            Step::Respond { response, to } => response.wire(to).to_vec(),
            // Before any handshake, an alert is its plaintext record.
            Step::TlsAlert(alert) => alert.wire.to_vec(),
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn keepalive_then_reset_on_second_request() {
        let s = scenario("loop\n read request\n if request >= 2\n  reset\n end\n respond 200 body \"ok\"\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        assert!(matches!(
            i.next(Event::Start, now),
            Step::Read {
                goal: ReadGoal::Request,
                ..
            }
        ));
        let reply = written(i.next(request("GET", "/"), now));
        assert_eq!(reply, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert!(matches!(i.next(Event::Done, now), Step::Read { .. }));
        assert_eq!(i.next(request("GET", "/"), now), Step::Finish(Finish::Reset));
    }

    #[test]
    fn read_timeout_runs_else_and_deadline_is_relative_to_now() {
        let s = scenario("read request within 5s else close\nrespond 200\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        assert_eq!(
            i.next(Event::Start, now),
            Step::Read {
                goal: ReadGoal::Request,
                deadline: Some(now + Duration::from_secs(5))
            }
        );
        assert_eq!(
            i.next(Event::TimedOut, now),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
    }

    #[test]
    fn timeout_without_else_goes_on() {
        let s = scenario("read request within 5s\nreset\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(i.next(Event::TimedOut, now), Step::Finish(Finish::Reset));
    }

    #[test]
    fn loop_times_and_running_off_the_end() {
        let s = scenario("loop 2 times\n write \"a\"\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        assert_eq!(written(i.next(Event::Start, now)), b"a");
        assert_eq!(written(i.next(Event::Done, now)), b"a");
        assert_eq!(
            i.next(Event::Done, now),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
    }

    #[test]
    fn connection_every_third() {
        let s = scenario("if connection every 3\n reset\nend\nclose\n");
        let now = Instant::now();
        let ends: Vec<Step> = (1..=6).map(|n| Interp::new(&s, n).next(Event::Start, now)).collect();
        let resets = ends.iter().filter(|s| **s == Step::Finish(Finish::Reset)).count();
        assert_eq!(resets, 2);
        assert_eq!(ends[2], Step::Finish(Finish::Reset));
    }

    #[test]
    fn method_path_and_header_conditions() {
        let s = scenario(
            "read request\nif method is POST and path starts-with \"/up\"\n reset\nelse if header \"x-a\" is \"1\"\n hang\nelse\n close now\nend\n",
        );
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(i.next(request("POST", "/upload"), now), Step::Finish(Finish::Reset));
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let with_header = Event::Request(RequestInfo {
            method: b"GET".to_vec(),
            headers: vec![(b"x-a".to_vec(), b"1".to_vec())],
            ..RequestInfo::default()
        });
        assert_eq!(i.next(with_header, now), Step::Finish(Finish::Hang));
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(
            i.next(request("GET", "/"), now),
            Step::Finish(Finish::Close {
                drain: false,
                notify: true
            })
        );
    }

    #[test]
    fn bad_request_runs_node_default_then_closes() {
        let s = scenario("read request\nrespond 200\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let reply = written(i.next(Event::BadRequest(BadRequest::Malformed("x".into())), now));
        assert_eq!(reply, b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
        assert_eq!(
            i.next(Event::Done, now),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let reply = written(i.next(Event::BadRequest(BadRequest::HeadersTooLarge), now));
        assert!(reply.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }

    #[test]
    fn custom_bad_request_handler() {
        let s = scenario("on bad-request\n reset\nend\nread request\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(
            i.next(Event::BadRequest(BadRequest::Malformed("x".into())), now),
            Step::Finish(Finish::Reset)
        );
    }

    #[test]
    fn a_tls_hello_then_an_alert_then_close() {
        let s = scenario("read tls-hello within 2s else reset\ntls alert handshake_failure\nclose\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        assert_eq!(
            i.next(Event::Start, now),
            Step::Read {
                goal: ReadGoal::TlsHello,
                deadline: Some(now + Duration::from_secs(2))
            }
        );
        assert_eq!(written(i.next(Event::TlsHello, now)), [0x15, 3, 3, 0, 2, 2, 40]);
        assert_eq!(
            i.next(Event::Done, now),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(i.next(Event::TimedOut, now), Step::Finish(Finish::Reset));
    }

    #[test]
    fn no_tls_hello_ends_the_script_with_a_close() {
        let s = scenario("loop\n read tls-hello\n tls alert internal_error\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        assert_eq!(
            i.next(Event::BadTlsHello, now),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
    }

    #[test]
    fn drip_alternates_bytes_and_pauses() {
        let s = scenario("write \"abc\" every 10ms\nreset\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        let mut steps = vec![i.next(Event::Start, now)];
        while !matches!(steps.last(), Some(Step::Finish(_))) {
            steps.push(i.next(Event::Done, now));
        }
        let shape: Vec<String> = steps
            .iter()
            .map(|s| match s {
                Step::Write(p) => String::from_utf8(p.to_vec()).unwrap(),
                Step::Respond { response, to } => String::from_utf8(response.wire(*to).to_vec()).unwrap(),
                Step::Sleep { .. } => "_".into(),
                Step::Finish(_) => "end".into(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(shape, ["a", "_", "b", "_", "c", "end"]);
    }

    #[test]
    fn h2_data_drips_a_frame_per_piece_and_ends_the_stream_with_the_last() {
        let s = scenario("read request\nh2 data \"abcde\" 2 bytes every 10ms end-stream\nh2 goaway\nrespond 200\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        assert!(matches!(i.next(Event::Start, now), Step::Read { .. }));
        let mut shape = Vec::new();
        let mut step = i.next(request("GET", "/"), now);
        while !matches!(step, Step::Finish(_)) {
            shape.push(match &step {
                Step::H2Data { piece, last, .. } => format!(
                    "{}{}",
                    String::from_utf8(piece.to_vec()).unwrap(),
                    if *last { "!" } else { "" }
                ),
                Step::Sleep { .. } => "_".into(),
                Step::H2(H2Frame::GoAway { .. }) => "goaway".into(),
                Step::Respond { response, .. } => format!("respond {}", response.status),
                other => format!("{other:?}"),
            });
            step = i.next(Event::Done, now);
        }
        assert_eq!(shape, ["ab", "_", "cd", "_", "e!", "goaway", "respond 200"]);
    }

    #[test]
    fn a_drip_with_a_size_sends_pieces_of_it() {
        let shape = |src: &str| {
            let s = scenario(src);
            let now = Instant::now();
            let mut i = Interp::new(&s, 1);
            let mut steps = vec![i.next(Event::Start, now)];
            while !matches!(steps.last(), Some(Step::Finish(_))) {
                steps.push(i.next(Event::Done, now));
            }
            steps
                .iter()
                .map(|s| match s {
                    Step::Write(p) => String::from_utf8(p.to_vec()).unwrap(),
                    Step::Respond { response, to } => String::from_utf8(response.wire(*to).to_vec()).unwrap(),
                    Step::Sleep { .. } => "_".into(),
                    Step::Finish(_) => "end".into(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shape("write \"abcdefg\" 3 bytes every 10ms\n"),
            ["abc", "_", "def", "_", "g", "end"]
        );
        assert_eq!(shape("write \"ab\" 64KiB every 10ms\n"), ["ab", "end"]);
        // Pieces cut across values and through a repeat.
        assert_eq!(
            shape("param n = 4\nwrite \"x\" repeat 3 \"ab\" hex \"21\" $n every 1ms\n"),
            ["xaba", "_", "bab!", "end"]
        );
    }

    #[test]
    fn respond_chunked_and_head() {
        let s = scenario("read request\nrespond 200 header \"X: y\" body \"hello\" chunked\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let reply = written(i.next(request("GET", "/"), now));
        assert_eq!(
            reply,
            b"HTTP/1.1 200 OK\r\nX: y\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        );
        let s = scenario("read request\nrespond 200 body \"hello\"\n");
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let reply = written(i.next(request("HEAD", "/"), now));
        assert_eq!(reply, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    }

    #[test]
    fn the_reasons_for_stuck_say_the_limits() {
        assert!(SPIN_WHY.starts_with("the script ran 10000 statements"), "{}", *SPIN_WHY);
        assert!(FREE_SPIN_WHY.starts_with("100 steps in a row"), "{}", *FREE_SPIN_WHY);
    }

    #[test]
    fn a_loop_without_io_is_stuck_not_frozen() {
        let s = scenario("loop\n log \"x\"\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        let mut logs = 0;
        while i.next(Event::Done, now) == Step::Log("x") {
            logs += 1;
        }
        assert!(logs < SPIN_LIMIT, "a log-only loop ends as stuck");
        let s = scenario("loop\n if request is 9\n  reset\n end\nend\n");
        let mut i = Interp::new(&s, 1);
        assert_eq!(i.next(Event::Start, now), Step::Finish(Finish::Stuck));
    }

    /// Feed `Done` (or what a free step reports) until the script ends;
    /// the ending and the last line it logged.
    fn run_to_end<'s>(i: &mut Interp<'s>, now: Instant, limit: usize) -> (Finish, Option<&'s str>) {
        let mut step = i.next(Event::Start, now);
        let mut last_log = None;
        for _ in 0..limit {
            let event = match step {
                Step::Finish(ending) => return (ending, last_log),
                Step::Log(message) => {
                    last_log = Some(message);
                    Event::Done
                }
                Step::Read {
                    goal: ReadGoal::Bytes(0),
                    ..
                } => Event::ReadDone,
                Step::Read { .. } => Event::TimedOut,
                _ => Event::Done,
            };
            step = i.next(event, now);
        }
        panic!("still running after {limit} steps: {step:?}");
    }

    #[test]
    fn loops_of_free_steps_end_as_stuck_after_saying_why() {
        let now = Instant::now();
        for body in [
            "sleep 0us",
            "read 0 bytes",
            "read request within 0us",
            "read head within 0ms",
            "half-close",
            "sleep 0us\n log \"x\"",
        ] {
            let s = scenario(&format!("loop\n {body}\nend\n"));
            let (ending, last_log) = run_to_end(&mut Interp::new(&s, 1), now, 1_000);
            assert_eq!(ending, Finish::Stuck, "{body}");
            assert_eq!(last_log, Some(FREE_SPIN_WHY.as_str()), "{body}");
        }
    }

    #[test]
    fn free_steps_between_real_ones_are_fine() {
        let now = Instant::now();
        // One real write in each pass: never stuck, however many passes.
        let s = scenario("loop 1000 times\n sleep 0us\n read 0 bytes\n write \"x\"\nend\n");
        let (ending, _) = run_to_end(&mut Interp::new(&s, 1), now, 10_000);
        assert_eq!(
            ending,
            Finish::Close {
                drain: true,
                notify: true,
            }
        );
        // A first half-close is I/O; a real sleep is not free.
        let s = scenario("loop 500 times\n sleep 1ms\n half-close\nend\n");
        let (ending, _) = run_to_end(&mut Interp::new(&s, 1), now, 10_000);
        assert_eq!(
            ending,
            Finish::Close {
                drain: true,
                notify: true,
            }
        );
    }

    #[test]
    fn a_read_within_zero_that_finds_a_request_is_progress() {
        let s = scenario("loop\n read request within 0us\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        for _ in 0..10 * FREE_STEP_LIMIT {
            assert!(matches!(i.next(request("GET", "/"), now), Step::Read { .. }));
        }
    }

    #[test]
    fn a_read_body_is_progress_only_when_it_finds_bytes() {
        let s = scenario("read head\nloop\n read body max 1\nend\n");
        let now = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let body_read = Step::Read {
            goal: ReadGoal::Body { max: Some(1) },
            deadline: None,
        };
        assert_eq!(i.next(request("POST", "/"), now), body_read);
        // A byte at a time, for as long as the body lasts.
        for _ in 0..10 * FREE_STEP_LIMIT {
            assert_eq!(i.next(Event::BodyRead(1), now), body_read);
        }
        // Then nothing is left: a loop of empty reads is stuck.
        let mut empty = 0;
        let step = loop {
            empty += 1;
            let step = i.next(Event::BodyRead(0), now);
            if step != body_read {
                break step;
            }
        };
        assert_eq!((step, empty), (Step::Log(&FREE_SPIN_WHY), FREE_STEP_LIMIT));
    }

    #[test]
    fn a_read_request_after_a_bad_request_closes_instead_of_rereading() {
        let now = Instant::now();
        for handler in ["read request", "loop\n  read request\n end", "read head\n respond 200"] {
            let s = scenario(&format!(
                "on bad-request\n write \"no\"\n {handler}\nend\nread request\n"
            ));
            let mut i = Interp::new(&s, 1);
            i.next(Event::Start, now);
            let step = i.next(Event::BadRequest(BadRequest::Malformed("x".into())), now);
            assert_eq!(written(step), b"no");
            assert_eq!(i.next(Event::Done, now), Step::Log(REREAD_WHY), "{handler}");
            assert_eq!(
                i.next(Event::Done, now),
                Step::Finish(Finish::Close {
                    drain: true,
                    notify: true,
                })
            );
        }
        // Raw reads are still allowed: they take the refused bytes.
        let s = scenario("on bad-request\n read 3 bytes\n reset\nend\nread request\n");
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, now);
        let step = i.next(Event::BadRequest(BadRequest::Malformed("x".into())), now);
        assert!(matches!(
            step,
            Step::Read {
                goal: ReadGoal::Bytes(3),
                ..
            }
        ));
        assert_eq!(i.next(Event::ReadDone, now), Step::Finish(Finish::Reset));
    }

    #[test]
    fn a_chance_is_logged_before_its_branch_and_replays_by_seed() {
        let s = scenario("loop\n read request\n if chance 1 in 2\n  reset\n end\n sleep between 0ms and 1s\nend\n");
        let start = Instant::now();
        // A connection's steps as text, its requests `gap` apart.
        let run = |seed: u64, gap: Duration| {
            let mut i = Interp::new(&s, 5).with_seed(seed);
            let mut now = start;
            let mut step = i.next(Event::Start, now);
            let mut seen = Vec::new();
            for _ in 0..40 {
                let event = match step {
                    Step::Read { .. } => {
                        now += gap;
                        request("GET", "/")
                    }
                    Step::Chance(choice) => {
                        seen.push(format!(
                            "{}/{} #{} {}",
                            choice.hits, choice.of, choice.request, choice.yes
                        ));
                        Event::Done
                    }
                    Step::Sleep { until } => {
                        seen.push(format!("{:?}", until - now));
                        Event::Done
                    }
                    Step::Finish(ending) => {
                        seen.push(format!("{ending:?}"));
                        break;
                    }
                    other => panic!("{other:?}"),
                };
                step = i.next(event, now);
            }
            seen
        };
        let seen = run(7, Duration::ZERO);
        assert_eq!(seen, run(7, Duration::from_secs(3)), "the timing changes nothing");
        assert!(seen[0].starts_with("1/2 #1 "), "{seen:?}");
        if seen[0].ends_with("true") {
            assert_eq!(seen[1], "Reset");
        }
        let other_seeds: Vec<Vec<String>> = (8..12).map(|seed| run(seed, Duration::ZERO)).collect();
        assert!(
            other_seeds.iter().any(|other| *other != seen),
            "other seeds, other choices"
        );
    }

    #[test]
    fn every_and_within_between_draw_in_range_and_replay_by_seed() {
        let s = scenario(
            "loop 3 times\n read request within between 20ms and 40ms else close\n write \"abcdef\" every between 1ms and 30ms\nend\n",
        );
        let start = Instant::now();
        // The read's time limits and the drip's pauses of connection 3,
        // its requests `gap` apart.
        let run = |seed: u64, gap: Duration| {
            let mut i = Interp::new(&s, 3).with_seed(seed);
            let mut now = start;
            let (mut limits, mut pauses) = (Vec::new(), Vec::new());
            let mut step = i.next(Event::Start, now);
            loop {
                let event = match step {
                    Step::Read { deadline, .. } => {
                        limits.push(deadline.expect("a time limit") - now);
                        now += gap;
                        request("GET", "/")
                    }
                    Step::Sleep { until } => {
                        pauses.push(until - now);
                        now = until;
                        Event::Done
                    }
                    Step::Write(_) | Step::Respond { .. } => Event::Done,
                    Step::Finish(_) => break,
                    other => panic!("{other:?}"),
                };
                step = i.next(event, now);
            }
            (limits, pauses)
        };
        let (limits, pauses) = run(7, Duration::ZERO);
        assert_eq!((limits.len(), pauses.len()), (3, 15));
        let ms = Duration::from_millis;
        assert!(limits.iter().all(|d| (ms(20)..=ms(40)).contains(d)), "{limits:?}");
        assert!(pauses.iter().all(|d| (ms(1)..=ms(30)).contains(d)), "{pauses:?}");
        assert!(pauses.iter().any(|d| *d != pauses[0]), "drawn anew: {pauses:?}");
        assert_eq!(
            run(7, ms(500)),
            (limits.clone(), pauses.clone()),
            "the timing changes nothing"
        );
        let other = run(8, Duration::ZERO);
        assert!(other.0 != limits && other.1 != pauses, "another seed, other draws");
    }

    #[test]
    fn hours_of_scenario_time_in_microseconds() {
        let s = scenario("param after = 120s\nread request\nsleep $after\nclose\n");
        let start = Instant::now();
        let mut i = Interp::new(&s, 1);
        i.next(Event::Start, start);
        let Step::Sleep { until } = i.next(request("GET", "/"), start) else {
            panic!()
        };
        assert_eq!(until - start, Duration::from_secs(120));
        assert_eq!(
            i.next(Event::Done, until),
            Step::Finish(Finish::Close {
                drain: true,
                notify: true,
            })
        );
    }
}
