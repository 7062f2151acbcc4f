//! The event loop machinery shared by `serve` and `probe`.
//!
//! A [`Reactor`] owns one `mio::Poll`, a timer descriptor for deadlines
//! ([`WakeTimer`]), and a slot table of sessions (server connections or
//! probe connections). Each turn it arms the timer for the earliest deadline, polls, and hands every
//! event to its session; then it runs the sessions whose time came. A
//! session answers [`Flow::Closed`] when it is done: its slot is freed and
//! the session handed back, so a probe can read its result.
//!
//! Every wake-up is typed. A session may own two sockets, one per [`Side`]
//! (the proxy's client and upstream connections): an event names the
//! session and the side. The owner's own sources (the listener, the stop
//! signals) are [`Source`]s and its timers are [`Alarm`]s; how they are
//! packed into mio tokens and timer keys is this module's business alone.
//! A session says when it wants to run next with [`PollAt`] (smoltcp's
//! habit): at once (it gave way to others and has more to do), at an
//! instant, or not until an event.
//!
//! Time is passed in, never read here: `now` is the instant the owner took
//! after the poll, so a test can drive the reactor through hours in
//! microseconds. What a session needs besides its socket (the server's log
//! and the turn's time; for the probe, which measures, the time its owner
//! read for this very event) is its [`Session::Context`], lent by the owner.
//!
//! A session has at most one deadline queued that is still its own: one
//! that moves later (each request on a keep-alive connection) is queued
//! again only when the old one comes, and stale entries (closed sessions',
//! or a deadline that moved earlier and back) are swept out once they
//! outnumber the live sessions, so the queue's memory follows what is live
//! however many requests a connection serves.
//!
//! Memory follows the sessions held now, not the most ever held: free keys
//! are handed out lowest first, so live sessions gather at the front of the
//! slot table, and it shrinks from the end as they close; a second after
//! sessions closed, freed heap memory goes back to the system (glibc keeps
//! it otherwise). `scripts/soak.sh` checks that RSS comes back after
//! 10,000 connections.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::event::{Event, Source as MioSource};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use crate::sys;
use crate::timers::{Timers, WakeTimer};

/// A table of up to this many slots is never shrunk, so a server of a few
/// connections at a time does not free and regrow it.
const MIN_SLOTS: usize = 64;
/// Queued deadlines are swept once they are more than twice the sessions
/// plus this many, so that a few sessions do not sweep on every change.
const SWEEP_SLACK: usize = 64;
/// Freed memory goes back this long after a session closed: at most once a
/// second, not on every close, because a trim walks the whole heap.
const GIVE_BACK_AFTER: Duration = Duration::from_secs(1);

/// Whether a session goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Still running: keep it and ask [`Session::poll_at`].
    Open,
    /// Done: its sockets are closed; free the slot and hand it back.
    Closed,
}

/// When a session wants to run next without an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollAt {
    /// At the next turn, after a poll that does not wait: it gave way to
    /// the others with work left.
    Now,
    /// Once this instant has come.
    At(Instant),
    /// Only when an event comes.
    Idle,
}

/// Which of a session's sockets an event is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The connection towards a client: the one `serve` accepted.
    Downstream,
    /// The connection towards a server: the probe's, or a proxy's upstream.
    Upstream,
}

/// The owner's own sockets and descriptors, polled beside the sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The listening socket: connections wait to be accepted.
    Listener,
    /// The stop signals' descriptor.
    Signals,
    /// `serve --record`'s writer thread has written files (a waker).
    Recordings,
}

/// The owner's own timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Alarm {
    /// Accepting paused after an error; try again.
    AcceptRetry,
    /// The next paced probe may start.
    Pacer,
}

/// What a queued deadline wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TimerKey {
    Session(usize),
    Owner(Alarm),
    /// The reactor's own: give freed memory back.
    GiveBack,
}

