//! Ending a connection: reset after the send queue empties, close with or
//! without draining, a peer that failed, and the final log line.

use std::time::{Duration, Instant};

use super::{Conn, End, Progress, State};
use crate::log::{Field, Log};
use crate::reactor::Flow;
use crate::stream::Io;

/// How long a reset waits for written bytes to leave before it discards them.
pub(super) const RESET_FLUSH_LIMIT: Duration = Duration::from_secs(3);
/// A reset re-checks the send queue after 20 µs, then twice as long each
/// time up to 1 ms: on loopback the ACK is usually back within the first
/// interval, so the RST follows the last byte by microseconds.
pub(super) const RESET_FLUSH_FIRST_POLL: Duration = Duration::from_micros(20);
const RESET_FLUSH_MAX_POLL: Duration = Duration::from_millis(1);
/// At most this much unread input is read away before a draining close.
const DRAIN_LIMIT: u64 = 1024 * 1024;

impl Conn<'_> {
    pub(super) fn progress_flush(&mut self, now: Instant, log: &mut Log) -> Progress {
        let State::Flushing {
            give_up_at,
            next_check,
            interval,
        } = self.state
        else {
            return Progress::Closed;
        };
        if now < next_check {
            return Progress::Wait;
        }
        let unsent = self.stream.unsent();
        if unsent > 0 && now < give_up_at {
            self.state = State::Flushing {
                give_up_at,
                next_check: now + interval,
                interval: (interval * 2).min(RESET_FLUSH_MAX_POLL),
            };
            return Progress::Wait;
        }
        if let Err(e) = self.stream.reset() {
            self.finish(End::Error, log, &[("error", Field::Str(&e.to_string()))]);
        } else if unsent > 0 {
            self.finish(End::Rst, log, &[("discarded", Field::Num(unsent as u64))]);
        } else {
            self.finish(End::Rst, log, &[]);
        }
        Progress::Closed
    }

    /// close(2). With `drain`, first read away what the peer already sent,
    /// so the peer gets FIN. Without it, the kernel's rule holds: closing
    /// with unread input sends RST. Input hangup has buffered but the
    /// script never read counts as unread too, so the end on the wire is
    /// the same as if it had stayed in the kernel; the log says which.
    pub(super) fn close(&mut self, drain: bool, log: &mut Log) {
        let mut drained = 0;
        if drain {
            drained += self.inbuf.len() as u64;
            self.inbuf.clear();
            let (thrown, io) = self.stream.discard(DRAIN_LIMIT - drained.min(DRAIN_LIMIT));
            drained += thrown;
            if let failed @ (Io::Reset(_) | Io::Failed(_)) = io {
                self.fail(failed, log);
                return;
            }
        }
        let unread = self.stream.unread() + self.inbuf.len();
        let mut fields = vec![];
        if drained > 0 {
            fields.push(("drained", Field::Num(drained)));
        }
        if unread == 0 {
            self.stream.close();
            self.finish(End::Fin, log, &fields);
            return;
        }
        // The kernel's rule: close with unread input sends RST.
        fields.push(("unread", Field::Num(unread as u64)));
        let _ = self.stream.reset();
        self.finish(End::Rst, log, &fields);
    }

    pub(super) fn fail_progress(&mut self, failed: Io, log: &mut Log) -> Progress {
        self.fail(failed, log);
        Progress::Closed
    }

    /// The socket failed: the peer reset it, or something else went wrong
    /// (the stream says which).
    pub(super) fn fail(&mut self, failed: Io, log: &mut Log) -> Flow {
        let (how, text) = match failed {
            Io::Reset(e) => (End::PeerRst, e.to_string()),
            Io::Failed(e) => (End::Error, e.to_string()),
            // Not failures; a caller that gets here has a bug.
            Io::Eof | Io::Blocked | Io::Data(_) => (End::Error, format!("unexpected I/O result {failed:?}")),
        };
        self.finish(how, log, &[("error", Field::Str(&text))]);
        Flow::Closed
    }

    /// Drop the socket (if still held) and log the end.
    pub(super) fn finish(&mut self, how: End, log: &mut Log, extra: &[(&str, Field)]) {
        if let Some(tape) = self.stream.take_tape()
            && let Err(why) = tape.finish(how, Instant::now())
        {
            // Written by `crate::record`'s thread, which logs `recorded`.
            self.log(log, "record-dropped", &[("why", Field::Str(&why))]);
        }
        self.stream.close();
        self.end_upstream_with(how, log);
        self.state = State::Closed;
        self.ended = Some(how);
        if !log.enabled() {
            return;
        }
        let mut fields = vec![
            ("how", Field::Str(how.name())),
            ("bytes_in", Field::Num(self.stream.bytes_in())),
            ("bytes_out", Field::Num(self.stream.bytes_out())),
            ("requests", Field::Num(self.interp.requests())),
        ];
        fields.extend_from_slice(extra);
        self.log(log, "end", &fields);
    }
}
