//! The reads of a script on an HTTP/2 connection: `read preface` until the
//! client's first SETTINGS, `read request` until a request's stream is
//! whole (its HEADERS and any body), `read head` until its HEADERS,
//! `read body [max N]` on the current stream, `read N bytes` of frames,
//! whatever they hold, and `read until eof`.
//!
//! Every byte read goes to the codec; what it heard is sorted by stream
//! (see [`super::H2`]), and its answers go out on the way.

use std::time::Instant;

use super::{H2, request_info};
use crate::h2::conn::Phase;
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::scenario::ast::ReadGoal;
use crate::server::conn::client::Client;
use crate::server::conn::ending::Ending;
use crate::server::conn::request::{Taken, arrived};
use crate::server::conn::route;
use crate::server::conn::{Cx, Progress, State};
use crate::stream::{Io, READ_CHUNK};

/// A `read` on an HTTP/2 connection.
pub(in crate::server::conn) struct H2Reading {
    goal: Goal,
    deadline: Option<Instant>,
    /// Under `serve --catalog`, the catalog has looked at the request
    /// next in line (see [`crate::server::conn::route`]).
    routed: bool,
}

enum Goal {
    /// The client's first SETTINGS, after the preface.
    Preface,
    /// A request: its HEADERS (`head_only`) or its whole stream.
    Request { head_only: bool },
    /// The current stream's body, up to `left` bytes more.
    Body { left: Option<u64>, got: u64 },
    /// This many more bytes of the wire.
    Bytes { remaining: u64, total: u64 },
    /// Everything until the client's FIN.
    Eof { got: u64 },
}

impl H2Reading {
    /// Begin reading towards `goal`; `None` for a goal HTTP/2 has no
    /// meaning for (`read tls-hello`).
    pub(in crate::server::conn) fn start(goal: ReadGoal, deadline: Option<Instant>) -> Option<H2Reading> {
        let goal = match goal {
            ReadGoal::Preface => Goal::Preface,
            ReadGoal::Request => Goal::Request { head_only: false },
            ReadGoal::Head => Goal::Request { head_only: true },
            ReadGoal::Body { max } => Goal::Body { left: max, got: 0 },
            ReadGoal::Bytes(n) => Goal::Bytes { remaining: n, total: n },
            ReadGoal::Eof => Goal::Eof { got: 0 },
            ReadGoal::TlsHello => return None,
        };
        Some(H2Reading {
            goal,
            deadline,
            routed: false,
        })
    }

    /// When the read gives up (`read … within`).
    pub(in crate::server::conn) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub(in crate::server::conn) fn progress<'s>(
        &mut self,
        client: &mut Client,
        interp: &mut Interp<'s>,
        cx: &mut Cx,
    ) -> Progress<'s> {
        let Some(h2) = client.h2.as_deref_mut() else {
            return Progress::End(Ending::Broken("an HTTP/2 read without HTTP/2"));
        };
        loop {
            if h2.failed {
                return Progress::Become(State::H2Sending(super::H2Sending::closing(cx.now)));
            }
            // On a kept connection under the catalog, a request whose
            // path names another built-in starts that one, as on HTTP/1.1.
            if let (Goal::Request { .. }, false, Some(next)) = (&self.goal, self.routed, h2.waiting.front()) {
                self.routed = true;
                if cx.shared.catalog.is_some()
                    && interp.requests() > 0
                    && let Some(other) = route::other_for(&next.head.path, interp.scenario(), cx)
                {
                    return Progress::Route(other);
                }
            }
            if let Some(event) = self.reached(h2, cx) {
                if let Event::Request(info) = event {
                    let stream = h2.current;
                    return arrived(info, self.taken(), Some(stream), client, interp, cx);
                }
                return Progress::Next(event);
            }
            // What is queued (answers, our SETTINGS, responses left for
            // this read) goes before the read waits or reads more; a full
            // send queue does not stop the reading.
            match h2.flush(&mut client.stream, cx.now) {
                Io::Data(_) | Io::Blocked => {}
                failed => return Progress::End(Ending::Failed(failed)),
            }
            if self.deadline.is_some_and(|d| cx.now >= d) {
                cx.say("timeout", &[]);
                return Progress::Next(Event::TimedOut);
            }
            if h2.eof {
                if let Goal::Eof { got } = self.goal {
                    cx.say("eof", &[("bytes", Field::Num(got))]);
                    return Progress::Next(Event::ReadDone);
                }
                return Progress::End(Ending::PeerLeft);
            }
            if !client.stream.is_readable() {
                return Progress::Wait;
            }
            let want = match self.goal {
                Goal::Bytes { remaining, .. } => remaining.clamp(1, READ_CHUNK as u64) as usize,
                _ => READ_CHUNK,
            };
            let input = &mut client.input;
            match client.stream.read(want, |bytes| input.extend_from_slice(bytes)) {
                Io::Data(n) => {
                    match &mut self.goal {
                        Goal::Bytes { remaining, .. } => *remaining = remaining.saturating_sub(n as u64),
                        Goal::Eof { got } => *got += n as u64,
                        _ => {}
                    }
                    h2.take_in(&mut client.input, cx);
                }
                Io::Blocked => return Progress::Wait,
                Io::Eof => h2.eof = true,
                failed => return Progress::End(Ending::Failed(failed)),
            }
        }
    }

    fn taken(&self) -> Taken {
        match self.goal {
            Goal::Request { head_only: true } => Taken::Head,
            _ => Taken::Whole,
        }
    }

    /// The read's event, if its goal is reached.
    fn reached(&mut self, h2: &mut H2, cx: &mut Cx) -> Option<Event> {
        match &mut self.goal {
            Goal::Preface => (h2.codec.phase() == Phase::Open).then_some(Event::ReadDone),
            Goal::Request { head_only } => {
                let next = h2.waiting.front()?;
                if !*head_only && !next.body.ended {
                    return None;
                }
                let next = h2.waiting.pop_front()?;
                h2.current = next.stream;
                h2.body = next.body;
                Some(Event::Request(request_info(next.head)))
            }
            Goal::Body { left, got } => {
                let take = left.map_or(h2.body.unread, |left| left.min(h2.body.unread));
                h2.body.unread -= take;
                *got += take;
                if let Some(left) = left {
                    *left -= take;
                }
                let over = h2.body.ended && h2.body.unread == 0;
                if !over && *left != Some(0) {
                    return None;
                }
                let mut fields = vec![("bytes", Field::Num(*got))];
                let reset = h2.body.reset.map(|code| code.to_string());
                if let Some(code) = &reset {
                    fields.push(("reset", Field::Str(code)));
                } else if !over {
                    fields.push(("rest", Field::Str("unread")));
                }
                cx.say("body", &fields);
                Some(Event::BodyRead(*got))
            }
            Goal::Bytes { remaining: 0, total } => {
                cx.say("read", &[("bytes", Field::Num(*total))]);
                Some(Event::ReadDone)
            }
            Goal::Bytes { .. } | Goal::Eof { .. } => None,
        }
    }
}