/// What a mio token stands for. Sessions take the low tokens, two per
/// key (one per side); the reactor's timer and the owner's sources take
/// the top few.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    Session(usize, Side),
    Owner(Source),
    Timer,
}

impl Wake {
    fn token(self) -> Token {
        Token(match self {
            Wake::Session(key, Side::Downstream) => key * 2,
            Wake::Session(key, Side::Upstream) => key * 2 + 1,
            Wake::Timer => usize::MAX,
            Wake::Owner(Source::Listener) => usize::MAX - 1,
            Wake::Owner(Source::Signals) => usize::MAX - 2,
            Wake::Owner(Source::Recordings) => usize::MAX - 3,
        })
    }

    fn of(token: Token) -> Wake {
        match token.0 {
            usize::MAX => Wake::Timer,
            n if n == usize::MAX - 1 => Wake::Owner(Source::Listener),
            n if n == usize::MAX - 2 => Wake::Owner(Source::Signals),
            n if n == usize::MAX - 3 => Wake::Owner(Source::Recordings),
            n if n % 2 == 0 => Wake::Session(n / 2, Side::Downstream),
            n => Wake::Session(n / 2, Side::Upstream),
        }
    }
}

/// Poll `socket`, the one on `side` of session `key`, through `registry`
/// (see [`Reactor::registry_handle`]).
pub fn register_socket(registry: &Registry, key: usize, side: Side, socket: &mut impl MioSource) -> io::Result<()> {
    registry.register(
        socket,
        Wake::Session(key, side).token(),
        Interest::READABLE | Interest::WRITABLE,
    )
}

/// One connection (or pair of connections) driven by the reactor.
pub trait Session {
    /// What the owner lends every call: the server's log and the time of
    /// the turn; nothing for a session that needs neither.
    type Context<'c>;
    /// Readiness changed on the session's socket on `side`.
    fn on_event(&mut self, side: Side, event: &Event, cx: &mut Self::Context<'_>) -> Flow;
    /// The time the session asked for ([`Session::poll_at`]) came.
    fn on_wake(&mut self, cx: &mut Self::Context<'_>) -> Flow;
    /// When the session wants `on_wake`.
    fn poll_at(&self) -> PollAt;
}

/// A session and what the reactor has queued for it.
/// While the session wants a deadline, one is queued at or before it:
/// when that entry comes due, the session's deadline is looked up again.
struct Slot<S> {
    session: S,
    scheduled: Option<Instant>,
    /// It is in the `again` list (it asked for [`PollAt::Now`]).
    again: bool,
}

/// What an event was for, once the reactor handled it.
pub enum Dispatched<S> {
    /// A session's; it is still open (or the event was stale).
    Handled,
    /// A session's, and the session closed.
    Closed(S),
    /// One of the owner's sources is ready.
    Owner(Source),
}

/// What `fire_timers` found due.
pub enum Fired<S> {
    /// A session closed in its `on_wake`.
    Closed(S),
    /// An owner's alarm (see [`Reactor::schedule`]).
    Owner(Alarm),
}

/// The poll, the deadlines and the sessions of one event loop.
pub struct Reactor<S> {
    poll: Poll,
    timer: WakeTimer,
    timers: Timers<TimerKey>,
    slots: Vec<Option<Slot<S>>>,
    /// Empty slots below the end of the table; the lowest is used first.
    free: BTreeSet<usize>,
    /// The key `vacant_key` handed out and `insert` has not filled yet.
    reserved: Option<usize>,
    /// Sessions that asked to run again at the next turn.
    again: Vec<usize>,
    /// The `again` list being run (kept to reuse its memory).
    running: Vec<usize>,
    /// Entries due in the current `fire_timers` pass (kept to reuse its memory).
    due: Vec<(Instant, TimerKey)>,
    /// When freed memory goes back, if sessions closed since it last did.
    give_back_at: Option<Instant>,
}

impl<S: Session> Reactor<S> {
    /// An empty reactor with its timer registered.
    pub fn new() -> io::Result<Reactor<S>> {
        let poll = Poll::new()?;
        let timer = WakeTimer::new()?;
        poll.registry().register(
            &mut SourceFd(&timer.as_raw_fd()),
            Wake::Timer.token(),
            Interest::READABLE,
        )?;
        Ok(Reactor {
            poll,
            timer,
            timers: Timers::default(),
            slots: Vec::new(),
            free: BTreeSet::new(),
            reserved: None,
            again: Vec::new(),
            running: Vec::new(),
            due: Vec::new(),
            give_back_at: None,
        })
    }

    /// Sessions held.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len() - usize::from(self.reserved.is_some())
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Poll one of the owner's sources.
    pub fn register_owner(&self, source: &mut impl MioSource, which: Source) -> io::Result<()> {
        self.poll
            .registry()
            .register(source, Wake::Owner(which).token(), Interest::READABLE)
    }

    /// A waker another thread uses to wake the poll as `which` (one per
    /// poll: mio allows no more).
    pub fn waker(&self, which: Source) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.registry(), Wake::Owner(which).token())
    }

