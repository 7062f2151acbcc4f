//! What one probe connection is doing and what it saw, without the
//! socket: the session ([`super::session`]) does the I/O and tells the
//! exchange what happened and when; the exchange says what is wanted next
//! (write the request, read, wait until an instant, or nothing: done) and
//! keeps the story, request by request.
//!
//! Time is passed in, never read here (quinn-proto's habit, as
//! [`crate::interp`] does for a scenario), so the unit tests below drive a
//! connection's logic through seconds of timeouts, gaps and lingering in
//! microseconds, without a network: how an end is classified, when a
//! request gives up, when the next one is sent.
//!
//! The states, in a connection's order:
//!
//! - [`State::Connecting`] until the connect's result ([`Exchange::connected`]
//!   or [`Exchange::connect_failed`]) or the timeout;
//! - [`State::Handshaking`], for `https://`: the TLS handshake, until it is
//!   done ([`Exchange::handshake_done`]), fails ([`Exchange::handshake_failed`])
//!   or times out;
//! - [`State::Exchanging`]: the current request is written
//!   ([`Exchange::outgoing`]) while its response is read, until the
//!   response is whole, the server ends the connection, the bytes are not
//!   HTTP, or the request's timeout;
//! - [`State::Gap`] between a whole response and the next request;
//! - [`State::Lingering`] after the last response, to see how the server
//!   ends the connection (the whole timeout when it said `Connection:
//!   close`, `--linger` otherwise);
//! - [`State::Done`]: the story is told ([`Exchange::into_report`]).
//!
//! The server's end (FIN, RST, another error) is seen once and drawn once:
//! after it the session reads no more. Under TLS, the server may say
//! close_notify or an alert first ([`Exchange::tls_closed`]): no more data
//! comes after it, and the session goes on reading below TLS to see the
//! TCP end, for `--linger` at most.
//!
//! With `--http2` the states are the same, but what is written and read
//! while exchanging (and lingering, where the server's frames still come
//! and are answered) is its [`H2Probe`]'s: the request's stream on an
//! HTTP/2 connection, whose story ends with its [`Decision`]. Over TLS it
//! starts once ALPN chose `h2`; any other choice ends the story.

use std::borrow::Cow;
use std::io;
use std::time::Instant;

use super::h2::report::Via;
use super::h2::{Decision, H2Probe};
use super::outcome::{MarkKind, Outcome, Phase, ProbeReport, RequestReport, SHOWN_REQUESTS, Violation};
use super::recorder::Recorder;
use super::request::Plan;
use super::timeline::Timeline;
use super::tls::{Closing, HandshakeFailure, TlsEnd, TlsReport, alert_name};
use crate::end::End;
use crate::http::response::ResponseReader;
use crate::outgoing::Outgoing;
use crate::record;
use crate::stream::READ_CHUNK;
use crate::tls::verdict::Presented;
use crate::transport::Boundary;

/// Where the connection is; each state's comment says when it is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Until the connect's result, or its timeout.
    Connecting,
    /// The TLS handshake, until it is done, fails, or the timeout.
    Handshaking,
    /// Sending the current request and reading its response, until the
    /// response is whole, the connection ends, or the request's timeout.
    Exchanging,
    /// Between a whole response and the next request, until `until`.
    Gap { until: Instant },
    /// After the last response: watching how the connection ends, until
    /// the server ends it or `until`.
    Lingering { until: Instant },
    /// The story is over.
    Done,
}

/// How a read found the connection ended by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// `read` returned 0: FIN.
    Fin,
    /// ECONNRESET: RST.
    Rst,
    /// Another error, in words.
    Failed(String),
}

/// Where an exchange is, for the session to notice a change: it writes
/// and reads again when the stage moved on (a new request, say).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connecting,
    Handshaking,
    /// Request `number` is being sent and answered.
    Exchanging {
        number: usize,
    },
    /// Between requests, or after the last.
    Waiting,
    Done,
}

/// One probe connection's story, fed what happened on its socket.
pub struct Exchange<'p> {
    plan: &'p Plan,
    state: State,
    out: Outgoing<'p>,
    reader: ResponseReader,
    current: RequestReport,
    reports: Vec<RequestReport>,
    timeline: Timeline,
    /// Outcomes of the requests between the first shown and the last.
    not_shown: Vec<(Outcome, u64)>,
    /// When the current request or connect gives up.
    give_up_at: Instant,
    /// How the server ended the connection, once it did (FIN or RST, seen
    /// and drawn once; later reads only repeat it).
    server_end: Option<End>,
    /// The current request is all written.
    request_sent: bool,
    send_failed: bool,
    /// What the server did, step by step, with `--record`.
    recording: Option<Recorder>,
    /// Requests never sent, and why (the server said it would close, or
    /// the connection ended before their turn).
    not_sent: Option<(usize, String)>,
    /// The server ended the connection before the current request was sent.
    closed_before_send: bool,
    /// What the connection received, for the strict judge (up to
    /// `plan.check_bytes`), and whether more came than was kept.
    received: Vec<u8>,
    received_cut: bool,
    /// The current request's report is already in `reports` (its response
    /// was complete); what follows only says how the connection ended.
    current_reported: bool,
    /// `https://`: what TLS did.
    tls: Option<TlsReport>,
    /// `--http2`: the request's stream (over TLS, spoken once ALPN chose
    /// `h2`).
    h2: Option<Box<H2Probe<'p>>>,
}

