//! The exchange over HTTP/2 (`--http2`), driven through time without a
//! network: the server's frames fed as a socket would bring them, and
//! the story the probe would report: what settled the stream, how the
//! connection's end is told, what the probe wrote back, and the bounds.

use super::*;
use crate::h2::error::ErrorCode;
use crate::h2::frame::{self, Ack, EndHeaders, EndStream, Frame, FrameReader, Read};
use crate::h2::hpack;
use crate::probe::h2::marks::{FrameMark, Sender};
use crate::probe::report;
use crate::probe::request::build_h2_request;

const LINGER: Duration = Duration::from_millis(50);

/// A plan of one HTTP/2 request with `body`.
fn plan_h2(body: Body) -> Plan {
    let target = Target::parse("127.0.0.1:9").unwrap();
    let mut plan = plan(1, Duration::ZERO);
    let request = build_h2_request(&target, None, &[], &body).unwrap();
    plan.request = crate::scenario::ast::Payload::default();
    plan.request_line = request.line.clone();
    plan.http2 = Some(request);
    plan
}

/// Write everything the exchange has now, as a socket that takes it all;
/// the frames written.
fn write_all(exchange: &mut Exchange, now: Instant) -> Vec<Frame> {
    let mut bytes = Vec::new();
    while let Some(out) = exchange.outgoing() {
        while let Some(chunk) = out.chunk() {
            let n = chunk.len();
            bytes.extend_from_slice(chunk);
            out.advance(n);
        }
        exchange.sent(now);
    }
    let mut rest: &[u8] = &bytes;
    if let Some(after) = rest.strip_prefix(crate::h2::preface::PREFACE.as_slice()) {
        rest = after;
    }
    let reader = FrameReader::new(frame::MAX_MAX_FRAME_SIZE);
    let mut frames = Vec::new();
    while let Read::Frame(frame, used) = reader.read(rest) {
        frames.push(frame);
        rest = &rest[used..];
    }
    assert!(rest.is_empty(), "the probe wrote what is not frames");
    frames
}

/// Connected at 1 ms, the request written.
fn started_h2<'p>(plan: &'p Plan, clock: &Clock) -> Exchange<'p> {
    let mut exchange = Exchange::new(plan, clock.0);
    exchange.connected(clock.ms(1));
    let frames = write_all(&mut exchange, clock.ms(1));
    assert!(matches!(
        frames[..],
        [Frame::Settings { .. }, Frame::Headers { .. }, ..]
    ));
    exchange.advance(clock.ms(1));
    exchange
}

/// The server's frames arrive at `now`; the probe answers at once.
fn server(exchange: &mut Exchange, frames: &[Frame], now: Instant) -> Vec<Frame> {
    let mut bytes = Vec::new();
    for frame in frames {
        frame.encode(&mut bytes);
    }
    exchange.received(&bytes, now);
    let answers = write_all(exchange, now);
    exchange.advance(now);
    answers
}

fn settings() -> Frame {
    Frame::Settings {
        ack: Ack::No,
        params: vec![(frame::setting::MAX_CONCURRENT_STREAMS, 100)],
    }
}

fn head(status: &str, end_stream: EndStream) -> Frame {
    let mut block = Vec::new();
    hpack::encode([(b":status".as_slice(), status.as_bytes())], &mut block);
    Frame::Headers {
        stream: 1,
        block,
        end_stream,
        end_headers: EndHeaders::Yes,
        priority: None,
        pad: None,
    }
}

fn data(len: usize, end_stream: EndStream) -> Frame {
    Frame::Data {
        stream: 1,
        data: vec![b'x'; len],
        end_stream,
        pad: None,
    }
}

fn goaway(last_stream: u32, code: ErrorCode, debug: &str) -> Frame {
    Frame::GoAway {
        last_stream,
        code,
        debug: debug.as_bytes().to_vec(),
    }
}

fn text(report: &ProbeReport) -> String {
    report::text(report, TIMEOUT, LINGER)
}

/// What the server sent, how the connection ended (`None`: it did not),
/// and the outcome, its phase and code, and the end.
type H2Case = (
    Vec<Frame>,
    Option<Ended>,
    Outcome,
    Option<Phase>,
    Option<ErrorCode>,
    End,
);