    /// Poll the socket on `side` of the session `key` (from `vacant_key`,
    /// or of a session already inserted) for reading and writing.
    pub fn register(&self, key: usize, side: Side, socket: &mut impl MioSource) -> io::Result<()> {
        register_socket(self.poll.registry(), key, side, socket)
    }

    /// A handle on the poll's registry, for a session that opens a socket
    /// of its own (a proxy's upstream) while the reactor runs it.
    pub fn registry_handle(&self) -> io::Result<Registry> {
        self.poll.registry().try_clone()
    }

    /// The key the next inserted session will have; register its socket
    /// with it before `insert`.
    /// It stays reserved until `insert`, so a failed registration loses
    /// nothing: the next call hands out the same key.
    pub fn vacant_key(&mut self) -> usize {
        if let Some(key) = self.reserved {
            return key;
        }
        let key = self.free.pop_first().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        self.reserved = Some(key);
        key
    }

    /// Put `session` in the slot `vacant_key` gave, and run `start` on it.
    /// Returns the session if it closed at once.
    pub fn insert(&mut self, key: usize, session: S, now: Instant, start: impl FnOnce(&mut S) -> Flow) -> Option<S> {
        debug_assert_eq!(self.reserved, Some(key), "insert needs the key from vacant_key");
        self.reserved = None;
        self.slots[key] = Some(Slot {
            session,
            scheduled: None,
            again: false,
        });
        self.run(key, now, start)
    }

    /// Wake the owner's `alarm` at `at`; `fire_timers` reports it.
    pub fn schedule(&mut self, at: Instant, alarm: Alarm) {
        self.timers.schedule(at, TimerKey::Owner(alarm));
    }

    /// Wait for readiness or the next deadline; with sessions waiting to
    /// run again, only look at what is ready and do not wait.
    pub fn poll(&mut self, events: &mut Events) -> io::Result<()> {
        let timeout = if self.again.is_empty() {
            self.timer.arm(self.timers.next_deadline())?;
            None
        } else {
            Some(Duration::ZERO)
        };
        match self.poll.poll(events, timeout) {
            Err(e) if e.kind() != io::ErrorKind::Interrupted => return Err(e),
            _ => {}
        }
        if events.iter().any(|e| Wake::of(e.token()) == Wake::Timer) {
            self.timer.acknowledge();
        }
        Ok(())
    }

    /// Hand `event` to its session, or name the owner's source it is for.
    /// Events for the timer or for freed slots are stale and ignored.
    pub fn dispatch(&mut self, event: &Event, now: Instant, cx: &mut S::Context<'_>) -> Dispatched<S> {
        match Wake::of(event.token()) {
            Wake::Owner(source) => Dispatched::Owner(source),
            Wake::Timer => Dispatched::Handled,
            Wake::Session(key, side) => match self.run(key, now, |s| s.on_event(side, event, cx)) {
                Some(closed) => Dispatched::Closed(closed),
                None => Dispatched::Handled,
            },
        }
    }

