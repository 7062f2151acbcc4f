//! The exchange driven through time without a network: each test feeds
//! what a socket would have seen, at instants it chooses, and reads the
//! story the probe would report.

use std::net::SocketAddr;
use std::time::Duration;

mod h2;
mod tls;

use super::*;
use crate::probe::request::{Body, build_request};
use crate::probe::target::Target;

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A plan of `requests` GETs, `gap` apart, lingering 50 ms.
fn plan(requests: usize, gap: Duration) -> Plan {
    let target = Target::parse("127.0.0.1:9").unwrap();
    let (request, request_line) = build_request(&target, None, &[], &Body::None);
    Plan {
        addr: SocketAddr::from(([127, 0, 0, 1], 9)),
        target: "127.0.0.1:9".into(),
        request,
        request_line,
        head_request: false,
        requests,
        gap,
        timeout: TIMEOUT,
        linger: Duration::from_millis(50),
        raw: false,
        pipeline: Vec::new(),
        record: false,
        check_bytes: 4 << 20,
        tls: None,
        http2: None,
    }
}

/// The clock of a test: `ms(n)` is n milliseconds after the start.
struct Clock(Instant);

impl Clock {
    fn new() -> Clock {
        Clock(Instant::now())
    }
    fn ms(&self, ms: u64) -> Instant {
        self.0 + Duration::from_millis(ms)
    }
}

/// Write the current request whole, as a socket that takes everything.
fn send_all(exchange: &mut Exchange, now: Instant) {
    let out = exchange.outgoing().expect("a request to send");
    while let Some(chunk) = out.chunk() {
        let n = chunk.len();
        out.advance(n);
    }
    exchange.sent(now);
    exchange.advance(now);
}

/// Connected and the first request sent at `now`.
fn started<'p>(plan: &'p Plan, clock: &Clock, now: Instant) -> Exchange<'p> {
    let mut exchange = Exchange::new(plan, clock.0);
    exchange.connected(now);
    send_all(&mut exchange, now);
    exchange
}

fn receive(exchange: &mut Exchange, bytes: &[u8], now: Instant) {
    exchange.received(bytes, now);
    exchange.advance(now);
}

fn end(exchange: &mut Exchange, how: Ended, now: Instant) {
    exchange.ended(how, now);
    exchange.advance(now);
}

/// `(outcome, phase)` of a report's request `n` (from 1).
fn outcome(report: &ProbeReport, n: usize) -> (Outcome, Option<Phase>) {
    let request = &report.requests[n - 1];
    (request.outcome, request.phase)
}

/// What arrived, how the server ended it, and the story's outcome, phase
/// and end.
type Case<'a> = (&'a [u8], Ended, Outcome, Option<Phase>, End);

#[test]
fn how_a_story_ends_is_classified_by_what_had_arrived() {
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
    let cases: &[Case] = &[
        (
            b"",
            Ended::Rst,
            Outcome::Reset,
            Some(Phase::BeforeResponse),
            End::PeerRst,
        ),
        (
            b"HTTP/1.1 200 OK\r\nConte",
            Ended::Rst,
            Outcome::Reset,
            Some(Phase::MidHead),
            End::PeerRst,
        ),
        (
            &[head.as_slice(), b"hel"].concat(),
            Ended::Rst,
            Outcome::Reset,
            Some(Phase::MidBody),
            End::PeerRst,
        ),
        (
            &[head.as_slice(), b"hel"].concat(),
            Ended::Fin,
            Outcome::Truncated,
            None,
            End::PeerFin,
        ),
        (b"", Ended::Fin, Outcome::Empty, None, End::PeerFin),
        (
            b"HTTP/1.1 200 OK\r\n\r\nuntil close",
            Ended::Fin,
            Outcome::Complete,
            None,
            End::PeerFin,
        ),
        (b"", Ended::Failed("broken".into()), Outcome::Error, None, End::Error),
    ];
    let clock = Clock::new();
    for (bytes, how, want, phase, ended) in cases {
        let plan = plan(1, Duration::ZERO);
        let mut exchange = started(&plan, &clock, clock.ms(1));
        if !bytes.is_empty() {
            receive(&mut exchange, bytes, clock.ms(2));
        }
        end(&mut exchange, how.clone(), clock.ms(3));
        assert!(exchange.is_done(), "{how:?} after {bytes:?}");
        let report = exchange.into_report();
        assert_eq!(outcome(&report, 1), (*want, *phase), "{how:?} after {bytes:?}");
        assert_eq!(report.last().ended, *ended);
        assert_eq!(report.last().end_ms, 3.0);
    }
}

#[test]
fn bytes_that_are_not_http_end_the_story_at_once() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = started(&plan, &clock, clock.ms(1));
    receive(&mut exchange, b"SSH-2.0-OpenSSH_9.6\r\n", clock.ms(2));
    assert!(exchange.is_done(), "not after the timeout");
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Error, None));
    assert_eq!(report.last().ended, End::Open);
    assert_eq!(report.timeline.last().map(|m| &m.what), Some(&MarkKind::ClientClose));
}