#[test]
fn what_settles_the_stream_and_how_the_connection_ended_are_told() {
    let no = EndStream::No;
    let cases: Vec<H2Case> = vec![
        (
            vec![settings(), head("200", no), data(5, EndStream::Yes)],
            None,
            Outcome::Complete,
            None,
            None,
            End::Open,
        ),
        (
            vec![settings(), head("204", EndStream::Yes)],
            Some(Ended::Fin),
            Outcome::Complete,
            None,
            None,
            End::PeerFin,
        ),
        (
            vec![settings(), head("200", no), data(100, no)],
            Some(Ended::Fin),
            Outcome::Truncated,
            None,
            None,
            End::PeerFin,
        ),
        (
            vec![settings(), goaway(0, ErrorCode::NO_ERROR, "bye")],
            Some(Ended::Fin),
            Outcome::GoAway,
            None,
            Some(ErrorCode::NO_ERROR),
            End::PeerFin,
        ),
        (
            vec![
                settings(),
                head("200", no),
                Frame::RstStream {
                    stream: 1,
                    code: ErrorCode::INTERNAL_ERROR,
                },
            ],
            None,
            Outcome::StreamReset,
            None,
            Some(ErrorCode::INTERNAL_ERROR),
            End::Open,
        ),
        (
            vec![
                settings(),
                head("200", no),
                goaway(1, ErrorCode::ENHANCE_YOUR_CALM, "too_many_pings"),
            ],
            Some(Ended::Fin),
            Outcome::GoAway,
            None,
            Some(ErrorCode::ENHANCE_YOUR_CALM),
            End::PeerFin,
        ),
        (
            vec![settings(), head("200", no), data(10, no)],
            Some(Ended::Rst),
            Outcome::Reset,
            Some(Phase::MidBody),
            None,
            End::PeerRst,
        ),
        (
            vec![
                settings(),
                Frame::Headers {
                    stream: 1,
                    block: vec![0x88],
                    end_stream: no,
                    end_headers: EndHeaders::No,
                    priority: None,
                    pad: None,
                },
            ],
            Some(Ended::Rst),
            Outcome::Reset,
            Some(Phase::MidHead),
            None,
            End::PeerRst,
        ),
        (
            vec![settings()],
            Some(Ended::Rst),
            Outcome::Reset,
            Some(Phase::BeforeResponse),
            None,
            End::PeerRst,
        ),
        (
            vec![settings()],
            Some(Ended::Fin),
            Outcome::Empty,
            None,
            None,
            End::PeerFin,
        ),
        (vec![], Some(Ended::Fin), Outcome::Empty, None, None, End::PeerFin),
    ];
    for (frames, how, want, phase, code, ended) in cases {
        let clock = Clock::new();
        let plan = plan_h2(Body::None);
        let mut exchange = started_h2(&plan, &clock);
        server(&mut exchange, &frames, clock.ms(2));
        match &how {
            Some(how) => end(&mut exchange, how.clone(), clock.ms(3)),
            None => exchange.advance(clock.ms(100)),
        }
        assert!(exchange.is_done(), "{frames:?} {how:?}");
        let report = exchange.into_report();
        let last = report.last();
        assert_eq!(
            (last.outcome, last.phase, last.h2_error, last.ended),
            (want, phase, code, ended),
            "{frames:?} {how:?}\n{}",
            text(&report)
        );
    }
}

#[test]
fn a_truncation_says_how_many_data_bytes_came_before_the_end() {
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let mut exchange = started_h2(&plan, &clock);
    server(
        &mut exchange,
        &[
            settings(),
            head("200", EndStream::No),
            data(100, EndStream::No),
            goaway(1, ErrorCode::NO_ERROR, ""),
        ],
        clock.ms(2),
    );
    end(&mut exchange, Ended::Fin, clock.ms(3));
    let text = text(&exchange.into_report());
    assert!(
        text.contains("ended     the connection closed before END_STREAM after 100 DATA bytes: FIN from server after "),
        "{text}"
    );
    assert!(text.contains("received  "), "{text}");
    assert!(text.contains(" HTTP/2 200, body 100 B, no END_STREAM\n"), "{text}");
    assert!(text.contains("frame     GOAWAY last-stream 1 NO_ERROR\n"), "{text}");
    assert!(text.ends_with("outcome   truncated\n"), "{text}");
    assert!(
        text.starts_with(
            "http2     h2c, with prior knowledge\nsettings  from the server: MAX_CONCURRENT_STREAMS 100\n"
        ),
        "{text}"
    );
}

