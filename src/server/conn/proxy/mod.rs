//! The upstream side of a connection: `forward`, `relay`, `relay both` and
//! `upstream`.
//!
//! A scenario that proxies opens one upstream connection per client
//! connection, when it first needs it, so that keep-alive reuse on the
//! client side is keep-alive reuse upstream too. Bytes move through two
//! bounded buffers, one per direction: the client's input towards the
//! upstream, the upstream's input towards the client. A side is read only
//! while its buffer has room, so a reader that stops reading stops the
//! other side too, and memory stays bounded whatever flows through.
//!
//! Faithful by default: an upstream's FIN reaches the client as a FIN and
//! its RST as an RST, each only after every byte relayed before it has left
//! (a reset waits for the send queue as the script's own `reset` does).
//! Only a read tells that the upstream ended: a write that fails because it
//! reset stops the writing, and what it sent before its reset is still
//! read and relayed, then the reset is mirrored. An upstream that closes
//! while the script is busy with the client (an idle keep-alive connection
//! the upstream gives up on) is mirrored at once: that is the
//! pooled-connection race, for real.
//!
//! The states: [`Connecting`] (`connect.rs`), [`Forwarding`]
//! (`forward.rs`), [`Relaying`] (`relay.rs`, one direction) and [`Both`]
//! (`both.rs`, `relay both`); [`pacer`] paces the relays.

mod both;
mod connect;
mod forward;
mod pacer;
mod relay;

pub(super) use both::Both;
pub(super) use connect::Connecting;
pub(super) use forward::Forwarding;
pub(super) use relay::Relaying;

use mio::net::TcpStream;

use super::client::{Client, Retained};
use super::ending::{Drain, Ending, Flushing};
use super::{Cx, Progress, State};
use crate::end::End;
use crate::http::response::ResponseReader;
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::reactor::{self, Side};
use crate::scenario::ast::{Forward, Relay, RelayWhat, UpstreamEnd};
use crate::stream::{Io, READ_CHUNK};
use crate::transport::Transport;

/// Bytes each direction may hold: reading a side stops at this, until the
/// other side has taken them.
const BUFFER_LIMIT: usize = 64 * 1024;
/// What a connection of a proxying scenario keeps for its upstream side,
/// boxed so that a connection of any other scenario does not pay for it.
#[derive(Default)]
pub(super) struct ProxySide {
    /// The upstream connection, once a proxy step opened it.
    upstream: Option<Upstream>,
    /// How the upstream side ended, once it has.
    pub(super) ended: Option<End>,
    /// The bytes of the last request read, for `forward request`.
    pub(super) retained: Retained,
}

/// How the upstream's input ended, once a read told.
#[derive(Debug)]
enum Heard {
    /// Its FIN.
    Fin,
    /// Its reset, or another error: why.
    Reset(String),
}

/// The upstream connection of one client connection.
struct Upstream {
    stream: Transport,
    connected: bool,
    /// Bytes the upstream sent that are not relayed yet.
    input: Vec<u8>,
    /// The response being relayed, kept from `relay head` to `relay body`.
    response: Option<ResponseReader>,
    /// How its input ended; mirrored once what came before is out.
    heard: Option<Heard>,
    /// hangup half-closed the upstream side (a client FIN passed through).
    write_shut: bool,
    /// A write failed: nothing more is written; its input is read on.
    write_failed: bool,
}

impl Upstream {
    fn connecting(socket: TcpStream) -> Upstream {
        Upstream {
            stream: Transport::connecting(socket),
            connected: false,
            input: Vec::new(),
            response: None,
            heard: None,
            write_shut: false,
            write_failed: false,
        }
    }

    /// Whether bytes may still be written to it.
    fn can_write(&self) -> bool {
        !self.write_shut && !self.write_failed
    }

    /// Read what the upstream sent into its buffer, while there is room.
    /// Whether anything came: bytes, or its end (kept in `heard`).
    fn take_in(&mut self) -> bool {
        let room = BUFFER_LIMIT.saturating_sub(self.input.len());
        if self.heard.is_some() || room == 0 || !self.stream.is_readable() {
            return false;
        }
        let input = &mut self.input;
        match self
            .stream
            .read(room.min(READ_CHUNK), |bytes| input.extend_from_slice(bytes))
        {
            Io::Data(_) => true,
            Io::Blocked => false,
            Io::Eof => {
                self.heard = Some(Heard::Fin);
                true
            }
            Io::Reset(e) | Io::Failed(e) => {
                self.heard = Some(Heard::Reset(e.to_string()));
                true
            }
        }
    }

