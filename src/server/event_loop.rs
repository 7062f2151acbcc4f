//! The server's event loop: the listener, and a [`Reactor`] of connections.
//!
//! Each turn polls, accepts every pending connection, hands readiness to
//! the connections, then fires the deadlines that came due. Connections
//! never block: a sleeping or hanging script is a deadline or a registered
//! socket, so any number of them cost no thread and no spin.

use std::io;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Token};

use super::conn::Conn;
use crate::interp::Interp;
use crate::log::{Field, Log};
use crate::reactor::{FIRST_OWNER_TOKEN, Fired, Reactor};
use crate::scenario::Scenario;
use crate::sock;

const LISTENER: Token = Token(FIRST_OWNER_TOKEN);
/// The timer key that resumes accepting after descriptors ran out.
const ACCEPT_RETRY: usize = FIRST_OWNER_TOKEN + 1;
/// How long accepting pauses when out of descriptors: the queued connection
/// stays in the backlog and epoll will not report it again, so only a timer
/// can bring the loop back to it.
const ACCEPT_RETRY_AFTER: Duration = Duration::from_millis(10);
/// How often accept errors are logged while they last.
const ACCEPT_ERROR_LOG_EVERY: Duration = Duration::from_secs(1);

pub struct EventLoop<'s> {
    reactor: Reactor<Conn<'s>>,
    listener: TcpListener,
    scenario: &'s Scenario,
    accepted: u64,
    accept_paused: bool,
    last_accept_error_log: Option<Instant>,
    accept_errors: u64,
}

impl<'s> EventLoop<'s> {
    pub fn new(mut listener: TcpListener, scenario: &'s Scenario) -> io::Result<EventLoop<'s>> {
        let reactor = Reactor::new()?;
        reactor
            .registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        Ok(EventLoop {
            reactor,
            listener,
            scenario,
            accepted: 0,
            accept_paused: false,
            last_accept_error_log: None,
            accept_errors: 0,
        })
    }

    /// Serve until a fatal error (the poll itself failing).
    pub fn run(&mut self, log: &mut Log) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        let mut fired = Vec::new();
        loop {
            self.reactor.poll(&mut events)?;
            let now = Instant::now();
            for event in events.iter() {
                if event.token() == LISTENER {
                    self.accept(now, log);
                } else {
                    self.reactor.dispatch(event, now, log);
                }
            }
            self.reactor.fire_timers(Instant::now(), log, &mut fired);
            for fire in fired.drain(..) {
                if let Fired::Owner(ACCEPT_RETRY) = fire {
                    self.accept_paused = false;
                    self.accept(Instant::now(), log);
                }
            }
        }
    }

    fn accept(&mut self, now: Instant, log: &mut Log) {
        while !self.accept_paused {
            match self.listener.accept() {
                Ok((stream, peer)) => self.add(stream, peer, now, log),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted) => {}
                Err(e) => {
                    self.accept_paused = true;
                    self.reactor.schedule(now + ACCEPT_RETRY_AFTER, ACCEPT_RETRY);
                    self.log_accept_error(&e, now, log);
                }
            }
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
        let action = if sock::is_resource_exhaustion(error) {
            "out of descriptors or memory; accepting again in 10ms"
        } else {
            "accepting again in 10ms"
        };
        log.server(
            "accept-error",
            &[
                ("error", Field::Str(&text)),
                ("action", Field::Str(action)),
                ("times", Field::Num(self.accept_errors)),
            ],
        );
        self.accept_errors = 0;
    }

    fn add(&mut self, mut stream: mio::net::TcpStream, peer: std::net::SocketAddr, now: Instant, log: &mut Log) {
        self.accepted += 1;
        let id = self.accepted;
        // Every write leaves at once: a scenario's byte boundaries and
        // timings are what the peer sees.
        let _ = stream.set_nodelay(true);
        let key = self.reactor.vacant_key();
        if let Err(e) =
            self.reactor
                .registry()
                .register(&mut stream, Token(key), Interest::READABLE | Interest::WRITABLE)
        {
            let text = e.to_string();
            log.server("register-error", &[("error", Field::Str(&text))]);
            return;
        }
        if log.enabled() {
            let peer = peer.to_string();
            log.conn(id, Duration::ZERO, "accept", &[("peer", Field::Str(&peer))]);
        }
        let conn = Conn::new(id, stream, now, Interp::new(self.scenario, id));
        self.reactor.insert(key, conn, |conn| conn.start(now, log));
    }
}
