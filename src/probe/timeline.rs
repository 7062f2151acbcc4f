//! The marks a probe draws, each at the time it happened, and the bounds
//! that keep them few whatever a server does.
//!
//! A response is drawn piece by piece, a piece being what one read
//! brought of it: a server that drips its body (or its head) shows as one
//! arrow per piece, each at its own time, rather than one arrow at the
//! last piece's time. Two bounds keep a connection's timeline small:
//!
//! - of a response, the first [`SHOWN_PIECES`] pieces are drawn; the
//!   pieces after them are merged, while nothing else happens between,
//!   into one [`MarkKind::MorePieces`] that counts them and says since
//!   when (a head made whole among them is still drawn);
//! - of a connection, the requests after the first [`SHOWN_REQUESTS`]
//!   draw nothing of their own, only how the connection ended.
//!
//! So a timeline holds at most about `SHOWN_REQUESTS × (SHOWN_PIECES + 4)`
//! marks.

use std::time::Instant;

use super::outcome::{Mark, MarkKind, SHOWN_REQUESTS};

/// Pieces of one response drawn one by one; those after are counted.
pub const SHOWN_PIECES: u64 = 20;

/// A connection's marks, in milliseconds since its connect started.
pub struct Timeline {
    started: Instant,
    marks: Vec<Mark>,
    /// Pieces of the current response so far.
    pieces: u64,
}

impl Timeline {
    /// An empty timeline for a connect started at `started`.
    pub fn new(started: Instant) -> Timeline {
        Timeline {
            started,
            marks: Vec::new(),
            pieces: 0,
        }
    }

    /// Milliseconds from the connect's start to `now`.
    pub fn ms(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.started).as_secs_f64() * 1000.0
    }

    /// Draw `what` of the connection (connect, end, error, ...).
    pub fn mark(&mut self, now: Instant, what: MarkKind) {
        let ms = self.ms(now);
        self.marks.push(Mark { ms, what });
    }

    /// Draw `what` of request `number` (sent, say): nothing past the
    /// first [`SHOWN_REQUESTS`].
    pub fn request_mark(&mut self, number: usize, now: Instant, what: MarkKind) {
        if number <= SHOWN_REQUESTS {
            self.mark(now, what);
        }
    }

    /// A new response begins: its pieces are counted from none.
    pub fn next_response(&mut self) {
        self.pieces = 0;
    }

    /// One piece of request `number`'s response arrived at `now`, and this
    /// is what it made of the response: a head still partial, a head made
    /// whole, body bytes (one or two of these).
    pub fn piece(&mut self, number: usize, now: Instant, drawn: &[MarkKind]) {
        if number > SHOWN_REQUESTS || drawn.is_empty() {
            return;
        }
        self.pieces += 1;
        for what in drawn {
            match what {
                _ if self.pieces <= SHOWN_PIECES => self.mark(now, what.clone()),
                MarkKind::Partial { bytes } => self.more(now, *bytes, None, Part::Head),
                MarkKind::Body { bytes, expected } => self.more(now, *bytes, *expected, Part::Body),
                // A whole head is always drawn.
                other => self.mark(now, other.clone()),
            }
        }
    }

    /// One more piece past the bound: merged into the summary mark that
    /// ends the timeline, or a new one.
    fn more(&mut self, now: Instant, bytes: u64, expected: Option<u64>, part: Part) {
        let head = matches!(part, Part::Head);
        let ms = self.ms(now);
        if let Some(last) = self.marks.last_mut()
            && let MarkKind::MorePieces {
                pieces,
                bytes: so_far,
                expected: of,
                head: of_head,
                ..
            } = &mut last.what
            && *of_head == head
        {
            *pieces += 1;
            *so_far = bytes;
            *of = expected;
            last.ms = ms;
            return;
        }
        let what = MarkKind::MorePieces {
            pieces: 1,
            since_ms: ms,
            bytes,
            expected,
            head,
        };
        self.marks.push(Mark { ms, what });
    }

    /// The marks, in order.
    pub fn into_marks(self) -> Vec<Mark> {
        self.marks
    }
}

/// Which part of a response a piece past the bound belongs to.
#[derive(Clone, Copy)]
enum Part {
    /// The head, still partial.
    Head,
    /// The body.
    Body,
}
