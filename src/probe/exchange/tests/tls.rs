//! The exchange under TLS, driven through time without a network: the
//! handshake's end (done, or how it failed, or its timeout), and how the
//! server ended the connection at the TLS layer (close_notify, an alert,
//! neither) with the TCP end that followed.

use super::*;
use crate::probe::report;
use crate::probe::tls::{Closing, HandshakeFailure, TlsEnd, TlsReport};

const LINGER: Duration = Duration::from_millis(50);

fn tls_report() -> TlsReport {
    TlsReport::new("localhost".into(), Some("localhost".into()), "ca.pem".into(), false)
}

fn agreed() -> crate::tls::Handshake {
    crate::tls::Handshake {
        version: "1.3".into(),
        cipher: "TLS13_AES_128_GCM_SHA256".into(),
        alpn: Some("http/1.1".into()),
        sni: None,
    }
}

/// Connected at 1 ms, its ClientHello (300 B) written at once.
fn handshaking<'p>(plan: &'p Plan, clock: &Clock) -> Exchange<'p> {
    let mut exchange = Exchange::new(plan, clock.0).with_tls(tls_report());
    exchange.connected(clock.ms(1));
    assert_eq!(exchange.stage(), Stage::Handshaking);
    assert!(exchange.outgoing().is_none(), "nothing is sent before the handshake");
    exchange.handshake_progress(300, 0, clock.ms(1));
    exchange
}

/// Handshake done at 5 ms, the request sent at once.
fn established<'p>(plan: &'p Plan, clock: &Clock) -> Exchange<'p> {
    let mut exchange = handshaking(plan, clock);
    exchange.handshake_done(agreed(), None, clock.ms(5));
    assert!(matches!(exchange.stage(), Stage::Exchanging { number: 1 }));
    send_all(&mut exchange, clock.ms(5));
    exchange
}

fn text(report: &ProbeReport) -> String {
    report::text(report, TIMEOUT, LINGER)
}

#[test]
fn close_notify_then_fin_is_the_well_behaved_end() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = established(&plan, &clock);
    receive(&mut exchange, OK, clock.ms(6));
    exchange.tls_closed(Closing::CloseNotify, clock.ms(7));
    exchange.advance(clock.ms(7));
    assert!(exchange.wants_read(), "the TCP end is still to be seen");
    assert!(exchange.tls_closed_seen());
    end(&mut exchange, Ended::Fin, clock.ms(8));
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Complete, None));
    assert_eq!(report.last().ended, End::PeerFin);
    let tls = report.tls.as_ref().expect("a TLS report");
    assert_eq!(tls.end, TlsEnd::CloseNotify);
    assert_eq!((tls.hello_bytes, tls.agreed.clone()), (Some(300), Some(agreed())));
    let text = text(&report);
    assert!(
        text.starts_with("tls       TLS 1.3, TLS13_AES_128_GCM_SHA256, ALPN http/1.1, SNI localhost\n"),
        "{text}"
    );
    assert!(
        text.contains("ended     close_notify then FIN from server after 43 B, 1.0 ms after the request\n"),
        "{text}"
    );
    assert!(!text.contains("warning"), "{text}");
    let kinds: Vec<&MarkKind> = report.timeline.iter().map(|m| &m.what).collect();
    assert!(
        matches!(kinds[..2], [MarkKind::Connected, MarkKind::TlsHello { bytes: 300 }]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&&MarkKind::CloseNotify), "{kinds:?}");
}

#[test]
fn a_fin_without_close_notify_is_said_with_who_refuses_it_and_recorded_so() {
    let clock = Clock::new();
    let mut plan = plan(1, Duration::ZERO);
    plan.record = true;
    let mut exchange = established(&plan, &clock);
    receive(&mut exchange, OK, clock.ms(6));
    end(&mut exchange, Ended::Fin, clock.ms(8));
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Complete, None));
    assert_eq!(report.tls.as_ref().map(|t| t.end), Some(TlsEnd::NoCloseNotify));
    let text = text(&report);
    assert!(
        text.contains("ended     FIN from server without close_notify after 43 B"),
        "{text}"
    );
    assert!(text.contains("warning   OpenSSL 3 and GnuTLS readers fail"), "{text}");
    let ending = report.recording.as_ref().and_then(|r| r.ending).map(|(e, _)| e);
    assert_eq!(ending, Some(record::Ending::CloseNoNotify));
}

#[test]
fn close_notify_mid_body_ends_the_data_and_the_fin_is_watched_for_the_linger() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = established(&plan, &clock);
    receive(&mut exchange, &OK[..40], clock.ms(6));
    exchange.tls_closed(Closing::CloseNotify, clock.ms(7));
    exchange.advance(clock.ms(7));
    assert!(!exchange.is_done());
    assert_eq!(exchange.poll_at(), Some(clock.ms(57)));
    exchange.advance(clock.ms(56));
    assert!(!exchange.is_done(), "not before the linger is over");
    exchange.advance(clock.ms(57));
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Truncated, None));
    assert_eq!(report.last().ended, End::Open);
    let text = text(&report);
    assert!(
        text.contains("ended     close_notify from server after 40 B, but no FIN within 50.0 ms; the probe closed it"),
        "{text}"
    );
}

