//! `serve --catalog`: a request line's path chooses the script (see
//! [`crate::server::catalog`]).
//!
//! A new connection waits in [`Routing`] for its first request line. On a
//! kept connection, each later request is shown to the catalog before it
//! is read ([`next_in_line`]): a pooled client that asks `/hello` and then
//! `/mid-body-reset` on one connection gets the reset, as it would from two
//! servers, never the first path's answer.
//!
//! The line is only looked at: it stays in the input, so the chosen
//! scenario reads the request that chose it as its first, exactly as if it
//! were served alone. Its own reads read ahead the same way, so nothing the
//! client sees depends on the catalog having looked first.

use std::time::{Duration, Instant};

use super::client::Client;
use super::ending::{Drain, Ending};
use super::{Cx, Progress};
use crate::h2::preface::Preface;
use crate::log::Field;
use crate::scenario::Scenario;
use crate::scenario::ast::H2Manual;
use crate::server::catalog::MAX_TARGET;
use crate::stream::{Io, READ_CHUNK};
use crate::tls::HelloStatus;

/// How long a connection may take to send its first request line before
/// it is closed: Node's `headersTimeout`, for want of any scenario's own.
const ROUTE_WAIT: Duration = Duration::from_secs(60);

/// A new catalog connection, waiting for its first request line (and
/// under `--tls`, first for its ClientHello).
pub(super) struct Routing {
    deadline: Instant,
    /// Under `--tls`: the ClientHello is still to be looked at, whose
    /// server name may choose a TLS built-in before any path.
    hello_first: bool,
}

impl Routing {
    pub(super) fn new(now: Instant, tls: bool) -> Routing {
        Routing {
            deadline: now + ROUTE_WAIT,
            hello_first: tls,
        }
    }

    /// When a client that sends no request line is closed.
    pub(super) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(super) fn progress<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Progress<'s> {
        loop {
            if self.hello_first {
                match self.by_name(client, cx) {
                    Some(Ok(progress)) => return progress,
                    // The hello is whole, and names no TLS built-in: the
                    // connection is HTTPS, and its first request chooses.
                    Some(Err(())) => self.hello_first = false,
                    None => {}
                }
            }
            // The first bytes of HTTP/2's preface are a request line to
            // HTTP/1.1 (`PRI * HTTP/2.0`): not one, until the rest differs.
            let mut preface_partial = false;
            if !self.hello_first && client.h2.is_none() {
                match crate::h2::preface::check(&client.input) {
                    Preface::Complete => super::h2::start(client, H2Manual::default(), cx),
                    Preface::Partial => preface_partial = !client.input.is_empty(),
                    Preface::Mismatch => {}
                }
            }
            if client.h2.is_some() {
                // HTTP/2: the first request's `:path` chooses.
                match super::h2::next_path(client, cx) {
                    Ok(Some(path)) => {
                        let Some(catalog) = cx.shared.catalog.as_mut() else {
                            return Progress::End(Ending::Broken("a catalog connection on a server without a catalog"));
                        };
                        let scenario = catalog.route(Some(&path));
                        say_route(Some(&path), scenario, cx);
                        return Progress::Route(scenario);
                    }
                    Ok(None) if cx.now >= self.deadline => {
                        cx.say("timeout", &[("waiting", Field::Str("the first request"))]);
                        return Progress::End(Ending::Close(Drain::First));
                    }
                    Ok(None) => return Progress::Wait,
                    Err(ending) => return Progress::End(ending),
                }
            }
            if !self.hello_first
                && !preface_partial
                && let Some(target) = first_line(&client.input).target()
            {
                let Some(catalog) = cx.shared.catalog.as_mut() else {
                    return Progress::End(Ending::Broken("a catalog connection on a server without a catalog"));
                };
                let scenario = catalog.route(target);
                say_route(target, scenario, cx);
                return Progress::Route(scenario);
            }
            if cx.now >= self.deadline {
                cx.say("timeout", &[("waiting", Field::Str("the first request line"))]);
                return Progress::End(Ending::Close(Drain::First));
            }
            if !client.stream.is_readable() {
                return Progress::Wait;
            }
            match client.read_more(READ_CHUNK) {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => return Progress::End(Ending::PeerLeft),
                failed => return Progress::End(Ending::Failed(failed)),
            }
        }
    }
}

