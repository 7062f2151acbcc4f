//! One probe connection: connect, send, read, classify.
//!
//! The session sends its request and reads at the same time, so a server
//! that answers or resets mid-upload is seen as such. Its [`Stream`]
//! classifies every read and write (a reset that a `write` reported is
//! still a reset when the next `read` returns 0), and the session names the
//! first end it sees once: FIN or RST from the server, or its own deadline.
//!
//! With several requests, each waits for the previous response and a gap;
//! after the last, the session lingers briefly to see how the server ends
//! the connection (or, if it said `Connection: close`, waits for it).

use std::io;
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;

use super::outcome::{Mark, MarkKind, Outcome, Phase, ProbeReport, RequestReport, SHOWN_REQUESTS, Violation};
use super::request::Plan;
use crate::end::End;
use crate::http::response::ResponseReader;
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, PollAt, Session, Side};
use crate::record;
use crate::sock;
use crate::stream::{Boundary, Io, READ_CHUNK, Stream};

enum State {
    Connecting,
    /// Sending the current request and reading its response.
    Exchanging,
    /// Between a complete response and the next request.
    Gap {
        until: Instant,
    },
    /// After the last response: watching how the connection ends.
    Lingering {
        until: Instant,
    },
    Done,
}

/// One probe's connection and what it saw.
pub struct ProbeConn<'p> {
    plan: &'p Plan,
    /// `None` when the connect failed at once, or once it is over.
    stream: Option<Stream>,
    started: Instant,
    state: State,
    out: Outgoing<'p>,
    reader: ResponseReader,
    current: RequestReport,
    reports: Vec<RequestReport>,
    timeline: Vec<Mark>,
    /// Outcomes of the requests between the first shown and the last.
    not_shown: Vec<(Outcome, u64)>,
    /// When the current request or connect gives up.
    give_up_at: Instant,
    /// How the server ended the connection, once it did (FIN or RST, seen
    /// and drawn once; later reads only repeat it).
    server_end: Option<End>,
    send_failed: bool,
    /// The connect failed at once for lack of a descriptor (or memory).
    lacked_descriptor: bool,
    /// What the server did, step by step, with `--record`.
    recording: Option<Recorder>,
    /// Requests never sent, and why (the server said it would close).
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
}

