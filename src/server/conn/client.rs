//! The client side of a connection: the accepted socket, the input read
//! ahead of the script, the body reader a `read head` leaves behind, and
//! (for a proxy) the request kept to be forwarded.
//!
//! Input is read ahead into one buffer, so a request costs one `recv`; the
//! stream keeps only what arrived (see [`crate::stream`]). What the script
//! never read counts as unread when the connection closes, as it would in
//! the kernel (see [`super::ending`]).

use super::Cx;
use super::ending::{Drain, EndNote, Ending};
use crate::end::End;
use crate::http::RequestReader;
use crate::log::Field;
use crate::stream::Io;
use crate::transport::Transport;

/// A buffer that held a large head is given back once it is empty: an idle
/// connection keeps nothing.
const KEEP_CAPACITY: usize = 4096;
/// At most this much unread input is read away before a draining close.
const DRAIN_LIMIT: u64 = 1024 * 1024;

pub(super) struct Client {
    pub(super) stream: Transport,
    /// Received bytes the script has not taken yet. They outlive a step (a
    /// pipelined request belongs to the next read).
    pub(super) input: Vec<u8>,
    /// After `read head`: the reader of that request's body, for the
    /// `read body` or `forward request` to come (boxed: the others pay one
    /// word). A new request's read drops it.
    pub(super) body: Option<Box<RequestReader>>,
    /// HTTP/2, once the client sent its preface (boxed: an HTTP/1.1
    /// connection pays one word).
    pub(super) h2: Option<Box<super::h2::H2>>,
    /// The peer's FIN was seen (read, or hinted by an event).
    fin_seen: bool,
    /// The peer's FIN was read: every byte it sent is in `input`.
    eof_read: bool,
}

impl Client {
    pub(super) fn new(stream: Transport) -> Client {
        Client {
            stream,
            input: Vec::new(),
            body: None,
            h2: None,
            fin_seen: false,
            eof_read: false,
        }
    }

    /// Append up to `want` bytes from the socket to the input.
    pub(super) fn read_more(&mut self, want: usize) -> Io {
        let input = &mut self.input;
        let io = self.stream.read(want, |bytes| input.extend_from_slice(bytes));
        if let Io::Eof = io {
            self.eof_read = true;
        }
        io
    }

    /// Take the first `n` bytes of the input away.
    pub(super) fn consume(&mut self, n: usize) {
        self.input.drain(..n);
        if self.input.is_empty() && self.input.capacity() > KEEP_CAPACITY {
            self.input = Vec::new();
        }
    }

    /// Whether the peer's FIN was read: all it sent is in `input`.
    pub(super) fn eof_read(&self) -> bool {
        self.eof_read
    }

    /// The peer's FIN came while the script goes on: say so once.
    pub(super) fn say_fin(&mut self, cx: &mut Cx) {
        if !std::mem::replace(&mut self.fin_seen, true) {
            cx.say("peer-half-close", &[]);
        }
    }

    /// While nothing reads or writes the socket, act on what events
    /// hinted: an RST ends the connection at once (asked of the socket
    /// directly), a FIN is logged once and the script goes on.
    pub(super) fn check_hints(&mut self, cx: &mut Cx) -> Option<Ending> {
        if let Some(error) = self.stream.take_hinted_error() {
            return Some(Ending::Failed(Io::Reset(error)));
        }
        if self.stream.fin_hinted() {
            self.say_fin(cx);
        }
        None
    }

    /// While a TLS handshake is under way: take in and answer what the
    /// client sent. How the connection ends, if the handshake failed.
    pub(super) fn pump_tls(&mut self, cx: &mut Cx) -> Option<Ending> {
        let failed = self.stream.pump();
        self.tell_handshake(cx);
        failed.map(Ending::Failed)
    }

    /// Log a TLS handshake once it is done: what it agreed on.
    pub(super) fn tell_handshake(&mut self, cx: &mut Cx) {
        let Some(done) = self.stream.take_handshake() else {
            return;
        };
        let mut fields = vec![
            ("version", Field::Str(&done.version)),
            ("cipher", Field::Str(&done.cipher)),
        ];
        if let Some(alpn) = &done.alpn {
            fields.push(("alpn", Field::Str(alpn)));
        }
        if let Some(sni) = &done.sni {
            fields.push(("sni", Field::Str(sni)));
        }
        cx.say("tls-handshake", &fields);
    }

