//! The server's event loop: the listener, the stop signals, and a
//! [`Reactor`] of connections.
//!
//! Each turn polls, accepts every pending connection, hands readiness to
//! the connections, then fires the deadlines that came due. Connections
//! never block: a sleeping or hanging script is a deadline or a registered
//! socket, so any number of them cost no thread and no spin.
//!
//! Out of descriptors (EMFILE), accepting pauses: the pending connections
//! wait in the kernel's backlog, and the loop stops asking for them until a
//! connection closes and frees a descriptor (or, for a shortage outside the
//! process, a second passes). The pause is logged once when it begins and
//! once when the backlog is drained again, however many times it retries.
//!
//! With `accept never` the listener is not even registered: the loop
//! sleeps in the poll until a stop signal (see `super::fill_accept_queue`).
//!
//! SIGINT or SIGTERM stops the loop at once: the listener closes, the
//! connections close, and [`run`](EventLoop::run) returns how they all
//! ended. Only a `reset` still waiting for its bytes to leave is given its
//! few seconds to finish, so that its RST stays an RST; a second signal
//! ends even that wait. SIGHUP loads the scenario again for the
//! connections still to come ([`super::reload`]).

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::Events;
use mio::net::TcpListener;
use mio::unix::SourceFd;

use super::conn::Conn;
use super::reload::{Has, Reloaded, Reloader};
use super::turn::{Shared, Tally, Turn, UpstreamAddr};
use crate::interp::Interp;
use crate::log::{Field, Log};
use crate::reactor::{Alarm, Dispatched, Fired, Reactor, Side, Source};
use crate::record;
use crate::scenario::Scenario;
use crate::signals::{Signal, Signals};
use crate::sock;

/// After another accept error (not a shortage of descriptors or memory,
/// which `sock::is_resource_exhaustion` names), the pending connection
/// stays in the backlog and epoll will not report it again, so only a
/// timer brings the loop back to it.
const RETRY_AFTER_ERROR: Duration = Duration::from_millis(10);
/// Out of descriptors, a closing connection resumes accepting; this timer
/// only covers a shortage that ends outside the process (ENFILE).
const RETRY_AFTER_EXHAUSTION: Duration = Duration::from_secs(1);
/// How often errors other than exhaustion are logged while they last.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(1);

/// Why and how the loop stopped.
#[derive(Debug)]
pub struct Stopped {
    pub signal: &'static str,
    pub tally: Tally,
    /// Connections still open when the loop stopped (closed by the stop).
    pub open: usize,
}

/// Accepting paused for lack of descriptors or memory.
struct Exhausted {
    since: Instant,
    /// Connections accepted while the pause lasted.
    accepted: u64,
}

pub struct EventLoop<'s> {
    reactor: Reactor<Conn<'s>>,
    /// The registry, `--upstream` and the counts, lent to connections.
    shared: Shared,
    listener: Option<TcpListener>,
    signals: Signals,
    /// Loads the scenario again on SIGHUP.
    reloader: Option<Reloader>,
    scenario: &'s Scenario,
    /// Accepting waits for [`Alarm::AcceptRetry`], or for a connection to close.
    accept_paused: bool,
    /// An [`Alarm::AcceptRetry`] is queued (one at a time: each retry that fails
    /// would otherwise queue another, and they would add up).
    retry_queued: bool,
    exhausted: Option<Exhausted>,
    last_accept_error_log: Option<Instant>,
    accept_errors: u64,
    /// The first stop signal, once it came.
    stopping: Option<&'static str>,
    /// Connections the stop closed (they count as open at the stop).
    closed_at_stop: usize,
    /// With `--record DIR`: the thread that writes the recordings.
    recordings: Option<record::Writer>,
}

