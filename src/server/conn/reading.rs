//! `read request`, `read head`, `read body`, `read N bytes`, `read until eof`
//! and `read tls-hello`: the client's input, taken as the script asks for it.
//!
//! Each read first uses what is already buffered (a pipelined request, the
//! rest of a body), then asks the socket for more. A request is counted
//! across the server and logged when it is whole; a malformed one is the
//! script's `on bad-request` handler's business (Node's 400 or 431 by
//! default). Under `serve --catalog`, a request on a kept connection is
//! first shown to the catalog: when its path names another built-in, that
//! script starts instead, and reads the request as its first.

use std::time::Instant;

use super::client::{Client, Retained};
use super::ending::Ending;
use super::h2::H2Reading;
use super::request::{Taken, arrived, refused};
use super::route::{self, NextInLine};
use super::{Cx, Progress, State};
use crate::h2::preface::Preface;
use crate::http::{BadRequest, Headers, RequestReader, Status};
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::scenario::ast::ReadGoal;
use crate::stream::{Io, READ_CHUNK};
use crate::tls::handshake::Hello;
use crate::tls::{BadHello, HelloReader, HelloStatus};

/// A `read` step in progress.
pub(super) struct Reading {
    what: What,
    deadline: Option<Instant>,
}

enum What {
    /// `read request` or `read head`. With `route_check`, the catalog has
    /// yet to look at its first line; with `preface_check`, the bytes may
    /// yet be HTTP/2's preface (both kept here, beside `taken`, where they
    /// cost a connection nothing).
    Request {
        reader: RequestReader,
        taken: Taken,
        route_check: bool,
        preface_check: bool,
    },
    /// `read preface` before the client spoke: HTTP/2's preface, or the
    /// script is over.
    Preface,
    /// `read body`: `reader` is `None` when there is no body to read;
    /// `left` counts down a `max`; `got` counts the body bytes read.
    Body {
        reader: Option<Box<RequestReader>>,
        left: Option<u64>,
        got: u64,
    },
    /// `read N bytes`.
    Bytes { remaining: u64, total: u64 },
    /// `read until eof`: everything until the peer's FIN.
    Eof { got: u64 },
    /// `read tls-hello`: whole TLS records up to the end of the ClientHello.
    TlsHello(HelloReader),
}

impl Reading {
    /// Begin reading towards `goal`. A new request drops what belonged to
    /// the last one: the body `read body` or `forward request` would take,
    /// and the bytes `forward request` would send.
    pub(super) fn start(
        goal: ReadGoal,
        deadline: Option<Instant>,
        client: &mut Client,
        interp: &Interp,
        retained: Option<&mut Retained>,
        cx: &Cx,
    ) -> Reading {
        let headers = if interp.uses_headers() {
            Headers::Keep
        } else {
            Headers::Skip
        };
        let what = match goal {
            ReadGoal::Request | ReadGoal::Head => {
                client.body = None;
                if let Some(retained) = retained {
                    *retained = Retained::Nothing;
                }
                let (reader, taken) = if goal == ReadGoal::Head {
                    (RequestReader::head(headers), Taken::Head)
                } else {
                    (RequestReader::whole(headers), Taken::Whole)
                };
                // The first request's path chose the script already (`route`).
                let route_check = cx.shared.catalog.is_some() && interp.requests() > 0;
                // A client speaks HTTP/2 from its first byte, or never.
                let preface_check = client.stream.bytes_in() == client.input.len() as u64;
                What::Request {
                    reader,
                    taken,
                    route_check,
                    preface_check,
                }
            }
            ReadGoal::Preface => What::Preface,
            ReadGoal::Body { max } => What::Body {
                reader: client.body.take(),
                left: max,
                got: 0,
            },
            ReadGoal::Bytes(n) => What::Bytes { remaining: n, total: n },
            ReadGoal::Eof => What::Eof { got: 0 },
            ReadGoal::TlsHello => {
                // A new hello: what a `tls handshake` after it takes in.
                client.stream.keep_hello(&[], true);
                What::TlsHello(HelloReader::new())
            }
        };
        Reading { what, deadline }
    }

