//! Ending a connection: a reset that waits for the send queue to empty, a
//! close with or without draining, a peer that failed or left, and the
//! connection's last log line.
//!
//! An [`Ending`] is what ends the connection; an [`EndNote`] is how it
//! ended on the wire (a close with unread input is an RST, whatever the
//! script meant) and what the `end` line says of it. The client side
//! carries an ending out (`Client::end` in [`super::client`]).

use std::time::{Duration, Instant};

use super::{Cx, Progress};
use crate::end::End;
use crate::log::Field;
use crate::stream::Io;
use crate::transport::Transport;

/// How long a reset waits for written bytes to leave before it discards them.
const RESET_FLUSH_LIMIT: Duration = Duration::from_secs(3);
/// A reset re-checks the send queue after 20 µs, then twice as long each
/// time up to 1 ms: on loopback the ACK is usually back within the first
/// interval, so the RST follows the last byte by microseconds.
const RESET_FLUSH_FIRST_POLL: Duration = Duration::from_micros(20);
const RESET_FLUSH_MAX_POLL: Duration = Duration::from_millis(1);

/// Whether a close first reads away what the peer already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Drain {
    /// Read it away (up to a limit), so the peer gets FIN.
    First,
    /// FIN first, then read away what the peer still sends until its own
    /// FIN ([`Lingering`]): for a peer that answers our close with bytes
    /// of its own (a GOAWAY's client still sending, a TLS client's
    /// close_notify), which a close before they came would meet as unread
    /// input and turn into an RST. Under TLS every [`Drain::First`] close
    /// is one of these.
    Linger,
    /// Leave it: the kernel's rule holds, and unread input makes the close
    /// an RST.
    No,
}

/// What ends a connection.
#[derive(Debug)]
pub(super) enum Ending {
    /// close(2): FIN, or RST when input is left unread. Under TLS,
    /// close_notify first: the well-behaved end.
    Close(Drain),
    /// The same without close_notify (`close no-notify`): the TLS fault.
    CloseNoNotify(Drain),
    /// RST now: the written bytes left, or the wait for them gave up with
    /// this many still queued.
    Reset { unsent: usize },
    /// The peer's socket failed: its reset, or another error.
    Failed(Io),
    /// The peer's FIN came while a request was awaited: it left, with what
    /// it sent of one.
    PeerLeft,
    /// The peer's FIN ended a `hang`.
    PeerFin,
    /// A state found nothing it could go on with (a bug if it happens).
    Broken(&'static str),
}

/// `reset`: the RST waits until the peer acknowledged every written byte
/// (linger 0 would discard what is still queued; see `Stream::reset`).
pub(super) struct Flushing {
    give_up_at: Instant,
    next_check: Instant,
    interval: Duration,
}

impl Flushing {
    pub(super) fn new(now: Instant) -> Flushing {
        Flushing {
            give_up_at: now + RESET_FLUSH_LIMIT,
            next_check: now,
            interval: RESET_FLUSH_FIRST_POLL,
        }
    }

    /// When the send queue is looked at next.
    pub(super) fn next_check(&self) -> Instant {
        self.next_check
    }

    pub(super) fn progress<'s>(&mut self, stream: &Transport, now: Instant) -> Progress<'s> {
        if now < self.next_check {
            return Progress::Wait;
        }
        let unsent = stream.unsent();
        if unsent > 0 && now < self.give_up_at {
            self.next_check = now + self.interval;
            self.interval = (self.interval * 2).min(RESET_FLUSH_MAX_POLL);
            return Progress::Wait;
        }
        Progress::End(Ending::Reset { unsent })
    }
}

/// How long a lingering close waits for the peer's FIN.
const LINGER: Duration = Duration::from_secs(1);
/// How much the peer may still send meanwhile.
const LINGER_BYTES: u64 = 1024 * 1024;

/// A close that waits for the peer: our FIN went (a half-close), and what
/// the peer still sends is read away until its own FIN, so that nothing
/// it sends meanwhile turns the close into an RST; then the socket
/// closes. nginx does the same for HTTP/2 ("lingering close"): measured
/// with a client still writing after a GOAWAY, a bare close was an RST 4
/// times in 10, and 2 of those clients read ECONNRESET, not the GOAWAY.
/// Given up after [`LINGER`] or [`LINGER_BYTES`]: then the close is as
/// it falls.
pub(super) struct Lingering {
    until: Instant,
    /// Bytes the peer may still send before the close.
    left: u64,
}

impl Lingering {
    pub(super) fn new(now: Instant) -> Lingering {
        Lingering {
            until: now + LINGER,
            left: LINGER_BYTES,
        }
    }

