//! [`Stream`]: one connected TCP socket and all the I/O hangup does on it.
//!
//! Every `read`, `write`, drain and close of hangup goes through here, and
//! each outcome is classified once, into an [`Io`]: bytes moved, the
//! peer's FIN, nothing more for now, the peer's reset, or another error.
//! The server's connections and the probe's sessions both use it, and a
//! session may own two (a proxy's client and upstream sides).
//!
//! mio is edge-triggered, so a stream remembers "readable" and "writable"
//! until an operation returns `WouldBlock`: a `read` reached after a
//! `sleep` reads at once instead of waiting for an edge that already came.
//! Error and hang-up flags of an event are only hints; the next operation
//! tells what happened.
//!
//! Two kernel habits are handled here so that no caller has to know them:
//! a reset is reported only once, so after a `write` reported it, the
//! `Ok(0)` the next `read` gives is the same reset, not a FIN; and after
//! hangup's own half-close, a `write` fails with EPIPE although the peer
//! did nothing, which is the script's doing, not a reset by the peer.
//!
//! Reads go through one buffer per thread (the event loop is one thread):
//! an idle stream holds no read-sized memory (10,000 idle connections with
//! 64 KiB each would be 640 MB), and a fresh zeroed buffer per read cost
//! 69% of all instructions (callgrind).

use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use mio::event::Event;
use mio::net::TcpStream;
use socket2::SockRef;

use crate::sock;

/// Bytes asked of the kernel per `read`.
pub const READ_CHUNK: usize = 64 * 1024;

thread_local! {
    static READ_BUFFER: RefCell<Box<[u8]>> = RefCell::new(vec![0; READ_CHUNK].into_boxed_slice());
}

/// What one I/O operation came to.
#[derive(Debug)]
pub enum Io {
    /// This many bytes were read or written (for `Transport::send`: all of
    /// it is written, this many in this call).
    Data(usize),
    /// The peer sent FIN: `read` returned 0.
    Eof,
    /// Nothing more for now: wait for the next readiness event.
    Blocked,
    /// The peer reset the connection.
    Reset(io::Error),
    /// Anything else: hangup's own misuse (a write after its half-close),
    /// or a failure of the system.
    Failed(io::Error),
}

impl Io {
    /// Classify the result of one `read` or `write`.
    fn of(result: io::Result<usize>) -> Io {
        match result {
            Ok(0) => Io::Eof,
            Ok(n) => Io::Data(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Io::Blocked,
            Err(e) if is_reset(&e) => Io::Reset(e),
            Err(e) => Io::Failed(e),
        }
    }
}

/// Whether an error means the peer reset the connection. EPIPE is one: on
/// a write it is the kernel's answer after an RST arrived.
pub fn is_reset(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionAborted
    )
}

/// One connected socket, its readiness and its byte counts.
#[derive(Debug)]
pub struct Stream {
    /// `None` once closed or reset.
    socket: Option<TcpStream>,
    readable: bool,
    writable: bool,
    /// An event said the peer sent FIN, or that the socket has an error.
    /// A read that is not made at once leaves these for whoever looks.
    fin_hint: bool,
    error_hint: bool,
    /// A write reported the peer's reset (see the module docs).
    reset_reported: bool,
    /// hangup shut its sending side down.
    write_shut: bool,
    bytes_in: u64,
    bytes_out: u64,
}

impl Stream {
    /// A socket `accept` gave: assumed ready both ways, since the first
    /// operation finds out and an edge missed before registration would
    /// never come again.
    pub fn accepted(socket: TcpStream) -> Stream {
        Stream::new(socket, true)
    }

    /// For unit tests on a real socket: a loopback connection, the
    /// server's end as `accept` gives it to the loop, the client's as a
    /// blocking socket (no Nagle, reads give up after 5 s). Its users so
    /// far are the TLS layer's tests.
    #[cfg(all(test, feature = "tls"))]
    pub(crate) fn loopback_pair() -> (TcpStream, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = std::net::TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        client.set_nodelay(true).expect("nodelay");
        client
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("read timeout");
        let (server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("nonblocking");
        (TcpStream::from_std(server), client)
    }

    /// A socket whose connect is under way: ready once an event says so.
    pub fn connecting(socket: TcpStream) -> Stream {
        Stream::new(socket, false)
    }

    fn new(socket: TcpStream, ready: bool) -> Stream {
        Stream {
            socket: Some(socket),
            readable: ready,
            writable: ready,
            fin_hint: false,
            error_hint: false,
            reset_reported: false,
            write_shut: false,
            bytes_in: 0,
            bytes_out: 0,
        }
    }

    /// The socket, to register it with the poll; `None` once closed.
    pub fn socket_mut(&mut self) -> Option<&mut TcpStream> {
        self.socket.as_mut()
    }

    /// Take in a readiness event for this socket.
    pub fn on_event(&mut self, event: &Event) {
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            self.writable = true;
        }
        self.fin_hint |= event.is_read_closed();
        self.error_hint |= event.is_error();
    }

    /// Whether a `read` may find something (or the end).
    pub fn is_readable(&self) -> bool {
        self.readable && self.socket.is_some()
    }