impl Routing {
    /// Under `--tls`: look at the ClientHello in the input. `None` until it
    /// is whole; `Ok` with the TLS built-in its server name chooses, which
    /// reads the hello itself; `Err` when it names none, once the TLS
    /// layer has begun with the hello as its first records.
    fn by_name<'s>(&mut self, client: &mut Client, cx: &mut Cx) -> Option<Result<Progress<'s>, ()>> {
        let mut reader = crate::tls::HelloReader::new();
        let name = match reader.feed(&client.input).status {
            HelloStatus::Partial => return None,
            HelloStatus::Complete(hello) => hello.hello.server_name.clone(),
            // Not TLS: TLS will say so, in its own words, as a TLS server does.
            HelloStatus::Bad(_) => None,
        };
        let name = name.map(|n| String::from_utf8_lossy(&n).into_owned());
        if let (Some(name), Some(catalog)) = (&name, cx.shared.catalog.as_ref())
            && let Some(scenario) = catalog.by_name(name)
        {
            cx.say(
                "route",
                &[("sni", Field::Str(name)), ("scenario", Field::Str(&scenario.name))],
            );
            return Some(Ok(Progress::Route(scenario)));
        }
        let Some(tls) = cx.shared.tls.as_mut() else {
            return Some(Ok(Progress::End(Ending::Broken("--tls without TLS"))));
        };
        match tls.layer(&Default::default(), cx.now) {
            Ok(layer) => {
                let hello = std::mem::take(&mut client.input);
                client.stream.keep_hello(&hello, true);
                client.stream.start_tls(layer);
                // The hello is in hand: answer it now, not at the next
                // event, which the client, waiting, will not send.
                match client.pump_tls(cx) {
                    Some(ending) => Some(Ok(Progress::End(ending))),
                    None => Some(Err(())),
                }
            }
            Err(why) => {
                cx.say("tls-error", &[("why", Field::Str(&why))]);
                Some(Ok(Progress::End(Ending::Broken("no TLS layer could be made"))))
            }
        }
    }
}

/// What the catalog makes of the request next in line on a kept
/// connection.
pub(super) enum NextInLine {
    /// Its first line is not all in yet.
    Partial,
    /// It is the running script's: read it. (A line the catalog cannot use
    /// is the running script's too: its reader refuses it.)
    Same,
    /// Its path names another script, which takes the connection over.
    Other(&'static Scenario),
}

/// Show the catalog the request next in `input`, on a connection that
/// runs `running`.
pub(super) fn next_in_line(input: &[u8], running: &Scenario, cx: &mut Cx) -> NextInLine {
    let Some(target) = first_line(input).target() else {
        return NextInLine::Partial;
    };
    match target.and_then(|target| other_for(target, running, cx)) {
        Some(scenario) => NextInLine::Other(scenario),
        None => NextInLine::Same,
    }
}

/// The script `target` chooses, when it is another than `running` (said
/// in the log); `None` to go on with `running`. An HTTP/2 request's
/// `:path` is its target.
pub(super) fn other_for(target: &[u8], running: &Scenario, cx: &mut Cx) -> Option<&'static Scenario> {
    let scenario = cx.shared.catalog.as_mut()?.route(Some(target));
    if std::ptr::eq(scenario, running) {
        return None;
    }
    say_route(Some(target), scenario, cx);
    Some(scenario)
}

fn say_route(target: Option<&[u8]>, scenario: &Scenario, cx: &mut Cx) {
    let path = target.unwrap_or_default();
    cx.say(
        "route",
        &[("path", Field::Bytes(path)), ("scenario", Field::Str(&scenario.name))],
    );
}

/// The first request line, as far as it has come.
enum FirstLine<'b> {
    /// Not all in yet.
    Partial,
    /// In; the request target.
    Target(&'b [u8]),
    /// In (or too long) but no request line: the scenario's request
    /// reader will answer it as malformed (400, or 431 when too long).
    Unusable,
}

impl<'b> FirstLine<'b> {
    /// `None` until the line is in; then the target the catalog routes
    /// by, `None` for a line it cannot use.
    fn target(self) -> Option<Option<&'b [u8]>> {
        match self {
            FirstLine::Partial => None,
            FirstLine::Target(target) => Some(Some(target)),
            FirstLine::Unusable => Some(None),
        }
    }
}

/// The request target of the first request line in `input`. Empty lines
/// before it are skipped, as HTTP/1.1 servers do.
fn first_line(input: &[u8]) -> FirstLine<'_> {
    let start = input
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(input.len());
    let rest = &input[start..];
    let Some(end) = rest.iter().position(|&b| b == b'\n') else {
        return if rest.len() > MAX_TARGET {
            FirstLine::Unusable
        } else {
            FirstLine::Partial
        };
    };
    let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
    // The target is the word before the version: a malformed method
    // (`BAD METHOD /x HTTP/1.1`) still names its scenario, whose reader
    // then refuses the request with that scenario's own handler.
    let mut words = line.rsplitn(3, |&b| b == b' ');
    match (words.next(), words.next(), words.next()) {
        (Some(_version), Some(target), Some(_method)) if !target.is_empty() => FirstLine::Target(target),
        _ => FirstLine::Unusable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(input: &[u8]) -> Option<Option<&[u8]>> {
        first_line(input).target()
    }

    #[test]
    fn the_target_is_read_from_the_first_line_only() {
        assert_eq!(
            target(b"GET /hello HTTP/1.1\r\nHost: x\r\n"),
            Some(Some(&b"/hello"[..]))
        );
        assert_eq!(target(b"\r\nGET /a?b=c HTTP/1.1\n"), Some(Some(&b"/a?b=c"[..])));
        assert_eq!(target(b"GET /hello HTTP/1.1"), None);
        assert_eq!(target(b""), None);
        assert_eq!(target(b"BAD METHOD /x HTTP/1.1\r\n"), Some(Some(&b"/x"[..])));
        assert_eq!(target(b"GET /x\r\n"), Some(None));
        assert_eq!(target(b"GET\r\n"), Some(None));
        assert_eq!(target(&vec![b'a'; MAX_TARGET + 1]), Some(None));
    }
}