    /// Run the sessions that asked to run again, then those whose deadline
    /// has come, and report the owner's alarms.
    ///
    /// Only what was due when the pass began runs in it: a session that
    /// gives way asks for [`PollAt::Now`], which waits for the next turn
    /// (after a poll), or that session would run here forever.
    pub fn fire_timers(&mut self, now: Instant, cx: &mut S::Context<'_>, fired: &mut Vec<Fired<S>>) {
        std::mem::swap(&mut self.again, &mut self.running);
        for i in 0..self.running.len() {
            let key = self.running[i];
            // A closed session's key may have been reused by one that did
            // not ask: the flag says whether the slot's session did.
            match self.slots.get_mut(key) {
                Some(Some(slot)) if slot.again => slot.again = false,
                _ => continue,
            }
            if let Some(closed) = self.run(key, now, |s| s.on_wake(cx)) {
                fired.push(Fired::Closed(closed));
            }
        }
        self.running.clear();

        self.due.clear();
        while let Some(entry) = self.timers.pop_due(now) {
            self.due.push(entry);
        }
        let mut give_back = false;
        for i in 0..self.due.len() {
            let (at, key) = self.due[i];
            let key = match key {
                TimerKey::GiveBack => {
                    // A session closing later in this pass queues the next one.
                    self.give_back_at = None;
                    give_back = true;
                    continue;
                }
                TimerKey::Owner(alarm) => {
                    fired.push(Fired::Owner(alarm));
                    continue;
                }
                TimerKey::Session(key) => key,
            };
            let Some(Some(slot)) = self.slots.get_mut(key) else {
                continue;
            };
            // Only the session's own entry counts; others are stale (it
            // asked for an earlier deadline since, or it is a closed
            // session's entry and the key was reused).
            if slot.scheduled != Some(at) {
                continue;
            }
            slot.scheduled = None;
            match slot.session.poll_at() {
                PollAt::At(deadline) if deadline <= now => {
                    if let Some(closed) = self.run(key, now, |s| s.on_wake(cx)) {
                        fired.push(Fired::Closed(closed));
                    }
                }
                // It moved later meanwhile (a keep-alive connection read a
                // request): queue it again, once per deadline that came, not
                // once per request.
                PollAt::At(deadline) => {
                    self.timers.schedule(deadline, TimerKey::Session(key));
                    slot.scheduled = Some(deadline);
                }
                // Already in the `again` list, or waiting for an event.
                PollAt::Now | PollAt::Idle => {}
            }
        }
        // After the pass: giving memory back frees the list it walks.
        if give_back {
            self.give_back_memory();
        }
    }

    /// Remove every session `keep` rejects, and hand them back (their
    /// sockets close when they are dropped).
    pub fn remove_unless(&mut self, now: Instant, mut keep: impl FnMut(&S) -> bool) -> Vec<S> {
        let mut removed = Vec::new();
        // Freeing a slot may cut the table short: check the length each time.
        let mut key = 0;
        while key < self.slots.len() {
            let rejected = self.slots[key].as_ref().is_some_and(|slot| !keep(&slot.session));
            if rejected && let Some(session) = self.free_slot(key, now) {
                removed.push(session);
            }
            key += 1;
        }
        removed
    }

    /// Run `f` on a session, then free its slot if it closed, or queue
    /// what it asks for next if it did not.
    fn run(&mut self, key: usize, now: Instant, f: impl FnOnce(&mut S) -> Flow) -> Option<S> {
        let slot = self.slots.get_mut(key)?.as_mut()?;
        if f(&mut slot.session) == Flow::Closed {
            return self.free_slot(key, now);
        }
        match slot.session.poll_at() {
            PollAt::Now if !slot.again => {
                slot.again = true;
                self.again.push(key);
            }
            // An entry at or before the deadline is enough (see `Slot`): a
            // deadline that only moves later costs no push.
            PollAt::At(at) if slot.scheduled.is_none_or(|queued| at < queued) => {
                self.timers.schedule(at, TimerKey::Session(key));
                slot.scheduled = Some(at);
                // The entry it replaces is now stale: a connection whose
                // deadline moves earlier on every request must not pile
                // them up until it closes.
                self.sweep_timers();
            }
            _ => {}
        }
        None
    }

