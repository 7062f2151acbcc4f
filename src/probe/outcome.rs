//! What a probe observed: one report per request, and a timeline.
//!
//! The outcome classes, one word each:
//!
//! | outcome | meaning |
//! |---|---|
//! | `complete` | a whole response (the connection may then stay open, FIN or RST: see `ended`) |
//! | `truncated` | FIN before the declared body length or the last chunk (or mid-head) |
//! | `reset` | RST (ECONNRESET); `phase` says when: `at-connect`, `handshake`, `while-sending`, `before-response`, `mid-head`, `mid-body` |
//! | `empty` | FIN before any response byte (`handshake`: during the TLS handshake) |
//! | `timeout` | nothing decisive within `--timeout` (`handshake`: no TLS handshake) |
//! | `refused` | the connection was refused |
//! | `error` | anything else: another socket error, bytes that are not HTTP, a TLS alert or a certificate refused (`handshake`), a server that breaks HTTP/2's rules or does not speak it |
//!
//! and two of HTTP/2 (`--http2`), each with the error code the server
//! gave (`stream-reset (INTERNAL_ERROR)`):
//!
//! | outcome | meaning |
//! |---|---|
//! | `stream-reset` | the server's RST_STREAM on the probe's stream, before END_STREAM |
//! | `goaway` | a GOAWAY that leaves the stream out (its last-stream-id is lower: the server did not process it), or one with an error code before END_STREAM and the connection's end |
//!
//! Over HTTP/2 the others mean what they mean over HTTP/1.1, END_STREAM
//! standing for the end of the body: `complete` is END_STREAM after the
//! response head, `truncated` a FIN before it (after the head), `empty` a
//! FIN before the head, `reset` an RST (`mid-head` while a header block
//! awaits its CONTINUATION, `mid-body` after the head).

use super::h2::marks::{FrameMark, Sender};
use super::h2::report::{H2Report, StreamReport};
use crate::end::End;
use crate::h2::error::ErrorCode;
use crate::http::response::{Framing, Head};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Complete,
    Truncated,
    Reset,
    Empty,
    Timeout,
    Refused,
    Error,
    /// HTTP/2: the server's RST_STREAM.
    StreamReset,
    /// HTTP/2: a GOAWAY ended the stream.
    GoAway,
}

impl Outcome {
    pub const ALL: [Outcome; 9] = [
        Outcome::Complete,
        Outcome::Truncated,
        Outcome::Reset,
        Outcome::Empty,
        Outcome::Timeout,
        Outcome::Refused,
        Outcome::Error,
        Outcome::StreamReset,
        Outcome::GoAway,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Outcome::Complete => "complete",
            Outcome::Truncated => "truncated",
            Outcome::Reset => "reset",
            Outcome::Empty => "empty",
            Outcome::Timeout => "timeout",
            Outcome::Refused => "refused",
            Outcome::Error => "error",
            Outcome::StreamReset => "stream-reset",
            Outcome::GoAway => "goaway",
        }
    }

    pub fn from_name(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// When, relative to the exchange, a reset came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The server accepted the connection and reset it before the probe
    /// could send a byte: its connect reported ECONNRESET (curl says
    /// "Couldn't connect to server" here, though the handshake completed).
    AtConnect,
    /// During the TLS handshake, before any request was sent.
    Handshake,
    /// The request was not all sent yet.
    WhileSending,
    BeforeResponse,
    MidHead,
    MidBody,
    /// The server had already closed the connection (while it was idle
    /// between requests) when this request was sent: the keep-alive reusedSocket race.
    AfterClose,
}

impl Phase {
    /// Every phase, in the order of a connection's life.
    pub const ALL: [Phase; 7] = [
        Phase::AtConnect,
        Phase::Handshake,
        Phase::WhileSending,
        Phase::BeforeResponse,
        Phase::MidHead,
        Phase::MidBody,
        Phase::AfterClose,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::AtConnect => "at-connect",
            Phase::Handshake => "handshake",
            Phase::WhileSending => "while-sending",
            Phase::BeforeResponse => "before-response",
            Phase::MidHead => "mid-head",
            Phase::MidBody => "mid-body",
            Phase::AfterClose => "after-close",
        }
    }

    /// The phase named `name`.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A fault in a response that a strict client refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where it is, in bytes from the start of what the connection received.
    pub offset: u64,
    /// What is wrong, in words.
    pub what: String,
    /// The clients known to refuse it (`node`, `python`, `curl`).
    pub refused_by: Vec<&'static str>,
}

