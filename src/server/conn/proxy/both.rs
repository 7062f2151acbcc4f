//! `relay both`: bytes both ways as they come, no HTTP parsing, until both
//! directions ended — a raw TCP proxy for any protocol.
//!
//! A FIN from either side is a half-close on the other, so a half-close
//! passes through; the upstream's RST reaches the client after the bytes
//! relayed before it, and the client's reaches the upstream. `limit` and
//! the pace apply to what goes to the client.

use std::time::Instant;

use super::pacer::Pacer;
use super::{BUFFER_LIMIT, Heard, ProxySide, client_flushed, send_front};
use crate::interp::Event;
use crate::log::Field;
use crate::probe::tls::Closing;
use crate::scenario::ast::{Limit, Relay};
use crate::server::conn::client::Client;
use crate::server::conn::ending::{Drain, Ending};
use crate::server::conn::{Cx, Progress};
use crate::stream::Io;

/// A `relay both` in progress.
pub(in crate::server::conn) struct Both {
    limit: Option<u64>,
    pacer: Pacer,
    /// Upstream bytes taken for the client but not written yet, and the
    /// size of the chunk they are the rest of.
    pending: usize,
    chunk: usize,
    to_client: u64,
    to_upstream: u64,
}

impl Both {
    pub(in crate::server::conn) fn new(relay: Relay, now: Instant) -> Both {
        Both {
            // The parser takes `limit N chunks` only for a framed relay.
            limit: match relay.limit {
                Some(Limit::Bytes(n)) => Some(n),
                Some(Limit::Chunks(_)) | None => None,
            },
            pacer: Pacer::new(relay.pace, now),
            pending: 0,
            chunk: 0,
            to_client: 0,
            to_upstream: 0,
        }
    }

    /// When a paced relay may go on.
    pub(in crate::server::conn) fn resume_at(&self) -> Option<Instant> {
        self.pacer.next_at()
    }

    fn say_relayed(&self, cx: &mut Cx) {
        let fields = [
            ("bytes", Field::Num(self.to_client)),
            ("bytes_up", Field::Num(self.to_upstream)),
        ];
        cx.say("relay", &fields);
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
            let mut moved = false;
            // Client to upstream: everything, as it comes.
            if !client.input.is_empty() && up.can_write() {
                let mut all = client.input.len();
                match send_front(&mut up.stream, &mut client.input, &mut all, cx.now) {
                    Io::Data(n) => {
                        self.to_upstream += n as u64;
                        moved = true;
                    }
                    Io::Blocked | Io::Eof => {}
                    failed => {
                        up.write_failed(failed);
                        moved = true;
                    }
                }
            }
            if client.input.is_empty() && client.eof_read() && up.can_write() {
                // The client's FIN passes through.
                up.half_close();
                cx.say("upstream-half-close", &[]);
            }
            // Upstream to client, within the limit and the pace.
            if self.pending == 0 && !up.input.is_empty() {
                let limit_left = self.limit.map_or(usize::MAX, |l| (l - self.to_client.min(l)) as usize);
                let room = up.input.len().min(limit_left).min(self.pacer.allowed(cx.now));
                self.pending = room;
                self.chunk = room;
            }
            if self.pending > 0 {
                match send_front(&mut client.stream, &mut up.input, &mut self.pending, cx.now) {
                    Io::Data(n) => {
                        self.to_client += n as u64;
                        moved = true;
                        if self.pending == 0 {
                            self.pacer.sent(self.chunk, cx.now);
                        }
                    }
                    Io::Blocked => {}
                    failed => return Progress::End(Ending::Failed(failed)),
                }
            }
            // Under TLS, what went to the client is out once its records
            // are: an end that follows waits for them.
            let flushed = match client_flushed(client) {
                Ok(flushed) => flushed,
                Err(ending) => return Progress::End(ending),
            };
            if self.limit.is_some_and(|l| self.to_client >= l) {
                if !flushed {
                    return Progress::Wait;
                }
                self.say_relayed(cx);
                return Progress::Next(Event::Relayed(None));
            }
            if up.input.is_empty() && up.heard.is_some() && flushed {
                if matches!(up.heard, Some(Heard::Reset(_) | Heard::Failed(_)))
                    || up.closing.is_some_and(|c| matches!(c, Closing::Alert(_)))
                    || client.eof_read()
                {
                    // An RST passes through; a FIN after the client's own
                    // is the end of both directions.
                    self.say_relayed(cx);
                    return side.mirror(client, cx);
                }
                if !client.stream.is_write_shut() {
                    // The upstream's FIN passes through; the client may
                    // still send.
                    if let Err(e) = client.stream.shutdown_write() {
                        return Progress::End(Ending::Failed(Io::Failed(e)));
                    }
                    cx.say("half-close", &[]);
                }
            }
            // Read each side while its buffer has room.
            if up.take_in() {
                moved = true;
                if matches!(up.heard, Some(Heard::Fin)) {
                    cx.say("upstream-fin", &[]);
                }
            }
            if !client.eof_read() && client.input.len() < BUFFER_LIMIT && client.stream.is_readable() {
                match client.read_more(BUFFER_LIMIT - client.input.len()) {
                    Io::Data(_) => moved = true,
                    Io::Blocked => {}
                    Io::Eof => {
                        moved = true;
                        client.say_fin(cx);
                    }
                    // The client's RST passes through to the upstream.
                    failed => return Progress::End(Ending::Failed(failed)),
                }
            }
            if client.eof_read()
                && client.stream.is_write_shut()
                && client.input.is_empty()
                && up.input.is_empty()
                && flushed
            {
                // Both directions ended with FIN.
                return Progress::End(Ending::Close(Drain::First));
            }
            if !moved {
                return Progress::Wait;
            }
        }
    }
}