#[test]
fn a_request_times_out_at_its_deadline_and_not_before() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = started(&plan, &clock, clock.ms(5));
    let deadline = clock.ms(5) + TIMEOUT;
    assert_eq!(exchange.poll_at(), Some(deadline));
    exchange.advance(deadline - Duration::from_micros(1));
    assert!(!exchange.is_done());
    exchange.advance(deadline);
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Timeout, None));
    assert_eq!((report.last().ended, report.last().end_ms), (End::Timeout, 10_005.0));
    assert_eq!(report.last().ms_to_end(), 10_000.0);
}

#[test]
fn a_connect_that_never_completes_times_out_with_nothing_sent() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = Exchange::new(&plan, clock.0);
    assert_eq!(exchange.stage(), Stage::Connecting);
    assert!(exchange.outgoing().is_none() && !exchange.wants_read());
    exchange.advance(clock.0 + TIMEOUT);
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Timeout, None));
    assert_eq!((report.last().sent_bytes, report.last().sent_ms), (0, None));
    let marks: Vec<&MarkKind> = report.timeline.iter().map(|m| &m.what).collect();
    assert_eq!(marks, [&MarkKind::Timeout]);
}

#[test]
fn a_connect_refused_or_reset_at_once() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    for (kind, want) in [
        (io::ErrorKind::ConnectionRefused, (Outcome::Refused, None)),
        (io::ErrorKind::ConnectionReset, (Outcome::Reset, Some(Phase::AtConnect))),
    ] {
        let mut exchange = Exchange::new(&plan, clock.0);
        exchange.connect_failed(&io::Error::from(kind), clock.ms(1));
        assert!(exchange.is_done());
        assert_eq!(outcome(&exchange.into_report(), 1), want, "{kind:?}");
    }
}

#[test]
fn a_write_that_fails_is_a_reset_while_sending() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = Exchange::new(&plan, clock.0);
    exchange.connected(clock.ms(1));
    let out = exchange.outgoing().unwrap();
    out.advance(10);
    exchange.send_failed(clock.ms(2));
    assert!(exchange.outgoing().is_none(), "no write after a failed one");
    assert!(exchange.wants_read(), "what came before the reset is read");
    end(&mut exchange, Ended::Rst, clock.ms(2));
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Reset, Some(Phase::WhileSending)));
    assert_eq!(report.last().sent_bytes, 10);
}

#[test]
fn the_gap_holds_the_next_request_until_it_is_over() {
    let clock = Clock::new();
    let plan = plan(2, Duration::from_millis(100));
    let mut exchange = started(&plan, &clock, clock.ms(1));
    receive(&mut exchange, OK, clock.ms(20));
    assert_eq!(exchange.stage(), Stage::Waiting);
    assert!(exchange.outgoing().is_none());
    assert_eq!(exchange.poll_at(), Some(clock.ms(120)));
    exchange.advance(clock.ms(119));
    assert_eq!(exchange.stage(), Stage::Waiting);
    exchange.advance(clock.ms(120));
    assert_eq!(exchange.stage(), Stage::Exchanging { number: 2 });
    send_all(&mut exchange, clock.ms(120));
    receive(&mut exchange, OK, clock.ms(130));
    // After the last response, the probe lingers 50 ms, then closes.
    assert_eq!(exchange.poll_at(), Some(clock.ms(180)));
    exchange.advance(clock.ms(180));
    let report = exchange.into_report();
    let times: Vec<(f64, Option<f64>, f64)> = report
        .requests
        .iter()
        .map(|r| (r.start_ms, r.sent_ms, r.end_ms))
        .collect();
    assert_eq!(times, [(0.0, Some(1.0), 20.0), (120.0, Some(120.0), 130.0)]);
    assert!(report.requests[1].reused);
    assert_eq!(
        (outcome(&report, 2), report.last().ended),
        ((Outcome::Complete, None), End::Open)
    );
}

#[test]
fn a_server_that_closes_the_idle_connection_meets_the_next_request_closed() {
    let clock = Clock::new();
    let plan = plan(2, Duration::from_millis(200));
    let mut exchange = started(&plan, &clock, clock.ms(1));
    receive(&mut exchange, OK, clock.ms(10));
    end(&mut exchange, Ended::Fin, clock.ms(60));
    assert!(!exchange.wants_read(), "the end is seen once");
    exchange.advance(clock.ms(210));
    // The request is still sent, then the story ends.
    send_all(&mut exchange, clock.ms(210));
    assert!(exchange.is_done());
    let report = exchange.into_report();
    assert_eq!(report.requests[0].idle_end_ms, Some(60.0));
    assert_eq!(report.requests[0].ended, End::PeerFin);
    assert_eq!(outcome(&report, 2), (Outcome::Empty, Some(Phase::AfterClose)));
}