#[test]
fn settings_and_pings_are_answered_and_drawn_in_order() {
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let mut exchange = started_h2(&plan, &clock);
    let answers = server(
        &mut exchange,
        &[
            settings(),
            Frame::Ping {
                ack: Ack::No,
                data: [3; 8],
            },
        ],
        clock.ms(2),
    );
    assert_eq!(
        answers,
        vec![
            Frame::Settings {
                ack: Ack::Yes,
                params: vec![]
            },
            Frame::Ping {
                ack: Ack::Yes,
                data: [3; 8]
            },
        ]
    );
    server(&mut exchange, &[head("200", EndStream::Yes)], clock.ms(3));
    exchange.advance(clock.ms(100));
    let report = exchange.into_report();
    let frames: Vec<(Sender, String)> = report
        .timeline
        .iter()
        .filter_map(|m| match &m.what {
            MarkKind::Frame { from, frame } => Some((*from, frame.label())),
            _ => None,
        })
        .collect();
    let want = [
        (Sender::Probe, "preface, SETTINGS ENABLE_PUSH 0"),
        (Sender::Probe, "HEADERS GET / (end-stream)"),
        (Sender::Server, "SETTINGS MAX_CONCURRENT_STREAMS 100"),
        (Sender::Server, "PING"),
        (Sender::Probe, "SETTINGS ACK"),
        (Sender::Probe, "PING ACK"),
        (Sender::Server, "HEADERS 200 (end-stream)"),
    ];
    let want: Vec<(Sender, String)> = want.iter().map(|(s, l)| (*s, l.to_string())).collect();
    assert_eq!(frames, want);
    assert_eq!(report.last().outcome, Outcome::Complete);
}

#[test]
fn a_server_that_breaks_the_rules_gets_a_goaway_and_the_probe_closes() {
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let mut exchange = started_h2(&plan, &clock);
    exchange.received(b"HTTP/1.1 400 Bad Request\r\n\r\n", clock.ms(2));
    exchange.advance(clock.ms(2));
    assert!(exchange.is_done());
    // The session writes what is left before it closes: the GOAWAY.
    assert_eq!(
        write_all(&mut exchange, clock.ms(2)),
        vec![Frame::GoAway {
            last_stream: 0,
            code: ErrorCode::PROTOCOL_ERROR,
            debug: vec![]
        }]
    );
    let report = exchange.into_report();
    let last = report.last();
    assert_eq!((last.outcome, last.ended), (Outcome::Error, End::Open));
    assert_eq!(
        last.problem.as_deref(),
        Some(
            "the server answered in HTTP/1: `HTTP/1.1 400 Bad Request` (it does not speak HTTP/2 with prior \
             knowledge); the probe sent GOAWAY PROTOCOL_ERROR"
        )
    );
    let text = text(&report);
    assert!(text.contains("ended     still open; the probe closed it "), "{text}");
    assert!(text.contains(", as what came is not HTTP/2\n"), "{text}");
}

#[test]
fn nothing_decisive_is_a_timeout() {
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let mut exchange = started_h2(&plan, &clock);
    server(&mut exchange, &[settings()], clock.ms(2));
    assert_eq!(exchange.poll_at(), Some(clock.ms(1) + TIMEOUT));
    exchange.advance(clock.ms(1) + TIMEOUT);
    let report = exchange.into_report();
    assert_eq!(report.last().outcome, Outcome::Timeout);
}

