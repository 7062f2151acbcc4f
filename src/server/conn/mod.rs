//! One accepted connection: its client side, its script, and the state the
//! script's current step is in.
//!
//! The interpreter ([`Interp`]) answers what to do next as a [`Step`];
//! [`Conn::apply`] turns each step into a [`State`]: a type that owns what
//! the step needs (a request reader, the bytes to write, a pacer) and is
//! lent the rest as arguments — the [`Client`] side, the upstream side, the
//! turn's time and log ([`Cx`]). A state's `progress` comes to a
//! [`Progress`]: wait for the socket or a deadline, the step is over (an
//! [`Event`] for the interpreter), become another state, let the catalog
//! choose another script, or end the connection ([`ending::Ending`]).
//! [`Conn::drive`] loops over that until the connection must wait.
//!
//! One file per state, so that a step can be followed in one place:
//! [`writing`] (`write`), [`reading`] (`read request`, `read head`, `read
//! body`, `read N bytes`, `read until eof`), [`route`] (the catalog's
//! choice by path), [`ending`] (`reset` after the send queue empties,
//! `close`, the last log line), and [`proxy`] for the upstream side
//! (connect, `forward`, `relay`, `relay both`). [`client`] is the accepted
//! socket and the input read ahead of the script.
//!
//! The connection is driven by the event loop as a [`Session`]: `on_event`
//! (readiness on either side) and `on_wake` (the time it asked for came).
//! It answers [`Flow::Closed`] once its sockets are gone.

mod client;
mod ending;
mod h2;
mod handshake;
mod proxy;
mod reading;
mod request;
mod route;
mod writing;

use std::borrow::Cow;
use std::ops::ControlFlow;
use std::time::Instant;

use mio::event::Event as Readiness;
use mio::net::TcpStream;

use super::turn::{Shared, Turn};
use crate::end::End;
use crate::interp::{Event, Finish, Interp, Step};
use crate::log::{Field, Log};
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, PollAt, Session, Side};
use crate::scenario::Scenario;
use crate::scenario::ast::{Payload, Piece, ReadGoal};
use crate::transport::Transport;
use client::Client;
use ending::{Drain, Ending, Flushing, Lingering};
use h2::{H2Reading, H2Sending};
use handshake::Handshaking;
use proxy::{Both, Connecting, Forwarding, ProxySide, Relaying};
use reading::Reading;
use route::Routing;
use writing::Writing;

/// Steps one connection may take per wake-up before it lets the others
/// run: a client that always has its next request ready must not keep the
/// loop to itself.
const STEPS_PER_TURN: usize = 32;

/// What the connection is doing for the current step. Each variant is
/// entered by [`Conn::apply`] (or by another state's
/// [`Progress::Become`]) and left when its progress says so.
enum State<'s> {
    /// `write`: until the kernel has taken every byte.
    Writing(Writing<'s>),
    /// `read …`: until the goal is read, the peer leaves, or the deadline.
    Reading(Reading),
    /// `sleep`, and the instant pause after a step that needs no I/O.
    Sleeping { until: Instant },
    /// `reset`: the RST waits for the written bytes to leave.
    Flushing(Flushing),
    /// A close after our FIN waits for the peer's (HTTP/2's GOAWAY and
    /// close, when the client broke the rules).
    Lingering(Lingering),
    /// `hang`: input is thrown away until the peer leaves.
    Hanging,
    /// `tls handshake`: until the handshake is done (or stalled as asked).
    Handshaking(Handshaking),
    /// `serve --catalog`: the first request line chooses the script.
    Routing(Routing),
    /// A proxy step waits for the upstream connect.
    Connecting(Connecting),
    /// `forward`: client bytes to the upstream.
    Forwarding(Box<Forwarding>),
    /// `relay`: upstream bytes to the client.
    Relaying(Relaying),
    /// `relay both`: each direction as it comes.
    Both(Both),
    /// A `read` on an HTTP/2 connection.
    H2Reading(H2Reading),
    /// `respond` or an `h2` frame on an HTTP/2 connection.
    H2Sending(H2Sending<'s>),
    /// The connection is over.
    Closed,
}

impl State<'_> {
    /// A proxy step: the upstream's readiness is its business.
    fn is_proxy_step(&self) -> bool {
        matches!(
            self,
            State::Connecting(_) | State::Forwarding(_) | State::Relaying(_) | State::Both(_)
        )
    }

    /// Nothing reads or writes the client now, so an event's hint is the
    /// only way to hear that it reset or left.
    fn leaves_client_alone(&self) -> bool {
        matches!(self, State::Sleeping { .. } | State::Flushing(_) | State::Connecting(_))
    }
}