impl<'p> ProbeConn<'p> {
    /// Start connecting to the plan's address.
    pub fn connect(plan: &'p Plan, now: Instant) -> ProbeConn<'p> {
        let socket = TcpStream::connect(plan.addr);
        let mut conn = ProbeConn {
            plan,
            stream: None,
            started: now,
            state: State::Connecting,
            out: Outgoing::new(std::borrow::Cow::Borrowed(&plan.request)),
            reader: ResponseReader::new(plan.head_request),
            current: new_report(plan, 1, 0.0),
            reports: Vec::new(),
            timeline: Vec::new(),
            not_shown: Vec::new(),
            give_up_at: now + plan.timeout,
            server_end: None,
            send_failed: false,
            lacked_descriptor: false,
            recording: plan.record.then(|| Recorder::new(plan)),
            not_sent: None,
            closed_before_send: false,
            received: Vec::new(),
            received_cut: false,
            current_reported: false,
        };
        match socket {
            Ok(socket) => conn.stream = Some(Stream::connecting(socket)),
            Err(e) => {
                conn.lacked_descriptor = sock::is_resource_exhaustion(&e);
                conn.fail_connect(&e, now);
            }
        }
        conn
    }

    /// The socket could not be set up (registration failed).
    pub fn fail(&mut self, error: &io::Error, now: Instant) {
        self.fail_connect(error, now);
    }

    /// The socket, to register it with the poll.
    pub fn socket_mut(&mut self) -> Option<&mut TcpStream> {
        self.stream.as_mut()?.socket_mut()
    }

    /// Whether the connect failed at once for lack of a descriptor: a
    /// probe that may wait for one to be free.
    pub fn lacked_descriptor(&self) -> bool {
        self.lacked_descriptor
    }

    /// Whether the probe is over.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// What the probe saw.
    pub fn into_report(mut self) -> ProbeReport {
        self.judge();
        ProbeReport {
            target: self.plan.target.clone(),
            requests: self.reports,
            timeline: self.timeline,
            not_shown: self.not_shown,
            not_sent: self.not_sent,
            recording: self.recording.map(|r| r.recording),
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
        now.saturating_duration_since(self.started).as_secs_f64() * 1000.0
    }

    fn mark(&mut self, now: Instant, what: MarkKind) {
        // Past the requests a report shows, only how the connection ended
        // is drawn: the timeline must not grow with every request.
        let per_request = matches!(
            what,
            MarkKind::Sent { .. } | MarkKind::Head { .. } | MarkKind::Body { .. }
        );
        if per_request && self.current.number > SHOWN_REQUESTS {
            return;
        }
        let ms = self.ms(now);
        self.timeline.push(Mark { ms, what });
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

    fn fail_connect(&mut self, error: &io::Error, now: Instant) {
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

    /// An error that is neither side's FIN nor RST.
    fn failed(&mut self, text: String, now: Instant) {
        self.mark(now, MarkKind::Error(text.clone()));
        self.current.problem = Some(text);
        self.finish(End::Error, now);
    }

    fn drive(&mut self, now: Instant) -> Flow {
        loop {
            match self.state {
                State::Connecting => return self.progress_connect(now),
                State::Exchanging => {
                    if let Some(flow) = self.progress_exchange(now) {
                        return flow;
                    }
                }
                State::Gap { until } => {
                    if self.watch_idle(now).is_some() {
                        // The server gave up on the idle connection: say
                        // so on the response before, and send anyway (the
                        // next request meets a closed connection).
                        let ms = self.ms(now);
                        if let Some(last) = self.reports.last_mut() {
                            last.idle_end_ms = Some(ms);
                            last.ended = self.server_end.unwrap_or(End::PeerFin);
                        }
                    }
                    if now < until {
                        return Flow::Open;
                    }
                    self.next_request(now);
                }
                State::Lingering { until } => {
                    if let Some(ended) = self.watch_idle(now) {
                        self.finish(ended, now);
                        return Flow::Closed;
                    }
                    if now < until {
                        return Flow::Open;
                    }
                    self.mark(now, MarkKind::ClientClose);
                    self.finish(End::Open, now);
                    return Flow::Closed;
                }
                State::Done => return Flow::Closed,
            }
        }
    }

    fn progress_connect(&mut self, now: Instant) -> Flow {
        let Some(stream) = self.stream.as_mut() else {
            return Flow::Closed;
        };
        let result = if now >= self.give_up_at {
            // Time is up, but a refusal may be there without its event
            // yet (on loopback it comes within the connect call itself).
            stream.assume_writable();
            match stream.connect_result() {
                Some(Err(e)) => Some(Err(e)),
                _ => {
                    self.mark(now, MarkKind::Timeout);
                    self.finish(End::Timeout, now);
                    return Flow::Closed;
                }
            }
        } else {
            stream.connect_result()
        };
        match result {
            None => return Flow::Open,
            Some(Err(e)) => {
                self.fail_connect(&e, now);
                return Flow::Closed;
            }
            Some(Ok(())) => {}
        }
        // Writable with no error: connected. (No TCP_NODELAY: a request is
        // one send after everything before it was acknowledged, which Nagle
        // never delays, and it would cost a syscall per connection.)
        self.mark(now, MarkKind::Connected);
        self.state = State::Exchanging;
        self.give_up_at = now + self.plan.timeout;
        self.drive(now)
    }

    /// `Some(flow)` to return; `None` when the state changed (drive again).
    fn progress_exchange(&mut self, now: Instant) -> Option<Flow> {
        self.send(now);
        let ended = self.receive(now);
        if ended.is_none() && self.reader.malformed.is_some() {
            // Not HTTP: nothing later can make it a response.
            self.mark(now, MarkKind::ClientClose);
            self.finish(End::Open, now);
            return Some(Flow::Closed);
        }
        if self.reader.complete {
            self.current.outcome = Outcome::Complete;
            self.complete_request(now);
            // A body delimited by close completes with the connection's end.
            if let Some(ended) = ended {
                self.finish(ended, now);
                return Some(Flow::Closed);
            }
            return None;
        }
        if let Some(ended) = ended {
            self.finish(ended, now);
            return Some(Flow::Closed);
        }
        if Instant::now() >= self.give_up_at {
            self.mark(now, MarkKind::Timeout);
            self.finish(End::Timeout, now);
            return Some(Flow::Closed);
        }
        Some(Flow::Open)
    }

    fn send(&mut self, now: Instant) {
        let Some(stream) = self.stream.as_mut() else { return };
        if self.send_failed {
            return;
        }
        match stream.send(&mut self.out, now) {
            Io::Data(_) => {}
            Io::Blocked => return,
            // EOF is not an answer to a write; failures are:
            Io::Eof | Io::Reset(_) | Io::Failed(_) => {
                self.send_failed = true;
                self.current.sent_bytes = self.out.written();
                let (sent, total) = (self.out.written(), self.plan.request.len());
                self.mark(now, MarkKind::SendFailed { sent, total });
                // What the server sent before the end is still to be read.
                if let Some(stream) = self.stream.as_mut() {
                    stream.assume_readable();
                }
                return;
            }
        }
        // Every byte is written.
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
            self.mark(now, MarkKind::Sent { number, bytes, line });
        }
    }

    /// Read what arrived. `Some(end)` when the connection ended.
    fn receive(&mut self, now: Instant) -> Option<End> {
        if let Some(end) = self.server_end {
            // Seen (and drawn) already: a read would only repeat it.
            if end == End::PeerFin {
                self.reader.on_close();
            }
            return Some(end);
        }
        while !self.reader.complete && self.reader.malformed.is_none() {
            // A server that never stops sending (interim heads, say)
            // keeps the socket readable: the deadline still holds.
            if Instant::now() >= self.give_up_at {
                return None;
            }
            match self.read_some(now)? {
                Io::Data(_) => {}
                Io::Blocked => return None,
                ended => return self.server_ended(ended, now),
            }
        }
        None
    }

    /// One read, fed to the response reader; `None` without a stream.
    fn read_some(&mut self, now: Instant) -> Option<Io> {
        let mut stream = self.stream.take()?;
        let io = if stream.is_readable() {
            stream.read(READ_CHUNK, |bytes| self.take_in(bytes, now))
        } else {
            Io::Blocked
        };
        self.stream = Some(stream);
        Some(io)
    }

    /// The read that ended the connection: FIN, RST, or another error.
    fn server_ended(&mut self, io: Io, now: Instant) -> Option<End> {
        let end = match io {
            Io::Eof => {
                self.mark(now, MarkKind::ServerFin);
                self.reader.on_close();
                End::PeerFin
            }
            Io::Reset(_) => {
                self.mark(now, MarkKind::ServerRst);
                End::PeerRst
            }
            Io::Failed(e) => {
                let text = e.to_string();
                self.mark(now, MarkKind::Error(text.clone()));
                self.current.problem = Some(text);
                End::Error
            }
            Io::Data(_) | Io::Blocked => return None,
        };
        self.server_end = Some(end);
        Some(end)
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
            // Anything past the response counts on it (see `watch_idle`).
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
    }

    /// Feed the current response's reader and draw what it learned;
    /// returns the bytes that belong to this response.
    fn feed_response(&mut self, bytes: &[u8], now: Instant) -> usize {
        let had_head = self.reader.head.is_some();
        let body_before = self.reader.body_bytes;
        let used = self.reader.feed(bytes);
        if self.reader.head.is_none() && self.reader.malformed.is_none() {
            // Bytes of a head that is not whole: drawn as they come.
            let ms = self.ms(now);
            let bytes = self.reader.received;
            match self.timeline.last_mut() {
                Some(last) if matches!(last.what, MarkKind::Partial { .. }) => {
                    *last = Mark {
                        ms,
                        what: MarkKind::Partial { bytes },
                    }
                }
                _ => self.mark(now, MarkKind::Partial { bytes }),
            }
        }
        if !had_head && let Some(head) = &self.reader.head {
            // The head is whole now: its pieces are drawn as the head.
            if self
                .timeline
                .last()
                .is_some_and(|m| matches!(m.what, MarkKind::Partial { .. }))
            {
                self.timeline.pop();
            }
            let what = MarkKind::Head {
                version: head.version,
                status: head.status,
                reason: head.reason.clone(),
                bytes: head.bytes as u64,
            };
            self.mark(now, what);
        }
        if self.reader.body_bytes > body_before {
            let expected = self.reader.expected_body();
            let body = MarkKind::Body {
                bytes: self.reader.body_bytes,
                expected,
            };
            let ms = self.ms(now);
            // Consecutive body reads are one arrow on the diagram.
            match self.timeline.last_mut() {
                Some(last) if matches!(last.what, MarkKind::Body { .. }) => *last = Mark { ms, what: body },
                _ => self.mark(now, body),
            }
        }
        used
    }

    /// Between requests and after the last: notice FIN or RST.
    fn watch_idle(&mut self, now: Instant) -> Option<End> {
        if self.server_end.is_some() {
            return None;
        }
        loop {
            let stream = self.stream.as_mut()?;
            if !stream.is_readable() {
                return None;
            }
            // Bytes nobody asked for: count them on the last request.
            let reports = &mut self.reports;
            let recording = &mut self.recording;
            let mut stray = Vec::new();
            let io = stream.read(READ_CHUNK, |bytes| {
                if let Some(last) = reports.last_mut() {
                    last.received_bytes += bytes.len() as u64;
                }
                if let Some(recorder) = recording.as_mut() {
                    recorder.chunk(bytes, Boundary::of_read(bytes.len(), READ_CHUNK), now);
                }
                stray.extend_from_slice(bytes);
            });
            self.keep_received(&stray);
            match io {
                Io::Data(_) => {}
                Io::Blocked => return None,
                ended => return self.server_ended(ended, now),
            }
        }
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
        self.out = Outgoing::new(std::borrow::Cow::Borrowed(&self.plan.request));
        self.reader = ResponseReader::new(self.plan.head_request);
        self.give_up_at = now + self.plan.timeout;
        self.closed_before_send = self.server_end.is_some();
        if let Some(recorder) = self.recording.as_mut() {
            recorder.next_request();
        }
        self.state = State::Exchanging;
    }

    /// The story is over: classify and record it, and drop the socket.
    fn finish(&mut self, ended: End, now: Instant) {
        if let Some(recorder) = self.recording.as_mut() {
            let ending = match ended {
                End::PeerFin => record::Ending::Close,
                End::PeerRst => record::Ending::Reset,
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
            report.outcome = match ended {
                _ if self.reader.complete => Outcome::Complete,
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
                report.phase = Some(if matches!(self.state, State::Connecting) {
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
            self.keep(report);
        }
        self.stream = None;
        self.state = State::Done;
    }
}

// The reactor's `now` is when the poll returned; one turn may handle
// hundreds of sessions, so a probe, which measures, reads the clock itself
// and needs nothing from its owner.
impl Session for ProbeConn<'_> {
    type Context<'c> = ();

    fn on_event(&mut self, _: Side, event: &Event, _: &mut ()) -> Flow {
        if let Some(stream) = self.stream.as_mut() {
            stream.on_event(event);
        }
        self.drive(Instant::now())
    }

    fn on_wake(&mut self, _: &mut ()) -> Flow {
        self.drive(Instant::now())
    }

    fn poll_at(&self) -> PollAt {
        match self.state {
            State::Connecting | State::Exchanging => PollAt::At(self.give_up_at),
            State::Gap { until } | State::Lingering { until } => PollAt::At(until),
            State::Done => PollAt::Idle,
        }
    }
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
    }
}

/// A recording in the making: the steps so far, and when the last one was.
struct Recorder {
    recording: record::Recording,
    last: Option<Instant>,
    /// The current request's wait is recorded.
    waited: bool,
    /// The method of every request the plan sends, for where a response's
    /// body ends.
    method: record::Method,
}

impl Recorder {
    fn new(plan: &Plan) -> Recorder {
        let method = if plan.head_request {
            record::Method::Head
        } else {
            record::Method::Other
        };
        let mut recording = record::Recording::default();
        recording.next_request(method);
        Recorder {
            recording,
            last: None,
            waited: false,
            method,
        }
    }

    fn since_last(&mut self, now: Instant) -> std::time::Duration {
        let after = self
            .last
            .map_or(std::time::Duration::ZERO, |last| now.saturating_duration_since(last));
        self.last = Some(now);
        after
    }

    /// The replay waits for the client here (once per request).
    fn wait(&mut self, wait: record::Wait, now: Instant) {
        if !std::mem::replace(&mut self.waited, true) {
            self.recording.wait(wait);
            self.last = Some(now);
        }
    }

    fn chunk(&mut self, bytes: &[u8], boundary: Boundary, now: Instant) {
        let after = self.since_last(now);
        self.recording.chunk(after, bytes, boundary);
    }

    fn next_request(&mut self) {
        self.waited = false;
        self.recording.next_request(self.method);
    }

    fn end(&mut self, ending: record::Ending, now: Instant) {
        if self.recording.ending.is_none() {
            let after = self.since_last(now);
            self.recording.ending = Some((ending, after));
        }
    }
}
