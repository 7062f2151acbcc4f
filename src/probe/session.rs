//! One probe connection on the shared reactor: the socket's side of an
//! [`Exchange`].
//!
//! The session sends its request and reads at the same time, so a server
//! that answers or resets mid-upload is seen as such. It reads and writes
//! through a [`Transport`], as `serve`'s connections do: its stream
//! classifies every read and write (a reset that a `write` reported is
//! still a reset when the next `read` returns 0), and for `https://` its
//! TLS layer (a rustls client) sits between the socket and the exchange,
//! which sees plaintext. The session tells the exchange what happened,
//! with the time it was handed, and the exchange decides what it means
//! and what comes next. Nothing here reads the clock: the owner passes
//! `now` in with every event and wake-up.
//!
//! Under TLS the session also says what TLS alone knows: how the
//! handshake went (what was agreed, what the server presented, or how it
//! failed), and whether the server's end came with close_notify, with an
//! alert, or with neither. After close_notify or an alert the session
//! reads the socket itself, below TLS, to see the FIN or RST that follows.
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
use super::tls::{Closing, HandshakeFailure};
use crate::reactor::{Flow, PollAt, Session, Side};
use crate::sock;
use crate::stream::{Io, READ_CHUNK};
use crate::tls::Layer;
use crate::transport::Transport;

/// Reads of up to [`READ_CHUNK`] in one turn: 1 MiB before giving way.
pub const READS_PER_TURN: usize = 16;