#[test]
fn connection_close_is_waited_for_the_whole_timeout_and_the_rest_not_sent() {
    let clock = Clock::new();
    let plan = plan(3, Duration::ZERO);
    let mut exchange = started(&plan, &clock, clock.ms(1));
    let closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
    receive(&mut exchange, closing, clock.ms(2));
    assert_eq!(exchange.poll_at(), Some(clock.ms(2) + TIMEOUT));
    end(&mut exchange, Ended::Fin, clock.ms(3));
    let report = exchange.into_report();
    assert_eq!((report.requests.len(), report.last().ended), (1, End::PeerFin));
    assert_eq!(
        report.not_sent,
        Some((2, "the server answered request 1 with Connection: close".into()))
    );
}

#[test]
fn bytes_after_the_response_count_on_it_and_an_rst_while_lingering_is_its_end() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = started(&plan, &clock, clock.ms(1));
    receive(&mut exchange, OK, clock.ms(2));
    receive(&mut exchange, b"xyz", clock.ms(3));
    end(&mut exchange, Ended::Rst, clock.ms(4));
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Complete, None));
    assert_eq!((report.last().received_bytes, report.last().ended), (46, End::PeerRst));
    assert_eq!(report.last().violations[0].what, "3 bytes after the 5-byte body");
}

#[test]
fn a_drip_is_drawn_piece_by_piece_then_counted() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = started(&plan, &clock, clock.ms(1));
    // The head in two pieces, then 30 body bytes one a millisecond.
    receive(&mut exchange, b"HTTP/1.1 200 OK\r\n", clock.ms(2));
    receive(&mut exchange, b"Content-Length: 30\r\n\r\n", clock.ms(3));
    for n in 0..30 {
        receive(&mut exchange, b"x", clock.ms(10 + n));
    }
    end(&mut exchange, Ended::Fin, clock.ms(50));
    let report = exchange.into_report();
    let marks: Vec<(f64, &MarkKind)> = report.timeline.iter().map(|m| (m.ms, &m.what)).collect();
    let body = |bytes| MarkKind::Body {
        bytes,
        expected: Some(30),
    };
    // Connected, sent, a partial head, the head: then 18 pieces drawn...
    assert_eq!(marks[2], (2.0, &MarkKind::Partial { bytes: 17 }));
    assert!(matches!(marks[3], (3.0, MarkKind::Head { bytes: 39, .. })), "{marks:?}");
    for n in 0..18 {
        assert_eq!(marks[4 + n as usize], (10.0 + n as f64, &body(n + 1)));
    }
    // ...and the other 12 counted, from the first of them to the last.
    let more = MarkKind::MorePieces {
        pieces: 12,
        since_ms: 28.0,
        bytes: 30,
        expected: Some(30),
        head: false,
    };
    assert_eq!(marks[22..], [(39.0, &more), (50.0, &MarkKind::ServerFin)]);
}

#[test]
fn requests_never_sent_are_counted_with_why_the_connection_ended() {
    let clock = Clock::new();
    let four = plan(4, Duration::from_millis(100));
    let not_sent = |exchange: Exchange| exchange.into_report().not_sent;
    let told = |n: usize, why: &str| Some((n, why.to_string()));

    let mut exchange = started(&four, &clock, clock.ms(1));
    receive(&mut exchange, &OK[..40], clock.ms(2));
    end(&mut exchange, Ended::Rst, clock.ms(3));
    assert_eq!(
        not_sent(exchange),
        told(3, "the server reset the connection during request 1")
    );

    let mut exchange = started(&four, &clock, clock.ms(1));
    end(&mut exchange, Ended::Fin, clock.ms(3));
    assert_eq!(
        not_sent(exchange),
        told(3, "the server closed the connection during request 1")
    );

    let mut exchange = started(&four, &clock, clock.ms(1));
    exchange.advance(clock.ms(1) + TIMEOUT);
    assert_eq!(not_sent(exchange), told(3, "request 1 timed out"));

    let mut exchange = started(&four, &clock, clock.ms(1));
    receive(&mut exchange, b"SSH-2.0-OpenSSH_9.6\r\n", clock.ms(2));
    assert_eq!(
        not_sent(exchange),
        told(
            3,
            "the response to request 1 is not HTTP; the probe closed the connection"
        )
    );

    let mut exchange = Exchange::new(&four, clock.0);
    exchange.advance(clock.0 + TIMEOUT);
    assert_eq!(not_sent(exchange), told(3, "the connect timed out"));

    let mut exchange = Exchange::new(&four, clock.0);
    exchange.connect_failed(&io::ErrorKind::ConnectionRefused.into(), clock.ms(1));
    assert_eq!(not_sent(exchange), told(3, "the connection was refused"));

    // Request 1 answered, the idle connection closed, request 2 sent into it.
    let mut exchange = started(&four, &clock, clock.ms(1));
    receive(&mut exchange, OK, clock.ms(2));
    end(&mut exchange, Ended::Fin, clock.ms(50));
    exchange.advance(clock.ms(102));
    send_all(&mut exchange, clock.ms(102));
    assert_eq!(
        not_sent(exchange),
        told(2, "the server had closed the connection before request 2 was sent")
    );

    // The last request's end leaves none unsent.
    let one = plan(1, Duration::ZERO);
    let mut exchange = started(&one, &clock, clock.ms(1));
    end(&mut exchange, Ended::Rst, clock.ms(3));
    assert_eq!(not_sent(exchange), None);
}
