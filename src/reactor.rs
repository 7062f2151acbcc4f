//! The event loop machinery shared by `serve` and `probe`.
//!
//! A [`Reactor`] owns one `mio::Poll`, a timerfd for deadlines, and a slot
//! table of sessions (server connections or probe connections). Each turn
//! it arms the timerfd for the earliest deadline, polls, and hands every
//! event to its session; then it fires the deadlines that came due. A
//! session answers [`Flow::Closed`] when it is done: its slot is freed and
//! the session handed back, so a probe can read its result.
//!
//! Tokens and timer keys at the top of the range are the owner's (a
//! listener, a retry timer), except the very last, the reactor's own;
//! [`Reactor::poll`] returns them untouched.
//!
//! A session has at most one deadline queued that is still its own: one
//! that moves later (each request on a keep-alive connection) is queued
//! again only when the old one comes, and the stale entries closed sessions
//! leave behind are swept out once they outnumber the live ones.
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

use mio::event::Event;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Registry, Token};

use crate::log::Log;
use crate::timers::{TimerFd, Timers};

/// Tokens and timer keys from here up are not sessions.
pub const FIRST_OWNER_TOKEN: usize = usize::MAX - 16;
const TIMER: Token = Token(usize::MAX);
/// The reactor's own timer key: give freed memory back.
const GIVE_BACK: usize = usize::MAX;
/// A table of up to this many slots is never shrunk, so a server of a few
/// connections at a time does not free and regrow it.
const MIN_SLOTS: usize = 64;
/// Queued deadlines are swept once they are more than twice the sessions
/// plus this many, so that a few sessions do not sweep on every close.
const SWEEP_SLACK: usize = 64;
/// Freed memory goes back this long after a session closed: at most once a
/// second, not on every close, because a trim walks the whole heap.
const GIVE_BACK_AFTER: Duration = Duration::from_secs(1);

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

