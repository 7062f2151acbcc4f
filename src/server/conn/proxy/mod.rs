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
//! Over TLS (`--upstream https://…`) the upstream's stream is a
//! [`Transport`] with a client TLS layer, so the states above it move
//! plaintext as they would bytes. What TLS adds is said where it happens:
//! the handshake is part of the connect ([`Connecting`]), and one that
//! fails is an upstream failure like a refused connect; records a write
//! left queued go out as the socket takes them ([`ProxySide::on_event`]),
//! and a half-close waits for them; the upstream's close_notify or alert
//! is how it ended TLS, and its TCP end (read below TLS after it) is what
//! is mirrored ([`tls`]).
//!
//! The states: [`Connecting`] (`connect.rs`), [`Forwarding`]
//! (`forward.rs`), [`Relaying`] (`relay.rs`, one direction) and [`Both`]
//! (`both.rs`, `relay both`); [`pacer`] paces the relays; [`upstream`] is
//! the upstream connection they share.

mod both;
mod connect;
mod forward;
mod pacer;
mod relay;
mod tls;
mod upstream;

pub(super) use both::Both;
pub(super) use connect::Connecting;
pub(super) use forward::Forwarding;
pub(super) use relay::Relaying;

use mio::net::TcpStream;

use super::client::{Client, Retained};
use super::ending::{Drain, Ending, Flushing};
use super::{Cx, Progress, State};
use crate::end::End;
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::reactor::{self, Side};
use crate::scenario::ast::{Forward, Relay, RelayWhat, UpstreamEnd};
use crate::stream::Io;
use crate::transport::Transport;
use upstream::{Heard, Upstream};

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
    let Some(addr) = cx.shared.upstream.as_ref().map(|upstream| upstream.addr) else {
        // `serve` refuses such a scenario without --upstream; this is
        // only a safety net.
        cx.say("upstream-error", &[("why", Field::Str("no --upstream given"))]);
        return Progress::End(Ending::Close(Drain::First));
    };
    if side.upstream.is_none() {
        let result = TcpStream::connect(addr).and_then(|mut socket| {
            reactor::register_socket(&cx.shared.registry, key, Side::Upstream, &mut socket)?;
            Ok(socket)
        });
        cx.shared.tally.upstream_connects += 1;
        let addr_text = addr.to_string();
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
    /// Take in the upstream socket's readiness. Under TLS, records a
    /// write left queued go out now that the socket takes more, whatever
    /// step the script is in: the write that queued them is over.
    pub(super) fn on_event(&mut self, event: &mio::event::Event) {
        if let Some(up) = self.upstream.as_mut() {
            up.stream.on_event(event);
            if up.connected && up.stream.is_writable() {
                up.flush();
            }
        }
    }

    /// Between proxy steps: notice an upstream that closes or resets an
    /// idle connection, and mirror it at once. Bytes it sent unasked stay
    /// buffered for the next relay. Also called as a step begins, since a
    /// FIN that came with the last bytes a relay took raises no new event.
    pub(super) fn watch<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Option<Progress<'s>> {
        let up = self.upstream.as_mut().filter(|up| up.connected)?;
        while up.take_in() && up.heard.is_none() {}
        self.mirror_if_over(client, cx)
    }

    /// If the upstream's end was read, mirror it now.
    fn mirror_if_over<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Option<Progress<'s>> {
        self.upstream.as_ref()?.heard.as_ref()?;
        Some(self.mirror(client, cx))
    }

    /// The upstream ended (FIN, RST or an error) and everything it sent
    /// before is out: the client gets the same end. Over TLS, the log
    /// says how the upstream ended TLS too; a client under `--tls` gets
    /// close_notify only if the upstream sent one, and an upstream's
    /// alert is an error end, an RST.
    fn mirror<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        let Some(up) = self.upstream.take() else {
            return Progress::End(Ending::Broken("no upstream to mirror"));
        };
        let (how, why) = match &up.heard {
            Some(Heard::Reset(why) | Heard::Failed(why)) => (End::PeerRst, Some(why.as_str())),
            Some(Heard::Fin) | None => (End::PeerFin, None),
        };
        self.ended = Some(how);
        let tls_end = tls::ended(&up, how);
        let alert = match tls_end {
            Some(tls::TlsEnd::Alert(alert)) => Some(crate::probe::tls::alert_name(alert)),
            _ => None,
        };
        let mut fields = vec![("how", Field::Str(how.name()))];
        if let Some(end) = tls_end {
            fields.push(("tls", Field::Str(end.name())));
        }
        if let Some(alert) = &alert {
            fields.push(("alert", Field::Str(alert)));
        }
        if let Some(why) = why {
            fields.push(("error", Field::Str(why)));
        }
        cx.say("upstream-end", &fields);
        if let Some(tape) = client.stream.tape_mut()
            && let Some(end) = tls_end
        {
            tape.server_tls_end(end);
        }
        match (how, tls_end) {
            (End::PeerRst, _) | (_, Some(tls::TlsEnd::Alert(_))) => {
                Progress::Become(State::Flushing(Flushing::new(cx.now)))
            }
            // The client may have sent bytes whose event is not taken yet
            // (a TLS client's close_notify, as it reads the response's
            // end): drain what the socket has, not what an event said.
            (_, Some(tls::TlsEnd::NoCloseNotify)) => {
                client.stream.assume_readable();
                Progress::End(Ending::CloseNoNotify(Drain::First))
            }
            _ => {
                client.stream.assume_readable();
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
                // Under TLS, the well-behaved end: close_notify, then FIN.
                up.stream.close_notify();
                up.stream.close();
                "fin"
            }
            UpstreamEnd::HalfClose => {
                up.half_close();
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
            up.stream.close_notify();
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
        up.half_close();
        cx.say("upstream-half-close", &[]);
    }
    None
}

/// Under TLS, bytes written to the client are out once the records they
/// make are: a step that relayed them is over only then, or a `reset` or
/// `close` that follows would lose them. `Ok(false)` while they wait for
/// the socket.
fn client_flushed(client: &mut Client) -> Result<bool, Ending> {
    match client.stream.flush() {
        Io::Data(_) => Ok(!client.stream.tls_queued()),
        Io::Blocked => Ok(false),
        failed => Err(Ending::Failed(failed)),
    }
}
