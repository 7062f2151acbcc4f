//! [`Upstream`]: the upstream connection of one client connection, what
//! it sent that is not relayed yet, and how it ended.
//!
//! Reading it tells its end once (a FIN, a reset, another error: [`Heard`]);
//! over TLS, its close_notify or alert first ([`Closing`]), after which
//! only the socket's own end is read. Writing it under TLS may leave
//! records queued above the socket: they go out as it takes them
//! ([`Upstream::flush`]), and a half-close sends its FIN after them.

use mio::net::TcpStream;

use super::{BUFFER_LIMIT, tls};
use crate::http::response::ResponseReader;
use crate::probe::tls::Closing;
use crate::stream::{Io, READ_CHUNK};
use crate::transport::Transport;

/// How the upstream's input ended, once a read told.
#[derive(Debug)]
pub(super) enum Heard {
    /// Its FIN.
    Fin,
    /// Its reset: why.
    Reset(String),
    /// Another error (a TLS record that does not open, say): why.
    Failed(String),
}

/// The upstream connection of one client connection.
pub(super) struct Upstream {
    pub(super) stream: Transport,
    /// Connected, and over TLS the handshake done: plaintext may go.
    pub(super) connected: bool,
    /// Bytes the upstream sent that are not relayed yet.
    pub(super) input: Vec<u8>,
    /// The response being relayed, kept from `relay head` to `relay body`.
    pub(super) response: Option<ResponseReader>,
    /// How its input ended; mirrored once what came before is out.
    pub(super) heard: Option<Heard>,
    /// hangup half-closed the upstream side (a client FIN passed through);
    /// under TLS the FIN follows the records still queued.
    pub(super) write_shut: bool,
    /// A write failed: nothing more is written; its input is read on.
    pub(super) write_failed: bool,
    /// Over TLS: the upstream's close_notify or alert, once it came. TLS
    /// has nothing more to say after it; its TCP end is read below TLS.
    pub(super) closing: Option<Closing>,
}

impl Upstream {
    pub(super) fn connecting(socket: TcpStream) -> Upstream {
        Upstream {
            stream: Transport::connecting(socket),
            connected: false,
            input: Vec::new(),
            response: None,
            heard: None,
            write_shut: false,
            write_failed: false,
            closing: None,
        }
    }

    /// Whether bytes may still be written to it.
    pub(super) fn can_write(&self) -> bool {
        !self.write_shut && !self.write_failed
    }

    /// Read what the upstream sent into its buffer, while there is room.
    /// Whether anything came: bytes, or its end (kept in `heard`).
    pub(super) fn take_in(&mut self) -> bool {
        let room = BUFFER_LIMIT.saturating_sub(self.input.len());
        if self.heard.is_some() || room == 0 || !self.stream.is_readable() {
            return false;
        }
        let io = if self.closing.is_some() {
            // What follows close_notify or an alert is no TLS: only the
            // socket's end is waited for, and bytes before it are dropped.
            self.stream.read_socket(READ_CHUNK, |_| {})
        } else {
            let input = &mut self.input;
            self.stream
                .read(room.min(READ_CHUNK), |bytes| input.extend_from_slice(bytes))
        };
        match io {
            Io::Data(_) => true,
            Io::Blocked => false,
            Io::Eof => {
                match tls::closing(&self.stream, None) {
                    Some(closing) if self.closing.is_none() => self.closing = Some(closing),
                    _ => self.heard = Some(Heard::Fin),
                }
                true
            }
            Io::Reset(e) => {
                self.heard = Some(Heard::Reset(e.to_string()));
                true
            }
            Io::Failed(e) => {
                match tls::closing(&self.stream, Some(&e)) {
                    Some(closing) if self.closing.is_none() => {
                        // A fatal alert: TLS is over both ways.
                        self.closing = Some(closing);
                        self.write_failed = true;
                    }
                    _ => self.heard = Some(Heard::Failed(e.to_string())),
                }
                true
            }
        }
    }

    /// Half-close the upstream side (a client's FIN passing through):
    /// under TLS, close_notify, and the FIN once every record is out.
    pub(super) fn half_close(&mut self) {
        self.write_shut = true;
        self.stream.close_notify();
        self.flush();
    }

    /// Under TLS: write the records a write left queued, as far as the
    /// socket takes them, then the FIN a half-close waits to send.
    pub(super) fn flush(&mut self) {
        if self.stream.socket_mut().is_none() {
            return;
        }
        match self.stream.flush() {
            Io::Data(_) | Io::Blocked => {}
            failed => {
                self.write_failed(failed);
                return;
            }
        }
        if self.write_shut && !self.stream.tls_queued() && !self.stream.is_write_shut() {
            let _ = self.stream.shutdown_write();
        }
    }

    /// A write to the upstream failed. A reset is not its end yet: what it
    /// sent before the reset is still to be read, and the read that finds
    /// no more reports the reset. Any other failure is the end at once.
    pub(super) fn write_failed(&mut self, failed: Io) {
        self.write_failed = true;
        match failed {
            Io::Reset(_) => self.stream.assume_readable(),
            Io::Failed(e) => self.heard = Some(Heard::Failed(e.to_string())),
            Io::Data(_) | Io::Blocked | Io::Eof => {}
        }
    }
}
