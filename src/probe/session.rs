//! One probe connection: connect, send, read, classify.
//!
//! The session sends its request and reads at the same time, so a server
//! that answers or resets mid-upload is seen as such. It classifies the
//! end of the connection from `read` alone: a reset is reported by the
//! kernel only once, so when a `write` is the one that reports it, the
//! session remembers, and the `Ok(0)` that the next `read` gives is taken
//! as the RST it is, not as a FIN.
//!
//! With several requests, each waits for the previous response and a gap;
//! after the last, the session lingers briefly to see how the server ends
//! the connection (or, if it said `Connection: close`, waits for it).

use std::io::{self, Read, Write};
use std::time::Instant;

use mio::event::Event;
use mio::net::TcpStream;

use super::outcome::{Ended, Mark, MarkKind, Outcome, Phase, ProbeReport, RequestReport};
use super::request::Plan;
use super::response::ResponseReader;
use crate::log::Log;
use crate::outgoing::Outgoing;
use crate::reactor::{Flow, Session};

const READ_CHUNK: usize = 64 * 1024;

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

pub struct ProbeConn<'p> {
    plan: &'p Plan,
    stream: Option<TcpStream>,
    started: Instant,
    state: State,
    out: Outgoing<'p>,
    reader: ResponseReader,
    current: RequestReport,
    reports: Vec<RequestReport>,
    timeline: Vec<Mark>,
    /// When the current request or connect gives up.
    give_up_at: Instant,
    readable: bool,
    writable: bool,
    /// A write reported the reset (see the module docs).
    reset_seen: bool,
    /// The server sent FIN (while idle between requests).
    fin_seen: bool,
    send_failed: bool,
    /// The current request's report is already in `reports` (its response
    /// was complete); what follows only says how the connection ended.
    current_reported: bool,
}

impl<'p> ProbeConn<'p> {
    /// Start connecting to the plan's address.
    pub fn connect(plan: &'p Plan, now: Instant) -> ProbeConn<'p> {
        let stream = TcpStream::connect(plan.addr);
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
            give_up_at: now + plan.timeout,
            readable: false,
            writable: false,
            reset_seen: false,
            fin_seen: false,
            send_failed: false,
            current_reported: false,
        };
        match stream {
            Ok(stream) => conn.stream = Some(stream),
            Err(e) => conn.fail_connect(&e, now),
        }
        conn
    }

    /// The socket could not be set up (registration failed).
    pub fn fail(&mut self, error: &io::Error, now: Instant) {
        self.fail_connect(error, now);
    }

    pub fn stream_mut(&mut self) -> Option<&mut TcpStream> {
        self.stream.as_mut()
    }

    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    pub fn into_report(self) -> ProbeReport {
        ProbeReport {
            target: self.plan.target.clone(),
            requests: self.reports,
            timeline: self.timeline,
        }
    }

    fn ms(&self, now: Instant) -> f64 {
        now.saturating_duration_since(self.started).as_secs_f64() * 1000.0
    }

    fn mark(&mut self, now: Instant, what: MarkKind) {
        let ms = self.ms(now);
        self.timeline.push(Mark { ms, what });
    }