    /// Take a session out of its slot and free the slot. The sockets are
    /// dropped with the session, which removes them from epoll.
    fn free_slot(&mut self, key: usize, now: Instant) -> Option<S> {
        let closed = self.slots.get_mut(key)?.take().map(|slot| slot.session);
        self.free.insert(key);
        self.release_tail();
        self.sweep_timers();
        if self.give_back_at.is_none() {
            let at = now + GIVE_BACK_AFTER;
            self.timers.schedule(at, TimerKey::GiveBack);
            self.give_back_at = Some(at);
        }
        closed
    }

    /// Cut the empty slots off the end of the table, and give its memory
    /// back once it is mostly unused. Each slot is cut once per push, and a
    /// shrink leaves room for twice what is left, so this costs O(1) per
    /// close over time.
    fn release_tail(&mut self) {
        let mut end = self.slots.len();
        while end > 0 && self.slots[end - 1].is_none() && self.reserved != Some(end - 1) {
            end -= 1;
        }
        if end == self.slots.len() {
            return;
        }
        self.slots.truncate(end);
        self.free.split_off(&end);
        // Keep room for twice what is left, and none when nothing is: a
        // large table is a mapping of its own, which a shrink only cuts.
        if self.slots.capacity() > (4 * end).max(MIN_SLOTS) {
            self.slots.shrink_to(2 * end);
        }
    }

    /// Drop queued deadlines no live session holds, once they are most of
    /// the queue. A sweep keeps at most half of the queue, so it costs
    /// O(1) per entry over time.
    fn sweep_timers(&mut self) {
        if self.timers.len() <= 2 * (self.len() + SWEEP_SLACK) {
            return;
        }
        let slots = &self.slots;
        self.timers.retain(|at, key| match key {
            TimerKey::Session(key) => slots
                .get(key)
                .is_some_and(|slot| slot.as_ref().is_some_and(|s| s.scheduled == Some(at))),
            TimerKey::Owner(_) | TimerKey::GiveBack => true,
        });
    }

