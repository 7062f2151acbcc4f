//! [`Transport`]: what a connection reads and writes through — its
//! [`Stream`], and the layers only some connections have: TLS
//! ([`crate::tls::Layer`]) and a recording's [`Tap`].
//!
//! It speaks the stream's language ([`Io`], the same method names), so a
//! connection's states do not know whether TLS is on: a `read` under TLS
//! gives the plaintext the peer sent, a `write` takes plaintext and sends
//! records. Where TLS changes what a step means, it says so here:
//!
//! - A step that writes is done once the kernel has taken every record of
//!   it, as a plain write is done once the kernel took its bytes: a reset
//!   that follows resets after them, a close closes after them.
//! - Bytes buffered above the socket count where the kernel's would: the
//!   plaintext TLS decrypted but nobody read counts as unread input (a
//!   close with unread input is an RST), and records not yet written count
//!   as unsent (a reset waits for them).
//! - A tap (`serve --record`) sees the bytes as the script does: plaintext
//!   under TLS.
//!
//! Without the `tls` feature the TLS layer is a type with no values, so
//! this file has no `cfg` and every TLS branch compiles away.

use std::cell::RefCell;
use std::io;
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;

use crate::end::End;
use crate::outgoing::Outgoing;
use crate::stream::{Io, READ_CHUNK, Stream};
use crate::tls::{Handshake, Layer};

thread_local! {
    /// Plaintext a TLS read decrypts into, one per thread as the stream's.
    static PLAINTEXT: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// Where the bytes of one read or write stop, as a [`Tap`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// Where the sender stopped: a read that got less than it asked for,
    /// a write that took all it was given.
    Sender,
    /// Where hangup cut them: a read that filled its buffer, a write the
    /// socket took only part of. The bytes go on in the next one.
    Cut,
}

impl Boundary {
    /// The boundary of a read that asked for `asked` bytes and got `got`.
    pub fn of_read(got: usize, asked: usize) -> Boundary {
        if got >= asked { Boundary::Cut } else { Boundary::Sender }
    }
}

/// What watches every byte a transport moves: `serve --record`'s tape
/// (`crate::record::Tape`). The transport calls `read` and `wrote`; the
/// connection that owns it calls `request` and `finish`. The trait lives
/// here, so that the transport knows nothing of recordings.
pub trait Tap: std::fmt::Debug {
    /// The transport read these bytes.
    fn read(&mut self, bytes: &[u8], boundary: Boundary);
    /// The transport wrote these bytes, at `now`.
    fn wrote(&mut self, bytes: &[u8], boundary: Boundary, now: Instant);
    /// The connection made a whole request (or head) of what was read.
    fn request(&mut self, now: Instant);
    /// Behind a proxy, the server (an `https://` upstream) ended TLS so:
    /// the end a replay over TLS must have, which the client's own end
    /// does not tell (a plain client gets a FIN either way).
    fn server_tls_end(&mut self, end: crate::probe::tls::TlsEnd) {
        let _ = end;
    }
    /// The connection ended, `how` (as the log says it): the tap is done.
    /// An error says why what it saw cannot be kept.
    fn finish(self: Box<Self>, how: End, now: Instant) -> Result<(), String>;
}

/// A connected socket and the layers above it.
#[derive(Debug)]
pub struct Transport {
    stream: Stream,
    /// What only some connections have (boxed: the others pay one word).
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Default)]
struct Extra {
    tls: Option<Layer>,
    tap: Option<Box<dyn Tap>>,
    /// The ClientHello's records, as `read tls-hello` read them: a
    /// handshake that follows takes them in first.
    hello: Vec<u8>,
}

impl Transport {
    /// A socket `accept` gave (see [`Stream::accepted`]).
    pub fn accepted(socket: TcpStream) -> Transport {
        Transport::over(Stream::accepted(socket))
    }

    /// A socket whose connect is under way (see [`Stream::connecting`]).
    pub fn connecting(socket: TcpStream) -> Transport {
        Transport::over(Stream::connecting(socket))
    }