    /// `hang`: throw input away until the peer leaves.
    pub(super) fn hang<'s>(&mut self) -> super::Progress<'s> {
        self.input.clear();
        match self.stream.discard(u64::MAX).1 {
            Io::Eof => super::Progress::End(Ending::PeerFin),
            Io::Blocked | Io::Data(_) => super::Progress::Wait,
            failed => super::Progress::End(Ending::Failed(failed)),
        }
    }
}

impl Client {
    /// End the client side as `ending` says; the socket is gone after.
    pub(super) fn end(&mut self, ending: Ending, cx: &mut Cx) -> EndNote {
        let mut note = match ending {
            Ending::Close(drain) => self.close(drain, Notify::Yes, cx),
            Ending::CloseNoNotify(drain) => self.close(drain, Notify::No, cx),
            Ending::Reset { unsent } => match self.stream.reset() {
                Err(e) => EndNote::failed(End::Error, e.to_string()),
                Ok(()) => EndNote {
                    discarded: unsent as u64,
                    ..EndNote::new(End::Rst)
                },
            },
            Ending::Failed(failed) => EndNote::failure(failed),
            Ending::PeerLeft => EndNote {
                unparsed: self.input.len() as u64,
                ..EndNote::new(End::PeerFin)
            },
            Ending::PeerFin => EndNote::new(End::PeerFin),
            Ending::Broken(why) => EndNote::failed(End::Error, why.to_string()),
        };
        if let Some(tape) = self.stream.take_tape()
            && let Err(why) = tape.finish(note.how, cx.now)
        {
            // Written by `crate::record`'s thread, which logs `recorded`.
            cx.say("record-dropped", &[("why", Field::Str(&why))]);
        }
        self.stream.close();
        note.bytes_in = self.stream.bytes_in();
        note.bytes_out = self.stream.bytes_out();
        note
    }

    /// close(2). With [`Drain::First`], first read away what the peer
    /// already sent, so the peer gets FIN. Without, the kernel's rule
    /// holds: closing with unread input sends RST. Input hangup buffered
    /// but the script never read counts as unread too, so the end on the
    /// wire is the same as if it had stayed in the kernel; the note says
    /// which.
    fn close(&mut self, drain: Drain, notify: Notify, cx: &mut Cx) -> EndNote {
        let mut drained = 0;
        // A lingering close that is closed on at once (hangup is
        // stopping) drains as it can.
        if drain != Drain::No {
            drained += self.input.len() as u64;
            self.input.clear();
            let (thrown, io) = self.stream.discard(DRAIN_LIMIT - drained.min(DRAIN_LIMIT));
            drained += thrown;
            if let failed @ (Io::Reset(_) | Io::Failed(_)) = io {
                return EndNote::failure(failed);
            }
        }
        let unread = (self.stream.unread() + self.input.len()) as u64;
        if unread == 0 {
            // Under TLS, the well-behaved end: close_notify, then FIN.
            if notify == Notify::Yes && self.stream.close_notify() {
                cx.say("tls-close-notify", &[]);
            }
            self.stream.close();
            return EndNote {
                drained,
                ..EndNote::new(End::Fin)
            };
        }
        // The kernel's rule: close with unread input sends RST.
        let _ = self.stream.reset();
        EndNote {
            drained,
            unread,
            ..EndNote::new(End::Rst)
        }
    }
}

/// Whether a close under TLS says close_notify first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Notify {
    Yes,
    /// `close no-notify`: FIN alone, the fault.
    No,
}

/// A request read whole is kept, to be forwarded, up to this size.
const RETAIN_LIMIT: usize = 1024 * 1024;

/// The bytes of the request being read, kept for `forward request`.
#[derive(Debug, Default)]
pub(super) enum Retained {
    #[default]
    Nothing,
    Bytes(Vec<u8>),
    /// Over [`RETAIN_LIMIT`]: `read head` streams such a request instead.
    TooLarge,
}

impl Retained {
    /// Keep `bytes` of the request being read, within the limit.
    pub(super) fn keep(&mut self, bytes: &[u8]) {
        match self {
            Retained::Nothing => *self = Retained::Bytes(bytes.to_vec()),
            Retained::Bytes(kept) if kept.len() + bytes.len() <= RETAIN_LIMIT => kept.extend_from_slice(bytes),
            Retained::Bytes(_) => *self = Retained::TooLarge,
            Retained::TooLarge => {}
        }
    }
}
