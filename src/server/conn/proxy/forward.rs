//! `forward request` and `forward N bytes`: the client's bytes to the
//! upstream.
//!
//! `forward request` sends the request last read, byte for byte (kept
//! while it was read), and after `read head` streams its body on as it
//! arrives; with no request read yet, it forwards the next one as it
//! arrives, and the request counts as read. The client's FIN passes on as
//! the upstream's half-close and ends the forward.
//!
//! The upstream is heard meanwhile: when it ends (FIN or reset) before the
//! request was all sent — an early `413` and close while the client still
//! uploads — the forward stops there, so that the script's `relay` passes
//! on what it sent, then its end. A write that fails because it reset
//! stops the forward the same way, never losing what it sent first.

use super::{BUFFER_LIMIT, ProxySide, send_front};
use crate::http::{BadRequest, Headers, RequestInfo, RequestReader, Status};
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::scenario::ast::Forward;
use crate::server::conn::client::{Client, Retained};
use crate::server::conn::ending::Ending;
use crate::server::conn::request::{Taken, arrived, refused};
use crate::server::conn::{Cx, Progress};
use crate::stream::Io;

/// A `forward` step in progress.
pub(in crate::server::conn) struct Forwarding {
    /// A request already read, sent first.
    retained: Vec<u8>,
    retained_sent: usize,
    /// Then what streams from the client's input.
    from_client: FromClient,
    /// Client bytes taken for the upstream but not written yet.
    pending: usize,
    total: u64,
    /// The framing found the end: the forward is over once `pending` is
    /// written.
    finished: Option<Finished>,
}

/// What a forward streams from the client, after what was kept.
enum FromClient {
    Nothing,
    /// The body of the request whose head was read.
    Body(Box<RequestReader>),
    /// A whole next request, as it arrives.
    Request(RequestReader),
    /// This many bytes more, whatever they are.
    Raw(u64),
}

/// How the client's part of a forward ended.
enum Finished {
    /// Everything asked for went.
    Sent,
    /// The forward read a whole request of its own: it counts as read.
    Request(RequestInfo),
    /// The forward's own request could not be read.
    Refused(BadRequest),
}

impl Forwarding {
    /// `forward request` sends the request last read (and its body, after
    /// `read head`); with none read yet, the next one as it arrives.
    /// `None` when the request read whole was too large to keep.
    pub(in crate::server::conn) fn start(
        what: Forward,
        interp: &Interp,
        client: &mut Client,
        side: &mut ProxySide,
    ) -> Option<Forwarding> {
        let (retained, from_client) = match what {
            Forward::Bytes(n) => (Vec::new(), FromClient::Raw(n)),
            Forward::Request => match std::mem::take(&mut side.retained) {
                Retained::Bytes(bytes) => {
                    let body = client.body.take().map_or(FromClient::Nothing, FromClient::Body);
                    (bytes, body)
                }
                Retained::Nothing => {
                    let headers = if interp.uses_headers() {
                        Headers::Keep
                    } else {
                        Headers::Skip
                    };
                    (Vec::new(), FromClient::Request(RequestReader::whole(headers)))
                }
                Retained::TooLarge => return None,
            },
        };
        Some(Forwarding {
            retained,
            retained_sent: 0,
            from_client,
            pending: 0,
            total: 0,
            finished: None,
        })
    }

    pub(in crate::server::conn) fn progress<'s>(
        &mut self,
        client: &mut Client,
        side: &mut ProxySide,
        interp: &mut Interp<'s>,
        cx: &mut Cx,
    ) -> Progress<'s> {
        let Some(up) = side.upstream.as_mut() else {
            return Progress::End(Ending::Broken("a forward without an upstream"));
        };
        loop {
            // Read all the upstream has (while there is room): its FIN may
            // have come with its last bytes, and no new event would tell.
            while up.take_in() && up.heard.is_none() {}
            if up.heard.is_some() || up.write_failed {
                // The upstream ended first: what it sent goes to the client
                // with the script's next relay (or its end at once).
                let fields = [
                    ("bytes", Field::Num(self.total)),
                    ("cut", Field::Str("the upstream ended first")),
                ];
                cx.say("forward", &fields);
                return Progress::Next(Event::Forwarded);
            }
            // First what was read already, then what streams.
            if self.retained_sent < self.retained.len() {
                match up.stream.write(&self.retained[self.retained_sent..], cx.now) {
                    Io::Data(n) => {
                        self.retained_sent += n;
                        self.total += n as u64;
                    }
                    Io::Blocked => return Progress::Wait,
                    failed => up.write_failed(failed),
                }
                continue;
            }
            if self.pending > 0 {
                match send_front(&mut up.stream, &mut client.input, &mut self.pending, cx.now) {
                    Io::Data(n) => self.total += n as u64,
                    Io::Blocked => return Progress::Wait,
                    failed => up.write_failed(failed),
                }
                continue;
            }
            if let Some(finished) = self.finished.take() {
                cx.say("forward", &[("bytes", Field::Num(self.total))]);
                return match finished {
                    Finished::Sent => Progress::Next(Event::Forwarded),
                    Finished::Request(info) => arrived(info, Taken::Whole, None, client, interp, cx),
                    Finished::Refused(bad) => Progress::Next(refused(bad, cx)),
                };
            }
            // Take what belongs to the forward from the client's bytes.
            self.take_from(client);
            if self.pending > 0 || self.finished.is_some() {
                continue;
            }
            if !client.stream.is_readable() || client.input.len() >= BUFFER_LIMIT {
                return Progress::Wait;
            }
            match client.read_more(BUFFER_LIMIT - client.input.len()) {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => {
                    // The client half-closed: so does the upstream side.
                    client.say_fin(cx);
                    up.half_close();
                    cx.say("forward", &[("bytes", Field::Num(self.total))]);
                    return Progress::Next(Event::Forwarded);
                }
                failed => return Progress::End(Ending::Failed(failed)),
            }
        }
    }

    /// Mark what of the client's input goes to the upstream next, by the
    /// framing of what is forwarded.
    fn take_from(&mut self, client: &Client) {
        let status = match &mut self.from_client {
            FromClient::Nothing | FromClient::Raw(0) => {
                self.finished = Some(Finished::Sent);
                return;
            }
            FromClient::Raw(left) => {
                let take = (*left).min(client.input.len() as u64);
                *left -= take;
                self.pending = take as usize;
                return;
            }
            FromClient::Body(reader) => reader.feed(&client.input),
            FromClient::Request(reader) => reader.feed(&client.input),
        };
        self.pending = status.consumed;
        self.finished = match status.status {
            Status::Partial => None,
            Status::Complete(info) if matches!(self.from_client, FromClient::Request(_)) => {
                Some(Finished::Request(info))
            }
            Status::Complete(_) => Some(Finished::Sent),
            Status::Bad(bad) => Some(Finished::Refused(bad)),
        };
    }
}