/// What a state's progress came to.
enum Progress<'s> {
    /// Blocked on a socket or a deadline; the event loop will call again.
    Wait,
    /// The step is over: tell the interpreter.
    Next(Event),
    /// Go on in another state, without news for the interpreter.
    Become(State<'s>),
    /// Carry out this step of the script now: it waited for the bytes an
    /// HTTP/2 step left queued (see [`h2::H2Sending::before`]).
    Resume(Box<Step<'s>>),
    /// The catalog chose this script for the request that is next in line:
    /// it starts from its beginning and reads that request as its first.
    Route(&'static Scenario),
    /// The connection ends so.
    End(Ending),
}

/// Who speaks in the log: the connection's number, and when it was
/// accepted (log lines are timed since then).
#[derive(Debug, Clone, Copy)]
struct Who {
    id: u64,
    accepted: Instant,
}

/// What a state is lent for one call, besides the sides of the connection.
struct Cx<'t> {
    /// When the loop woke for this turn.
    now: Instant,
    who: Who,
    log: &'t mut Log,
    shared: &'t mut Shared,
}

impl Cx<'_> {
    /// One line of this connection's log, with the real time of the action:
    /// `now` is when the loop woke, and one turn may write, reset and more
    /// after it.
    fn say(&mut self, event: &str, fields: &[(&str, Field)]) {
        if self.log.enabled() {
            self.log.conn(self.who.id, self.who.accepted.elapsed(), event, fields);
        }
    }
}

/// One accepted connection running its scenario.
pub struct Conn<'s> {
    who: Who,
    /// The reactor's key, for the upstream socket's token.
    key: usize,
    interp: Interp<'s>,
    state: State<'s>,
    client: Client,
    /// The upstream side, for a scenario that proxies (boxed: the others
    /// pay one word).
    proxy: Option<Box<ProxySide>>,
    /// The connection gave way to others (see STEPS_PER_TURN) and wants to
    /// go on at the next turn.
    yielded: bool,
    /// How the connection ended, once it has.
    ended: Option<End>,
}

impl<'s> Conn<'s> {
    /// A connection `accept` gave, about to run `interp`'s script.
    pub fn new(id: u64, key: usize, socket: TcpStream, accepted: Instant, interp: Interp<'s>) -> Conn<'s> {
        let proxy = interp.proxies().then(Box::default);
        Conn {
            who: Who { id, accepted },
            key,
            interp,
            state: State::Sleeping { until: accepted },
            client: Client::new(Transport::accepted(socket)),
            proxy,
            yielded: false,
            ended: None,
        }
    }

    /// Show what goes through the client side to `tape` (`serve
    /// --record`), which writes it as a replayable scenario at the end.
    pub fn record_into(&mut self, tape: impl crate::transport::Tap + 'static) {
        self.client.stream.record(tape);
    }

    /// Wait for the first request line, whose path chooses the script
    /// (`serve --catalog`).
    pub fn await_route(&mut self, now: Instant, tls: bool) {
        self.state = State::Routing(Routing::new(now, tls));
    }

    /// Every byte from now on goes through TLS; its handshake is under
    /// way as soon as the client's first records come.
    pub fn start_tls(&mut self, layer: crate::tls::Layer) {
        self.client.stream.start_tls(layer);
    }

    /// How the connection ended, once it has.
    pub fn end(&self) -> Option<End> {
        self.ended
    }

    /// How its upstream side ended, if it had one.
    pub fn upstream_end(&self) -> Option<End> {
        self.proxy.as_ref().and_then(|p| p.ended)
    }

    /// A `reset` is waiting for written bytes to leave: stopping the server
    /// now would turn the scripted RST into a FIN.
    pub fn is_flushing(&self) -> bool {
        matches!(self.state, State::Flushing(_))
    }

    /// Run the script's first steps (or, for the catalog, wait for the
    /// request line that chooses the script).
    pub fn start(&mut self, turn: &mut Turn) -> Flow {
        if !matches!(self.state, State::Routing(_)) {
            let step = self.interp.next(Event::Start, turn.now);
            let progress = self.apply(step, turn);
            if self.settle(progress, turn) == Some(Flow::Closed) {
                return Flow::Closed;
            }
        }
        self.drive(turn)
    }

    fn cx<'t>(&self, turn: &'t mut Turn) -> Cx<'t> {
        Cx {
            now: turn.now,
            who: self.who,
            log: turn.log,
            shared: turn.shared,
        }
    }
}

