//! `serve --catalog`: wait for the first request line, let its path choose
//! the scenario (see [`crate::server::catalog`]), and start it.
//!
//! The line is only looked at: it stays in the input buffer, so the
//! chosen scenario reads the request that chose it as its first, exactly
//! as if it were served alone. Its own reads read ahead the same way, so
//! nothing the client sees depends on the catalog having looked first.

use std::time::{Duration, Instant};

use super::{Conn, Progress, State, Turn};
use crate::interp::{Event, Interp};
use crate::log::Field;
use crate::reactor::Flow;
use crate::server::catalog::MAX_TARGET;
use crate::stream::{Io, READ_CHUNK};

/// How long a connection may take to send its first request line before
/// it is closed: Node's `headersTimeout`, for want of any scenario's own.
pub(super) const ROUTE_WAIT: Duration = Duration::from_secs(60);

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

impl Conn<'_> {
    /// Wait for the first request line before choosing the script.
    pub fn await_route(&mut self, now: Instant) {
        self.state = State::Routing {
            deadline: now + ROUTE_WAIT,
        };
    }

    pub(super) fn progress_route(&mut self, turn: &mut Turn) -> Progress {
        let now = turn.now;
        loop {
            if let Some(target) = first_line(&self.inbuf).target() {
                let Some(catalog) = turn.shared.catalog.as_mut() else {
                    return Progress::Closed;
                };
                let scenario = catalog.route(target);
                let path = target.unwrap_or_default();
                self.log(
                    turn.log,
                    "route",
                    &[("path", Field::Bytes(path)), ("scenario", Field::Str(&scenario.name))],
                );
                self.interp = Interp::new(scenario, self.id).with_seed(turn.shared.seed);
                let step = self.interp.next(Event::Start, now);
                if self.apply(step, turn) == Flow::Closed {
                    return Progress::Closed;
                }
                return Progress::Again;
            }
            let State::Routing { deadline } = self.state else {
                return Progress::Closed;
            };
            if now >= deadline {
                self.log(
                    turn.log,
                    "timeout",
                    &[("waiting", Field::Str("the first request line"))],
                );
                self.close(true, turn.log);
                return Progress::Closed;
            }
            if !self.stream.is_readable() {
                return Progress::Wait;
            }
            match self.read_more(READ_CHUNK) {
                Io::Data(_) => {}
                Io::Blocked => return Progress::Wait,
                Io::Eof => {
                    self.peer_half_closed = true;
                    return self.peer_left(turn.log);
                }
                failed => return self.fail_progress(failed, turn.log),
            }
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
