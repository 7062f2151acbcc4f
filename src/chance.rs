//! Choices by chance that a seed makes repeatable, whatever the timing.
//!
//! There is no random number generator to share: a draw is a hash of
//! everything that names it — the seed, the connection's number, the
//! request's number on that connection, the place in the script (its
//! site), and how many draws that place already made for that request.
//! So connection 4's second request gets the same choices under the same
//! seed whether connection 3 came before it or long after, and two runs
//! with one `--seed` make the same choices (toxiproxy's shared generator
//! cannot promise that once goroutines interleave).
//!
//! The mixer is splitmix64's finalizer (Steele, Lea and Flood, 2014),
//! applied once per input word: a few multiplies, no state, no crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What names one draw; see the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub seed: u64,
    pub connection: u64,
    pub request: u64,
    pub site: u32,
    /// Draws this site made before for the same request.
    pub nth: u64,
}

/// splitmix64's output function: every input bit moves every output bit.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Draw {
    /// 64 bits that depend on every field of the draw, and on its order.
    pub fn hash(&self) -> u64 {
        [self.connection, self.request, u64::from(self.site), self.nth]
            .iter()
            .fold(mix(self.seed), |h, word| mix(h ^ word))
    }

    /// A number below `n` (zero when `n` is zero), all about equally
    /// likely: the hash scaled rather than taken modulo, so no bias
    /// worth naming for any `n` a script writes.
    pub fn below(&self, n: u64) -> u64 {
        ((u128::from(self.hash()) * u128::from(n)) >> 64) as u64
    }

    /// True `hits` times in `of`.
    pub fn holds(&self, hits: u64, of: u64) -> bool {
        self.below(of) < hits
    }

    /// A duration from `low` to `high`, both included, to the microsecond.
    pub fn between(&self, low: Duration, high: Duration) -> Duration {
        let span = high.saturating_sub(low).as_micros().min(u128::from(u64::MAX - 1)) as u64;
        low + Duration::from_micros(self.below(span + 1))
    }
}

/// A seed for a run without `--seed`: from the clock and the process id,
/// kept below a billion so that it is easy to type back in.
pub fn fresh_seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    mix(nanos ^ mix(u64::from(std::process::id()))) % 1_000_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(connection: u64, request: u64, site: u32, nth: u64) -> Draw {
        Draw {
            seed: 7,
            connection,
            request,
            site,
            nth,
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let base = draw(1, 1, 0, 0).hash();
        for other in [draw(2, 1, 0, 0), draw(1, 2, 0, 0), draw(1, 1, 1, 0), draw(1, 1, 0, 1)] {
            assert_ne!(other.hash(), base, "{other:?}");
        }
        // Order matters: connection 1 request 2 is not connection 2 request 1.
        assert_ne!(draw(1, 2, 0, 0).hash(), draw(2, 1, 0, 0).hash());
        assert_ne!(
            Draw {
                seed: 8,
                ..draw(1, 1, 0, 0)
            }
            .hash(),
            base
        );
    }

    #[test]
    fn one_in_three_is_about_a_third_and_the_ends_are_exact() {
        let hits = (1..=3000).filter(|&c| draw(c, 1, 0, 0).holds(1, 3)).count();
        assert!((900..1100).contains(&hits), "{hits} of 3000");
        assert!((1..=1000).all(|c| !draw(c, 1, 0, 0).holds(0, 3)));
        assert!((1..=1000).all(|c| draw(c, 1, 0, 0).holds(3, 3)));
    }

    #[test]
    fn durations_stay_in_their_range_and_spread() {
        let (low, high) = (Duration::from_millis(100), Duration::from_millis(200));
        let all: Vec<Duration> = (1..=1000).map(|c| draw(c, 1, 0, 0).between(low, high)).collect();
        assert!(all.iter().all(|d| (low..=high).contains(d)));
        assert!(all.iter().any(|d| *d < Duration::from_millis(110)));
        assert!(all.iter().any(|d| *d > Duration::from_millis(190)));
        assert_eq!(draw(1, 1, 0, 0).between(low, low), low);
    }
}