#[test]
fn the_body_goes_as_the_servers_windows_open() {
    let clock = Clock::new();
    let plan = plan_h2(Body::Generated(100_000));
    let mut exchange = Exchange::new(&plan, clock.0);
    exchange.connected(clock.ms(1));
    let sent: usize = write_all(&mut exchange, clock.ms(1))
        .iter()
        .map(|f| match f {
            Frame::Data { data, .. } => data.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(sent, 65_535, "the default window, no more");
    let answers = server(
        &mut exchange,
        &[
            settings(),
            Frame::WindowUpdate {
                stream: 0,
                increment: 40_000,
            },
            Frame::WindowUpdate {
                stream: 1,
                increment: 40_000,
            },
        ],
        clock.ms(2),
    );
    let more: Vec<(usize, EndStream)> = answers
        .iter()
        .filter_map(|f| match f {
            Frame::Data { data, end_stream, .. } => Some((data.len(), *end_stream)),
            _ => None,
        })
        .collect();
    assert_eq!(more.iter().map(|(n, _)| n).sum::<usize>(), 100_000 - 65_535);
    assert_eq!(more.last().map(|(_, end)| *end), Some(EndStream::Yes));
    server(&mut exchange, &[head("200", EndStream::Yes)], clock.ms(3));
    exchange.advance(clock.ms(100));
    let report = exchange.into_report();
    let last = report.last();
    assert_eq!(last.outcome, Outcome::Complete);
    let stream = last.stream.as_ref().unwrap();
    assert_eq!((stream.body_sent, stream.body_total), (100_000, 100_000));
    assert_eq!(last.sent_ms, Some(2.0), "sent when the last DATA went");
}

#[test]
fn the_upload_stops_once_the_server_refused_the_stream() {
    let clock = Clock::new();
    let plan = plan_h2(Body::Generated(100_000));
    let mut exchange = Exchange::new(&plan, clock.0);
    exchange.connected(clock.ms(1));
    write_all(&mut exchange, clock.ms(1));
    let answers = server(
        &mut exchange,
        &[
            settings(),
            goaway(0, ErrorCode::NO_ERROR, ""),
            Frame::WindowUpdate {
                stream: 0,
                increment: 40_000,
            },
            Frame::WindowUpdate {
                stream: 1,
                increment: 40_000,
            },
        ],
        clock.ms(2),
    );
    assert!(!answers.iter().any(|f| matches!(f, Frame::Data { .. })), "{answers:?}");
    exchange.advance(clock.ms(100));
    let report = exchange.into_report();
    assert_eq!(report.last().outcome, Outcome::GoAway);
    assert_eq!(report.last().stream.as_ref().unwrap().body_sent, 65_535);
}

#[test]
fn a_data_flood_is_drawn_within_bounds() {
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let mut exchange = started_h2(&plan, &clock);
    server(&mut exchange, &[settings(), head("200", EndStream::No)], clock.ms(2));
    for i in 0..2000 {
        server(
            &mut exchange,
            &[data(1, EndStream::No)],
            clock.ms(3) + Duration::from_micros(i),
        );
        server(
            &mut exchange,
            &[Frame::Ping {
                ack: Ack::No,
                data: [0; 8],
            }],
            clock.ms(3) + Duration::from_micros(i),
        );
    }
    end(&mut exchange, Ended::Fin, clock.ms(5));
    let report = exchange.into_report();
    assert!(report.timeline.len() < 200, "{} marks", report.timeline.len());
    let more: u64 = report
        .timeline
        .iter()
        .filter_map(|m| match m.what {
            MarkKind::MoreFrames { frames, .. } => Some(frames),
            _ => None,
        })
        .sum();
    let drawn = report
        .timeline
        .iter()
        .filter(|m| matches!(m.what, MarkKind::Frame { .. }))
        .count() as u64;
    // Every frame either side sent is drawn or counted, but the probe's
    // WINDOW_UPDATEs.
    let h2 = report.http2.as_ref().unwrap();
    assert_eq!(
        drawn + more,
        h2.frames_received + h2.frames_sent - h2.window_updates_sent
    );
    assert_eq!(report.last().body_bytes, 2000);
    assert_eq!(report.last().outcome, Outcome::Truncated);
}

#[test]
fn over_tls_http2_is_spoken_only_when_alpn_chose_h2() {
    for (alpn, problem) in [
        (Some("http/1.1"), "ALPN chose http/1.1, not h2"),
        (None, "ALPN chose nothing, not h2"),
    ] {
        let clock = Clock::new();
        let plan = plan_h2(Body::None);
        let tls = crate::probe::tls::TlsReport::new("localhost".into(), None, "ca.pem".into(), false);
        let mut exchange = Exchange::new(&plan, clock.0).with_tls(tls);
        exchange.connected(clock.ms(1));
        let agreed = crate::tls::Handshake {
            version: "1.3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            alpn: alpn.map(str::to_string),
            sni: None,
        };
        exchange.handshake_done(agreed, None, clock.ms(2));
        assert!(exchange.is_done());
        assert!(exchange.outgoing().is_none(), "not a byte of HTTP/2");
        let report = exchange.into_report();
        let last = report.last();
        assert_eq!((last.outcome, last.problem.as_deref()), (Outcome::Error, Some(problem)));
        let text = text(&report);
        assert!(text.contains("\nhttp2     not spoken: the server chose "), "{text}");
        assert!(
            text.contains(
                "ended     still open; the probe closed it 2.0 ms after connecting, as ALPN did not choose h2\n"
            ),
            "{text}"
        );
    }
    // And it is when ALPN chose h2.
    let clock = Clock::new();
    let plan = plan_h2(Body::None);
    let tls = crate::probe::tls::TlsReport::new("localhost".into(), None, "ca.pem".into(), false);
    let mut exchange = Exchange::new(&plan, clock.0).with_tls(tls);
    exchange.connected(clock.ms(1));
    assert!(exchange.outgoing().is_none(), "nothing before the handshake");
    let agreed = crate::tls::Handshake {
        version: "1.3".into(),
        cipher: "TLS13_AES_128_GCM_SHA256".into(),
        alpn: Some("h2".into()),
        sni: None,
    };
    exchange.handshake_done(agreed, None, clock.ms(2));
    let frames = write_all(&mut exchange, clock.ms(2));
    assert!(matches!(frames[..], [Frame::Settings { .. }, Frame::Headers { .. }]));
    let report = {
        server(&mut exchange, &[settings(), head("200", EndStream::Yes)], clock.ms(3));
        exchange.advance(clock.ms(100));
        exchange.into_report()
    };
    assert_eq!(report.last().outcome, Outcome::Complete);
    assert!(text(&report).contains("http2     h2, by ALPN\n"));
    let first = report.timeline.iter().find_map(|m| match &m.what {
        MarkKind::Frame { frame, .. } => Some(frame.clone()),
        _ => None,
    });
    assert!(matches!(first, Some(FrameMark::Preface { .. })));
}