    /// When the wait for the peer's FIN is given up.
    pub(super) fn deadline(&self) -> Instant {
        self.until
    }

    pub(super) fn progress<'s>(&mut self, stream: &mut Transport, now: Instant) -> Progress<'s> {
        let (thrown, io) = stream.discard(self.left);
        self.left -= thrown.min(self.left);
        match io {
            Io::Eof => Progress::End(Ending::Close(Drain::First)),
            Io::Blocked | Io::Data(_) if now < self.until && self.left > 0 => Progress::Wait,
            Io::Blocked | Io::Data(_) => Progress::End(Ending::Close(Drain::First)),
            failed => Progress::End(Ending::Failed(failed)),
        }
    }
}

/// How a connection ended on the wire, and what its `end` line says.
#[derive(Debug)]
pub(super) struct EndNote {
    pub(super) how: End,
    pub(super) bytes_in: u64,
    pub(super) bytes_out: u64,
    /// Bytes of a request that was not whole when the peer left.
    pub(super) unparsed: u64,
    /// Input read away before a FIN.
    pub(super) drained: u64,
    /// Input left unread, which made a close an RST.
    pub(super) unread: u64,
    /// Written bytes a reset discarded (the peer had not taken them).
    pub(super) discarded: u64,
    pub(super) error: Option<String>,
}

impl EndNote {
    pub(super) fn new(how: End) -> EndNote {
        EndNote {
            how,
            bytes_in: 0,
            bytes_out: 0,
            unparsed: 0,
            drained: 0,
            unread: 0,
            discarded: 0,
            error: None,
        }
    }

    pub(super) fn failed(how: End, error: String) -> EndNote {
        EndNote {
            error: Some(error),
            ..EndNote::new(how)
        }
    }

    /// The socket failed: the peer reset it, or something else went wrong
    /// (the stream says which).
    pub(super) fn failure(failed: Io) -> EndNote {
        match failed {
            Io::Reset(e) => EndNote::failed(End::PeerRst, e.to_string()),
            Io::Failed(e) => EndNote::failed(End::Error, e.to_string()),
            // Not failures; a caller that gets here has a bug.
            Io::Eof | Io::Blocked | Io::Data(_) => {
                EndNote::failed(End::Error, format!("unexpected I/O result {failed:?}"))
            }
        }
    }

    /// The connection's last line: how it ended, its byte counts, its
    /// requests, and whatever else the ending has to say.
    pub(super) fn log(&self, requests: u64, cx: &mut Cx) {
        if !cx.log.enabled() {
            return;
        }
        let mut fields = vec![
            ("how", Field::Str(self.how.name())),
            ("bytes_in", Field::Num(self.bytes_in)),
            ("bytes_out", Field::Num(self.bytes_out)),
            ("requests", Field::Num(requests)),
        ];
        for (name, value) in [
            ("unparsed", self.unparsed),
            ("drained", self.drained),
            ("unread", self.unread),
            ("discarded", self.discarded),
        ] {
            if value > 0 {
                fields.push((name, Field::Num(value)));
            }
        }
        if let Some(error) = &self.error {
            fields.push(("error", Field::Str(error)));
        }
        cx.say("end", &fields);
    }
}