    /// A write to the upstream failed. A reset is not its end yet: what it
    /// sent before the reset is still to be read, and the read that finds
    /// no more reports the reset. Any other failure is the end at once.
    fn write_failed(&mut self, failed: Io) {
        self.write_failed = true;
        match failed {
            Io::Reset(_) => self.stream.assume_readable(),
            Io::Failed(e) => self.heard = Some(Heard::Reset(e.to_string())),
            Io::Data(_) | Io::Blocked | Io::Eof => {}
        }
    }
}

/// A step that needs the upstream, waiting for its connect.
#[derive(Debug, Clone, Copy)]
pub(super) enum Pending {
    Forward(Forward),
    Relay(Relay),
    End(UpstreamEnd),
}

/// Carry out a step that needs the upstream, connecting first if need be.
pub(super) fn start<'s>(
    step: Pending,
    key: usize,
    interp: &Interp,
    client: &mut Client,
    proxy: Option<&mut ProxySide>,
    cx: &mut Cx,
) -> Progress<'s> {
    let Some(side) = proxy else {
        return Progress::End(Ending::Broken("a proxy step in a scenario that does not proxy"));
    };
    let Some(addr) = cx.shared.upstream else {
        // `serve` refuses such a scenario without --upstream; this is
        // only a safety net.
        cx.say("upstream-error", &[("why", Field::Str("no --upstream given"))]);
        return Progress::End(Ending::Close(Drain::First));
    };
    if side.upstream.is_none() {
        let result = TcpStream::connect(addr.0).and_then(|mut socket| {
            reactor::register_socket(&cx.shared.registry, key, Side::Upstream, &mut socket)?;
            Ok(socket)
        });
        cx.shared.tally.upstream_connects += 1;
        let addr_text = addr.0.to_string();
        cx.say("upstream-connect", &[("addr", Field::Str(&addr_text))]);
        match result {
            Ok(socket) => {
                let _ = socket.set_nodelay(true);
                side.upstream = Some(Upstream::connecting(socket));
            }
            Err(e) => return upstream_failed(&e.to_string(), Some(side), cx),
        }
    }
    if side.upstream.as_ref().is_some_and(|up| !up.connected) {
        return Progress::Become(State::Connecting(Connecting::new(step, cx.now)));
    }
    begin(step, interp, client, Some(side), cx)
}

/// Begin a step on the connected upstream.
pub(super) fn begin<'s>(
    step: Pending,
    interp: &Interp,
    client: &mut Client,
    proxy: Option<&mut ProxySide>,
    cx: &mut Cx,
) -> Progress<'s> {
    let Some(side) = proxy else {
        return Progress::End(Ending::Broken("a proxy step in a scenario that does not proxy"));
    };
    match step {
        Pending::Forward(what) => match Forwarding::start(what, interp, client, side) {
            Some(forwarding) => Progress::Become(State::Forwarding(Box::new(forwarding))),
            None => {
                let why = "the request read whole is over 1 MiB, too large to keep: \
                           `read head` before `forward request` streams its body instead";
                cx.say("forward-error", &[("why", Field::Str(why))]);
                Progress::End(Ending::Close(Drain::First))
            }
        },
        Pending::Relay(relay) if relay.what == RelayWhat::Both => {
            Progress::Become(State::Both(Both::new(relay, cx.now)))
        }
        Pending::Relay(relay) => {
            let relaying = Relaying::start(relay, interp.last_was_head(), side, cx.now);
            Progress::Become(State::Relaying(relaying))
        }
        Pending::End(end) => side.end_upstream(end, cx),
    }
}

/// The connect failed or timed out: the `on upstream-error` handler
/// (nginx's 502 by default) runs instead of the script.
pub(super) fn upstream_failed<'s>(why: &str, proxy: Option<&mut ProxySide>, cx: &mut Cx) -> Progress<'s> {
    cx.shared.tally.upstream_failed += 1;
    cx.say("upstream-failed", &[("why", Field::Str(why))]);
    if let Some(side) = proxy {
        side.upstream = None;
    }
    Progress::Next(Event::UpstreamFailed)
}

impl ProxySide {
    /// Take in the upstream socket's readiness.
    pub(super) fn on_event(&mut self, event: &mio::event::Event) {
        if let Some(up) = self.upstream.as_mut() {
            up.stream.on_event(event);
        }
    }

