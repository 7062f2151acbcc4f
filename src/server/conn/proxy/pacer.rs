//! [`Pacer`]: how fast a relay may pass the upstream's bytes on — `rate
//! SIZE` (bytes per second) or `every DURATION` (a pause after each chunk).
//!
//! quinn-proto's shape: asked [`Pacer::allowed`] with the time, it answers
//! how many bytes may go now; told [`Pacer::sent`] what went; and when
//! nothing may go, [`Pacer::next_at`] says when something may, for the
//! reactor to wake the relay. It never reads the clock.

use std::time::{Duration, Instant};

use crate::scenario::ast::Pace;

/// The largest chunk a paced relay sends at once.
pub(super) const PACE_CHUNK: usize = 16 * 1024;

#[derive(Debug)]
pub(super) struct Pacer {
    pace: Option<Pace>,
    started: Instant,
    sent: u64,
    /// Nothing may go before then.
    resume_at: Option<Instant>,
}

impl Pacer {
    /// A pacer for a relay that starts at `now`; no pace: as fast as the
    /// sockets go.
    pub(super) fn new(pace: Option<Pace>, now: Instant) -> Pacer {
        Pacer {
            pace,
            started: now,
            sent: 0,
            resume_at: None,
        }
    }

    /// How many bytes may go at `now`: 0 until [`Pacer::next_at`].
    pub(super) fn allowed(&mut self, now: Instant) -> usize {
        if let Some(at) = self.resume_at {
            if now < at {
                return 0;
            }
            self.resume_at = None;
        }
        match self.pace {
            None => usize::MAX,
            Some(Pace::Every(_)) => PACE_CHUNK,
            Some(Pace::Rate(rate)) => {
                let allowed = allowance(rate, self.started, now, self.sent);
                if allowed == 0 {
                    self.resume_at = Some(next_allowance(rate, self.started, self.sent));
                }
                allowed
            }
        }
    }

    /// A chunk of `n` bytes went out (all of what `allowed` let through,
    /// or less) at `now`: an `every` pace pauses after it.
    pub(super) fn sent(&mut self, n: usize, now: Instant) {
        self.sent += n as u64;
        if let Some(Pace::Every(pause)) = self.pace {
            self.resume_at = Some(now + pause);
        }
    }

    /// When more may go, while nothing may.
    pub(super) fn next_at(&self) -> Option<Instant> {
        self.resume_at
    }
}

/// Bytes a relay at `rate` bytes per second may still send, `sent` of them
/// sent since `started`.
fn allowance(rate: u64, started: Instant, now: Instant, sent: u64) -> usize {
    let due = (now.saturating_duration_since(started).as_nanos() * u128::from(rate) / 1_000_000_000) as u64;
    // At least a small chunk at once, so a slow rate is not one byte per
    // wake-up; at most one pace chunk.
    let due = due.max(quantum(rate).min(rate));
    due.saturating_sub(sent).min(PACE_CHUNK as u64) as usize
}

/// When a relay at `rate` may send its next chunk.
fn next_allowance(rate: u64, started: Instant, sent: u64) -> Instant {
    let nanos = u128::from(sent + quantum(rate)) * 1_000_000_000 / u128::from(rate.max(1));
    started + Duration::from_nanos(nanos.min(u128::from(u64::MAX)) as u64)
}

/// The smallest chunk a rate sends at once: a fiftieth of a second's worth.
fn quantum(rate: u64) -> u64 {
    (rate / 50).clamp(1, PACE_CHUNK as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn no_pace_allows_everything() {
        let now = Instant::now();
        let mut pacer = Pacer::new(None, now);
        assert_eq!(pacer.allowed(now), usize::MAX);
        pacer.sent(1 << 20, now);
        assert_eq!(pacer.allowed(now), usize::MAX);
        assert_eq!(pacer.next_at(), None);
    }

    #[test]
    fn every_pauses_after_each_chunk() {
        let t0 = Instant::now();
        let mut pacer = Pacer::new(Some(Pace::Every(ms(100))), t0);
        assert_eq!(pacer.allowed(t0), PACE_CHUNK);
        pacer.sent(10, t0);
        assert_eq!(pacer.allowed(t0 + ms(99)), 0);
        assert_eq!(pacer.next_at(), Some(t0 + ms(100)));
        assert_eq!(pacer.allowed(t0 + ms(100)), PACE_CHUNK);
        assert_eq!(pacer.next_at(), None);
    }

    #[test]
    fn a_rate_spreads_bytes_over_time() {
        let t0 = Instant::now();
        // 1,000 bytes a second: a quantum of 20 bytes at once.
        let mut pacer = Pacer::new(Some(Pace::Rate(1000)), t0);
        assert_eq!(pacer.allowed(t0), 20);
        pacer.sent(20, t0);
        assert_eq!(pacer.allowed(t0 + ms(10)), 0);
        // The next quantum is due when 40 bytes are: at 40 ms.
        assert_eq!(pacer.next_at(), Some(t0 + ms(40)));
        assert_eq!(pacer.allowed(t0 + ms(40)), 20);
        pacer.sent(20, t0 + ms(40));
        // A second in, a second's worth in all, at most one chunk at once.
        assert_eq!(pacer.allowed(t0 + ms(1000)), 960);
        let mut fast = Pacer::new(Some(Pace::Rate(10 << 20)), t0);
        assert_eq!(fast.allowed(t0 + ms(1000)), PACE_CHUNK);
    }
}