impl Session for Conn<'_> {
    type Context<'c> = Turn<'c>;

    fn poll_at(&self) -> PollAt {
        if self.yielded {
            return PollAt::Now;
        }
        let at = match &self.state {
            State::Reading(reading) => reading.deadline(),
            State::H2Reading(reading) => reading.deadline(),
            State::H2Sending(sending) => sending.deadline(),
            State::Routing(routing) => Some(routing.deadline()),
            State::Sleeping { until } => Some(*until),
            State::Flushing(flushing) => Some(flushing.next_check()),
            State::Lingering(lingering) => Some(lingering.deadline()),
            State::Connecting(connecting) => Some(connecting.give_up_at()),
            State::Relaying(relaying) => relaying.resume_at(),
            State::Both(both) => both.resume_at(),
            State::Writing(_) | State::Hanging | State::Handshaking(_) | State::Forwarding(_) | State::Closed => None,
        };
        // A TLS handshake not done by its deadline is given up.
        let at = match (at, self.client.stream.handshake_deadline()) {
            (Some(at), Some(deadline)) => Some(at.min(deadline)),
            (at, deadline) => at.or(deadline),
        };
        at.map_or(PollAt::Idle, PollAt::At)
    }

    fn on_wake(&mut self, turn: &mut Turn) -> Flow {
        self.yielded = false;
        if self.client.stream.handshake_deadline().is_some_and(|at| turn.now >= at) {
            let mut cx = self.cx(turn);
            let why = format!(
                "no TLS handshake within {} s (Node's handshakeTimeout)",
                crate::tls::HANDSHAKE_TIMEOUT.as_secs()
            );
            cx.say("tls-timeout", &[("why", Field::Str(&why))]);
            self.finish(Ending::Close(Drain::First), turn);
            return Flow::Closed;
        }
        self.drive(turn)
    }

    fn on_event(&mut self, side: Side, event: &Readiness, turn: &mut Turn) -> Flow {
        match side {
            Side::Downstream => {
                self.client.stream.on_event(event);
                // The TLS handshake goes on whatever step the script is in.
                let mut cx = self.cx(turn);
                if let Some(ending) = self.client.pump_tls(&mut cx) {
                    self.finish(ending, turn);
                    return Flow::Closed;
                }
            }
            Side::Upstream => {
                if let Some(proxy) = self.proxy.as_mut() {
                    proxy.on_event(event);
                }
                if !self.state.is_proxy_step() {
                    // Nobody reads the upstream now: watch for its end.
                    let progress = self.watch_upstream(turn);
                    return self.settle(progress, turn).unwrap_or(Flow::Open);
                }
            }
        }
        if self.state.leaves_client_alone() {
            let mut cx = self.cx(turn);
            if let Some(ending) = self.client.check_hints(&mut cx) {
                self.finish(ending, turn);
                return Flow::Closed;
            }
        }
        self.drive(turn)
    }
}

impl<'s> Conn<'s> {
    /// Make progress until blocked, carrying out steps as they come.
    fn drive(&mut self, turn: &mut Turn) -> Flow {
        for _ in 0..STEPS_PER_TURN {
            let progress = self.progress(turn);
            // A read may have finished a TLS handshake: say so first.
            self.client.tell_handshake(&mut self.cx(turn));
            if let Some(flow) = self.settle(progress, turn) {
                return flow;
            }
        }
        // Steps that never touch the socket (`read 0 bytes`, a read
        // `within 0us`) would never see the peer leave: look now.
        self.yielded = true;
        self.client.tell_handshake(&mut self.cx(turn));
        let mut cx = self.cx(turn);
        match self.client.check_hints(&mut cx) {
            Some(ending) => {
                self.finish(ending, turn);
                Flow::Closed
            }
            None => Flow::Open,
        }
    }

