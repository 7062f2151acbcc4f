//! A request read, by a `read request` or `read head` or through a
//! `forward` that read one of its own: counted across the server, logged,
//! and told to the interpreter; or refused, and the script's handler runs.

use super::client::Client;
use super::{Cx, Progress};
use crate::http::{BadRequest, RequestInfo};
use crate::interp::{Event, Interp};
use crate::log::Field;

/// How much of a request a read took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Taken {
    /// All of it (`read request`, `forward request`).
    Whole,
    /// Its head (`read head`).
    Head,
}

/// A whole request (or head) was read: count it across the server, log
/// it, and tell the interpreter. (`forward` reads a request too.) On
/// HTTP/2, `stream` is the request's.
pub(super) fn arrived<'s>(
    info: RequestInfo,
    taken: Taken,
    stream: Option<u32>,
    client: &mut Client,
    interp: &mut Interp,
    cx: &mut Cx,
) -> Progress<'s> {
    cx.shared.tally.requests += 1;
    interp.note_server_request(cx.shared.tally.requests);
    if let Some(tape) = client.stream.tape_mut() {
        tape.request(cx.now);
    }
    let event = match taken {
        Taken::Whole => "request",
        Taken::Head => "head",
    };
    let fields = [
        ("method", Field::Bytes(&info.method)),
        ("path", Field::Bytes(&info.path)),
        ("bytes", Field::Num(info.bytes)),
        ("number", Field::Num(interp.requests() + 1)),
        ("stream", Field::Num(stream.unwrap_or(0).into())),
    ];
    let said = if stream.is_some() { 5 } else { 4 };
    cx.say(event, &fields[..said]);
    Progress::Next(Event::Request(info))
}

/// A request that cannot be read: logged, and the script's handler runs.
pub(super) fn refused(bad: BadRequest, cx: &mut Cx) -> Event {
    let reason = bad.to_string();
    cx.say("bad-request", &[("why", Field::Str(&reason))]);
    Event::BadRequest(bad)
}
