//! `relay response`, `relay head`, `relay body`, `relay N bytes` and
//! `relay until eof`: the upstream's bytes to the client, in one direction.
//!
//! A response is relayed by its own framing (Content-Length, chunked, or
//! until the upstream closes; interim 1xx heads pass through), so the relay
//! knows when it is whole and the script goes on. `limit` stops it after a
//! number of bytes, whatever the framing (the way to cut a body short), and
//! a [`Pacer`] slows it down. When the upstream ends, its end reaches the
//! client once every byte it sent before is out.
//!
//! The client is heard meanwhile ([`super::watch_client`]): a pipelined next
//! request is kept for the script's next read, its FIN passes on to the
//! upstream, and its reset ends the connection.

use std::time::Instant;

use super::pacer::Pacer;
use super::{ProxySide, client_flushed, send_front, watch_client};
use crate::http::response::{Framing, ResponseReader};
use crate::interp::Event;
use crate::log::Field;
use crate::scenario::ast::{Limit, Relay, RelayWhat};
use crate::server::conn::client::Client;
use crate::server::conn::ending::Ending;
use crate::server::conn::{Cx, Progress};
use crate::stream::Io;

/// A one-way `relay` in progress.
pub(in crate::server::conn) struct Relaying {
    relay: Relay,
    /// Upstream bytes taken for the client but not written yet.
    pending: usize,
    /// The size of the chunk `pending` is the rest of.
    chunk: usize,
    sent: u64,
    pacer: Pacer,
    /// The framing says the relay is whole.
    whole: bool,
}

impl Relaying {
    /// `relay body` goes on with the response whose head was relayed;
    /// anything else starts on the next response (one to a HEAD request,
    /// `head_request`, has no body).
    pub(in crate::server::conn) fn start(
        relay: Relay,
        head_request: bool,
        side: &mut ProxySide,
        now: Instant,
    ) -> Relaying {
        if let Some(up) = side.upstream.as_mut() {
            let carry_on = relay.what == RelayWhat::Body && up.response.is_some();
            if !carry_on {
                up.response = Some(ResponseReader::new(head_request));
            }
            if let (Some(Limit::Chunks(n)), Some(reader)) = (relay.limit, up.response.as_mut()) {
                // Counted from the body's first chunk: after `relay head`,
                // `relay body limit 2 chunks` passes two.
                reader.stop_after_chunks(n);
            }
        }
        Relaying {
            relay,
            pending: 0,
            chunk: 0,
            sent: 0,
            pacer: Pacer::new(relay.pace, now),
            whole: false,
        }
    }

    /// When a paced relay may go on.
    pub(in crate::server::conn) fn resume_at(&self) -> Option<Instant> {
        self.pacer.next_at()
    }

