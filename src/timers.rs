//! Deadlines, and the timer that wakes the event loop for them.
//!
//! [`Timers`] is a min-heap of `(deadline, key)`, whatever the key's type. Entries are never removed
//! one by one: when one comes due, its owner is asked whether it still
//! wants it, so a stale entry costs one comparison, and the owner sweeps
//! out the stale ones in bulk ([`Timers::retain`]) when they outnumber the
//! live ones, so the heap's memory follows what is live, not how many
//! deadlines passed through it. [`WakeTimer`] wakes the poll at the
//! earliest deadline with nanosecond resolution: `epoll_wait`'s timeout is
//! in whole milliseconds, and mio rounds up, which would make every timed
//! reset up to 1 ms late (the BSD kernels' poll timeouts may be late too;
//! `crate::sys` says by how much).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::sys::OneShotTimer;

/// Deadlines with the key of whatever each one wakes.
#[derive(Debug)]
pub struct Timers<K> {
    heap: BinaryHeap<Reverse<(Instant, K)>>,
}

impl<K: Ord> Default for Timers<K> {
    fn default() -> Self {
        Timers {
            heap: BinaryHeap::new(),
        }
    }
}

impl<K: Ord + Copy> Timers<K> {
    /// Queue `key` to come due at `at`.
    pub fn schedule(&mut self, at: Instant, key: K) {
        self.heap.push(Reverse((at, key)));
    }

    /// The earliest queued deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// An entry due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, K)> {
        match self.heap.peek() {
            Some(Reverse((at, _))) if *at <= now => self.heap.pop().map(|Reverse(entry)| entry),
            _ => None,
        }
    }

    /// Entries queued, stale ones included.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Keep only the entries `keep` says are still wanted, and give back
    /// the memory the heap no longer needs (it keeps room for twice what
    /// is left, so a sweep is not followed by a string of reallocations).
    pub fn retain(&mut self, mut keep: impl FnMut(Instant, K) -> bool) {
        self.heap.retain(|Reverse((at, key))| keep(*at, *key));
        let room = (2 * self.heap.len()).max(MIN_ROOM);
        if self.heap.capacity() > 2 * room {
            self.heap.shrink_to(room);
        }
    }
}

/// Entries the heap keeps room for however few are queued.
const MIN_ROOM: usize = 64;

/// The descriptor that wakes the poll at the earliest deadline: a timer
/// with nanosecond resolution from [`crate::sys`] (Linux: timerfd; macOS
/// and FreeBSD: a kqueue timer), re-armed only when a deadline comes
/// earlier than the one it is armed for.
pub struct WakeTimer {
    timer: OneShotTimer,
    armed_for: Option<Instant>,
}

impl WakeTimer {
    /// A disarmed timer.
    pub fn new() -> io::Result<WakeTimer> {
        Ok(WakeTimer {
            timer: OneShotTimer::new()?,
            armed_for: None,
        })
    }

    /// Make sure the timer fires no later than `at` (at once if it has
    /// passed). It is re-armed only for an earlier instant: a timer armed
    /// for a deadline that has since gone away just wakes the loop once for
    /// nothing, which is cheaper than a syscall every time a connection's
    /// deadline moves.
    pub fn arm(&mut self, at: Option<Instant>) -> io::Result<()> {
        let Some(at) = at else { return Ok(()) };
        if self.armed_for.is_some_and(|armed| armed <= at) {
            return Ok(());
        }
        // A zero time would disarm a timerfd, so a due deadline fires after
        // one nanosecond instead.
        let after = at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        self.timer.set(after)?;
        self.armed_for = Some(at);
        Ok(())
    }

    /// Acknowledge an expiry, so that the descriptor is quiet until re-armed.
    pub fn acknowledge(&mut self) {
        self.timer.drain();
        self.armed_for = None;
    }
}

impl AsRawFd for WakeTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.timer.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order_only_when_due() {
        let t0 = Instant::now();
        let mut timers = Timers::<usize>::default();
        timers.schedule(t0 + Duration::from_millis(20), 2);
        timers.schedule(t0 + Duration::from_millis(10), 1);
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_millis(10)));
        assert_eq!(timers.pop_due(t0), None);
        let later = t0 + Duration::from_millis(30);
        assert_eq!(timers.pop_due(later), Some((t0 + Duration::from_millis(10), 1)));
        assert_eq!(timers.pop_due(later), Some((t0 + Duration::from_millis(20), 2)));
        assert_eq!(timers.pop_due(later), None);
    }

    #[test]
    fn retain_drops_entries_and_gives_back_memory() {
        let t0 = Instant::now();
        let mut timers = Timers::<usize>::default();
        for key in 0..10_000 {
            timers.schedule(t0 + Duration::from_millis(key as u64), key);
        }
        timers.retain(|_, key| key % 1000 == 0);
        assert_eq!(timers.len(), 10);
        assert!(timers.heap.capacity() <= 4 * MIN_ROOM, "{}", timers.heap.capacity());
        assert_eq!(timers.pop_due(t0 + Duration::from_secs(1)), Some((t0, 0)));
        assert_eq!(timers.next_deadline(), Some(t0 + Duration::from_millis(1000)));
    }
}