    /// When the read gives up (`read … within`).
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    pub(super) fn progress<'s>(
        &mut self,
        client: &mut Client,
        interp: &mut Interp<'s>,
        mut retained: Option<&mut Retained>,
        cx: &mut Cx,
    ) -> Progress<'s> {
        loop {
            let mut want = READ_CHUNK;
            if let What::Request { route_check, .. } = &mut self.what
                && *route_check
            {
                match route::next_in_line(&client.input, interp.scenario(), cx) {
                    NextInLine::Partial => {}
                    NextInLine::Same => *route_check = false,
                    NextInLine::Other(scenario) => return Progress::Route(scenario),
                }
            }
            let outcome = match &mut self.what {
                // Its first line is not all in: not a byte is taken yet.
                What::Request { route_check: true, .. } => None,
                What::Request {
                    preface_check: true, ..
                }
                | What::Preface => match crate::h2::preface::check(&client.input) {
                    // Not one byte to tell by yet, or the first of the preface.
                    Preface::Partial => None,
                    Preface::Complete => {
                        super::h2::start(client, interp.scenario().h2_manual, cx);
                        let goal = match &self.what {
                            What::Request { taken: Taken::Head, .. } => ReadGoal::Head,
                            What::Request { .. } => ReadGoal::Request,
                            _ => ReadGoal::Preface,
                        };
                        return match H2Reading::start(goal, self.deadline) {
                            Some(reading) => Progress::Become(State::H2Reading(reading)),
                            None => Progress::End(Ending::Broken("no HTTP/2 read for a request")),
                        };
                    }
                    Preface::Mismatch => match &mut self.what {
                        What::Request { preface_check, .. } => {
                            *preface_check = false;
                            continue;
                        }
                        _ => {
                            cx.say(
                                "h2-not-spoken",
                                &[("why", Field::Str("the client's first bytes are not the HTTP/2 preface"))],
                            );
                            Some(Event::NotHttp2)
                        }
                    },
                },
                What::Request { reader, taken, .. } => {
                    let fed = reader.feed(&client.input);
                    if let Some(retained) = retained.as_deref_mut() {
                        // Kept for `forward request`, up to a limit.
                        retained.keep(&client.input[..fed.consumed]);
                    }
                    client.consume(fed.consumed);
                    match fed.status {
                        Status::Partial => None,
                        Status::Complete(info) => {
                            let taken = *taken;
                            if taken == Taken::Head && (interp.proxies() || interp.reads_body()) {
                                // For a `forward request` or `read body` to come.
                                let done = std::mem::replace(reader, RequestReader::head(Headers::Skip));
                                client.body = Some(Box::new(done.into_body_reader()));
                            }
                            return arrived(info, taken, None, client, interp, cx);
                        }
                        Status::Bad(bad) => Some(refused(bad, cx)),
                    }
                }
                What::Body { reader, left, got } => match feed_body(client, reader, left, got) {
                    BodyFed::More(more) => {
                        want = more;
                        None
                    }
                    BodyFed::Done { bytes, rest } => {
                        // A body cut short by `max` is there for a next `read body`.
                        client.body = rest;
                        let unread = [("bytes", Field::Num(bytes)), ("rest", Field::Str("unread"))];
                        let said = if client.body.is_some() { 2 } else { 1 };
                        cx.say("body", &unread[..said]);
                        Some(Event::BodyRead(bytes))
                    }
                    // Broken chunked framing: refused as `read request` refuses it.
                    BodyFed::Bad(bad) => Some(refused(bad, cx)),
                },
                What::Bytes { remaining, total } => {
                    let take = (*remaining).min(client.input.len() as u64);
                    client.consume(take as usize);
                    *remaining -= take;
                    want = (*remaining).min(READ_CHUNK as u64) as usize;
                    if *remaining == 0 {
                        cx.say("read", &[("bytes", Field::Num(*total))]);
                        Some(Event::ReadDone)
                    } else {
                        None
                    }
                }
                What::Eof { got } => {
                    *got += client.input.len() as u64;
                    client.consume(client.input.len());
                    None
                }
                What::TlsHello(reader) => {
                    let fed = reader.feed(&client.input);
                    client.stream.keep_hello(&client.input[..fed.consumed], false);
                    client.consume(fed.consumed);
                    match fed.status {
                        HelloStatus::Partial => None,
                        HelloStatus::Complete(hello) => Some(tls_hello_read(&hello, cx)),
                        HelloStatus::Bad(why) => Some(tls_hello_refused(&why, cx)),
                    }
                }
            };
            if let Some(event) = outcome {
                return Progress::Next(event);
            }
            if self.deadline.is_some_and(|d| cx.now >= d) {
                cx.say("timeout", &[]);
                return Progress::Next(Event::TimedOut);
            }
            if !client.stream.is_readable() {
                return Progress::Wait;
            }
            // Then ask the socket for more.
            match client.read_more(want) {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => {
                    if let What::Eof { got } = self.what {
                        cx.say("eof", &[("bytes", Field::Num(got))]);
                        return Progress::Next(Event::ReadDone);
                    }
                    return Progress::End(Ending::PeerLeft);
                }
                failed => return Progress::End(Ending::Failed(failed)),
            }
        }
    }
}