/// One request's story.
#[derive(Debug, Clone)]
pub struct RequestReport {
    /// From 1; request 2 and later reuse the connection.
    pub number: usize,
    pub reused: bool,
    pub outcome: Outcome,
    pub phase: Option<Phase>,
    /// The request line, for the report.
    pub request_line: String,
    pub request_bytes: u64,
    pub sent_bytes: u64,
    pub received_bytes: u64,
    pub head: Option<Head>,
    pub body_bytes: u64,
    /// How the connection stood when the request's story ended (`Open`:
    /// the probe closed it, after `--linger` or at once on bytes that are
    /// not HTTP).
    pub ended: End,
    /// Not-HTTP bytes, or another error's text.
    pub problem: Option<String>,
    /// Milliseconds since connect started: when this request started, was
    /// all sent, and when its story ended.
    pub start_ms: f64,
    pub sent_ms: Option<f64>,
    pub end_ms: f64,
    /// When the server closed (FIN) or reset the connection while it was
    /// idle after this response, in ms since the connect started.
    pub idle_end_ms: Option<f64>,
    /// What a strict client (Node's llhttp) would refuse in this response.
    pub violations: Vec<Violation>,
    /// HTTP/2: what the stream saw (`head` is `None`).
    pub stream: Option<StreamReport>,
    /// HTTP/2: the error code of a `stream-reset` or `goaway` outcome.
    pub h2_error: Option<ErrorCode>,
}

impl RequestReport {
    pub fn status(&self) -> Option<u16> {
        match &self.stream {
            Some(stream) => stream.status,
            None => self.head.as_ref().map(|h| h.status),
        }
    }

    pub fn body_expected(&self) -> Option<u64> {
        match self.head.as_ref()?.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// Milliseconds from the request being sent (or started, if it never
    /// was all sent) to the end of its story.
    pub fn ms_to_end(&self) -> f64 {
        self.end_ms - self.sent_ms.unwrap_or(self.start_ms)
    }
}

/// A point on the timeline, in milliseconds since connect started.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub ms: f64,
    pub what: MarkKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MarkKind {
    Connected,
    Refused,
    /// The TLS ClientHello was written: its bytes (records).
    TlsHello {
        bytes: u64,
    },
    /// The TLS handshake is done.
    TlsHandshake {
        version: String,
        cipher: String,
    },
    /// The probe refused the server's certificate: the verdict's name.
    TlsRejected {
        verdict: &'static str,
    },
    /// A TLS alert from the server: its number.
    TlsAlert {
        alert: u8,
    },
    /// close_notify from the server.
    CloseNotify,
    /// A request was all sent.
    Sent {
        number: usize,
        bytes: u64,
        line: String,
    },
    /// Sending failed after `sent` of `total` bytes.
    SendFailed {
        sent: u64,
        total: u64,
    },
    Head {
        /// The minor version: `HTTP/1.0` is 0.
        version: u8,
        status: u16,
        reason: String,
        bytes: u64,
    },
    /// Bytes of a head that is not whole (yet), after one read's piece.
    Partial {
        bytes: u64,
    },
    /// Body bytes so far, after one read's piece.
    Body {
        bytes: u64,
        expected: Option<u64>,
    },
    /// Pieces of a response past the first [`super::timeline::SHOWN_PIECES`],
    /// merged: `pieces` of them, from `since_ms` to this mark's time.
    /// `bytes` is where the body stood after the last (of `expected`), or,
    /// for pieces of a head (`head`), the head's bytes so far.
    MorePieces {
        pieces: u64,
        since_ms: f64,
        bytes: u64,
        expected: Option<u64>,
        head: bool,
    },
    ServerFin,
    ServerRst,
    ClientClose,
    Timeout,
    Error(String),
    /// An HTTP/2 frame either side sent.
    Frame {
        from: Sender,
        frame: FrameMark,
    },
    /// HTTP/2 frames from one side past the timeline's bounds, merged:
    /// `frames` of them, from `since_ms` to this mark's time, with
    /// `data_bytes` of DATA among them.
    MoreFrames {
        from: Sender,
        frames: u64,
        since_ms: f64,
        data_bytes: u64,
    },
}

/// Everything one probe connection saw.
#[derive(Debug)]
pub struct ProbeReport {
    pub target: String,
    /// The first [`SHOWN_REQUESTS`] requests, then the last one.
    pub requests: Vec<RequestReport>,
    pub timeline: Vec<Mark>,
    /// How many of the requests between the first shown and the last had
    /// each outcome (memory stays bounded for any `--requests`).
    pub not_shown: Vec<(Outcome, u64)>,
    /// What the server did, as steps to replay, with `--record`.
    pub recording: Option<crate::record::Recording>,
    /// Requests of `--requests` that were never sent, and why.
    pub not_sent: Option<(usize, String)>,
    /// `https://`: what the probe saw of TLS.
    pub tls: Option<super::tls::TlsReport>,
    /// `--http2`: what the probe saw of HTTP/2.
    pub http2: Option<H2Report>,
}

/// Requests of one connection reported in full; of those after them, only
/// the last is, and the rest are counted by outcome.
pub const SHOWN_REQUESTS: usize = 100;

impl ProbeReport {
    /// The request that ended the probe: its outcome is the probe's.
    pub fn last(&self) -> &RequestReport {
        self.requests.last().expect("a probe reports at least one request")
    }
}