impl<'p> Exchange<'p> {
    /// A connection to the plan's address, its connect started at `now`.
    pub fn new(plan: &'p Plan, now: Instant) -> Exchange<'p> {
        Exchange {
            plan,
            state: State::Connecting,
            out: Outgoing::new(Cow::Borrowed(&plan.request)),
            reader: ResponseReader::new(plan.head_request),
            current: new_report(plan, 1, 0.0),
            reports: Vec::new(),
            timeline: Timeline::new(now),
            not_shown: Vec::new(),
            give_up_at: now + plan.timeout,
            server_end: None,
            request_sent: false,
            send_failed: false,
            recording: plan.record.then(|| Recorder::new(plan)),
            not_sent: None,
            closed_before_send: false,
            received: Vec::new(),
            received_cut: false,
            current_reported: false,
            tls: plan.tls.as_ref().map(|tls| {
                TlsReport::new(
                    tls.host.clone(),
                    tls.sni().map(str::to_string),
                    tls.client.trust().to_string(),
                    tls.client.insecure(),
                )
            }),
            h2: plan.http2.as_ref().map(|request| {
                let via = if plan.tls.is_some() {
                    Via::Alpn
                } else {
                    Via::PriorKnowledge
                };
                Box::new(H2Probe::new(request, via))
            }),
        }
    }

    /// Where the exchange is.
    pub fn stage(&self) -> Stage {
        match self.state {
            State::Connecting => Stage::Connecting,
            State::Handshaking => Stage::Handshaking,
            State::Exchanging => Stage::Exchanging {
                number: self.current.number,
            },
            State::Gap { .. } | State::Lingering { .. } => Stage::Waiting,
            State::Done => Stage::Done,
        }
    }

    /// Under TLS: what is known before the handshake (the tests' way in,
    /// where `Exchange::new` takes it from the plan's client).
    #[cfg(test)]
    pub(crate) fn with_tls(mut self, tls: TlsReport) -> Exchange<'p> {
        self.tls = Some(tls);
        if let Some(h2) = self.h2.as_mut() {
            h2.report = super::h2::report::H2Report::new(Via::Alpn);
        }
        self
    }

    /// Whether the story is over.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// When the exchange wants to be advanced without an event: the
    /// connect's or request's timeout, or the end of a gap or of the
    /// lingering; `None` once done.
    pub fn poll_at(&self) -> Option<Instant> {
        match self.state {
            State::Connecting | State::Handshaking | State::Exchanging => Some(self.give_up_at),
            State::Gap { until } | State::Lingering { until } => Some(until),
            State::Done => None,
        }
    }

    /// Whether the connect or the current request has run out of time.
    pub fn time_is_up(&self, now: Instant) -> bool {
        now >= self.give_up_at
    }

    /// The connect failed: refused, reset by a server that accepted and
    /// reset at once, or another error.
    pub fn connect_failed(&mut self, error: &io::Error, now: Instant) {
        if error.kind() == io::ErrorKind::ConnectionRefused {
            self.mark(now, MarkKind::Refused);
            self.finish(End::Refused, now);
        } else if error.kind() == io::ErrorKind::ConnectionReset {
            // The handshake completed and the server reset at once.
            self.mark(now, MarkKind::ServerRst);
            self.finish(End::PeerRst, now);
        } else {
            self.failed(error.to_string(), now);
        }
    }

    /// The connect completed: the request's time (or the TLS
    /// handshake's) starts.
    pub fn connected(&mut self, now: Instant) {
        if self.state != State::Connecting {
            return;
        }
        self.mark(now, MarkKind::Connected);
        self.state = if self.tls.is_some() {
            State::Handshaking
        } else {
            State::Exchanging
        };
        self.give_up_at = now + self.plan.timeout;
    }

    /// The TLS handshake so far: `sent` bytes written (the ClientHello
    /// first) and `received` from the server.
    pub fn handshake_progress(&mut self, sent: u64, received: u64, now: Instant) {
        let Some(tls) = self.tls.as_mut() else { return };
        tls.handshake_received = received;
        if sent > 0 && tls.hello_bytes.is_none() {
            tls.hello_bytes = Some(sent);
            self.mark(now, MarkKind::TlsHello { bytes: sent });
        }
    }

    /// The TLS handshake is done: the request's time starts.
    pub fn handshake_done(&mut self, agreed: crate::tls::Handshake, presented: Option<Presented>, now: Instant) {
        if self.state != State::Handshaking {
            return;
        }
        let mark = MarkKind::TlsHandshake {
            version: agreed.version.clone(),
            cipher: agreed.cipher.clone(),
        };
        if let Some(tls) = self.tls.as_mut() {
            tls.agreed = Some(agreed);
            tls.presented = presented;
        }
        self.mark(now, mark);
        self.state = State::Exchanging;
        self.give_up_at = now + self.plan.timeout;
        self.check_alpn(now);
    }

