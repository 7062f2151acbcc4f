//! Recordings: what a real server did on one connection, written as a
//! scenario that does it again, byte for byte.
//!
//! A [`Recording`] is what was seen, as steps: wait for the client (its
//! request, its head, or raw bytes), write a chunk of the server's bytes,
//! and an ending: FIN (`close`), RST (`reset`) or nothing (`hang`). A chunk
//! ends where the server's bytes stopped (a read that did not fill its
//! buffer: the caller says which with a [`Boundary`]) and, for HTTP, where
//! one message part ends and the next begins (the head, the body, the next
//! response): on loopback a server's separate head and body writes often
//! arrive as one read, and a replay that wrote them as one would hide the
//! very difference between two clients that was being recorded.
//!
//! The pieces, each with one job:
//! - [`messages`]: where a response's head and body end, in bytes as they
//!   come (sans-I/O, over `crate::http::response`);
//! - [`render`]: a recording as a scenario a person reads and edits, always
//!   one `hangup check` accepts (its text under the 1 MiB a scenario may
//!   be: side files, and past a budget merged chunks, with a `# NOTE:` for
//!   whatever a limit cost), and an answer for a request beyond those
//!   recorded (sans-I/O);
//! - [`header`]: the header comment's text: escaped, the command shell-quoted;
//! - [`tape`]: the proxy's recorder of one client connection (sans-I/O);
//! - [`files`]: writing a recording's files so that a failure leaves none
//!   half-written, and checking `--record`'s path before anything runs;
//! - [`writer`]: `serve`'s writer thread, so that the event loop never
//!   writes files;
//! - and outside it, `cli::record_file`: `probe --record FILE`,
//!   which records with these pieces.

pub(crate) mod files;
mod header;
mod messages;
mod render;
pub(crate) mod tape;
pub(crate) mod writer;

use std::time::Duration;

pub(crate) use files::Destination;
pub(crate) use messages::Method;
pub(crate) use tape::Tape;
pub(crate) use writer::Writer;

use crate::transport::Boundary;

/// The command line of this process, as a header names it: `hangup serve
/// proxy --upstream … --record DIR`, shell-quoted.
pub(crate) fn command_line(args: &[std::ffi::OsString]) -> String {
    header::shell_line(args)
}
use messages::Messages;

/// What one recording keeps at most of the server's bytes: the scenario's
/// held-bytes limit, so that the replay always loads.
pub(crate) const RECORD_LIMIT: usize = crate::scenario::limits::MAX_HELD_BYTES;

/// How the replay waits for the client before the server's next bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A whole request (head and body).
    Request,
    /// A request's head: the server answered before the body was all sent.
    Head,
    /// Raw bytes, as many as the client sent (not HTTP).
    Bytes(u64),
}

/// How the server ended the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// FIN (under TLS: close_notify, then FIN).
    Close,
    /// RST.
    Reset,
    /// Nothing: it stayed open until the client left.
    Hang,
    /// Under TLS: FIN without close_notify.
    CloseNoNotify,
    /// Under TLS: a fatal alert (its number), and then whatever TCP did.
    TlsAlert(u8),
}

/// Whether the replay keeps the pauses between the server's chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Pauses {
    /// As `sleep`s (`--record-timing`, and always for the proxy).
    Kept,
    /// Every chunk at once.
    #[default]
    Dropped,
}

/// One step of what the server did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Wait(Wait),
    /// The server's bytes, `after` the step before.
    Chunk {
        after: Duration,
        bytes: Vec<u8>,
    },
}

/// What was seen on one connection.
#[derive(Debug, Default)]
pub(crate) struct Recording {
    /// Where from: `http://127.0.0.1:8080/`, or a proxy's upstream.
    pub source: String,
    /// How it was recorded: the command, shell-quoted.
    pub how: String,
    /// What the recorder saw, one line each, for the header comment.
    pub seen: Vec<String>,
    pub steps: Vec<Step>,
    /// How the server ended it, and how long after the last step.
    pub ending: Option<(Ending, Duration)>,
    pub pauses: Pauses,
    /// What a limit cost while recording, one sentence each: a `# NOTE:`
    /// in the file, and a warning.
    pub notes: Vec<String>,
    /// The server spoke TLS: the replay is served with `--tls`.
    pub over_tls: bool,
    /// The server's bytes kept, against [`RECORD_LIMIT`].
    held: usize,
    /// [`RECORD_LIMIT`] was reached: nothing more is kept.
    full: bool,
    /// The last chunk was cut by hangup, not by the server: the next
    /// bytes go on in it.
    cut: bool,
    messages: Messages,
}