impl<'s> EventLoop<'s> {
    pub fn new(
        mut listener: TcpListener,
        scenario: &'s Scenario,
        upstream: Option<UpstreamAddr>,
        record: Option<record::Destination>,
    ) -> io::Result<EventLoop<'s>> {
        let reactor = Reactor::new()?;
        let signals = Signals::new()?;
        if !scenario.accept_never {
            reactor.register_owner(&mut listener, Source::Listener)?;
        }
        reactor.register_owner(&mut SourceFd(&signals.as_raw_fd()), Source::Signals)?;
        let recordings = match record {
            Some(to) => {
                let waker = reactor.waker(Source::Recordings)?;
                Some(record::Writer::start(to, move || {
                    let _ = waker.wake();
                })?)
            }
            None => None,
        };
        Ok(EventLoop {
            shared: Shared {
                registry: reactor.registry_handle()?,
                upstream,
                catalog: None,
                seed: 0,
                tls: None,
                tally: Tally::default(),
            },
            reactor,
            listener: Some(listener),
            signals,
            reloader: None,
            scenario,
            accept_paused: false,
            retry_queued: false,
            exhausted: None,
            last_accept_error_log: None,
            accept_errors: 0,
            stopping: None,
            closed_at_stop: 0,
            recordings,
        })
    }

    /// Draw by chance from `seed` on every connection (without it, seed 0).
    pub fn with_seed(mut self, seed: u64) -> EventLoop<'s> {
        self.shared.seed = seed;
        self
    }

    /// Every connection over TLS.
    pub fn with_tls(mut self, tls: Option<crate::tls::TlsServer>) -> EventLoop<'s> {
        self.shared.tls = tls;
        self
    }

    /// Load the scenario again on SIGHUP.
    pub fn with_reloader(mut self, reloader: Reloader) -> EventLoop<'s> {
        self.reloader = Some(reloader);
        self
    }

    /// Serve the catalog: each connection's first request path chooses
    /// its scenario (the loop's own scenario only waits for that).
    pub fn with_catalog(mut self, catalog: Option<crate::server::catalog::Catalog>) -> EventLoop<'s> {
        self.shared.catalog = catalog;
        self
    }

    /// Serve until a stop signal (or a fatal error: the poll failing).
    pub fn run(&mut self, log: &mut Log) -> io::Result<Stopped> {
        let mut events = Events::with_capacity(1024);
        let mut fired = Vec::new();
        loop {
            self.reactor.poll(&mut events)?;
            let now = Instant::now();
            // A connection closed this turn, so a descriptor is free.
            let mut freed = false;
            for event in events.iter() {
                let mut turn = Turn {
                    now,
                    log,
                    shared: &mut self.shared,
                };
                match self.reactor.dispatch(event, now, &mut turn) {
                    Dispatched::Handled => {}
                    Dispatched::Closed(conn) => {
                        self.shared.tally.count(conn.end(), conn.upstream_end());
                        freed = true;
                    }
                    Dispatched::Owner(Source::Listener) => self.accept(now, log),
                    Dispatched::Owner(Source::Recordings) => {
                        if let Some(writer) = &self.recordings {
                            writer.log_reports(log);
                        }
                    }
                    Dispatched::Owner(Source::Signals) => {
                        if let Some(stopped) = self.on_signals(now, log) {
                            return Ok(stopped);
                        }
                    }
                }
            }
            let now = Instant::now();
            let mut turn = Turn {
                now,
                log,
                shared: &mut self.shared,
            };
            self.reactor.fire_timers(now, &mut turn, &mut fired);
            for fire in fired.drain(..) {
                match fire {
                    Fired::Closed(conn) => {
                        self.shared.tally.count(conn.end(), conn.upstream_end());
                        freed = true;
                    }
                    Fired::Owner(Alarm::AcceptRetry) => {
                        self.retry_queued = false;
                        self.accept_paused = false;
                        self.accept(now, log);
                    }
                    Fired::Owner(Alarm::Pacer) => {}
                }
            }
            if freed && self.exhausted.is_some() {
                // A descriptor is free: take the next connection waiting.
                self.accept_paused = false;
                self.accept(Instant::now(), log);
            }
            if let Some(signal) = self.stopping.filter(|_| self.reactor.is_empty()) {
                return Ok(self.stopped(signal, self.closed_at_stop));
            }
        }
    }

    /// After [`run`](EventLoop::run): the connections still held are
    /// closed (their recordings end there), and the recordings are given a
    /// few seconds to be written.
    pub fn finish_recordings(&mut self, log: &mut Log) {
        if let Some(writer) = self.recordings.as_mut() {
            drop(self.reactor.remove_unless(Instant::now(), |_| false));
            writer.stop(log);
        }
    }

    fn stopped(&self, signal: &'static str, open: usize) -> Stopped {
        Stopped {
            signal,
            tally: self.shared.tally,
            open,
        }
    }

    /// A stop signal came. The first closes the listener and every
    /// connection but those whose reset is still sending; the loop ends
    /// once those are done. A second one ends it at once.
    fn on_signals(&mut self, now: Instant, log: &mut Log) -> Option<Stopped> {
        while let Some(signal) = self.signals.take() {
            let signal = match signal {
                Signal::Stop(name) => name,
                Signal::Reload => {
                    self.reload(log);
                    continue;
                }
            };
            if let Some(first) = self.stopping {
                return Some(self.stopped(first, self.closed_at_stop + self.reactor.len()));
            }
            self.stopping = Some(signal);
            self.listener = None;
            self.closed_at_stop = self.reactor.remove_unless(now, Conn::is_flushing).len();
            let draining = self.reactor.len();
            if draining == 0 {
                return Some(self.stopped(signal, self.closed_at_stop));
            }
            let why = format!("{draining} reset(s) still sending their bytes (3s at most); signal again to stop now");
            log.server("stopping", &[("signal", Field::Str(signal)), ("why", Field::Str(&why))]);
        }
        None
    }

    /// SIGHUP: new connections run the scenario loaded again (see
    /// [`super::reload`]); open ones go on with theirs.
    fn reload(&mut self, log: &mut Log) {
        let Some(reloader) = self.reloader.as_mut() else {
            return;
        };
        let has = Has {
            upstream: self.shared.upstream.is_some(),
            tls: self.shared.tls.is_some(),
        };
        match reloader.reload(self.scenario, has) {
            Reloaded::Replaced(scenario) => {
                self.scenario = scenario;
                let mut fields = vec![("scenario", Field::Str(&scenario.name))];
                let replay = format!("--seed {}", self.shared.seed);
                if scenario.chance_sites > 0 {
                    fields.extend([("seed", Field::Num(self.shared.seed)), ("replay", Field::Str(&replay))]);
                }
                log.server("reloaded", &fields);
            }
            Reloaded::Kept(why) => {
                let fields = [("scenario", Field::Str(&self.scenario.name)), ("why", Field::Str(&why))];
                log.server("reload-kept", &fields);
            }
        }
    }

    fn accept(&mut self, now: Instant, log: &mut Log) {
        while !self.accept_paused {
            let Some(listener) = self.listener.as_ref() else {
                return;
            };
            match listener.accept() {
                Ok((stream, peer)) => {
                    if let Some(exhausted) = self.exhausted.as_mut() {
                        exhausted.accepted += 1;
                    }
                    // Each connection's clock starts as it is accepted, not
                    // when the turn began: its script runs at once, and may
                    // read bytes the client sent after that, which a
                    // `sleep` after them must not be timed from.
                    self.add(stream, peer, Instant::now(), log);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.end_exhaustion(now, log);
                    return;
                }
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
                Err(e) if sock::is_resource_exhaustion(&e) => {
                    self.pause_accepting(now + RETRY_AFTER_EXHAUSTION);
                    if self.exhausted.is_none() {
                        self.exhausted = Some(Exhausted {
                            since: now,
                            accepted: 0,
                        });
                        let text = e.to_string();
                        log.server(
                            "accept-paused",
                            &[
                                ("error", Field::Str(&text)),
                                (
                                    "action",
                                    Field::Str("new connections wait in the backlog until one closes"),
                                ),
                                ("open", Field::Num(self.reactor.len() as u64)),
                            ],
                        );
                    }
                    return;
                }
                Err(e) => {
                    self.pause_accepting(now + RETRY_AFTER_ERROR);
                    self.log_accept_error(&e, now, log);
                    return;
                }
            }
        }
    }

    /// Stop accepting until `retry` (or, out of descriptors, until a
    /// connection closes).
    fn pause_accepting(&mut self, retry: Instant) {
        self.accept_paused = true;
        if !self.retry_queued {
            self.retry_queued = true;
            self.reactor.schedule(retry, Alarm::AcceptRetry);
        }
    }

    /// The backlog is drained: if accepting had paused, say it is over.
    fn end_exhaustion(&mut self, now: Instant, log: &mut Log) {
        if let Some(exhausted) = self.exhausted.take() {
            let ms = now.saturating_duration_since(exhausted.since).as_millis() as u64;
            log.server(
                "accept-resumed",
                &[
                    ("paused_ms", Field::Num(ms)),
                    ("accepted_meanwhile", Field::Num(exhausted.accepted)),
                ],
            );
        }
    }

    fn log_accept_error(&mut self, error: &io::Error, now: Instant, log: &mut Log) {
        self.accept_errors += 1;
        let due = self
            .last_accept_error_log
            .is_none_or(|last| now.duration_since(last) >= ACCEPT_ERROR_LOG_EVERY);
        if !due {
            return;
        }
        self.last_accept_error_log = Some(now);
        let text = error.to_string();
        log.server(
            "accept-error",
            &[
                ("error", Field::Str(&text)),
                ("action", Field::Str("accepting again in 10ms")),
                ("times", Field::Num(self.accept_errors)),
            ],
        );
        self.accept_errors = 0;
    }

    fn add(&mut self, mut socket: mio::net::TcpStream, peer: std::net::SocketAddr, now: Instant, log: &mut Log) {
        self.shared.tally.accepted += 1;
        let id = self.shared.tally.accepted;
        // Every write leaves at once: a scenario's byte boundaries and
        // timings are what the peer sees.
        let _ = socket.set_nodelay(true);
        let key = self.reactor.vacant_key();
        if let Err(e) = self.reactor.register(key, Side::Downstream, &mut socket) {
            let text = e.to_string();
            log.server("register-error", &[("error", Field::Str(&text))]);
            return;
        }
        if log.enabled() {
            let peer = peer.to_string();
            log.conn(id, Duration::ZERO, "accept", &[("peer", Field::Str(&peer))]);
        }
        let mut conn = Conn::new(
            id,
            key,
            socket,
            now,
            Interp::new(self.scenario, id).with_seed(self.shared.seed),
        );
        let catalog = self.shared.catalog.is_some();
        if catalog {
            // Under --tls the ClientHello's server name may choose a TLS
            // built-in: the catalog looks before any handshake.
            conn.await_route(now, self.shared.tls.is_some());
        }
        if let Some(tls) = self
            .shared
            .tls
            .as_mut()
            .filter(|_| !self.scenario.handshakes && !catalog)
        {
            // TLS is a layer below the script: the handshake goes on
            // whatever the script does meanwhile. (A script with `tls
            // handshake` says when.)
            let options = crate::tls::options::HandshakeOptions {
                defect: self.scenario.tls_certificate,
                alpn: self.scenario.alpn.clone(),
                ..Default::default()
            };
            match tls.layer(&options, now) {
                Ok(layer) => conn.start_tls(layer),
                Err(why) => log.conn(id, Duration::ZERO, "tls-error", &[("why", Field::Str(&why))]),
            }
        }
        if let (Some(writer), Some(upstream)) = (&self.recordings, &self.shared.upstream) {
            let tape = record::Tape::new(
                writer.dir().to_path_buf(),
                id,
                upstream.to_string(),
                now,
                writer.queue(),
            );
            let tape = if upstream.tls.is_some() { tape.over_tls() } else { tape };
            conn.record_into(tape);
        }
        let mut turn = Turn {
            now,
            log,
            shared: &mut self.shared,
        };
        if let Some(closed) = self.reactor.insert(key, conn, now, |conn| conn.start(&mut turn)) {
            self.shared.tally.count(closed.end(), closed.upstream_end());
        }
    }
}