    /// With `--http2` over TLS: HTTP/2 is spoken only if ALPN chose `h2`
    /// (RFC 9113 §3.2); anything else ends the story here.
    fn check_alpn(&mut self, now: Instant) {
        let Some(h2) = self.h2.as_mut() else { return };
        let chosen = self
            .tls
            .as_ref()
            .and_then(|tls| tls.agreed.as_ref())
            .and_then(|a| a.alpn.clone());
        let (problem, why) = match chosen.as_deref() {
            Some("h2") => {
                h2.report.spoken = true;
                return;
            }
            Some(other) => (
                format!("ALPN chose {other}, not h2"),
                format!(
                    "the server chose {other} by ALPN, not h2: it does not speak HTTP/2 over TLS \
                     (without --http2 the probe speaks HTTP/1.1)"
                ),
            ),
            None => (
                "ALPN chose nothing, not h2".to_string(),
                "the server chose no protocol by ALPN (the probe offered h2 and http/1.1): HTTP/2 \
                 over TLS needs h2 (without --http2 the probe speaks HTTP/1.1)"
                    .to_string(),
            ),
        };
        h2.report.error = Some(why);
        self.mark(now, MarkKind::Error(problem.clone()));
        self.current.problem = Some(problem);
        self.mark(now, MarkKind::ClientClose);
        self.finish(End::Open, now);
    }

    /// The TLS handshake failed: the story ends.
    pub fn handshake_failed(&mut self, failure: HandshakeFailure, presented: Option<Presented>, now: Instant) {
        if self.state != State::Handshaking {
            return;
        }
        let (mark, end) = match &failure {
            HandshakeFailure::Rst => (MarkKind::ServerRst, End::PeerRst),
            HandshakeFailure::Fin => (MarkKind::ServerFin, End::PeerFin),
            HandshakeFailure::Alert(alert) => (MarkKind::TlsAlert { alert: *alert }, End::Error),
            HandshakeFailure::Rejected => {
                let verdict = presented.as_ref().map_or("invalid", |p| p.verdict.name());
                (MarkKind::TlsRejected { verdict }, End::Open)
            }
            HandshakeFailure::Timeout => (MarkKind::Timeout, End::Timeout),
            HandshakeFailure::NotTls => (MarkKind::Error("the server's answer is not TLS".into()), End::Error),
            HandshakeFailure::Error(text) => (MarkKind::Error(text.clone()), End::Error),
        };
        self.current.problem = handshake_problem(&failure, presented.as_ref());
        if let Some(tls) = self.tls.as_mut() {
            if let HandshakeFailure::Alert(alert) = failure {
                // The alert is how the server ended TLS here too.
                tls.closing = Some(Closing::Alert(alert));
            }
            tls.failure = Some(failure);
            tls.presented = presented;
        }
        self.mark(now, mark);
        self.finish(end, now);
    }

    /// Under TLS, the server said close_notify or a fatal alert: no more
    /// data comes. Seen once; the TCP end is still to come.
    pub fn tls_closed(&mut self, closing: Closing, now: Instant) {
        if self.server_end.is_some() || matches!(self.state, State::Connecting | State::Handshaking | State::Done) {
            return;
        }
        let Some(tls) = self.tls.as_mut() else { return };
        if tls.closing.is_some() {
            return;
        }
        tls.closing = Some(closing);
        let mark = match closing {
            Closing::CloseNotify => MarkKind::CloseNotify,
            Closing::Alert(alert) => MarkKind::TlsAlert { alert },
        };
        self.mark(now, mark);
    }

    /// Whether the server said close_notify or an alert: what the socket
    /// still brings is read below TLS.
    pub fn tls_closed_seen(&self) -> bool {
        self.tls.as_ref().is_some_and(|tls| tls.closing.is_some())
    }

    /// What the server said at the TLS layer to end the connection.
    fn closing(&self) -> Option<Closing> {
        self.tls.as_ref()?.closing
    }