/// A session and the earliest deadline the timer queue holds for it.
/// While the session wants a deadline, one is queued at or before it:
/// when that entry comes due, the session's deadline is looked up again.
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
    /// Empty slots below the end of the table; the lowest is used first.
    free: BTreeSet<usize>,
    /// The key `vacant_key` handed out and `insert` has not filled yet.
    reserved: Option<usize>,
    /// Entries due in the current `fire_timers` pass (kept to reuse its memory).
    due: Vec<(Instant, usize)>,
    /// When freed memory goes back, if sessions closed since it last did.
    give_back_at: Option<Instant>,
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
            free: BTreeSet::new(),
            reserved: None,
            due: Vec::new(),
            give_back_at: None,
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
        let key = self.free.pop_first().unwrap_or_else(|| {
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
        while let Some(entry) = self.timers.pop_due(now) {
            self.due.push(entry);
        }
        let mut give_back = false;
        for i in 0..self.due.len() {
            let (at, key) = self.due[i];
            if key == GIVE_BACK {
                // A session closing later in this pass queues the next one.
                self.give_back_at = None;
                give_back = true;
                continue;
            }
            if key >= FIRST_OWNER_TOKEN {
                fired.push(Fired::Owner(key));
                continue;
            }
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
            match slot.session.deadline() {
                Some(deadline) if deadline <= now => {
                    if let Some(closed) = self.run(key, |s| s.on_timer(now, log)) {
                        fired.push(Fired::Closed(closed));
                    }
                }
                // It moved later meanwhile (a keep-alive connection read a
                // request): queue it again, once per deadline that came, not
                // once per request.
                Some(deadline) => {
                    self.timers.schedule(deadline, key);
                    slot.scheduled = Some(deadline);
                }
                None => {}
            }
        }
        // After the pass: giving memory back frees the list it walks.
        if give_back {
            self.give_back_memory();
        }
    }

    /// Remove every session `keep` rejects, and hand them back (their
    /// sockets close when they are dropped).
    pub fn remove_unless(&mut self, mut keep: impl FnMut(&S) -> bool) -> Vec<S> {
        let mut removed = Vec::new();
        // Freeing a slot may cut the table short: check the length each time.
        let mut key = 0;
        while key < self.slots.len() {
            let rejected = self.slots[key].as_ref().is_some_and(|slot| !keep(&slot.session));
            if rejected && let Some(session) = self.free_slot(key) {
                removed.push(session);
            }
            key += 1;
        }
        removed
    }

    /// Run `f` on a session, then free its slot if it closed, or make sure
    /// its deadline is queued if it did not.
    fn run(&mut self, key: usize, f: impl FnOnce(&mut S) -> Flow) -> Option<S> {
        let slot = self.slots.get_mut(key)?.as_mut()?;
        if f(&mut slot.session) == Flow::Closed {
            return self.free_slot(key);
        }
        // An entry at or before the deadline is enough (see `Slot`): a
        // deadline that only moves later costs no push.
        if let Some(at) = slot.session.deadline()
            && slot.scheduled.is_none_or(|queued| at < queued)
        {
            self.timers.schedule(at, key);
            slot.scheduled = Some(at);
        }
        None
    }

    /// Take a session out of its slot and free the slot. The socket is
    /// dropped with the session, which removes it from epoll.
    fn free_slot(&mut self, key: usize) -> Option<S> {
        let closed = self.slots.get_mut(key)?.take().map(|slot| slot.session);
        self.free.insert(key);
        self.release_tail();
        self.sweep_timers();
        if self.give_back_at.is_none() {
            let at = Instant::now() + GIVE_BACK_AFTER;
            self.timers.schedule(at, GIVE_BACK);
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
    /// the queue (closed sessions leave theirs behind). A sweep keeps at
    /// most half of the queue, so it costs O(1) per entry over time.
    fn sweep_timers(&mut self) {
        if self.timers.len() <= 2 * (self.len() + SWEEP_SLACK) {
            return;
        }
        let slots = &self.slots;
        self.timers.retain(|at, key| {
            let holds = |slot: &Option<Slot<S>>| slot.as_ref().is_some_and(|s| s.scheduled == Some(at));
            key >= FIRST_OWNER_TOKEN || slots.get(key).is_some_and(holds)
        });
    }

    /// Sessions closed: return what they used.
    fn give_back_memory(&mut self) {
        // A burst of deadlines due at once may have made this list long.
        self.due = Vec::new();
        // glibc keeps freed memory for reuse, even whole pages in the middle
        // of the heap; malloc_trim hands free pages back to the kernel.
        #[cfg(target_env = "gnu")]
        // SAFETY: malloc_trim takes no pointers and only releases memory
        // that is free.
        unsafe {
            libc::malloc_trim(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;
    use crate::log::Format;

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
        fn on_event(&mut self, _: &Event, _: Instant, _: &mut Log) -> Flow {
            Flow::Open
        }
        fn on_timer(&mut self, now: Instant, _: &mut Log) -> Flow {
            self.calls.borrow_mut().push((self.key, now, self.deadline.get()));
            match self.then {
                Then::Clear => self.deadline.set(None),
                Then::Again(ms) => self.deadline.set(Some(now + Duration::from_millis(ms))),
                Then::Close => return Flow::Closed,
            }
            Flow::Open
        }
        fn deadline(&self) -> Option<Instant> {
            self.deadline.get()
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
        reactor.insert(key, session, |_| Flow::Open);
        (key, deadline)
    }

    fn quiet() -> Log {
        Log::new(Format::Text, true)
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
        reactor.run(7, |_| Flow::Closed);
        reactor.run(3, |_| Flow::Closed);
        assert_eq!(reactor.vacant_key(), 3);
        add(&mut reactor, None, Then::Clear, &calls);
        // Close the rest in a scattered order.
        for i in 0..1000 {
            reactor.run(i * 7919 % 1000, |_| Flow::Closed);
        }
        assert!(reactor.is_empty());
        assert_eq!((reactor.slots.len(), reactor.free.len()), (0, 0));
        assert_eq!(reactor.slots.capacity(), 0);
        // The closed sessions' deadlines were swept out.
        assert!(reactor.timers.len() <= 2 * SWEEP_SLACK, "{}", reactor.timers.len());
        // Freed memory goes back a second later; the owner hears nothing of it.
        let mut fired = Vec::new();
        let later = Instant::now() + GIVE_BACK_AFTER;
        reactor.fire_timers(later, &mut quiet(), &mut fired);
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
        reactor.run(closing, |_| Flow::Closed);
        // ...and a live one is due just after it: a loaded machine polls
        // late and finds both due in one pass.
        let due = t0 + GIVE_BACK_AFTER + Duration::from_millis(5);
        add(&mut reactor, Some(due), Then::Close, &calls);
        reactor.fire_timers(t0 + 2 * GIVE_BACK_AFTER, &mut quiet(), &mut fired);
        assert_eq!((calls.borrow().len(), fired.len()), (1, 1));
        // It closed after the give-back: the next one is queued for it.
        assert!(reactor.give_back_at.is_some());
    }

    #[test]
    fn a_deadline_that_moves_later_is_queued_once_and_again_when_it_comes() {
        let mut reactor = Reactor::new().unwrap();
        let mut log = quiet();
        let calls = Calls::default();
        let timer_calls = || calls.borrow().len();
        let mut fired = Vec::new();
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let (key, deadline) = add(&mut reactor, Some(ms(10)), Then::Clear, &calls);
        // Like a keep-alive connection reading request after request.
        for n in 11..100 {
            deadline.set(Some(ms(n)));
            reactor.run(key, |_| Flow::Open);
        }
        assert_eq!(reactor.timers.len(), 1);
        // The entry for 10 ms comes: not due yet, queued again for 99 ms.
        reactor.fire_timers(ms(50), &mut log, &mut fired);
        assert_eq!((timer_calls(), reactor.timers.next_deadline()), (0, Some(ms(99))));
        // An earlier deadline is queued at once; the later entry goes stale.
        deadline.set(Some(ms(60)));
        reactor.run(key, |_| Flow::Open);
        reactor.fire_timers(ms(70), &mut log, &mut fired);
        assert_eq!(timer_calls(), 1);
        deadline.set(Some(ms(200)));
        reactor.run(key, |_| Flow::Open);
        reactor.fire_timers(ms(150), &mut log, &mut fired);
        assert_eq!(timer_calls(), 1, "the stale 99 ms entry must not fire");
        reactor.fire_timers(ms(200), &mut log, &mut fired);
        assert_eq!(timer_calls(), 2);
        assert!(fired.is_empty());
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
            let mut log = quiet();
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
                        reactor.run(*key, |_| Flow::Open);
                    }
                    Op::Close(i) if !live.is_empty() => {
                        let (key, ..) = live.remove(i.index(live.len()));
                        prop_assert!(reactor.run(key, |_| Flow::Closed).is_some());
                    }
                    Op::Advance(ms) => {
                        clock += ms;
                        let now = t0 + Duration::from_millis(clock);
                        let mut fired = Vec::new();
                        reactor.fire_timers(now, &mut log, &mut fired);
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
                                Fired::Owner(key) => prop_assert!(false, "owner key {} fired", key),
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