    /// Let the current state make progress.
    fn progress(&mut self, turn: &mut Turn) -> Progress<'s> {
        let mut cx = Cx {
            now: turn.now,
            who: self.who,
            log: turn.log,
            shared: turn.shared,
        };
        let client = &mut self.client;
        let proxy = &mut self.proxy;
        match &mut self.state {
            State::Writing(writing) => writing.progress(client, &mut cx),
            State::Reading(reading) => {
                let retained = proxy.as_deref_mut().map(|p| &mut p.retained);
                reading.progress(client, &mut self.interp, retained, &mut cx)
            }
            State::H2Reading(reading) => reading.progress(client, &mut self.interp, &mut cx),
            State::H2Sending(sending) => sending.progress(client, &mut cx),
            State::Routing(routing) => routing.progress(client, &mut cx),
            State::Sleeping { until } if cx.now >= *until => Progress::Next(Event::Done),
            State::Sleeping { .. } => Progress::Wait,
            State::Flushing(flushing) => flushing.progress(&client.stream, cx.now),
            State::Lingering(lingering) => lingering.progress(&mut client.stream, cx.now),
            State::Hanging => client.hang(),
            State::Handshaking(handshaking) => handshaking.progress(client, &mut cx),
            State::Connecting(connecting) => {
                let then = connecting.progress(proxy.as_deref_mut(), &mut cx);
                match then {
                    Ok(Some(pending)) => proxy::begin(pending, &self.interp, client, proxy.as_deref_mut(), &mut cx),
                    Ok(None) => Progress::Wait,
                    Err(why) => proxy::upstream_failed(&why, proxy.as_deref_mut(), &mut cx),
                }
            }
            State::Forwarding(forwarding) => match proxy.as_deref_mut() {
                Some(side) => forwarding.progress(client, side, &mut self.interp, &mut cx),
                None => Progress::End(Ending::Broken("a proxy state without an upstream side")),
            },
            State::Relaying(relaying) => match proxy.as_deref_mut() {
                Some(side) => relaying.progress(client, side, &mut cx),
                None => Progress::End(Ending::Broken("a proxy state without an upstream side")),
            },
            State::Both(both) => match proxy.as_deref_mut() {
                Some(side) => both.progress(client, side, &mut cx),
                None => Progress::End(Ending::Broken("a proxy state without an upstream side")),
            },
            State::Closed => Progress::End(Ending::Broken("the connection is closed")),
        }
    }

    /// Carry out what a state's progress came to, and what the steps it
    /// leads to come to, until the connection must wait (`Some(Open)`), is
    /// over (`Some(Closed)`) or is in a new state to make progress in
    /// (`None`).
    fn settle(&mut self, mut progress: Progress<'s>, turn: &mut Turn) -> Option<Flow> {
        loop {
            progress = match progress {
                Progress::Wait => return Some(Flow::Open),
                Progress::Become(state) => {
                    self.state = state;
                    return None;
                }
                Progress::End(Ending::Close(drain)) if self.lingers(drain) => {
                    // The upstream, if any, is closed now, not after the
                    // wait for the client.
                    let mut cx = self.cx(turn);
                    if let Some(proxy) = self.proxy.as_deref_mut() {
                        proxy.end_with(End::Fin, &mut cx);
                    }
                    // What came before this turn's events is read too.
                    self.client.stream.assume_readable();
                    if self.client.stream.shutdown_write().is_err() {
                        // The peer is gone already: no wait, and no
                        // second try either.
                        self.finish(Ending::Close(Drain::First), turn);
                        return Some(Flow::Closed);
                    }
                    Progress::Become(State::Lingering(Lingering::new(turn.now)))
                }
                Progress::End(ending) => {
                    self.finish(ending, turn);
                    return Some(Flow::Closed);
                }
                Progress::Next(event) => {
                    let step = self.interp.next(event, turn.now);
                    self.apply(step, turn)
                }
                Progress::Resume(step) => self.apply(*step, turn),
                Progress::Route(scenario) => {
                    self.interp = Interp::new(scenario, self.who.id).with_seed(turn.shared.seed);
                    let step = self.interp.next(Event::Start, turn.now);
                    self.apply(step, turn)
                }
            };
        }
    }

    /// The state that carries out `step`, or what it comes to at once.
    fn apply(&mut self, step: Step<'s>, turn: &mut Turn) -> Progress<'s> {
        let mut cx = self.cx(turn);
        let step = match H2Sending::before(step, &mut self.client, &mut cx) {
            ControlFlow::Continue(step) => step,
            ControlFlow::Break(progress) => return progress,
        };
        let now = cx.now;
        let due = State::Sleeping { until: now };
        if !matches!(step, Step::Forward(_) | Step::Relay(_) | Step::Upstream(_))
            && let Some(mirrored) = self
                .proxy
                .as_deref_mut()
                .and_then(|p| p.watch(&mut self.client, &mut cx))
        {
            // The upstream ended during the last step (a forward it cut
            // short, or a FIN that came with a relay's last bytes, whose
            // event is spent): the client hears of it now, as between any
            // steps.
            return mirrored;
        }
        let state = match step {
            Step::Write(payload) => State::Writing(Writing::new(Outgoing::new(payload))),
            Step::Respond { response, to } if self.client.h2.is_some() => {
                return H2Sending::respond(response, to, &mut self.client, &mut cx);
            }
            Step::Respond { response, to } => {
                State::Writing(Writing::new(Outgoing::new(Cow::Borrowed(response.wire(to)))))
            }
            Step::H2(frame) => return H2Sending::frame(frame, &mut self.client, &mut cx),
            Step::H2Data { frame, piece, last } => {
                return H2Sending::data(frame, piece, last, &mut self.client, &mut cx);
            }
            Step::Read { goal, deadline } if self.client.h2.is_some() && goal != ReadGoal::TlsHello => {
                match H2Reading::start(goal, deadline) {
                    Some(reading) => State::H2Reading(reading),
                    None => return Progress::End(Ending::Broken("a read HTTP/2 has no meaning for")),
                }
            }
            Step::Read { goal, deadline } => State::Reading(Reading::start(
                goal,
                deadline,
                &mut self.client,
                &self.interp,
                self.proxy.as_deref_mut().map(|p| &mut p.retained),
                &cx,
            )),
            Step::Sleep { until } => {
                let ms = until.saturating_duration_since(now).as_millis() as u64;
                cx.say("sleep", &[("ms", Field::Num(ms))]);
                if let Some(ending) = self.client.check_hints(&mut cx) {
                    return Progress::End(ending);
                }
                State::Sleeping { until }
            }
            Step::HalfClose => {
                if let Err(error) = self.client.stream.shutdown_write() {
                    return Progress::End(Ending::Failed(crate::stream::Io::Failed(error)));
                }
                cx.say("half-close", &[]);
                due
            }
            Step::Log(message) => {
                cx.say("log", &[("message", Field::Str(message))]);
                due
            }
            Step::Chance(choice) => {
                let odds = format!("{}/{}", choice.hits, choice.of);
                let result = if choice.yes { "yes" } else { "no" };
                let fields = [
                    ("odds", Field::Str(&odds)),
                    ("request", Field::Num(choice.request)),
                    ("result", Field::Str(result)),
                ];
                cx.say("chance", &fields);
                due
            }
            Step::Finish(Finish::Reset) => State::Flushing(Flushing::new(now)),
            Step::Finish(Finish::Close { drain, notify }) => {
                let drain = if drain { Drain::First } else { Drain::No };
                return Progress::End(if notify {
                    Ending::Close(drain)
                } else {
                    Ending::CloseNoNotify(drain)
                });
            }
            Step::TlsHandshake(step) => {
                match Handshaking::start(step, self.interp.scenario().tls_certificate, &mut self.client, &mut cx) {
                    Ok(handshaking) => State::Handshaking(handshaking),
                    Err(ending) => return Progress::End(ending),
                }
            }
            Step::TlsAlert(alert) => {
                let name = alert.alert.name;
                match self
                    .client
                    .stream
                    .seal_alert([alert.level.byte(), alert.alert.description])
                {
                    // No TLS (yet): the plaintext record, before any ServerHello.
                    None => State::Writing(Writing::new(Outgoing::new(Cow::Borrowed(&alert.wire)))),
                    Some(Ok(record)) => {
                        cx.say(
                            "tls-alert",
                            &[("alert", Field::Str(name)), ("sealed", Field::Str("yes"))],
                        );
                        let sealed = Payload {
                            pieces: vec![Piece::Bytes(record)],
                        };
                        State::Writing(Writing::new(Outgoing::new(Cow::Owned(sealed))))
                    }
                    Some(Err(why)) => {
                        cx.say("tls-error", &[("why", Field::Str(&why))]);
                        return Progress::End(Ending::Broken("the alert could not be sealed"));
                    }
                }
            }
            Step::TlsCloseNotify => {
                if self.client.stream.close_notify() {
                    cx.say("tls-close-notify", &[]);
                }
                due
            }
            Step::TlsCut(n) => {
                if let Some(tls) = self.client.stream.tls_mut() {
                    tls.cut_after(n);
                }
                cx.say("tls-cut", &[("after_bytes", Field::Num(n))]);
                due
            }
            Step::Finish(Finish::Stuck) => {
                cx.say("stuck", &[("why", Field::Str(self.interp.why_stuck()))]);
                return Progress::End(Ending::Close(Drain::First));
            }
            Step::Finish(Finish::Hang) => {
                cx.say("hang", &[]);
                State::Hanging
            }
            Step::Forward(_) | Step::Relay(_) | Step::Upstream(_) if self.client.h2.is_some() => {
                return H2Sending::http1_required(&mut self.client, &mut cx);
            }
            Step::Forward(forward) => {
                let pending = proxy::Pending::Forward(forward);
                return proxy::start(
                    pending,
                    self.key,
                    &self.interp,
                    &mut self.client,
                    self.proxy.as_deref_mut(),
                    &mut cx,
                );
            }
            Step::Relay(relay) => {
                let pending = proxy::Pending::Relay(relay);
                return proxy::start(
                    pending,
                    self.key,
                    &self.interp,
                    &mut self.client,
                    self.proxy.as_deref_mut(),
                    &mut cx,
                );
            }
            Step::Upstream(end) => {
                let pending = proxy::Pending::End(end);
                return proxy::start(
                    pending,
                    self.key,
                    &self.interp,
                    &mut self.client,
                    self.proxy.as_deref_mut(),
                    &mut cx,
                );
            }
        };
        Progress::Become(state)
    }

    /// Between proxy steps: the upstream's readiness changed. An upstream
    /// that closes or resets an idle connection is mirrored at once.
    fn watch_upstream(&mut self, turn: &mut Turn) -> Progress<'s> {
        let mut cx = self.cx(turn);
        self.proxy
            .as_deref_mut()
            .and_then(|p| p.watch(&mut self.client, &mut cx))
            .unwrap_or(Progress::Wait)
    }

    /// Whether a close with `drain` waits for the client's own first
    /// ([`Drain::Linger`]): asked for, or a graceful close under TLS once
    /// the handshake is done, where the client answers our close_notify
    /// with its own (closing at once met it as unread input and sent RST,
    /// 1 connection in 100 through the proxy). Not once our side is shut
    /// (a half-close, or the wait is over).
    fn lingers(&self, drain: Drain) -> bool {
        let stream = &self.client.stream;
        let tls_done = stream.tls().is_some_and(|tls| !tls.is_handshaking());
        let asked = drain == Drain::Linger || (drain == Drain::First && tls_done);
        asked && !stream.is_write_shut()
    }

    /// End the connection as `ending` says: close or reset the client side
    /// (and the upstream side the same way), and log the end.
    fn finish(&mut self, ending: Ending, turn: &mut Turn) {
        if matches!(self.state, State::Closed) {
            return;
        }
        let mut cx = self.cx(turn);
        let note = self.client.end(ending, &mut cx);
        if let Some(proxy) = self.proxy.as_deref_mut() {
            proxy.end_with(note.how, &mut cx);
        }
        self.state = State::Closed;
        self.ended = Some(note.how);
        note.log(self.interp.requests(), &mut cx);
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