    fn fail_connect(&mut self, error: &io::Error, now: Instant) {
        if error.kind() == io::ErrorKind::ConnectionRefused {
            self.mark(now, MarkKind::Refused);
            self.finish(Ended::Refused, now);
        } else if error.kind() == io::ErrorKind::ConnectionReset {
            // The handshake completed and the server reset at once.
            self.mark(now, MarkKind::ServerRst);
            self.finish(Ended::Rst, now);
        } else {
            let text = error.to_string();
            self.mark(now, MarkKind::Error(text.clone()));
            self.finish(Ended::Error(text), now);
        }
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
                    self.watch_idle(now);
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
                    self.finish(Ended::Open, now);
                    return Flow::Closed;
                }
                State::Done => return Flow::Closed,
            }
        }
    }

    fn progress_connect(&mut self, now: Instant) -> Flow {
        if now >= self.give_up_at {
            self.mark(now, MarkKind::Timeout);
            self.finish(Ended::Timeout, now);
            return Flow::Closed;
        }
        let Some(stream) = self.stream.as_ref() else {
            return Flow::Closed;
        };
        if !self.writable {
            return Flow::Open;
        }
        // A connect's result is in SO_ERROR; this is not an established
        // connection yet, so reading the error here loses nothing.
        if let Ok(Some(e)) | Err(e) = stream.take_error() {
            self.fail_connect(&e, now);
            return Flow::Closed;
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
        if now >= self.give_up_at {
            self.mark(now, MarkKind::Timeout);
            self.finish(Ended::Timeout, now);
            return Some(Flow::Closed);
        }
        Some(Flow::Open)
    }

    fn send(&mut self, now: Instant) {
        let Some(stream) = self.stream.as_mut() else { return };
        if self.send_failed {
            return;
        }
        while let Some(chunk) = self.out.chunk() {
            if !self.writable {
                return;
            }
            match stream.write(chunk) {
                Ok(n) => self.out.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.send_failed = true;
                    self.reset_seen |= matches!(e.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe);
                    self.current.sent_bytes = self.out.written();
                    let (sent, total) = (self.out.written(), self.plan.request.len());
                    self.mark(now, MarkKind::SendFailed { sent, total });
                    // What the server sent before the end is still to be read.
                    self.readable = true;
                    return;
                }
            }
        }
        // Out of the loop without returning: every byte is written.
        self.current.sent_bytes = self.out.written();
        if self.current.sent_ms.is_none() {
            self.current.sent_ms = Some(self.ms(now));
            let (number, bytes, line) = (self.current.number, self.out.written(), self.plan.request_line.clone());
            self.mark(now, MarkKind::Sent { number, bytes, line });
        }
    }

    /// Read what arrived. `Some(ended)` when the connection ended.
    fn receive(&mut self, now: Instant) -> Option<Ended> {
        let mut buf = [0u8; READ_CHUNK];
        while self.readable && !self.reader.complete {
            let Some(stream) = self.stream.as_mut() else {
                return Some(Ended::Rst);
            };
            match stream.read(&mut buf) {
                Ok(0) => return Some(self.server_closed(now)),
                Ok(n) => self.take_in(&buf[..n], now),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    self.mark(now, MarkKind::ServerRst);
                    return Some(Ended::Rst);
                }
                Err(e) => {
                    let text = e.to_string();
                    self.mark(now, MarkKind::Error(text.clone()));
                    return Some(Ended::Error(text));
                }
            }
        }
        None
    }

    fn server_closed(&mut self, now: Instant) -> Ended {
        if self.fin_seen {
            // Seen (and drawn) already; reads just repeat it.
            self.reader.on_close();
            return if self.reset_seen { Ended::Rst } else { Ended::Fin };
        }
        self.fin_seen = true;
        if self.reset_seen {
            self.mark(now, MarkKind::ServerRst);
            Ended::Rst
        } else {
            self.mark(now, MarkKind::ServerFin);
            self.reader.on_close();
            Ended::Fin
        }
    }

    fn take_in(&mut self, bytes: &[u8], now: Instant) {
        self.current.received_bytes += bytes.len() as u64;
        let had_head = self.reader.head.is_some();
        let body_before = self.reader.body_bytes;
        self.reader.feed(bytes);
        if !had_head && let Some(head) = &self.reader.head {
            let what = MarkKind::Head {
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
                _ => self.timeline.push(Mark { ms, what: body }),
            }
        }
    }

    /// Between requests and after the last: notice FIN or RST.
    fn watch_idle(&mut self, now: Instant) -> Option<Ended> {
        if self.fin_seen {
            return None;
        }
        let mut buf = [0u8; 4096];
        while self.readable {
            let stream = self.stream.as_mut()?;
            match stream.read(&mut buf) {
                Ok(0) => return Some(self.server_closed(now)),
                Ok(n) => {
                    // Bytes nobody asked for: count them on the last request.
                    if let Some(last) = self.reports.last_mut() {
                        last.received_bytes += n as u64;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.mark(now, MarkKind::ServerRst);
                    self.reset_seen = true;
                    self.fin_seen = true;
                    return Some(Ended::Rst);
                }
            }
        }
        None
    }

    /// The current response is whole: gap before the next, or linger.
    fn complete_request(&mut self, now: Instant) {
        let number = self.current.number;
        self.current.end_ms = self.ms(now);
        self.current.ended = Ended::Open;
        self.current.head = self.reader.head.clone();
        self.current.body_bytes = self.reader.body_bytes;
        let closing = self
            .reader
            .head
            .as_ref()
            .and_then(|h| h.header("connection"))
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        self.reports.push(self.current.clone());
        self.current_reported = true;
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
        self.writable = true;
        self.readable = true;
        self.state = State::Exchanging;
    }

    /// The story is over: classify and record it, and drop the socket.
    fn finish(&mut self, ended: Ended, now: Instant) {
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
            report.problem = self.reader.malformed.clone();
            report.sent_bytes = self.out.written();
            let sent_all = self.out.written() == self.plan.request.len();
            let received = report.received_bytes;
            report.outcome = match &ended {
                _ if self.reader.complete => Outcome::Complete,
                _ if self.reader.malformed.is_some() => Outcome::Error,
                Ended::Fin if received == 0 => Outcome::Empty,
                Ended::Fin | Ended::Open => Outcome::Truncated,
                Ended::Rst => Outcome::Reset,
                Ended::Timeout => Outcome::Timeout,
                Ended::Refused => Outcome::Refused,
                Ended::Error(text) => {
                    report.problem = Some(text.clone());
                    Outcome::Error
                }
            };
            if report.outcome == Outcome::Reset {
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
            self.reports.push(report);
        }
        self.stream = None;
        self.state = State::Done;
    }
}

// The reactor's `now` is when the poll returned; one turn may handle
// hundreds of sessions, so a probe, which measures, reads the clock itself.
impl Session for ProbeConn<'_> {
    fn on_event(&mut self, event: &Event, _turn: Instant, _log: &mut Log) -> Flow {
        let now = Instant::now();
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            self.readable = true;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            self.writable = true;
        }
        self.drive(now)
    }

    fn on_timer(&mut self, _turn: Instant, _log: &mut Log) -> Flow {
        self.drive(Instant::now())
    }

    fn deadline(&self) -> Option<Instant> {
        match self.state {
            State::Connecting | State::Exchanging => Some(self.give_up_at),
            State::Gap { until } | State::Lingering { until } => Some(until),
            State::Done => None,
        }
    }
}

fn new_report(plan: &Plan, number: usize, start_ms: f64) -> RequestReport {
    RequestReport {
        number,
        reused: false,
        outcome: Outcome::Timeout,
        phase: None,
        request_line: plan.request_line.clone(),
        request_bytes: plan.request.len(),
        sent_bytes: 0,
        received_bytes: 0,
        head: None,
        body_bytes: 0,
        ended: Ended::Open,
        problem: None,
        start_ms,
        sent_ms: None,
        end_ms: start_ms,
    }
}