/// `read tls-hello` read a ClientHello: log what it offers.
fn tls_hello_read(read: &Hello, cx: &mut Cx) -> Event {
    let hello = &read.hello;
    let versions = hello.versions_text();
    let alpn = hello.alpn_text();
    let mut fields = Vec::with_capacity(6);
    if let Some(sni) = &hello.server_name {
        fields.push(("sni", Field::Bytes(sni)));
    }
    if let Some(alpn) = &alpn {
        fields.push(("alpn", Field::Str(alpn)));
    }
    fields.push(("versions", Field::Str(&versions)));
    fields.push(("suites", Field::Num(hello.cipher_suites.len() as u64)));
    fields.push(("records", Field::Num(u64::from(read.records))));
    fields.push(("bytes", Field::Num(read.bytes)));
    cx.say("tls-hello", &fields);
    Event::TlsHello
}

/// `read tls-hello` got something else: say what, and the script ends.
fn tls_hello_refused(why: &BadHello, cx: &mut Cx) -> Event {
    cx.say("tls-hello-error", &[("why", Field::Str(&why.to_string()))]);
    Event::BadTlsHello
}

/// Where a `read body` stands after [`feed_body`].
enum BodyFed {
    /// Not over: ask the socket for at most this many bytes.
    More(usize),
    /// Over, with this many body bytes; `rest` is the reader when `max`
    /// stopped the read before the body's end.
    Done {
        bytes: u64,
        rest: Option<Box<RequestReader>>,
    },
    /// The chunked framing is broken.
    Bad(BadRequest),
}

/// `read body`: feed the buffered bytes (as many as `left` allows) to the
/// body's reader, taking what belongs to the body out of the input. No
/// reader: nothing to read, done at once.
fn feed_body(
    client: &mut Client,
    reader: &mut Option<Box<RequestReader>>,
    left: &mut Option<u64>,
    got: &mut u64,
) -> BodyFed {
    let Some(body) = reader else {
        return BodyFed::Done { bytes: 0, rest: None };
    };
    let buffered = client.input.len();
    let allowed = left.map_or(buffered, |left| left.min(buffered as u64) as usize);
    let fed = body.feed(&client.input[..allowed]);
    client.consume(fed.consumed);
    *got += fed.consumed as u64;
    if let Some(left) = left {
        *left -= fed.consumed as u64;
    }
    match fed.status {
        Status::Complete(_) => BodyFed::Done {
            bytes: *got,
            rest: None,
        },
        Status::Partial if *left == Some(0) => BodyFed::Done {
            bytes: *got,
            rest: reader.take(),
        },
        Status::Partial => BodyFed::More(left.map_or(READ_CHUNK, |left| left.min(READ_CHUNK as u64) as usize)),
        Status::Bad(bad) => BodyFed::Bad(bad),
    }
}