    pub(in crate::server::conn) fn progress<'s>(
        &mut self,
        client: &mut Client,
        side: &mut ProxySide,
        cx: &mut Cx,
    ) -> Progress<'s> {
        loop {
            let Some(up) = side.upstream.as_mut() else {
                return Progress::End(Ending::Broken("a relay without an upstream"));
            };
            if let Some(ending) = watch_client(client, up, cx) {
                return Progress::End(ending);
            }
            if self.pending > 0 {
                match send_front(&mut client.stream, &mut up.input, &mut self.pending, cx.now) {
                    Io::Data(n) => {
                        self.sent += n as u64;
                        if self.pending == 0 {
                            self.pacer.sent(self.chunk, cx.now);
                        }
                        continue;
                    }
                    Io::Blocked => return Progress::Wait,
                    failed => return Progress::End(Ending::Failed(failed)),
                }
            }
            let limit_reached = match self.relay.limit {
                Some(Limit::Bytes(limit)) => self.sent >= limit,
                Some(Limit::Chunks(n)) => up.response.as_ref().is_some_and(|r| r.chunks() >= n),
                None => false,
            };
            if self.whole || limit_reached {
                match client_flushed(client) {
                    Ok(true) => {}
                    Ok(false) => return Progress::Wait,
                    Err(ending) => return Progress::End(ending),
                }
                let head = up.response.as_ref().and_then(|r| r.head.clone());
                if self.whole && up.response.as_ref().is_some_and(|r| r.complete) {
                    up.response = None;
                }
                if up.input.is_empty() && up.input.capacity() > 4096 {
                    up.input = Vec::new();
                }
                cx.say("relay", &[("bytes", Field::Num(self.sent))]);
                if up.heard.is_some() {
                    // The upstream is gone: the client hears of it now.
                    return side.mirror(client, cx);
                }
                return Progress::Next(Event::Relayed(head));
            }
            if !up.input.is_empty() {
                let allowed = self.pacer.allowed(cx.now);
                if allowed == 0 {
                    return Progress::Wait;
                }
                // How many buffered upstream bytes this relay may take now.
                let mut room = up.input.len().min(allowed);
                if let Some(Limit::Bytes(limit)) = self.relay.limit {
                    room = room.min((limit - self.sent) as usize);
                }
                let window = &up.input[..room];
                let taken = match self.relay.what {
                    RelayWhat::Response | RelayWhat::Body => relay_framed(up.response.as_mut(), window, UpTo::End),
                    RelayWhat::Head => relay_framed(up.response.as_mut(), window, UpTo::Head),
                    RelayWhat::Bytes(n) => (room as u64).min(n - self.sent) as usize,
                    RelayWhat::Eof | RelayWhat::Both => room,
                };
                self.pending = taken;
                self.chunk = taken;
                self.whole = self.is_whole(up.response.as_ref(), taken);
                if taken > 0 || self.whole {
                    continue;
                }
            } else if matches!(self.relay.what, RelayWhat::Bytes(0))
                || (self.relay.what == RelayWhat::Body && up.response.as_ref().is_some_and(|r| r.complete))
            {
                // Nothing to relay: a zero count, or a body already whole.
                self.whole = true;
                continue;
            }
            if up.heard.is_some() {
                // Everything before the end is out: mirror the end.
                match client_flushed(client) {
                    Ok(true) => {}
                    Ok(false) => return Progress::Wait,
                    Err(ending) => return Progress::End(ending),
                }
                if let Some(reader) = up.response.as_mut() {
                    reader.on_close();
                }
                cx.say("relay", &[("bytes", Field::Num(self.sent))]);
                return side.mirror(client, cx);
            }
            if !up.take_in() {
                return Progress::Wait;
            }
        }
    }

    /// Whether, with `taken` more bytes on their way, the relay has all it
    /// is to carry.
    fn is_whole(&self, response: Option<&ResponseReader>, taken: usize) -> bool {
        match self.relay.what {
            RelayWhat::Response | RelayWhat::Body => response.is_none_or(|r| r.complete),
            RelayWhat::Head => response.is_none_or(|r| r.head.is_some()),
            RelayWhat::Bytes(n) => self.sent + taken as u64 >= n,
            RelayWhat::Eof | RelayWhat::Both => false,
        }
    }
}

/// How far a framed relay goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum UpTo {
    /// The response's end.
    End,
    /// The end of its head.
    Head,
}

/// Relay what `window` holds of the response being read, up to `to`.
fn relay_framed(reader: Option<&mut ResponseReader>, window: &[u8], to: UpTo) -> usize {
    let Some(reader) = reader else {
        return window.len();
    };
    if reader.malformed.is_some() {
        // Not HTTP: pass it through as it is, until the upstream ends.
        return window.len();
    }
    let used = match to {
        UpTo::Head => reader.feed_head_only(window),
        UpTo::End => reader.feed(window),
    };
    if reader.malformed.is_some() {
        return window.len();
    }
    if reader.head.as_ref().is_some_and(|h| h.framing == Framing::UntilClose) && to == UpTo::End {
        // Its end is the upstream's FIN.
        return window.len().max(used);
    }
    used
}
