//! The one event loop: a `mio::Poll`, the listener, a slot table of
//! connections, and the timer queue.
//!
//! Each turn arms the timerfd for the earliest deadline, polls, hands every
//! readiness event to its connection, then fires the timers that came due.
//! Connections never block: a sleeping or hanging script is a deadline or a
//! registered socket, so any number of them cost no thread and no spin.

use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::conn::{Conn, Flow};
use super::timers::{TimerFd, Timers};
use crate::interp::Interp;
use crate::log::{Field, Log};
use crate::scenario::Scenario;
use crate::sock;

const LISTENER: Token = Token(usize::MAX - 1);
const TIMER: Token = Token(usize::MAX - 2);
/// The timer key that resumes accepting after descriptors ran out.
const ACCEPT_RETRY: usize = usize::MAX - 3;
/// How long accepting pauses when out of descriptors: the queued connection
/// stays in the backlog and epoll will not report it again, so only a timer
/// can bring the loop back to it.
const ACCEPT_RETRY_AFTER: Duration = Duration::from_millis(10);
/// How often "out of descriptors" is logged while it lasts.
const EXHAUSTION_LOG_EVERY: Duration = Duration::from_secs(1);

/// A connection and the deadline the timer queue holds for it.
struct Slot<'s> {
    conn: Conn<'s>,
    scheduled: Option<Instant>,
}

pub struct EventLoop<'s> {
    poll: Poll,
    listener: TcpListener,
    timerfd: TimerFd,
    timers: Timers,
    slots: Vec<Option<Slot<'s>>>,
    free: Vec<usize>,
    scenario: &'s Scenario,
    accepted: u64,
    accept_paused: bool,
    last_exhaustion_log: Option<Instant>,
    exhaustion_count: u64,
}

impl<'s> EventLoop<'s> {
    pub fn new(mut listener: TcpListener, scenario: &'s Scenario) -> io::Result<EventLoop<'s>> {
        let poll = Poll::new()?;
        poll.registry().register(&mut listener, LISTENER, Interest::READABLE)?;
        let timerfd = TimerFd::new()?;
        poll.registry()
            .register(&mut SourceFd(&timerfd.as_raw_fd()), TIMER, Interest::READABLE)?;
        Ok(EventLoop {
            poll,
            listener,
            timerfd,
            timers: Timers::default(),
            slots: Vec::new(),
            free: Vec::new(),
            scenario,
            accepted: 0,
            accept_paused: false,
            last_exhaustion_log: None,
            exhaustion_count: 0,
        })
    }

    /// Serve until a fatal error (the poll itself failing).
    pub fn run(&mut self, log: &mut Log) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            self.timerfd.arm(self.timers.next_deadline())?;
            match self.poll.poll(&mut events, None) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let now = Instant::now();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(now, log),
                    TIMER => self.timerfd.acknowledge(),
                    Token(key) => {
                        // Events for a slot already closed are ignored.
                        if let Some(Some(slot)) = self.slots.get_mut(key) {
                            let flow = slot.conn.on_event(event, now, log);
                            self.settle(key, flow);
                        }
                    }
                }
            }
            self.fire_timers(log);
        }
    }

    fn fire_timers(&mut self, log: &mut Log) {
        let now = Instant::now();
        while let Some(key) = self.timers.pop_due(now) {
            if key == ACCEPT_RETRY {
                self.accept_paused = false;
                self.accept(now, log);
                continue;
            }
            let Some(Some(slot)) = self.slots.get_mut(key) else {
                continue;
            };
            // A stale entry (the connection moved on) is skipped.
            if slot.conn.deadline().is_none_or(|d| d > now) {
                continue;
            }
            slot.scheduled = None;
            let flow = slot.conn.on_timer(now, log);
            self.settle(key, flow);
        }
    }

    /// After a connection ran: free its slot, or keep its deadline queued.
    fn settle(&mut self, key: usize, flow: Flow) {
        let Some(slot_entry) = self.slots.get_mut(key) else {
            return;
        };
        if flow == Flow::Closed {
            // Dropping the stream closes it, which also removes it from
            // epoll; this explicit deregister covers a stream still held.
            if let Some(stream) = slot_entry.take().as_mut().and_then(|slot| slot.conn.stream_mut()) {
                let _ = self.poll.registry().deregister(stream);
            }
            self.free.push(key);
            return;
        }
        let Some(slot) = slot_entry else { return };
        let wanted = slot.conn.deadline();
        if wanted != slot.scheduled {
            if let Some(at) = wanted {
                self.timers.schedule(at, key);
            }
            slot.scheduled = wanted;
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
                    self.timers.schedule(now + ACCEPT_RETRY_AFTER, ACCEPT_RETRY);
                    self.log_accept_error(&e, now, log);
                }
            }
        }
    }

    fn log_accept_error(&mut self, error: &io::Error, now: Instant, log: &mut Log) {
        self.exhaustion_count += 1;
        let due = self
            .last_exhaustion_log
            .is_none_or(|last| now.duration_since(last) >= EXHAUSTION_LOG_EVERY);
        if !due {
            return;
        }
        self.last_exhaustion_log = Some(now);
        let text = error.to_string();
        let what = if sock::is_resource_exhaustion(error) {
            "out of descriptors or memory; accepting again in 10ms"
        } else {
            "accepting again in 10ms"
        };
        log.server(
            "accept-error",
            &[
                ("error", Field::Str(&text)),
                ("action", Field::Str(what)),
                ("times", Field::Num(self.exhaustion_count)),
            ],
        );
        self.exhaustion_count = 0;
    }

    fn add(&mut self, mut stream: mio::net::TcpStream, peer: std::net::SocketAddr, now: Instant, log: &mut Log) {
        self.accepted += 1;
        let id = self.accepted;
        // Every write leaves at once: a scenario's byte boundaries and
        // timings are what the peer sees.
        let _ = stream.set_nodelay(true);
        let key = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut stream, Token(key), Interest::READABLE | Interest::WRITABLE)
        {
            let text = e.to_string();
            log.server("register-error", &[("error", Field::Str(&text))]);
            self.free.push(key);
            return;
        }
        let peer = peer.to_string();
        log.conn(id, Duration::ZERO, "accept", &[("peer", Field::Str(&peer))]);
        let conn = Conn::new(id, stream, now, Interp::new(self.scenario, id));
        self.slots[key] = Some(Slot { conn, scheduled: None });
        let flow = match &mut self.slots[key] {
            Some(slot) => slot.conn.start(now, log),
            None => Flow::Closed,
        };
        self.settle(key, flow);
    }
}