    /// Between proxy steps: notice an upstream that closes or resets an
    /// idle connection, and mirror it at once. Bytes it sent unasked stay
    /// buffered for the next relay. Also called as a step begins, since a
    /// FIN that came with the last bytes a relay took raises no new event.
    pub(super) fn watch<'s>(&mut self, cx: &mut Cx) -> Option<Progress<'s>> {
        let up = self.upstream.as_mut().filter(|up| up.connected)?;
        while up.take_in() && up.heard.is_none() {}
        self.mirror_if_over(cx)
    }

    /// If the upstream's end was read, mirror it now.
    fn mirror_if_over<'s>(&mut self, cx: &mut Cx) -> Option<Progress<'s>> {
        self.upstream.as_ref()?.heard.as_ref()?;
        Some(self.mirror(cx))
    }

    /// The upstream ended (FIN, RST or an error) and everything it sent
    /// before is out: the client gets the same end.
    fn mirror<'s>(&mut self, cx: &mut Cx) -> Progress<'s> {
        let Some(up) = self.upstream.take() else {
            return Progress::End(Ending::Broken("no upstream to mirror"));
        };
        match up.heard {
            Some(Heard::Reset(why)) => {
                self.ended = Some(End::PeerRst);
                cx.say(
                    "upstream-end",
                    &[("how", Field::Str(End::PeerRst.name())), ("error", Field::Str(&why))],
                );
                Progress::Become(State::Flushing(Flushing::new(cx.now)))
            }
            Some(Heard::Fin) | None => {
                self.ended = Some(End::PeerFin);
                cx.say("upstream-end", &[("how", Field::Str(End::PeerFin.name()))]);
                Progress::End(Ending::Close(Drain::First))
            }
        }
    }

    /// `upstream reset | close | half-close`.
    fn end_upstream<'s>(&mut self, end: UpstreamEnd, cx: &mut Cx) -> Progress<'s> {
        let Some(up) = self.upstream.as_mut() else {
            return Progress::Next(Event::Forwarded);
        };
        let how = match end {
            UpstreamEnd::Reset => {
                let _ = up.stream.reset();
                "rst"
            }
            UpstreamEnd::Close => {
                up.stream.close();
                "fin"
            }
            UpstreamEnd::HalfClose => {
                let _ = up.stream.shutdown_write();
                up.write_shut = true;
                "half-close"
            }
        };
        if end != UpstreamEnd::HalfClose {
            self.upstream = None;
            self.ended = Some(if end == UpstreamEnd::Reset { End::Rst } else { End::Fin });
        }
        cx.say("upstream-end", &[("how", Field::Str(how))]);
        Progress::Next(Event::Forwarded)
    }

    /// The connection is over: the upstream side ends the way the client
    /// side did (an RST from the client is an RST upstream).
    pub(super) fn end_with(&mut self, how: End, cx: &mut Cx) {
        let Some(mut up) = self.upstream.take() else {
            return;
        };
        let end = if how == End::PeerRst {
            let _ = up.stream.reset();
            End::Rst
        } else {
            up.stream.close();
            End::Fin
        };
        self.ended = Some(end);
        cx.say("upstream-end", &[("how", Field::Str(end.name()))]);
    }
}

/// Write the first `pending` bytes of `buf` to `to` at `now`, and drop from
/// `buf` (and from `pending`) what went out.
fn send_front(to: &mut Transport, buf: &mut Vec<u8>, pending: &mut usize, now: std::time::Instant) -> Io {
    let io = to.write(&buf[..*pending], now);
    if let Io::Data(n) = io {
        buf.drain(..n);
        *pending -= n;
    }
    io
}

/// The client while a relay carries the upstream's bytes: a pipelined next
/// request is read ahead and kept for the script's next read, the client's
/// FIN passes on to the upstream (once no request of the client's waits to
/// be forwarded: an upstream that answers at EOF must hear it), and its
/// reset ends the connection.
fn watch_client(client: &mut Client, up: &mut Upstream, cx: &mut Cx) -> Option<Ending> {
    while !client.eof_read() && client.input.len() < BUFFER_LIMIT && client.stream.is_readable() {
        match client.read_more(BUFFER_LIMIT - client.input.len()) {
            Io::Data(_) => {}
            Io::Blocked => break,
            Io::Eof => client.say_fin(cx),
            failed => return Some(Ending::Failed(failed)),
        }
    }
    if client.eof_read() && client.input.is_empty() && up.can_write() {
        let _ = up.stream.shutdown_write();
        up.write_shut = true;
        cx.say("upstream-half-close", &[]);
    }
    None
}