    /// The bytes to write now: the current request's, while some are
    /// unwritten (and no write has failed).
    pub fn outgoing(&mut self) -> Option<&mut Outgoing<'p>> {
        if let Some(h2) = self.h2.as_mut() {
            // HTTP/2 writes while exchanging and lingering (answers to the
            // server's frames), and once done what is left: the probe's
            // GOAWAY to a server that broke the rules.
            let open = match self.state {
                State::Exchanging | State::Lingering { .. } => true,
                State::Done => h2.must_close(),
                _ => false,
            };
            let spoken = h2.report.spoken;
            return if open && spoken && !self.send_failed && self.server_end.is_none() {
                h2.outgoing()
            } else {
                None
            };
        }
        let sending = self.state == State::Exchanging && !self.request_sent && !self.send_failed;
        sending.then_some(&mut self.out)
    }

    /// Every byte of the current request is written.
    pub fn sent(&mut self, now: Instant) {
        if let Some(h2) = self.h2.as_mut() {
            h2.sent(now, &mut self.timeline);
            if !self.current_reported {
                self.current.sent_bytes = h2.written();
                self.current.request_bytes = h2.written();
                if h2.request_sent() && self.current.sent_ms.is_none() {
                    self.current.sent_ms = Some(self.timeline.ms(now));
                }
            }
            self.request_sent = h2.request_sent();
            return;
        }
        self.request_sent = true;
        self.current.sent_bytes = self.out.written().min(self.current.request_bytes);
        let wait = if self.plan.raw || !self.plan.pipeline.is_empty() {
            record::Wait::Bytes(self.out.written())
        } else {
            record::Wait::Request
        };
        if let Some(recorder) = self.recording.as_mut() {
            recorder.wait(wait, now);
        }
        if self.current.sent_ms.is_none() {
            self.current.sent_ms = Some(self.ms(now));
            let line = match self.plan.pipeline.len() {
                0 | 1 => self.plan.request_line.clone(),
                n => format!("{n} requests at once"),
            };
            let (number, bytes) = (self.current.number, self.out.written());
            self.timeline
                .request_mark(number, now, MarkKind::Sent { number, bytes, line });
        }
    }

    /// A write failed (the server reset or closed): what it sent before
    /// is still to be read.
    pub fn send_failed(&mut self, now: Instant) {
        self.send_failed = true;
        let (sent, total) = match self.h2.as_deref() {
            Some(h2) => (h2.written(), h2.written() + h2.unwritten()),
            None => (self.out.written(), self.plan.request.len()),
        };
        if !self.current_reported {
            self.current.sent_bytes = sent;
        }
        self.mark(now, MarkKind::SendFailed { sent, total });
    }

    /// Whether the session should read: while a response is awaited, and
    /// between and after responses to see stray bytes or the end; never
    /// after the server's end, which a read would only repeat.
    pub fn wants_read(&self) -> bool {
        if self.server_end.is_some() {
            return false;
        }
        match self.state {
            State::Exchanging if self.h2.is_some() => true,
            State::Exchanging => {
                // After close_notify or an alert, to see the TCP end.
                (!self.reader.complete && self.reader.malformed.is_none()) || self.tls_closed_seen()
            }
            State::Gap { .. } | State::Lingering { .. } => true,
            State::Connecting | State::Handshaking | State::Done => false,
        }
    }

    /// Bytes arrived.
    pub fn received(&mut self, bytes: &[u8], now: Instant) {
        if self.tls_closed_seen() {
            // Below TLS, after its end: no data of the response.
            return;
        }
        if let Some(h2) = self.h2.as_mut() {
            if matches!(self.state, State::Exchanging | State::Lingering { .. }) {
                h2.received(bytes, now, &mut self.timeline);
                match self.reports.last_mut() {
                    Some(last) if self.current_reported => last.received_bytes += bytes.len() as u64,
                    _ => self.current.received_bytes += bytes.len() as u64,
                }
            }
            return;
        }
        match self.state {
            State::Exchanging => self.take_in(bytes, now),
            // Bytes nobody asked for: count them on the last request.
            State::Gap { .. } | State::Lingering { .. } => {
                if let Some(last) = self.reports.last_mut() {
                    last.received_bytes += bytes.len() as u64;
                }
                if let Some(recorder) = self.recording.as_mut() {
                    recorder.chunk(bytes, Boundary::of_read(bytes.len(), READ_CHUNK), now);
                }
                self.keep_received(bytes);
            }
            State::Connecting | State::Handshaking | State::Done => {}
        }
    }

    /// The server ended the connection (seen once: later calls are ignored).
    pub fn ended(&mut self, how: Ended, now: Instant) {
        if self.server_end.is_some() || matches!(self.state, State::Connecting | State::Handshaking | State::Done) {
            return;
        }
        let end = match how {
            Ended::Fin => {
                self.mark(now, MarkKind::ServerFin);
                End::PeerFin
            }
            Ended::Rst => {
                self.mark(now, MarkKind::ServerRst);
                End::PeerRst
            }
            Ended::Failed(text) => {
                self.mark(now, MarkKind::Error(text.clone()));
                self.current.problem = Some(text);
                End::Error
            }
        };
        self.server_end = Some(end);
        if let State::Gap { .. } = self.state {
            // The server gave up on the idle connection: say so on the
            // response before, and send anyway (the next request meets a
            // closed connection).
            let ms = self.ms(now);
            if let Some(last) = self.reports.last_mut() {
                last.idle_end_ms = Some(ms);
                last.ended = end;
            }
        }
    }

    /// Let what was fed and the time `now` take effect: a whole response
    /// moves on to the gap or the lingering, an end or a timeout ends the
    /// story, a gap that is over starts the next request.
    pub fn advance(&mut self, now: Instant) {
        loop {
            match self.state {
                State::Connecting => {
                    if self.time_is_up(now) {
                        self.mark(now, MarkKind::Timeout);
                        self.finish(End::Timeout, now);
                    }
                    return;
                }
                State::Handshaking => {
                    if self.time_is_up(now) {
                        self.handshake_failed(HandshakeFailure::Timeout, None, now);
                    }
                    return;
                }
                State::Exchanging if self.h2.is_some() => {
                    self.advance_h2(now);
                    return;
                }
                State::Exchanging => {
                    let ended = self.server_end;
                    let closing = self.closing();
                    if ended == Some(End::PeerFin) || closing == Some(Closing::CloseNotify) {
                        // A body delimited by close completes with the FIN,
                        // or under TLS with close_notify.
                        self.reader.on_close();
                    }
                    if ended.is_none() && self.reader.malformed.is_some() {
                        // Not HTTP: nothing later can make it a response.
                        self.mark(now, MarkKind::ClientClose);
                        self.finish(End::Open, now);
                        return;
                    }
                    if self.reader.complete {
                        self.current.outcome = Outcome::Complete;
                        self.complete_request(now);
                        match ended {
                            Some(ended) => {
                                self.finish(ended, now);
                                return;
                            }
                            None => continue,
                        }
                    }
                    if let Some(ended) = ended {
                        self.finish(ended, now);
                    } else if closing.is_some() {
                        // No more data can come: watch for the TCP end.
                        self.state = State::Lingering {
                            until: now + self.plan.linger,
                        };
                    } else if self.time_is_up(now) {
                        self.mark(now, MarkKind::Timeout);
                        self.finish(End::Timeout, now);
                    }
                    return;
                }
                State::Gap { until } => {
                    if now >= until {
                        // The session sends it before anything else is
                        // decided, even to a server that has closed.
                        self.next_request(now);
                    }
                    return;
                }
                State::Lingering { until } => {
                    if let Some(ended) = self.server_end {
                        self.finish(ended, now);
                    } else if self.h2.as_ref().is_some_and(|h2| h2.must_close()) {
                        // The server broke HTTP/2's rules after the stream's
                        // end: the probe's GOAWAY goes, and it closes.
                        self.mark(now, MarkKind::ClientClose);
                        self.finish(End::Open, now);
                    } else if now >= until {
                        self.mark(now, MarkKind::ClientClose);
                        self.finish(End::Open, now);
                    }
                    return;
                }
                State::Done => return,
            }
        }
    }

    /// HTTP/2, while exchanging: once something settled the stream, its
    /// report is kept and the connection watched (closed at once when the
    /// server broke the connection's rules); otherwise the connection's
    /// end or the timeout ends the story.
    fn advance_h2(&mut self, now: Instant) {
        let Some(h2) = self.h2.as_deref() else { return };
        if let Some(decision) = h2.decision().cloned() {
            let must_close = h2.must_close();
            let report = self.decided_h2(&decision, now);
            self.keep(report);
            self.current_reported = true;
            if let Some(ended) = self.server_end {
                self.finish(ended, now);
            } else if must_close {
                self.mark(now, MarkKind::ClientClose);
                self.finish(End::Open, now);
            } else {
                self.state = State::Lingering {
                    until: now + self.plan.linger,
                };
            }
            return;
        }
        if let Some(ended) = self.server_end {
            self.finish(ended, now);
        } else if self.closing().is_some() {
            // No more data can come: watch for the TCP end.
            self.state = State::Lingering {
                until: now + self.plan.linger,
            };
        } else if self.time_is_up(now) {
            self.mark(now, MarkKind::Timeout);
            self.finish(End::Timeout, now);
        }
    }

    /// The current request's report once `decision` settled its stream.
    fn decided_h2(&self, decision: &Decision, now: Instant) -> RequestReport {
        let mut report = self.h2_report(now);
        report.ended = End::Open;
        match decision {
            Decision::Complete => report.outcome = Outcome::Complete,
            Decision::StreamReset(code) => {
                report.outcome = Outcome::StreamReset;
                report.h2_error = Some(*code);
            }
            Decision::Refused(code) => {
                report.outcome = Outcome::GoAway;
                report.h2_error = Some(*code);
            }
            Decision::StreamBroken(why) | Decision::ConnectionBroken(why) => {
                report.outcome = Outcome::Error;
                report.problem = Some(why.clone());
            }
        }
        report
    }

    /// The current request's report with what its HTTP/2 stream saw.
    fn h2_report(&self, now: Instant) -> RequestReport {
        let mut report = self.current.clone();
        report.end_ms = self.ms(now);
        if let Some(h2) = self.h2.as_deref().filter(|h2| h2.report.spoken) {
            report.body_bytes = h2.data_bytes();
            report.stream = Some(h2.stream.clone());
        }
        report
    }

    /// HTTP/2: how a story that nothing in the stream settled ended.
    fn classify_h2(&self, ended: End, now: Instant) -> RequestReport {
        let mut report = self.h2_report(now);
        report.ended = ended;
        let Some(h2) = self.h2.as_deref().filter(|h2| h2.report.spoken) else {
            // ALPN chose another protocol: the problem says which.
            report.outcome = Outcome::Error;
            return report;
        };
        let responded = h2.stream.status.is_some();
        report.outcome = match ended {
            End::PeerFin | End::PeerRst | End::Error if h2.report.goaway_error().is_some() => {
                report.h2_error = h2.report.goaway_error();
                Outcome::GoAway
            }
            End::PeerFin if !responded => Outcome::Empty,
            End::PeerFin | End::Fin => Outcome::Truncated,
            End::PeerRst | End::Rst => Outcome::Reset,
            End::Timeout => Outcome::Timeout,
            End::Refused => Outcome::Refused,
            End::Error | End::Open => Outcome::Error,
        };
        if report.outcome == Outcome::Reset {
            report.phase = Some(if !h2.request_sent() {
                Phase::WhileSending
            } else if h2.stream.block_open {
                Phase::MidHead
            } else if !responded {
                Phase::BeforeResponse
            } else {
                Phase::MidBody
            });
        }
        report
    }

    /// What the probe saw.
    pub fn into_report(mut self) -> ProbeReport {
        self.judge();
        ProbeReport {
            target: self.plan.target.clone(),
            requests: self.reports,
            timeline: self.timeline.into_marks(),
            not_shown: self.not_shown,
            not_sent: self.not_sent,
            recording: self.recording.map(|r| r.recording),
            tls: self.tls,
            http2: self.h2.map(|h2| h2.report),
        }
    }

    /// Judge what came back as strict clients do, and put each fault on
    /// the report of the response it is in.
    fn judge(&mut self) {
        if self.received.is_empty() {
            return;
        }
        let sent = self.reports.last().map_or(1, |r| r.number);
        let heads: Vec<bool> = (0..sent)
            .map(|i| self.plan.pipeline.get(i).map_or(self.plan.head_request, |p| p.head))
            .collect();
        // A log cut short cannot tell a truncated response from the rest.
        let closed = !self.received_cut && matches!(self.server_end, Some(End::PeerFin | End::PeerRst));
        let checked = crate::http::response_check::check(&self.received, &heads, closed);
        for (index, found) in checked.violations {
            let violation = Violation {
                offset: found.offset,
                what: found.what,
                refused_by: found.refused_by.to_vec(),
            };
            let number = index + 1;
            // A fault past the requests reported belongs to the last one.
            let report = match self.reports.iter_mut().position(|r| r.number == number) {
                Some(at) => &mut self.reports[at],
                None => match self.reports.last_mut() {
                    Some(last) => last,
                    None => return,
                },
            };
            report.violations.push(violation);
        }
    }

    fn ms(&self, now: Instant) -> f64 {
        self.timeline.ms(now)
    }

    /// Draw what happened to the connection.
    fn mark(&mut self, now: Instant, what: MarkKind) {
        self.timeline.mark(now, what);
    }

    /// Keep `report`: the first [`SHOWN_REQUESTS`] in full, then only the
    /// latest, with the outcomes of those in between counted, so that
    /// memory stays bounded however many requests one connection sends.
    fn keep(&mut self, report: RequestReport) {
        if self.reports.len() > SHOWN_REQUESTS
            && let Some(hidden) = self.reports.pop()
        {
            match self
                .not_shown
                .iter_mut()
                .find(|(outcome, _)| *outcome == hidden.outcome)
            {
                Some((_, count)) => *count += 1,
                None => self.not_shown.push((hidden.outcome, 1)),
            }
        }
        self.reports.push(report);
    }

    /// An error that is neither side's FIN nor RST.
    fn failed(&mut self, text: String, now: Instant) {
        self.mark(now, MarkKind::Error(text.clone()));
        self.current.problem = Some(text);
        self.finish(End::Error, now);
    }

    /// Keep received bytes for the strict judge, within its limit.
    fn keep_received(&mut self, bytes: &[u8]) {
        let room = self.plan.check_bytes.saturating_sub(self.received.len());
        self.received.extend_from_slice(&bytes[..room.min(bytes.len())]);
        self.received_cut |= bytes.len() > room;
    }

    fn take_in(&mut self, bytes: &[u8], now: Instant) {
        self.keep_received(bytes);
        if let Some(recorder) = self.recording.as_mut() {
            // The server spoke before the request was all sent: the
            // replay answers once it has the head.
            recorder.wait(record::Wait::Head, now);
            recorder.chunk(bytes, Boundary::of_read(bytes.len(), READ_CHUNK), now);
        }
        let mut rest = bytes;
        loop {
            let used = self.feed_response(rest, now);
            if self.reader.complete && self.pipelined_left() > 0 {
                // Pipelined: what follows is the next request's response.
                self.current.received_bytes += used as u64;
                self.next_pipelined(now);
                rest = &rest[used..];
                if rest.is_empty() {
                    return;
                }
                continue;
            }
            // Anything past the response counts on it (see `received`).
            self.current.received_bytes += rest.len() as u64;
            return;
        }
    }

    /// Responses still expected for requests written at once.
    fn pipelined_left(&self) -> usize {
        self.plan.pipeline.len().saturating_sub(self.current.number)
    }

    /// The current pipelined response is whole: report it, and read the
    /// next request's from the same bytes.
    fn next_pipelined(&mut self, now: Instant) {
        self.current.outcome = Outcome::Complete;
        self.current.end_ms = self.ms(now);
        self.current.ended = End::Open;
        self.current.head = self.reader.head.clone();
        self.current.body_bytes = self.reader.body_bytes;
        let sent_ms = self.current.sent_ms;
        self.keep(self.current.clone());
        let number = self.current.number + 1;
        let next = &self.plan.pipeline[number - 1];
        self.current = new_report(self.plan, number, self.ms(now));
        self.current.reused = true;
        self.current.request_line = next.line.clone();
        self.current.request_bytes = next.bytes;
        self.current.sent_bytes = next.bytes;
        self.current.sent_ms = sent_ms;
        self.current.start_ms = sent_ms.unwrap_or(self.current.start_ms);
        self.reader = ResponseReader::new(next.head);
        self.timeline.next_response();
    }

    /// Feed the current response's reader one piece (what one read
    /// brought) and draw what it made of the response, at its time;
    /// returns the bytes that belong to this response.
    fn feed_response(&mut self, bytes: &[u8], now: Instant) -> usize {
        let had_head = self.reader.head.is_some();
        let body_before = self.reader.body_bytes;
        let used = self.reader.feed(bytes);
        let mut drawn = Vec::with_capacity(2);
        if self.reader.head.is_none() && self.reader.malformed.is_none() && used > 0 {
            // Bytes of a head that is not whole yet.
            drawn.push(MarkKind::Partial {
                bytes: self.reader.received,
            });
        }
        if !had_head && let Some(head) = &self.reader.head {
            drawn.push(MarkKind::Head {
                version: head.version,
                status: head.status,
                reason: head.reason.clone(),
                bytes: head.bytes as u64,
            });
        }
        if self.reader.body_bytes > body_before {
            drawn.push(MarkKind::Body {
                bytes: self.reader.body_bytes,
                expected: self.reader.expected_body(),
            });
        }
        self.timeline.piece(self.current.number, now, drawn);
        used
    }

    /// The current response is whole: gap before the next, or linger.
    fn complete_request(&mut self, now: Instant) {
        let number = self.current.number;
        self.current.end_ms = self.ms(now);
        self.current.ended = End::Open;
        self.current.head = self.reader.head.clone();
        self.current.body_bytes = self.reader.body_bytes;
        let closing = self
            .reader
            .head
            .as_ref()
            .and_then(|h| h.header("connection"))
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        self.keep(self.current.clone());
        self.current_reported = true;
        if closing && number < self.plan.requests {
            self.not_sent = Some((
                self.plan.requests - number,
                format!("the server answered request {number} with Connection: close"),
            ));
        }
        if number < self.plan.requests && !closing {
            self.state = State::Gap {
                until: now + self.plan.gap,
            };
        } else {
            // A server that said it will close gets the whole timeout.
            let wait = if closing { self.plan.timeout } else { self.plan.linger };
            self.state = State::Lingering { until: now + wait };
        }
    }

    fn next_request(&mut self, now: Instant) {
        let number = self.current.number + 1;
        self.current = new_report(self.plan, number, self.ms(now));
        self.current.reused = true;
        self.current_reported = false;
        self.out = Outgoing::new(Cow::Borrowed(&self.plan.request));
        self.request_sent = false;
        self.reader = ResponseReader::new(self.plan.head_request);
        self.timeline.next_response();
        self.give_up_at = now + self.plan.timeout;
        self.closed_before_send = self.server_end.is_some() || self.tls_closed_seen();
        if let Some(recorder) = self.recording.as_mut() {
            recorder.next_request();
        }
        self.state = State::Exchanging;
    }

    /// The story is over: classify and record it.
    fn finish(&mut self, ended: End, now: Instant) {
        let closing = self.closing();
        let established = self.tls.as_ref().is_some_and(|tls| tls.agreed.is_some());
        if let Some(tls) = self.tls.as_mut() {
            tls.end = TlsEnd::of(closing, ended);
        }
        if let Some(recorder) = self.recording.as_mut() {
            let ending = match (ended, closing) {
                (End::PeerRst, _) => record::Ending::Reset,
                (_, Some(Closing::Alert(alert))) => record::Ending::TlsAlert(alert),
                (End::PeerFin, None) if established => record::Ending::CloseNoNotify,
                (End::PeerFin, _) => record::Ending::Close,
                _ => record::Ending::Hang,
            };
            recorder.end(ending, now);
        }
        if self.current_reported {
            // The last request completed; this is how the connection ended.
            if let Some(last) = self.reports.last_mut() {
                last.ended = ended;
            }
        } else {
            let report = self.classify(ended, now);
            self.keep(report);
        }
        let number = self.current.number;
        if self.not_sent.is_none() && number < self.plan.requests {
            self.not_sent = Some((self.plan.requests - number, self.why_ended(ended)));
        }
        self.state = State::Done;
    }

    /// Why no request followed the current one: how its connection ended.
    fn why_ended(&self, ended: End) -> String {
        let number = self.current.number;
        let connecting = self.state == State::Connecting;
        match ended {
            _ if self.state == State::Handshaking => "the TLS handshake failed".into(),
            End::Refused => "the connection was refused".into(),
            End::PeerFin | End::PeerRst if self.closed_before_send => {
                format!("the server had closed the connection before request {number} was sent")
            }
            End::PeerRst if connecting => "the server reset the connection as it was set up".into(),
            End::PeerRst => format!("the server reset the connection during request {number}"),
            End::PeerFin => format!("the server closed the connection during request {number}"),
            End::Timeout if connecting => "the connect timed out".into(),
            End::Timeout => format!("request {number} timed out"),
            End::Open if self.reader.malformed.is_some() => {
                format!("the response to request {number} is not HTTP; the probe closed the connection")
            }
            End::Open | End::Fin | End::Rst => format!("the probe closed the connection after request {number}"),
            End::Error => format!("the connection failed during request {number}"),
        }
    }

    /// The current request's report, its story ended by `ended` at `now`.
    fn classify(&self, ended: End, now: Instant) -> RequestReport {
        if self.h2.is_some() && self.state == State::Exchanging {
            return self.classify_h2(ended, now);
        }
        let mut report = self.current.clone();
        report.end_ms = self.ms(now);
        report.head = self.reader.head.clone();
        report.body_bytes = self.reader.body_bytes;
        if self.reader.malformed.is_some() {
            report.problem = self.reader.malformed.clone();
        }
        report.sent_bytes = self.out.written().min(report.request_bytes);
        let sent_all = self.out.written() == self.plan.request.len();
        let received = report.received_bytes;
        let failure = self.tls.as_ref().and_then(|tls| tls.failure.as_ref());
        if let (State::Handshaking, Some(failure)) = (self.state, failure) {
            report.outcome = match failure {
                HandshakeFailure::Rst => Outcome::Reset,
                HandshakeFailure::Fin => Outcome::Empty,
                HandshakeFailure::Timeout => Outcome::Timeout,
                _ => Outcome::Error,
            };
            report.phase = Some(Phase::Handshake);
            report.ended = ended;
            return report;
        }
        let alert = match self.closing() {
            Some(Closing::Alert(alert)) => Some(alert),
            _ => None,
        };
        if let Some(alert) = alert
            && !self.reader.complete
        {
            report.problem = Some(format!("TLS alert {} from the server", alert_name(alert)));
        }
        report.outcome = match ended {
            _ if self.reader.complete => Outcome::Complete,
            _ if alert.is_some() => Outcome::Error,
            _ if self.reader.malformed.is_some() => Outcome::Error,
            End::PeerFin if received == 0 => Outcome::Empty,
            End::PeerFin | End::Open | End::Fin => Outcome::Truncated,
            End::PeerRst | End::Rst => Outcome::Reset,
            End::Timeout => Outcome::Timeout,
            End::Refused => Outcome::Refused,
            End::Error => Outcome::Error,
        };
        if self.closed_before_send && matches!(report.outcome, Outcome::Reset | Outcome::Empty) {
            report.phase = Some(Phase::AfterClose);
        } else if report.outcome == Outcome::Reset {
            report.phase = Some(if self.state == State::Connecting {
                Phase::AtConnect
            } else if !sent_all {
                Phase::WhileSending
            } else if received == 0 {
                Phase::BeforeResponse
            } else if self.reader.head.is_none() {
                Phase::MidHead
            } else {
                Phase::MidBody
            });
        }
        report.ended = ended;
        report
    }
}