#[test]
fn an_alert_mid_body_is_an_error_named_and_the_tcp_end_that_follows_is_said() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = established(&plan, &clock);
    receive(&mut exchange, &OK[..40], clock.ms(6));
    exchange.tls_closed(Closing::Alert(80), clock.ms(7));
    exchange.advance(clock.ms(7));
    // What the socket brings after the alert is no response data.
    receive(&mut exchange, b"lo", clock.ms(7));
    end(&mut exchange, Ended::Rst, clock.ms(8));
    let report = exchange.into_report();
    assert_eq!(report.last().outcome, Outcome::Error);
    assert_eq!(report.last().body_bytes, 2);
    assert_eq!(
        report.last().problem.as_deref(),
        Some("TLS alert internal_error from the server")
    );
    assert_eq!(report.tls.as_ref().map(|t| t.end), Some(TlsEnd::Alert(80)));
    let text = text(&report);
    assert!(
        text.contains("ended     alert internal_error then RST from server after 40 B"),
        "{text}"
    );
}

#[test]
fn each_handshake_failure_is_its_outcome_in_the_handshake_phase() {
    let cases = [
        (HandshakeFailure::Rst, Outcome::Reset, End::PeerRst, TlsEnd::Rst),
        (
            HandshakeFailure::Fin,
            Outcome::Empty,
            End::PeerFin,
            TlsEnd::NoCloseNotify,
        ),
        (
            HandshakeFailure::Alert(40),
            Outcome::Error,
            End::Error,
            TlsEnd::Alert(40),
        ),
        (HandshakeFailure::Rejected, Outcome::Error, End::Open, TlsEnd::Open),
        (HandshakeFailure::NotTls, Outcome::Error, End::Error, TlsEnd::Open),
    ];
    let clock = Clock::new();
    for (failure, want, ended, tls_end) in cases {
        let plan = plan(2, Duration::ZERO);
        let mut exchange = handshaking(&plan, &clock);
        exchange.handshake_failed(failure.clone(), None, clock.ms(3));
        assert!(exchange.is_done(), "{failure:?}");
        let report = exchange.into_report();
        assert_eq!(outcome(&report, 1), (want, Some(Phase::Handshake)), "{failure:?}");
        assert_eq!(report.last().ended, ended, "{failure:?}");
        assert_eq!(report.last().sent_bytes, 0);
        let tls = report.tls.as_ref().expect("a TLS report");
        assert_eq!((tls.end, tls.failure.as_ref()), (tls_end, Some(&failure)));
        assert_eq!(
            report.not_sent,
            Some((1, "the TLS handshake failed".to_string())),
            "{failure:?}"
        );
    }
}

#[test]
fn the_handshake_has_the_timeout_from_the_connect_and_the_request_its_own_after() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = handshaking(&plan, &clock);
    assert_eq!(exchange.poll_at(), Some(clock.ms(1) + TIMEOUT));
    exchange.advance(clock.ms(1) + TIMEOUT - Duration::from_millis(1));
    assert_eq!(exchange.stage(), Stage::Handshaking);
    exchange.advance(clock.ms(1) + TIMEOUT);
    let report = exchange.into_report();
    assert_eq!(outcome(&report, 1), (Outcome::Timeout, Some(Phase::Handshake)));
    let text = text(&report);
    assert!(
        text.starts_with("tls       handshake failed: no answer to the ClientHello (300 B) within 10.00 s\n"),
        "{text}"
    );

    let mut exchange = handshaking(&plan, &clock);
    exchange.handshake_done(agreed(), None, clock.ms(9_000));
    assert_eq!(exchange.poll_at(), Some(clock.ms(9_000) + TIMEOUT));
}

#[test]
fn nothing_tls_says_before_the_handshake_or_after_the_end_counts() {
    let clock = Clock::new();
    let plan = plan(1, Duration::ZERO);
    let mut exchange = handshaking(&plan, &clock);
    exchange.tls_closed(Closing::CloseNotify, clock.ms(2));
    assert!(!exchange.tls_closed_seen(), "no close_notify before the handshake");
    exchange.handshake_done(agreed(), None, clock.ms(3));
    send_all(&mut exchange, clock.ms(3));
    receive(&mut exchange, OK, clock.ms(4));
    end(&mut exchange, Ended::Rst, clock.ms(5));
    exchange.tls_closed(Closing::Alert(80), clock.ms(6));
    let report = exchange.into_report();
    assert_eq!(report.tls.as_ref().map(|t| t.end), Some(TlsEnd::Rst));
}