/// One probe's connection and what it saw.
pub struct ProbeConn<'p> {
    plan: &'p Plan,
    /// `None` when the connect failed at once, or once it is over.
    transport: Option<Transport>,
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
            plan,
            transport: None,
            exchange: Exchange::new(plan, now),
            lacked_descriptor: false,
            yielded: false,
        };
        match TcpStream::connect(plan.addr) {
            Ok(socket) => {
                if plan.tls.is_some() {
                    // The request follows the client's last handshake
                    // record before the server acknowledged it: Nagle
                    // would hold it for the server's delayed ACK (40 ms
                    // here). Without it, nothing is lost but the setting.
                    let _ = socket.set_nodelay(true);
                }
                conn.transport = Some(Transport::connecting(socket));
            }
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
        self.transport = None;
    }

    /// The socket, to register it with the poll.
    pub fn socket_mut(&mut self) -> Option<&mut TcpStream> {
        self.transport.as_mut()?.socket_mut()
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
                    // What the exchange still owes the server (HTTP/2:
                    // its GOAWAY to one that broke the rules) goes first,
                    // as far as the socket takes it now.
                    self.send(now);
                    if let Some(transport) = self.transport.as_mut() {
                        // A well-behaved client's end, where TLS has one to
                        // say (not during a handshake, nor twice).
                        transport.close_notify();
                    }
                    self.transport = None;
                    return Flow::Closed;
                }
                Stage::Connecting => self.connect_result(now),
                Stage::Handshaking => self.handshake(now),
                Stage::Exchanging { .. } | Stage::Waiting => {
                    self.send(now);
                    self.read(now, &mut reads);
                    // HTTP/2 answers what it read (ACKs, WINDOW_UPDATEs)
                    // and sends what a window opened for, now: no event
                    // would say the socket is still writable.
                    self.send(now);
                }
            }
            self.exchange.advance(now);
            if self.exchange.stage() == stage {
                return Flow::Open;
            }
        }
    }

    fn connect_result(&mut self, now: Instant) {
        let Some(stream) = self.transport.as_mut() else { return };
        let time_is_up = self.exchange.time_is_up(now);
        if time_is_up {
            // A refusal may be there without its event yet (on loopback it
            // comes within the connect call itself).
            stream.assume_writable();
        }
        match stream.connect_result() {
            Some(Err(e)) => self.exchange.connect_failed(&e, now),
            // Writable with no error: connected. (No TCP_NODELAY over plain
            // HTTP: a request is one send after everything before it was
            // acknowledged, which Nagle never delays, and it would cost a
            // syscall per connection; TLS has it, see `connect`.) When time
            // is up, `advance` says timeout.
            Some(Ok(())) if !time_is_up => self.exchange.connected(now),
            _ => {}
        }
    }

    /// The TLS handshake: started at the first call, then taken on as far
    /// as what came allows; the exchange is told how it ended.
    fn handshake(&mut self, now: Instant) {
        let (Some(transport), Some(tls)) = (self.transport.as_mut(), self.plan.tls.as_ref()) else {
            return;
        };
        if transport.tls().is_none() {
            match tls.client.layer(&tls.host, now + self.plan.timeout) {
                Ok(layer) => transport.start_tls(layer),
                Err(e) => {
                    self.exchange.handshake_failed(HandshakeFailure::Error(e), None, now);
                    return;
                }
            }
        }
        let failed = transport.pump();
        self.exchange
            .handshake_progress(transport.bytes_out(), transport.bytes_in(), now);
        let presented = transport.tls().and_then(Layer::presented).cloned();
        if let Some(io) = failed {
            let failure = handshake_failure(io, transport.tls(), tls.client.insecure());
            self.exchange.handshake_failed(failure, presented, now);
        } else if let Some(agreed) = transport.take_handshake() {
            self.exchange.handshake_done(agreed, presented, now);
        }
    }

    /// Write what the exchange has, until the socket is full or nothing
    /// is left: one request over HTTP/1.1, batch after batch of frames
    /// over HTTP/2.
    fn send(&mut self, now: Instant) {
        let Some(stream) = self.transport.as_mut() else { return };
        while let Some(out) = self.exchange.outgoing() {
            match stream.send(out, now) {
                // Every byte is written.
                Io::Data(_) => self.exchange.sent(now),
                Io::Blocked => return,
                // EOF is not an answer to a write; failures are:
                Io::Eof | Io::Reset(_) | Io::Failed(_) => {
                    self.exchange.send_failed(now);
                    // What the server sent before the end is still to be read.
                    stream.assume_readable();
                    return;
                }
            }
        }
    }

    /// Read while the exchange wants it and the socket has something, at
    /// most `reads` more times this turn.
    fn read(&mut self, now: Instant, reads: &mut usize) {
        let (Some(transport), exchange) = (self.transport.as_mut(), &mut self.exchange) else {
            return;
        };
        while exchange.wants_read() && transport.is_readable() {
            if *reads == 0 {
                self.yielded = true;
                return;
            }
            *reads -= 1;
            // After close_notify or an alert, TLS has nothing more to say:
            // the socket's own end is what is left to see.
            let below_tls = exchange.tls_closed_seen();
            let io = if below_tls {
                transport.read_socket(READ_CHUNK, |_| {})
            } else {
                transport.read(READ_CHUNK, |bytes| exchange.received(bytes, now))
            };
            let tls = transport.tls().filter(|_| !below_tls);
            match io {
                Io::Data(_) => {}
                Io::Blocked => return,
                Io::Eof if tls.is_some_and(Layer::peer_notified) => exchange.tls_closed(Closing::CloseNotify, now),
                Io::Eof => exchange.ended(Ended::Fin, now),
                Io::Reset(_) => exchange.ended(Ended::Rst, now),
                Io::Failed(e) => match tls.and_then(Layer::peer_alert) {
                    Some(alert) => exchange.tls_closed(Closing::Alert(alert), now),
                    None => exchange.ended(Ended::Failed(e.to_string()), now),
                },
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
        if let Some(transport) = self.transport.as_mut() {
            transport.on_event(event);
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

/// How a handshake failed, from how the socket or TLS did: `insecure`
/// (`-k`) accepts every certificate, so no failure is the certificate's.
fn handshake_failure(io: Io, tls: Option<&Layer>, insecure: bool) -> HandshakeFailure {
    let refused = tls
        .and_then(Layer::presented)
        .is_some_and(|p| p.verdict != crate::tls::verdict::Verdict::Ok);
    match io {
        Io::Reset(_) => HandshakeFailure::Rst,
        Io::Eof => HandshakeFailure::Fin,
        Io::Failed(e) => match tls.and_then(Layer::peer_alert) {
            Some(alert) => HandshakeFailure::Alert(alert),
            None if tls.is_some_and(Layer::peer_not_tls) => HandshakeFailure::NotTls,
            None if refused && !insecure => HandshakeFailure::Rejected,
            None => HandshakeFailure::Error(e.to_string()),
        },
        // Not failures; `pump` does not give them as such.
        Io::Data(_) | Io::Blocked => HandshakeFailure::Error("the handshake stopped".into()),
    }
}