    fn over(stream: Stream) -> Transport {
        Transport { stream, extra: None }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// From now on, every byte goes through TLS; records read before
    /// (the ClientHello `read tls-hello` read) are taken in first.
    pub fn start_tls(&mut self, mut layer: Layer) {
        let extra = self.extra();
        let hello = std::mem::take(&mut extra.hello);
        if !hello.is_empty() {
            layer.already_read(hello);
        }
        extra.tls = Some(layer);
    }

    /// Keep these records of a ClientHello being read, for a handshake
    /// to come; `start` begins a new one.
    pub fn keep_hello(&mut self, records: &[u8], start: bool) {
        let hello = &mut self.extra().hello;
        if start {
            hello.clear();
        }
        hello.extend_from_slice(records);
    }

    /// Whether a TLS handshake is under way.
    pub fn tls_handshaking(&self) -> bool {
        self.tls().is_some_and(Layer::is_handshaking)
    }

    /// The TLS layer, to say where it withholds records.
    pub fn tls_mut(&mut self) -> Option<&mut Layer> {
        self.extra.as_deref_mut()?.tls.as_mut()
    }

    /// After a TLS handshake: the record of `alert` sealed with the
    /// connection's keys, to be written next; TLS ends here, and what is
    /// written after goes out as it is. `None` without TLS.
    pub fn seal_alert(&mut self, alert: [u8; 2]) -> Option<Result<Vec<u8>, String>> {
        let extra = self.extra.as_deref_mut()?;
        let layer = extra.tls.take()?;
        Some(layer.seal_alert(&mut self.stream, alert))
    }

    /// The TLS layer, once it is on.
    pub fn tls(&self) -> Option<&Layer> {
        self.extra.as_ref()?.tls.as_ref()
    }

    /// The socket, to register it with the poll; `None` once closed.
    pub fn socket_mut(&mut self) -> Option<&mut TcpStream> {
        self.stream.socket_mut()
    }

    fn parts(&mut self) -> (&mut Stream, Option<&mut Layer>, Option<&mut (dyn Tap + 'static)>) {
        match self.extra.as_deref_mut() {
            Some(Extra { tls, tap, .. }) => (&mut self.stream, tls.as_mut(), tap.as_deref_mut()),
            None => (&mut self.stream, None, None),
        }
    }

    /// Show every byte read and written from now on to `tape`.
    pub fn record(&mut self, tape: impl Tap + 'static) {
        self.extra().tap = Some(Box::new(tape));
    }

    /// The tap, if this transport has one.
    pub fn tape_mut(&mut self) -> Option<&mut (dyn Tap + 'static)> {
        self.parts().2
    }

    /// Take the tap away (the connection is over).
    pub fn take_tape(&mut self) -> Option<Box<dyn Tap>> {
        self.extra.as_deref_mut()?.tap.take()
    }

    /// Take in a readiness event for the socket.
    pub fn on_event(&mut self, event: &Event) {
        self.stream.on_event(event);
    }

    /// Whether a `read` may find something (or the end): plaintext TLS
    /// already has, or the socket.
    pub fn is_readable(&self) -> bool {
        self.tls().is_some_and(Layer::has_plaintext) || self.stream.is_readable()
    }

    /// Whether a `write` may take something.
    pub fn is_writable(&self) -> bool {
        self.stream.is_writable()
    }

    /// See [`Stream::assume_readable`].
    pub fn assume_readable(&mut self) {
        self.stream.assume_readable();
    }

    /// See [`Stream::assume_writable`].
    pub fn assume_writable(&mut self) {
        self.stream.assume_writable();
    }

    /// See [`Stream::connect_result`].
    pub fn connect_result(&mut self) -> Option<io::Result<()>> {
        self.stream.connect_result()
    }

    /// See [`Stream::fin_hinted`].
    pub fn fin_hinted(&self) -> bool {
        self.stream.fin_hinted()
    }

    /// See [`Stream::take_hinted_error`].
    pub fn take_hinted_error(&mut self) -> Option<io::Error> {
        self.stream.take_hinted_error()
    }

    /// Read up to `want` bytes (plaintext under TLS) and hand them to
    /// `sink`; see [`Stream::read`].
    pub fn read(&mut self, want: usize, sink: impl FnOnce(&[u8])) -> Io {
        let want = want.clamp(1, READ_CHUNK);
        match self.parts() {
            (stream, None, None) => stream.read(want, sink),
            (stream, None, Some(tap)) => stream.read(want, |bytes| {
                tap.read(bytes, Boundary::of_read(bytes.len(), want));
                sink(bytes);
            }),
            (stream, Some(tls), tap) => PLAINTEXT.with_borrow_mut(|buf| {
                let io = tls.read(stream, &mut buf[..want]);
                if let Io::Data(n) = io {
                    if let Some(tap) = tap {
                        tap.read(&buf[..n], Boundary::of_read(n, want));
                    }
                    sink(&buf[..n]);
                }
                io
            }),
        }
    }

    /// Read from the socket itself, below TLS: after the peer's
    /// close_notify or alert, whatever the socket still brings (bytes no
    /// TLS reader would take, then FIN or RST). No tap sees them.
    pub fn read_socket(&mut self, want: usize, sink: impl FnOnce(&[u8])) -> Io {
        self.stream.read(want, sink)
    }

    /// Read and throw away what arrived, up to `limit` bytes (plaintext
    /// under TLS): for a close that must not leave unread input (which
    /// would turn it into an RST) and for a script that hangs. Returns the
    /// bytes thrown away and how the last read ended ([`Io::Data`] when
    /// the limit was reached).
    pub fn discard(&mut self, limit: u64) -> (u64, Io) {
        let mut thrown = 0;
        while thrown < limit {
            if !self.is_readable() {
                return (thrown, Io::Blocked);
            }
            let want = (limit - thrown).min(READ_CHUNK as u64) as usize;
            match self.read(want, |_| {}) {
                Io::Data(n) => thrown += n as u64,
                other => return (thrown, other),
            }
        }
        (thrown, Io::Data(0))
    }

    /// Write once from `bytes` (plaintext under TLS), at `now`.
    pub fn write(&mut self, bytes: &[u8], now: Instant) -> Io {
        let (stream, tls, tap) = self.parts();
        let io = match tls {
            Some(tls) => tls.write(stream, bytes),
            None => stream.write(bytes),
        };
        if let (Io::Data(n), Some(tap)) = (&io, tap) {
            let boundary = if *n < bytes.len() {
                Boundary::Cut
            } else {
                Boundary::Sender
            };
            tap.wrote(&bytes[..*n], boundary, now);
        }
        io
    }

    /// Write `out` until the kernel has taken all of it ([`Io::Data`] with
    /// what this call wrote), the socket is full ([`Io::Blocked`]) or it
    /// fails. Under TLS, until every record of it is written too.
    pub fn send(&mut self, out: &mut Outgoing, now: Instant) -> Io {
        let mut sent = 0;
        while let Some(chunk) = out.chunk() {
            if !self.is_writable() {
                return Io::Blocked;
            }
            match self.write(chunk, now) {
                Io::Data(n) => {
                    out.advance(n);
                    sent += n;
                }
                other => return other,
            }
        }
        if let (stream, Some(tls), _) = self.parts() {
            match tls.flush(stream) {
                Io::Data(_) if !tls.pending() => {}
                Io::Data(_) | Io::Blocked => return Io::Blocked,
                failed => return failed,
            }
        }
        Io::Data(sent)
    }

    /// Under TLS: write the records a write left queued (the socket was
    /// full then), as far as the socket takes them now. Without TLS there
    /// is nothing above the socket to write.
    pub fn flush(&mut self) -> Io {
        match self.parts() {
            (stream, Some(tls), _) => tls.flush(stream),
            _ => Io::Data(0),
        }
    }

    /// Whether TLS records wait above the socket: a write is not out yet.
    pub fn tls_queued(&self) -> bool {
        self.tls().is_some_and(|tls| tls.unsent() > 0)
    }

    /// While the TLS handshake is under way: take in what the peer sent
    /// and answer it, whatever step the script is in (TLS is a layer below
    /// the script). `Some` with how it failed, if it did.
    pub fn pump(&mut self) -> Option<Io> {
        match self.parts() {
            (stream, Some(tls), _) if tls.is_handshaking() => match tls.pump(stream) {
                Io::Data(_) | Io::Blocked => None,
                failed => Some(failed),
            },
            _ => None,
        }
    }

    /// While a TLS handshake is under way: when it is given up.
    pub fn handshake_deadline(&self) -> Option<Instant> {
        self.tls()?.handshake_deadline()
    }

    /// The handshake's outcome, once, when it is newly done: for the log.
    pub fn take_handshake(&mut self) -> Option<Handshake> {
        self.extra.as_deref_mut()?.tls.as_mut()?.take_handshake()
    }

    /// Under TLS after the handshake: send close_notify (the well-behaved
    /// end of a TLS connection), as far as the socket takes it now.
    /// Whether one was sent.
    pub fn close_notify(&mut self) -> bool {
        match self.parts() {
            (stream, Some(tls), _) => tls.close_notify(stream),
            _ => false,
        }
    }

    /// shutdown(SHUT_WR): the peer gets FIN, and hangup can still read.
    /// Under TLS, close_notify first: the half-close TLS 1.3 defines.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        self.close_notify();
        self.stream.shutdown_write()
    }

    /// Whether hangup shut its sending side down.
    pub fn is_write_shut(&self) -> bool {
        self.stream.is_write_shut()
    }

    /// Bytes written but not yet acknowledged by the peer: the kernel's,
    /// and (at least one for) records TLS has not written yet.
    pub fn unsent(&self) -> usize {
        self.stream.unsent() + self.tls().map_or(0, Layer::unsent)
    }

    /// Bytes received that nobody has read yet: the kernel's, and what TLS
    /// holds (records not yet opened, plaintext not yet read).
    pub fn unread(&self) -> usize {
        self.stream.unread() + self.tls().map_or(0, Layer::buffered)
    }

    /// Close so that the peer gets RST; see [`Stream::reset`].
    pub fn reset(&mut self) -> io::Result<()> {
        self.stream.reset()
    }

    /// close(2); see [`Stream::close`]. No close_notify: say it first
    /// ([`Transport::close_notify`]) for the well-behaved end.
    pub fn close(&mut self) {
        self.stream.close();
    }

    /// Bytes read from the socket so far (records, under TLS).
    pub fn bytes_in(&self) -> u64 {
        self.stream.bytes_in()
    }

    /// Bytes written to the socket so far (records, under TLS).
    pub fn bytes_out(&self) -> u64 {
        self.stream.bytes_out()
    }
}
