//! The event loop machinery shared by `serve` and `probe`.
//!
//! A [`Reactor`] owns one `mio::Poll`, a timerfd for deadlines, and a slot
//! table of sessions (server connections or probe connections). Each turn
//! it arms the timerfd for the earliest deadline, polls, and hands every
//! event to its session; then it fires the deadlines that came due. A
//! session answers [`Flow::Closed`] when it is done: its slot is freed and
//! the session handed back, so a probe can read its result.
//!
//! Tokens at the top of the range are the owner's (a listener, a retry
//! timer); [`Reactor::poll`] returns them untouched.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Instant;

use mio::event::Event;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use crate::log::Log;
use crate::timers::{TimerFd, Timers};

/// Tokens from here up are not sessions.
pub const FIRST_OWNER_TOKEN: usize = usize::MAX - 16;
const TIMER: Token = Token(usize::MAX);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Open,
    Closed,
}

/// One connection driven by the reactor.
pub trait Session {
    /// Readiness changed on the session's socket.
    fn on_event(&mut self, event: &Event, now: Instant, log: &mut Log) -> Flow;
    /// The session's deadline came.
    fn on_timer(&mut self, now: Instant, log: &mut Log) -> Flow;
    /// When the session wants `on_timer`, if it does.
    fn deadline(&self) -> Option<Instant>;
}

/// A session and the deadline the timer queue holds for it.
struct Slot<S> {
    session: S,
    scheduled: Option<Instant>,
}

/// What `fire_timers` found due.
pub enum Fired<S> {
    /// A session closed in its `on_timer`.
    Closed(S),
    /// An owner's timer key (see [`Reactor::schedule`]).
    Owner(usize),
}

pub struct Reactor<S> {
    poll: Poll,
    timerfd: TimerFd,
    timers: Timers,
    slots: Vec<Option<Slot<S>>>,
    free: Vec<usize>,
    /// The key `vacant_key` handed out and `insert` has not filled yet.
    reserved: Option<usize>,
    /// Keys due in the current `fire_timers` pass (kept to reuse its memory).
    due: Vec<usize>,
}

impl<S: Session> Reactor<S> {
    pub fn new() -> io::Result<Reactor<S>> {
        let poll = Poll::new()?;
        let timerfd = TimerFd::new()?;
        poll.registry()
            .register(&mut SourceFd(&timerfd.as_raw_fd()), TIMER, Interest::READABLE)?;
        Ok(Reactor {
            poll,
            timerfd,
            timers: Timers::default(),
            slots: Vec::new(),
            free: Vec::new(),
            reserved: None,
            due: Vec::new(),
        })
    }

    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len() - usize::from(self.reserved.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key (and token) the next inserted session will have; register
    /// its socket with `Token(key)` before `insert`.
    /// It stays reserved until `insert`, so a failed registration loses
    /// nothing: the next call hands out the same key.
    pub fn vacant_key(&mut self) -> usize {
        if let Some(key) = self.reserved {
            return key;
        }
        let key = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        self.reserved = Some(key);
        key
    }

    /// Put `session` in the slot `vacant_key` gave, and run `start` on it.
    pub fn insert(&mut self, key: usize, session: S, start: impl FnOnce(&mut S) -> Flow) -> Option<S> {
        debug_assert_eq!(self.reserved, Some(key), "insert needs the key from vacant_key");
        self.reserved = None;
        self.slots[key] = Some(Slot {
            session,
            scheduled: None,
        });
        self.run(key, start)
    }

    /// Wake an owner's key at `at`; `poll` reports it via `fire_timers`.
    pub fn schedule(&mut self, at: Instant, owner_key: usize) {
        self.timers.schedule(at, owner_key);
    }

    /// Wait for readiness or the next deadline.
    pub fn poll(&mut self, events: &mut Events) -> io::Result<()> {
        self.timerfd.arm(self.timers.next_deadline())?;
        match self.poll.poll(events, None) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        if events.iter().any(|e| e.token() == TIMER) {
            self.timerfd.acknowledge();
        }
        Ok(())
    }

    /// Hand `event` to its session. Returns the session if it closed;
    /// events for owner tokens, the timer, or freed slots are ignored.
    pub fn dispatch(&mut self, event: &Event, now: Instant, log: &mut Log) -> Option<S> {
        let key = event.token().0;
        if key >= FIRST_OWNER_TOKEN {
            return None;
        }
        self.run(key, |s| s.on_event(event, now, log))
    }

    /// Run the sessions whose deadline has come, and report owner keys.
    ///
    /// Only what was due when the pass began runs in it: a session that
    /// yields asks for an immediate deadline, which must wait for the next
    /// turn (after a poll), or that session would run here forever.
    pub fn fire_timers(&mut self, now: Instant, log: &mut Log, fired: &mut Vec<Fired<S>>) {
        self.due.clear();
        while let Some(key) = self.timers.pop_due(now) {
            self.due.push(key);
        }
        for i in 0..self.due.len() {
            let key = self.due[i];
            if key >= FIRST_OWNER_TOKEN {
                fired.push(Fired::Owner(key));
                continue;
            }
            let Some(Some(slot)) = self.slots.get_mut(key) else {
                continue;
            };
            // A stale entry (the session moved on) is skipped.
            if slot.session.deadline().is_none_or(|d| d > now) {
                continue;
            }
            slot.scheduled = None;
            if let Some(closed) = self.run(key, |s| s.on_timer(now, log)) {
                fired.push(Fired::Closed(closed));
            }
        }
    }

    /// Remove every session `keep` rejects, and hand them back (their
    /// sockets close when they are dropped).
    pub fn remove_unless(&mut self, mut keep: impl FnMut(&S) -> bool) -> Vec<S> {
        let mut removed = Vec::new();
        for key in 0..self.slots.len() {
            let rejected = self.slots[key].as_ref().is_some_and(|slot| !keep(&slot.session));
            if rejected && let Some(slot) = self.slots[key].take() {
                self.free.push(key);
                removed.push(slot.session);
            }
        }
        removed
    }

    /// Run `f` on a session, then free its slot if it closed, or keep its
    /// deadline queued if it did not.
    fn run(&mut self, key: usize, f: impl FnOnce(&mut S) -> Flow) -> Option<S> {
        let slot = self.slots.get_mut(key)?.as_mut()?;
        if f(&mut slot.session) == Flow::Closed {
            self.free.push(key);
            // The socket is dropped with the session, which removes it
            // from epoll.
            return self.slots[key].take().map(|slot| slot.session);
        }
        let wanted = slot.session.deadline();
        if wanted != slot.scheduled {
            if let Some(at) = wanted {
                self.timers.schedule(at, key);
            }
            slot.scheduled = wanted;
        }
        None
    }
}