    /// Whether a `write` may take something.
    pub fn is_writable(&self) -> bool {
        self.writable && self.socket.is_some()
    }

    /// Assume there may be something to read: after a failed write, what
    /// the peer sent before its reset is still to be read.
    pub fn assume_readable(&mut self) {
        self.readable = true;
    }

    /// Assume a `write` may go through: a connect whose deadline passed is
    /// asked for its result even without an event.
    pub fn assume_writable(&mut self) {
        self.writable = true;
    }

    /// Whether an event hinted that the peer sent FIN.
    pub fn fin_hinted(&self) -> bool {
        self.fin_hint
    }

    /// If an event hinted at an error, the socket's pending error, asked of
    /// it directly (while nothing reads, a reset is seen only this way).
    pub fn take_hinted_error(&mut self) -> Option<io::Error> {
        if !std::mem::take(&mut self.error_hint) {
            return None;
        }
        self.socket.as_ref()?.take_error().ok().flatten()
    }

    /// A connect under way: `None` until the socket is writable, then its
    /// result (a connect's error is in SO_ERROR; reading it before the
    /// connection is established loses nothing).
    pub fn connect_result(&mut self) -> Option<io::Result<()>> {
        if !self.writable {
            return None;
        }
        let socket = self.socket.as_ref()?;
        Some(match socket.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => Ok(()),
        })
    }

    /// Read up to `want` bytes (at most [`READ_CHUNK`]) and hand them to
    /// `sink`. A read that returns fewer bytes than asked for drained the
    /// socket: any later data raises a new edge, so the `WouldBlock` read
    /// is skipped. Not so for a FIN or an error the last event already
    /// reported, nor for a reset a write already reported: it came with
    /// the data (or before it), raises no new edge, and only the next read
    /// reveals it.
    pub fn read(&mut self, want: usize, sink: impl FnOnce(&[u8])) -> Io {
        let Some(socket) = self.socket.as_mut() else {
            return Io::Failed(closed());
        };
        let want = want.clamp(1, READ_CHUNK);
        let io = READ_BUFFER.with_borrow_mut(|scratch| {
            let io = Io::of(retry(|| socket.read(&mut scratch[..want])));
            if let Io::Data(n) = io {
                sink(&scratch[..n]);
            }
            io
        });
        match io {
            Io::Data(n) => {
                self.bytes_in += n as u64;
                // After a write reported the reset, the end is there to read
                // (as an `Ok(0)`, which is the reset): no edge will say so.
                if n < want && !self.fin_hint && !self.error_hint && !self.reset_reported {
                    self.readable = false;
                }
                Io::Data(n)
            }
            Io::Blocked => {
                self.readable = false;
                Io::Blocked
            }
            Io::Eof if self.reset_reported => Io::Reset(io::ErrorKind::ConnectionReset.into()),
            other => other,
        }
    }

    /// Write once from `bytes`.
    pub fn write(&mut self, bytes: &[u8]) -> Io {
        let Some(socket) = self.socket.as_mut() else {
            return Io::Failed(closed());
        };
        match Io::of(retry(|| socket.write(bytes))) {
            Io::Data(n) => {
                self.bytes_out += n as u64;
                Io::Data(n)
            }
            // A zero-byte write of a non-empty buffer does not happen on
            // a TCP socket; an empty one is no progress either way.
            Io::Eof => Io::Data(0),
            Io::Blocked => {
                self.writable = false;
                Io::Blocked
            }
            Io::Reset(e) if self.write_shut && e.kind() == io::ErrorKind::BrokenPipe => Io::Failed(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after this side's own half-close",
            )),
            Io::Reset(e) => {
                self.reset_reported = true;
                Io::Reset(e)
            }
            other => other,
        }
    }

    /// shutdown(SHUT_WR): the peer gets FIN, and hangup can still read.
    pub fn shutdown_write(&mut self) -> io::Result<()> {
        let socket = self.socket.as_ref().ok_or_else(closed)?;
        socket.shutdown(Shutdown::Write)?;
        self.write_shut = true;
        Ok(())
    }

    /// Whether hangup shut its sending side down.
    pub fn is_write_shut(&self) -> bool {
        self.write_shut
    }

    /// Bytes written but not yet acknowledged by the peer.
    pub fn unsent(&self) -> usize {
        self.socket.as_ref().map_or(Ok(0), sock::unsent_bytes).unwrap_or(0)
    }

    /// Bytes received that nobody has read yet.
    pub fn unread(&self) -> usize {
        self.socket.as_ref().map_or(Ok(0), sock::unread_bytes).unwrap_or(0)
    }

    /// Close so that the peer gets RST: `SO_LINGER` 0, then close. Bytes
    /// not yet sent are discarded (see `Stream::unsent`).
    pub fn reset(&mut self) -> io::Result<()> {
        let Some(socket) = self.socket.take() else {
            return Ok(());
        };
        SockRef::from(&socket).set_linger(Some(Duration::ZERO))
    }

    /// close(2). The peer gets FIN, or RST if input was left unread.
    pub fn close(&mut self) {
        self.socket = None;
    }

    /// Bytes read so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Bytes written so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }
}

/// Run one syscall again while a signal interrupts it.
fn retry(mut op: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match op() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "the socket is already closed")
}