/// What a failed handshake's report says as its problem.
fn handshake_problem(failure: &HandshakeFailure, presented: Option<&Presented>) -> Option<String> {
    Some(match failure {
        HandshakeFailure::Alert(alert) => format!("TLS alert {} from the server", alert_name(*alert)),
        HandshakeFailure::Rejected => format!(
            "the server's certificate is refused: {}",
            presented.map_or("invalid", |p| p.verdict.name())
        ),
        HandshakeFailure::NotTls => "the server's answer is not TLS".into(),
        HandshakeFailure::Error(text) => text.clone(),
        HandshakeFailure::Rst | HandshakeFailure::Fin | HandshakeFailure::Timeout => return None,
    })
}

fn new_report(plan: &Plan, number: usize, start_ms: f64) -> RequestReport {
    // Written at once, each request of a pipeline is reported as itself.
    let (request_line, request_bytes) = match plan.pipeline.get(number - 1) {
        Some(one) => (one.line.clone(), one.bytes),
        None => (plan.request_line.clone(), plan.request.len()),
    };
    RequestReport {
        number,
        reused: false,
        outcome: Outcome::Timeout,
        phase: None,
        request_line,
        request_bytes,
        sent_bytes: 0,
        received_bytes: 0,
        head: None,
        body_bytes: 0,
        ended: End::Open,
        problem: None,
        start_ms,
        sent_ms: None,
        end_ms: start_ms,
        idle_end_ms: None,
        violations: Vec::new(),
        stream: None,
        h2_error: None,
    }
}

#[cfg(test)]
mod tests;
