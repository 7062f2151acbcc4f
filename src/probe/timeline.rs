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
//! marks. An HTTP/2 connection's frames are bounded the same way, per
//! connection and per sender ([`SHOWN_FRAMES`], [`MORE_FRAMES_MARKS`]).

use std::time::Instant;

use super::h2::marks::{FrameMark, Sender};
use super::outcome::{Mark, MarkKind, SHOWN_REQUESTS};

/// Pieces of one response drawn one by one; those after are counted.
pub const SHOWN_PIECES: u64 = 20;

/// HTTP/2 frames other than DATA each side sends that are drawn one by
/// one (DATA frames: [`SHOWN_PIECES`] each side); those after are merged
/// into [`MarkKind::MoreFrames`] marks, of which there are at most
/// [`MORE_FRAMES_MARKS`].
pub const SHOWN_FRAMES: u64 = 50;
/// Summary marks of HTTP/2 frames past the bounds; past these, frames
/// are added to the last summary of their sender.
pub const MORE_FRAMES_MARKS: usize = 20;

/// A connection's marks, in milliseconds since its connect started.
pub struct Timeline {
    started: Instant,
    marks: Vec<Mark>,
    /// Pieces of the current response so far.
    pieces: u64,
    /// HTTP/2 frames drawn one by one: [probe, server] × [DATA, others].
    frames: [[u64; 2]; 2],
    /// [`MarkKind::MoreFrames`] marks made.
    more_frames: usize,
}

impl Timeline {
    /// An empty timeline for a connect started at `started`.
    pub fn new(started: Instant) -> Timeline {
        Timeline {
            started,
            marks: Vec::new(),
            pieces: 0,
            frames: [[0; 2]; 2],
            more_frames: 0,
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
    pub fn piece(&mut self, number: usize, now: Instant, drawn: Vec<MarkKind>) {
        if number > SHOWN_REQUESTS || drawn.is_empty() {
            return;
        }
        self.pieces += 1;
        for what in drawn {
            match what {
                _ if self.pieces <= SHOWN_PIECES => self.mark(now, what),
                MarkKind::Partial { bytes } => self.more(now, bytes, None, Part::Head),
                MarkKind::Body { bytes, expected } => self.more(now, bytes, expected, Part::Body),
                // A whole head is always drawn.
                other => self.mark(now, other),
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

    /// One HTTP/2 frame `from` either side, at `now`: drawn, or past the
    /// bounds merged into the summary of its sender's frames.
    pub fn frame(&mut self, now: Instant, from: Sender, frame: FrameMark) {
        let drawn = &mut self.frames[from as usize][usize::from(!frame.is_data())];
        let bound = if frame.is_data() { SHOWN_PIECES } else { SHOWN_FRAMES };
        if *drawn < bound {
            *drawn += 1;
            self.mark(now, MarkKind::Frame { from, frame });
            return;
        }
        let ms = self.ms(now);
        let is_theirs = |mark: &Mark| matches!(mark.what, MarkKind::MoreFrames { from: f, .. } if f == from);
        // The summary just before, or once there are enough, the last of
        // this sender's wherever it is.
        let at = match self.marks.last() {
            Some(last) if is_theirs(last) => Some(self.marks.len() - 1),
            _ if self.more_frames >= MORE_FRAMES_MARKS => self.marks.iter().rposition(is_theirs),
            _ => None,
        };
        if let Some(at) = at
            && let MarkKind::MoreFrames { frames, data_bytes, .. } = &mut self.marks[at].what
        {
            *frames += 1;
            *data_bytes += frame.data_bytes();
            self.marks[at].ms = ms;
            return;
        }
        self.more_frames += 1;
        let what = MarkKind::MoreFrames {
            from,
            frames: 1,
            since_ms: ms,
            data_bytes: frame.data_bytes(),
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