impl Recording {
    /// The replay waits for the client here.
    pub fn wait(&mut self, wait: Wait) {
        self.steps.push(Step::Wait(wait));
    }

    /// The client's next request is `method`'s (a response to HEAD has no
    /// body, whatever its head says).
    pub fn next_request(&mut self, method: Method) {
        self.messages.next_request(method);
    }

    /// Add bytes the server sent, `after` the step before; false (and
    /// nothing kept) past the limit, which is then said in the recording.
    pub fn chunk(&mut self, after: Duration, bytes: &[u8], boundary: Boundary) -> bool {
        if self.full || bytes.is_empty() {
            return !self.full;
        }
        if self.held + bytes.len() > RECORD_LIMIT {
            self.full = true;
            self.notes.push(format!(
                "the recording stopped at {} MiB; what came after was not kept",
                RECORD_LIMIT >> 20
            ));
            return false;
        }
        self.held += bytes.len();
        let mut rest = bytes;
        let mut after = after;
        while !rest.is_empty() {
            let (n, ends_message) = self.messages.take(rest);
            let piece = &rest[..n];
            match self.steps.last_mut() {
                Some(Step::Chunk { bytes: last, .. }) if self.cut => last.extend_from_slice(piece),
                _ => self.steps.push(Step::Chunk {
                    after,
                    bytes: piece.to_vec(),
                }),
            }
            after = Duration::ZERO;
            rest = &rest[n..];
            // A message ended: what follows is a write of its own.
            self.cut = !ends_message && boundary == Boundary::Cut;
        }
        true
    }

    /// The server's bytes kept so far.
    pub fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(rec: &Recording) -> Vec<usize> {
        rec.steps
            .iter()
            .map(|s| match s {
                Step::Chunk { bytes, .. } => bytes.len(),
                Step::Wait(_) => 0,
            })
            .collect()
    }

    #[test]
    fn a_cut_read_goes_on_in_the_same_chunk_and_the_senders_boundary_stays() {
        let mut rec = Recording::default();
        // Not HTTP: no message boundaries, only the reads'.
        rec.chunk(Duration::ZERO, b"\x00raw", Boundary::Cut);
        rec.chunk(Duration::ZERO, b"more", Boundary::Cut);
        rec.chunk(Duration::ZERO, b"end", Boundary::Sender);
        rec.chunk(Duration::ZERO, b"apart", Boundary::Sender);
        assert_eq!(sizes(&rec), [11, 5]);
    }

    #[test]
    fn head_body_and_the_next_response_are_apart_though_they_came_in_one_read() {
        let mut rec = Recording::default();
        let two =
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n";
        rec.chunk(Duration::from_millis(1), two, Boundary::Cut);
        rec.chunk(Duration::ZERO, b"Content-Length: 2\r\n\r\nhi", Boundary::Sender);
        let chunks: Vec<&[u8]> = rec
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Chunk { bytes, .. } => Some(bytes.as_slice()),
                Step::Wait(_) => None,
            })
            .collect();
        assert_eq!(
            chunks,
            [
                &b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"[..],
                b"hello",
                b"HTTP/1.1 204 No Content\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
                b"hi",
            ]
        );
        // Only the first piece waited; the others follow at once.
        let afters: Vec<Duration> = rec
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Chunk { after, .. } => Some(*after),
                Step::Wait(_) => None,
            })
            .collect();
        assert_eq!(afters[0], Duration::from_millis(1));
        assert!(afters[1..].iter().all(Duration::is_zero));
    }

    #[test]
    fn the_limit_keeps_nothing_more_and_says_so_once() {
        let mut rec = Recording::default();
        assert!(rec.chunk(Duration::ZERO, &vec![0; RECORD_LIMIT - 1], Boundary::Sender));
        assert!(!rec.chunk(Duration::ZERO, b"ab", Boundary::Sender));
        assert!(!rec.chunk(Duration::ZERO, b"c", Boundary::Sender));
        assert_eq!(rec.held(), RECORD_LIMIT - 1);
        assert_eq!(rec.notes.len(), 1, "{:?}", rec.notes);
        assert!(rec.notes[0].starts_with("the recording stopped at 16 MiB"));
    }
}
