//! One probe connection on the shared reactor: the socket's side of an
//! [`Exchange`].
//!
//! The session sends its request and reads at the same time, so a server
//! that answers or resets mid-upload is seen as such. Its [`Stream`]
//! classifies every read and write (a reset that a `write` reported is
//! still a reset when the next `read` returns 0); the session tells the
//! exchange what happened, with the time it was handed, and the exchange
//! decides what it means and what comes next. Nothing here reads the
//! clock: the owner passes `now` in with every event and wake-up.
//!
//! A server that never stops sending (interim heads, say, or a body
//! without end) keeps the socket readable. The session reads at most
//! [`READS_PER_TURN`] times in one turn, then gives way and asks to run
//! again at once, with a fresh `now`: the timeout still holds, and other
//! probes get their turn.

use std::io;
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;

use super::exchange::{Ended, Exchange, Stage};
use super::outcome::ProbeReport;
use super::request::Plan;
use crate::reactor::{Flow, PollAt, Session, Side};
use crate::sock;
use crate::stream::{Io, READ_CHUNK, Stream};

/// Reads of up to [`READ_CHUNK`] in one turn: 1 MiB before giving way.
pub const READS_PER_TURN: usize = 16;

/// One probe's connection and what it saw.
pub struct ProbeConn<'p> {
    /// `None` when the connect failed at once, or once it is over.
    stream: Option<Stream>,
    exchange: Exchange<'p>,
    /// The connect failed at once for lack of a descriptor (or memory).
    lacked_descriptor: bool,
    /// It stopped reading with bytes left ([`READS_PER_TURN`]): run again
    /// at the next turn.
    yielded: bool,
}

impl<'p> ProbeConn<'p> {
    /// Start connecting to the plan's address.
    pub fn connect(plan: &'p Plan, now: Instant) -> ProbeConn<'p> {
        let mut conn = ProbeConn {
            stream: None,
            exchange: Exchange::new(plan, now),
            lacked_descriptor: false,
            yielded: false,
        };
        match TcpStream::connect(plan.addr) {
            Ok(socket) => conn.stream = Some(Stream::connecting(socket)),
            Err(e) => {
                conn.lacked_descriptor = sock::is_resource_exhaustion(&e);
                conn.exchange.connect_failed(&e, now);
            }
        }
        conn
    }

    /// The socket could not be set up (registration failed).
    pub fn fail(&mut self, error: &io::Error, now: Instant) {
        self.exchange.connect_failed(error, now);
        self.stream = None;
    }

    /// The socket, to register it with the poll.
    pub fn socket_mut(&mut self) -> Option<&mut TcpStream> {
        self.stream.as_mut()?.socket_mut()
    }

    /// Whether the connect failed at once for lack of a descriptor: a
    /// probe that may wait for one to be free.
    pub fn lacked_descriptor(&self) -> bool {
        self.lacked_descriptor
    }

    /// Whether the probe is over.
    pub fn is_done(&self) -> bool {
        self.exchange.is_done()
    }

    /// What the probe saw.
    pub fn into_report(self) -> ProbeReport {
        self.exchange.into_report()
    }

    /// Do the I/O the exchange wants, tell it what happened, and go on
    /// while it moves to a stage that wants more (the next request).
    fn drive(&mut self, now: Instant) -> Flow {
        self.yielded = false;
        let mut reads = READS_PER_TURN;
        loop {
            let stage = self.exchange.stage();
            match stage {
                Stage::Done => {
                    self.stream = None;
                    return Flow::Closed;
                }
                Stage::Connecting => self.connect_result(now),
                Stage::Exchanging { .. } | Stage::Waiting => {
                    self.send(now);
                    self.read(now, &mut reads);
                }
            }
            self.exchange.advance(now);
            if self.exchange.stage() == stage {
                return Flow::Open;
            }
        }
    }

    fn connect_result(&mut self, now: Instant) {
        let Some(stream) = self.stream.as_mut() else { return };
        let time_is_up = self.exchange.time_is_up(now);
        if time_is_up {
            // A refusal may be there without its event yet (on loopback it
            // comes within the connect call itself).
            stream.assume_writable();
        }
        match stream.connect_result() {
            Some(Err(e)) => self.exchange.connect_failed(&e, now),
            // Writable with no error: connected. (No TCP_NODELAY: a request
            // is one send after everything before it was acknowledged,
            // which Nagle never delays, and it would cost a syscall per
            // connection.) When time is up, `advance` says timeout.
            Some(Ok(())) if !time_is_up => self.exchange.connected(now),
            _ => {}
        }
    }

    fn send(&mut self, now: Instant) {
        let Some(stream) = self.stream.as_mut() else { return };
        let Some(out) = self.exchange.outgoing() else { return };
        match stream.send(out) {
            // Every byte is written.
            Io::Data(_) => self.exchange.sent(now),
            Io::Blocked => {}
            // EOF is not an answer to a write; failures are:
            Io::Eof | Io::Reset(_) | Io::Failed(_) => {
                self.exchange.send_failed(now);
                // What the server sent before the end is still to be read.
                stream.assume_readable();
            }
        }
    }

    /// Read while the exchange wants it and the socket has something, at
    /// most `reads` more times this turn.
    fn read(&mut self, now: Instant, reads: &mut usize) {
        let (Some(stream), exchange) = (self.stream.as_mut(), &mut self.exchange) else {
            return;
        };
        while exchange.wants_read() && stream.is_readable() {
            if *reads == 0 {
                self.yielded = true;
                return;
            }
            *reads -= 1;
            match stream.read(READ_CHUNK, |bytes| exchange.received(bytes, now)) {
                Io::Data(_) => {}
                Io::Blocked => return,
                Io::Eof => exchange.ended(Ended::Fin, now),
                Io::Reset(_) => exchange.ended(Ended::Rst, now),
                Io::Failed(e) => exchange.ended(Ended::Failed(e.to_string()), now),
            }
        }
    }
}

// The owner reads the clock for each event and each pass of timers, not
// once per turn: one turn may handle hundreds of probes, and a probe
// measures.
impl Session for ProbeConn<'_> {
    type Context<'c> = Instant;

    fn on_event(&mut self, _: Side, event: &Event, now: &mut Instant) -> Flow {
        if let Some(stream) = self.stream.as_mut() {
            stream.on_event(event);
        }
        self.drive(*now)
    }

    fn on_wake(&mut self, now: &mut Instant) -> Flow {
        self.drive(*now)
    }

    fn poll_at(&self) -> PollAt {
        if self.yielded {
            return PollAt::Now;
        }
        self.exchange.poll_at().map_or(PollAt::Idle, PollAt::At)
    }
}