    /// Sessions closed: return what they used.
    fn give_back_memory(&mut self) {
        // A burst of deadlines due at once may have made these lists long.
        self.due = Vec::new();
        self.running = Vec::new();
        sys::give_back_memory();
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;

    type Handle<T> = Rc<Cell<T>>;

    /// One `on_timer` call: the session's key, when, and the deadline it had.
    type Call = (usize, Instant, Option<Instant>);
    type Calls = Rc<RefCell<Vec<Call>>>;

    /// What a test session does when its deadline comes.
    #[derive(Debug, Clone, Copy)]
    enum Then {
        Clear,
        Again(u64),
        Close,
    }

    /// A session whose deadline the test sets, recording its timer calls.
    struct Scripted {
        key: usize,
        deadline: Handle<Option<Instant>>,
        then: Then,
        calls: Calls,
    }

    impl Session for Scripted {
        /// The turn's time, as the server's context carries it.
        type Context<'c> = Instant;
        fn on_event(&mut self, _: Side, _: &Event, _: &mut Instant) -> Flow {
            Flow::Open
        }
        fn on_wake(&mut self, now: &mut Instant) -> Flow {
            let now = *now;
            self.calls.borrow_mut().push((self.key, now, self.deadline.get()));
            match self.then {
                Then::Clear => self.deadline.set(None),
                Then::Again(ms) => self.deadline.set(Some(now + Duration::from_millis(ms))),
                Then::Close => return Flow::Closed,
            }
            Flow::Open
        }
        fn poll_at(&self) -> PollAt {
            self.deadline.get().map_or(PollAt::Idle, PollAt::At)
        }
    }

    /// Add a session due at `at`: its key, and a handle to move its deadline.
    fn add(
        reactor: &mut Reactor<Scripted>,
        at: Option<Instant>,
        then: Then,
        calls: &Calls,
    ) -> (usize, Handle<Option<Instant>>) {
        let key = reactor.vacant_key();
        let deadline = Rc::new(Cell::new(at));
        let session = Scripted {
            key,
            deadline: deadline.clone(),
            then,
            calls: calls.clone(),
        };
        reactor.insert(key, session, Instant::now(), |_| Flow::Open);
        (key, deadline)
    }

    #[test]
    fn keys_are_reused_lowest_first_and_the_table_shrinks_as_sessions_close() {
        let mut reactor = Reactor::new().unwrap();
        let calls = Calls::default();
        let far = Instant::now() + Duration::from_secs(3600);
        for _ in 0..1000 {
            add(&mut reactor, Some(far), Then::Clear, &calls);
        }
        assert_eq!(reactor.timers.len(), 1000);
        reactor.run(7, Instant::now(), |_| Flow::Closed);
        reactor.run(3, Instant::now(), |_| Flow::Closed);
        assert_eq!(reactor.vacant_key(), 3);
        add(&mut reactor, None, Then::Clear, &calls);
        // Close the rest in a scattered order.
        for i in 0..1000 {
            reactor.run(i * 7919 % 1000, Instant::now(), |_| Flow::Closed);
        }
        assert!(reactor.is_empty());
        assert_eq!((reactor.slots.len(), reactor.free.len()), (0, 0));
        assert_eq!(reactor.slots.capacity(), 0);
        // The closed sessions' deadlines were swept out.
        assert!(reactor.timers.len() <= 2 * SWEEP_SLACK, "{}", reactor.timers.len());
        // Freed memory goes back a second later; the owner hears nothing of it.
        let mut fired = Vec::new();
        let later = Instant::now() + GIVE_BACK_AFTER;
        reactor.fire_timers(later, &mut later.clone(), &mut fired);
        assert!(fired.is_empty() && reactor.give_back_at.is_none());
    }

    #[test]
    fn a_session_due_in_the_same_pass_as_the_memory_give_back_still_runs() {
        let mut reactor = Reactor::new().unwrap();
        let calls = Calls::default();
        let mut fired = Vec::new();
        let t0 = Instant::now();
        // A closed session queues the give-back a second later...
        let (closing, _) = add(&mut reactor, None, Then::Clear, &calls);
        reactor.run(closing, Instant::now(), |_| Flow::Closed);
        // ...and a live one is due just after it: a loaded machine polls
        // late and finds both due in one pass.
        let due = t0 + GIVE_BACK_AFTER + Duration::from_millis(5);
        add(&mut reactor, Some(due), Then::Close, &calls);
        let late = t0 + 2 * GIVE_BACK_AFTER;
        reactor.fire_timers(late, &mut late.clone(), &mut fired);
        assert_eq!((calls.borrow().len(), fired.len()), (1, 1));
        // It closed after the give-back: the next one is queued for it.
        assert!(reactor.give_back_at.is_some());
    }

    #[test]
    fn a_deadline_that_moves_later_is_queued_once_and_again_when_it_comes() {
        let mut reactor = Reactor::new().unwrap();
        let calls = Calls::default();
        let timer_calls = || calls.borrow().len();
        let mut fired = Vec::new();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let (key, deadline) = add(&mut reactor, Some(ms(10)), Then::Clear, &calls);
        // Like a keep-alive connection reading request after request.
        for n in 11..100 {
            deadline.set(Some(ms(n)));
            reactor.run(key, Instant::now(), |_| Flow::Open);
        }
        assert_eq!(reactor.timers.len(), 1);
        // The entry for 10 ms comes: not due yet, queued again for 99 ms.
        reactor.fire_timers(ms(50), &mut ms(50), &mut fired);
        assert_eq!((timer_calls(), reactor.timers.next_deadline()), (0, Some(ms(99))));
        // An earlier deadline is queued at once; the later entry goes stale.
        deadline.set(Some(ms(60)));
        reactor.run(key, Instant::now(), |_| Flow::Open);
        reactor.fire_timers(ms(70), &mut ms(70), &mut fired);
        assert_eq!(timer_calls(), 1);
        deadline.set(Some(ms(200)));
        reactor.run(key, Instant::now(), |_| Flow::Open);
        reactor.fire_timers(ms(150), &mut ms(150), &mut fired);
        assert_eq!(timer_calls(), 1, "the stale 99 ms entry must not fire");
        reactor.fire_timers(ms(200), &mut ms(200), &mut fired);
        assert_eq!(timer_calls(), 2);
        assert!(fired.is_empty());
    }

    #[test]
    fn tokens_name_the_session_side_or_source_they_were_made_for() {
        for wake in [
            Wake::Session(0, Side::Downstream),
            Wake::Session(0, Side::Upstream),
            Wake::Session(12345, Side::Upstream),
            Wake::Owner(Source::Listener),
            Wake::Owner(Source::Signals),
            Wake::Owner(Source::Recordings),
            Wake::Timer,
        ] {
            assert_eq!(Wake::of(wake.token()), wake);
        }
    }

    /// A session that asks to run again at once, a number of times.
    struct Eager {
        left: u32,
        runs: Rc<Cell<u32>>,
    }

    impl Session for Eager {
        type Context<'c> = ();
        fn on_event(&mut self, _: Side, _: &Event, _: &mut ()) -> Flow {
            Flow::Open
        }
        fn on_wake(&mut self, _: &mut ()) -> Flow {
            self.runs.set(self.runs.get() + 1);
            self.left -= 1;
            if self.left == 0 { Flow::Closed } else { Flow::Open }
        }
        fn poll_at(&self) -> PollAt {
            PollAt::Now
        }
    }

    #[test]
    fn a_session_that_asks_again_now_runs_once_per_turn_without_a_timer() {
        let mut reactor = Reactor::new().unwrap();
        let runs = Rc::new(Cell::new(0));
        let key = reactor.vacant_key();
        let now = Instant::now();
        let session = Eager {
            left: 3,
            runs: runs.clone(),
        };
        assert!(reactor.insert(key, session, now, |_| Flow::Open).is_none());
        assert_eq!(reactor.timers.len(), 0, "\"again now\" is not a deadline");
        let mut fired = Vec::new();
        for turn in 1..=3 {
            // The poll does not wait while a session wants to go on.
            let mut events = Events::with_capacity(8);
            let started = std::time::Instant::now();
            reactor.poll(&mut events).unwrap();
            assert!(started.elapsed() < Duration::from_millis(500));
            reactor.fire_timers(now, &mut (), &mut fired);
            assert_eq!(runs.get(), turn, "one run per turn");
        }
        assert!(matches!(fired.as_slice(), [Fired::Closed(_)]));
        assert!(reactor.is_empty() && reactor.again.is_empty());
    }

    #[test]
    fn a_deadline_that_moves_earlier_on_every_request_does_not_pile_up_entries() {
        // One keep-alive connection: `read request within 1h` then `sleep
        // 1us` per request leaves the hour-long entry behind each time.
        let mut reactor = Reactor::new().unwrap();
        let calls = Calls::default();
        let t0 = Instant::now();
        let (key, deadline) = add(&mut reactor, None, Then::Clear, &calls);
        let mut most = 0;
        let mut fired = Vec::new();
        for request in 0..100_000u64 {
            let now = t0 + Duration::from_micros(10 * request);
            deadline.set(Some(now + Duration::from_secs(3600)));
            reactor.run(key, now, |_| Flow::Open);
            deadline.set(Some(now + Duration::from_micros(1)));
            reactor.run(key, now, |_| Flow::Open);
            let slept = now + Duration::from_micros(1);
            reactor.fire_timers(slept, &mut slept.clone(), &mut fired);
            most = most.max(reactor.timers.len());
        }
        assert_eq!(calls.borrow().len(), 100_000);
        assert!(most <= 2 * (1 + SWEEP_SLACK) + 1, "{most} entries for one session");
    }

    /// A step of the property below; times are ms after the test's clock.
    #[derive(Debug, Clone)]
    enum Op {
        Add(Option<u64>, Then),
        Move(Index, Option<u64>),
        Close(Index),
        /// Let this many ms pass, then fire what is due: one late poll.
        Advance(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let then = prop_oneof![Just(Then::Clear), (1..400u64).prop_map(Then::Again), Just(Then::Close)];
        let at = proptest::option::of(0..2500u64);
        prop_oneof![
            (at.clone(), then).prop_map(|(at, then)| Op::Add(at, then)),
            (any::<Index>(), at).prop_map(|(i, at)| Op::Move(i, at)),
            any::<Index>().prop_map(Op::Close),
            (0..1500u64).prop_map(Op::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Whatever order sessions come, move their deadlines and close,
        /// and however late the loop polls (the memory give-back coming
        /// due in the same pass included), every session runs once its
        /// deadline has come, never before, and the table counts right.
        #[test]
        fn every_due_session_runs_and_none_early(ops in proptest::collection::vec(op(), 1..60)) {
            let mut reactor = Reactor::new().unwrap();
                let calls = Calls::default();
            let t0 = Instant::now();
            let mut clock = 0;
            let at = |clock: u64, ms: Option<u64>| ms.map(|ms| t0 + Duration::from_millis(clock + ms));
            // (key, deadline, what it does when due)
            let mut live: Vec<(usize, Handle<Option<Instant>>, Then)> = Vec::new();
            for op in ops {
                match op {
                    Op::Add(ms, then) => {
                        let (key, deadline) = add(&mut reactor, at(clock, ms), then, &calls);
                        live.push((key, deadline, then));
                    }
                    Op::Move(i, ms) if !live.is_empty() => {
                        let (key, deadline, _) = &live[i.index(live.len())];
                        deadline.set(at(clock, ms));
                        reactor.run(*key, Instant::now(), |_| Flow::Open);
                    }
                    Op::Close(i) if !live.is_empty() => {
                        let (key, ..) = live.remove(i.index(live.len()));
                        prop_assert!(reactor.run(key, Instant::now(), |_| Flow::Closed).is_some());
                    }
                    Op::Advance(ms) => {
                        clock += ms;
                        let now = t0 + Duration::from_millis(clock);
                        let mut fired = Vec::new();
                        reactor.fire_timers(now, &mut now.clone(), &mut fired);
                        let pass: Vec<Call> = calls.borrow_mut().drain(..).collect();
                        for (key, called_at, deadline) in &pass {
                            prop_assert_eq!(*called_at, now);
                            prop_assert!(deadline.is_some_and(|d| d <= now), "session {} ran early", key);
                            prop_assert_eq!(pass.iter().filter(|c| c.0 == *key).count(), 1);
                        }
                        let mut closed = Vec::new();
                        for fire in fired {
                            match fire {
                                Fired::Closed(session) => closed.push(session.key),
                                Fired::Owner(alarm) => prop_assert!(false, "owner alarm {:?} fired", alarm),
                            }
                        }
                        live.retain(|(key, ..)| !closed.contains(key));
                        for (key, deadline, then) in &live {
                            let waiting = deadline.get().is_none_or(|d| d > now);
                            prop_assert!(waiting, "session {} ({:?}) is due and did not run", key, then);
                        }
                    }
                    _ => {}
                }
                prop_assert_eq!(reactor.len(), live.len());
            }
        }
    }
}
