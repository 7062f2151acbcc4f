//! A probe's report as text or JSON, the summary of many probes, and the
//! check of `--expect` flags.

use std::fmt::Write as _;
use std::time::Duration;

use super::h2::marks::code_name;
use super::outcome::{MarkKind, Outcome, Phase, ProbeReport, RequestReport, SHOWN_REQUESTS, Violation};
use super::tls::{TlsEnd, alert_name};
use super::tls_report;
use crate::end::End;
use crate::h2::error::ErrorCode;
use crate::http::response::Framing;
use crate::log::push_json_string;
use crate::units::Fixed;

/// What `--expect`, `--expect-status`, `--expect-body-bytes`,
/// `--expect-verdict` and `--expect-tls-end` ask for.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub outcome: Option<Outcome>,
    /// With the outcome, when it says one: `reset (mid-body)`.
    pub phase: Option<Phase>,
    /// With `stream-reset` or `goaway`, when it says one:
    /// `stream-reset (INTERNAL_ERROR)`.
    pub h2_error: Option<ErrorCode>,
    pub status: Option<u16>,
    pub body_bytes: Option<u64>,
    /// The certificate's verdict, by name (`expired`).
    pub verdict: Option<&'static str>,
    pub tls_end: Option<TlsEndWanted>,
}

/// `--expect-tls-end`: how the server is to end TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsEndWanted {
    /// The end's name ([`TlsEnd::name`]).
    pub end: &'static str,
    /// For `alert`: which one, if said.
    pub alert: Option<u8>,
}

impl TlsEndWanted {
    fn matches(self, got: TlsEnd) -> bool {
        match (got, self.alert) {
            (TlsEnd::Alert(alert), Some(wanted)) => alert == wanted,
            _ => got.name() == self.end,
        }
    }

    fn text(self) -> String {
        match self.alert {
            Some(alert) => format!("{} {}", self.end, alert_name(alert)),
            None => self.end.to_string(),
        }
    }
}

/// `alert internal_error`, `close-notify`, …
fn tls_end_text(end: TlsEnd) -> String {
    match end {
        TlsEnd::Alert(alert) => format!("alert {}", alert_name(alert)),
        other => other.name().to_string(),
    }
}

impl Expect {
    pub fn is_empty(&self) -> bool {
        self.outcome.is_none()
            && self.status.is_none()
            && self.body_bytes.is_none()
            && self.verdict.is_none()
            && self.tls_end.is_none()
    }

    /// `Err(why)` when the probe's last request does not match.
    pub fn check(&self, report: &ProbeReport) -> Result<(), String> {
        let last = report.last();
        let mut wrong = Vec::new();
        let phase_wrong = self.phase.is_some_and(|p| Some(p) != last.phase);
        let code_wrong = self.h2_error.is_some_and(|c| Some(c) != last.h2_error);
        if let Some(want) = self.outcome.filter(|o| *o != last.outcome || phase_wrong || code_wrong) {
            let want = match (self.phase, self.h2_error) {
                (Some(phase), _) => format!("{} ({})", want.name(), phase.name()),
                (None, Some(code)) => format!("{} ({})", want.name(), code_name(code)),
                (None, None) => want.name().to_string(),
            };
            wrong.push(format!("expected {want}, got {}", outcome_text(last)));
        }
        if let Some(want) = self.status.filter(|s| Some(*s) != last.status()) {
            let got = last.status().map_or("no status".to_string(), |s| format!("status {s}"));
            wrong.push(format!("expected status {want}, got {got}"));
        }
        if let Some(want) = self.body_bytes.filter(|b| *b != last.body_bytes) {
            wrong.push(format!("expected {want} body bytes, got {}", last.body_bytes));
        }
        let tls = report.tls.as_ref();
        if let Some(want) = self.verdict {
            let got = tls.and_then(|t| t.presented.as_ref()).map(|p| p.verdict.name());
            if got != Some(want) {
                let got = got.map_or("no certificate".to_string(), |v| format!("verdict {v}"));
                wrong.push(format!("expected verdict {want}, got {got}"));
            }
        }
        if let Some(want) = self.tls_end {
            let got = tls.map(|t| t.end);
            if !got.is_some_and(|end| want.matches(end)) {
                let got = got.map_or("no TLS".to_string(), tls_end_text);
                wrong.push(format!("expected TLS end {}, got {got}", want.text()));
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("; "))
        }
    }
}

/// `reset (mid-body)`, `complete`, `stream-reset (INTERNAL_ERROR)`, …
pub fn outcome_text(request: &RequestReport) -> String {
    match (request.phase, request.h2_error) {
        (Some(phase), _) => format!("{} ({})", request.outcome.name(), phase.name()),
        (None, Some(code)) => format!("{} ({})", request.outcome.name(), code_name(code)),
        (None, None) => request.outcome.name().to_string(),
    }
}

fn ms(value: f64) -> String {
    if value >= 1000.0 {
        format!("{} s", Fixed::new(value / 1000.0, 2))
    } else {
        format!("{} ms", Fixed::new(value, 1))
    }
}

pub(super) fn duration(d: Duration) -> String {
    ms(d.as_secs_f64() * 1000.0)
}

/// The human report: the TLS lines for `https://`, then a few aligned
/// lines per request.
pub fn text(report: &ProbeReport, timeout: Duration, linger: Duration) -> String {
    let mut out = String::new();
    if let Some(tls) = &report.tls {
        for (label, text) in tls_report::lines(tls, timeout) {
            let _ = writeln!(out, "{label:<9} {text}");
        }
    }
    if let Some(h2) = &report.http2 {
        for (label, text) in h2.lines() {
            let _ = writeln!(out, "{label:<9} {text}");
        }
    }
    let several = report.requests.len() > 1 || report.last().number > 1;
    for (index, request) in report.requests.iter().enumerate() {
        let is_last = index + 1 == report.requests.len();
        // How TLS ended is the connection's, so the last request's.
        let tls_end = report.tls.as_ref().filter(|_| is_last).map(|tls| tls.end);
        if is_last && let Some(counts) = not_shown_text(report) {
            let _ = writeln!(
                out,
                "requests {}-{} not shown: {counts}",
                SHOWN_REQUESTS + 1,
                request.number - 1
            );
        }
        let indent = if several {
            let socket = if request.reused {
                "reused connection"
            } else {
                "new connection"
            };
            let _ = writeln!(out, "request {} ({socket})", request.number);
            "  "
        } else {
            ""
        };
        let mut line = |label: &str, text: String| {
            let _ = writeln!(out, "{indent}{label:<9} {text}");
        };
        if let Some(stream) = &request.stream {
            line(
                "sent",
                format!(
                    "{:<9} {}",
                    bytes(request.sent_bytes),
                    stream.sent_text(&request.request_line)
                ),
            );
        } else if request.sent_bytes > 0 || request.sent_ms.is_some() {
            let partial = if request.sent_bytes < request.request_bytes {
                format!(" (of {} B)", request.request_bytes)
            } else {
                String::new()
            };
            line(
                "sent",
                format!("{:<9} {}{partial}", bytes(request.sent_bytes), request.request_line),
            );
        }
        if request.outcome != Outcome::Refused && request.phase != Some(Phase::Handshake) {
            line(
                "received",
                format!("{:<9} {}", bytes(request.received_bytes), received_text(request)),
            );
        }
        if is_last && let Some(h2) = &report.http2 {
            // The GOAWAYs and RST_STREAMs are the connection's.
            for frame in h2.frame_lines() {
                line("frame", frame);
            }
        }
        let ended = match request.idle_end_ms {
            // The server gave up on the idle connection before the next
            // request: that is how this one's connection ended.
            Some(at) => format!(
                "{} from server {} after the response, while the connection was idle",
                if request.ended == End::PeerRst { "RST" } else { "FIN" },
                ms(at - request.end_ms)
            ),
            None if request.ended == End::Open && !is_last => "kept open for the next request".to_string(),
            None => ended_text(request, tls_end, timeout, linger),
        };
        line("ended", ended);
        line("outcome", outcome_text(request));
        if tls_end == Some(TlsEnd::NoCloseNotify) && request.phase != Some(Phase::Handshake) {
            line("warning", tls_report::NO_CLOSE_NOTIFY.to_string());
        }
        for violation in &request.violations {
            line("warning", violation_text(violation));
        }
    }
    if let Some((count, why)) = &report.not_sent {
        let _ = writeln!(out, "not sent  {count} more request(s): {why}");
    }
    out
}

/// `node refuses: 31 bytes after the 5-byte body (at byte 93)`.
pub fn violation_text(violation: &Violation) -> String {
    let who = match violation.refused_by.as_slice() {
        [] => String::new(),
        [one] => format!("{one} refuses: "),
        many => format!("{} refuse: ", many.join(" and ")),
    };
    format!("{who}{} (at byte {})", violation.what, violation.offset)
}

/// The outcomes of the requests a long run did not keep, counted:
/// `999 complete, 1 reset`; `None` when every request is shown.
fn not_shown_text(report: &ProbeReport) -> Option<String> {
    let counts: Vec<String> = report
        .not_shown
        .iter()
        .map(|(outcome, n)| format!("{n} {}", outcome.name()))
        .collect();
    (!counts.is_empty()).then(|| counts.join(", "))
}

fn bytes(n: u64) -> String {
    format!("{n} B")
}

fn received_text(request: &RequestReport) -> String {
    if let Some(stream) = &request.stream {
        let text = if request.received_bytes == 0 {
            "nothing".to_string()
        } else {
            stream.received_text(request.body_bytes)
        };
        return match &request.problem {
            Some(problem) if request.outcome == Outcome::Error && stream.status.is_none() => problem.clone(),
            Some(problem) if request.outcome == Outcome::Error => format!("{text}; {problem}"),
            _ => text,
        };
    }
    if let Some(problem) = &request.problem
        && request.outcome == Outcome::Error
        && request.head.is_none()
    {
        return problem.clone();
    }
    let Some(head) = &request.head else {
        return if request.received_bytes == 0 {
            "nothing".to_string()
        } else {
            "an incomplete head".to_string()
        };
    };
    let complete = request.outcome == Outcome::Complete;
    let body = match head.framing {
        Framing::None => "no body".to_string(),
        Framing::Length(n) => format!("Content-Length: {n}, body {} of {n} B", request.body_bytes),
        Framing::Chunked if complete => format!("chunked, body {} B", request.body_bytes),
        Framing::Chunked => format!("chunked, body {} B, no last chunk", request.body_bytes),
        Framing::UntilClose => format!("body {} B until close", request.body_bytes),
    };
    let text = format!("HTTP/1.{} {} {}, {body}", head.version, head.status, head.reason);
    match &request.problem {
        // What broke the response after its head, or the JSON alone says it.
        Some(problem) if request.outcome == Outcome::Error => format!("{text}; {problem}"),
        _ => text,
    }
}

/// How the connection ended, with `tls_end` (how the server ended TLS)
/// for the last request of an `https://` probe; over HTTP/2, a FIN or
/// RST before END_STREAM says so first.
fn ended_text(request: &RequestReport, tls_end: Option<TlsEnd>, timeout: Duration, linger: Duration) -> String {
    let text = connection_ended_text(request, tls_end, timeout, linger);
    let cut = matches!(request.outcome, Outcome::Truncated | Outcome::Empty | Outcome::Reset);
    match (&request.stream, request.ended) {
        (Some(stream), End::PeerFin | End::PeerRst) if cut && !stream.end_stream => {
            let how = if request.ended == End::PeerFin {
                "closed"
            } else {
                "was reset"
            };
            format!(
                "the connection {how} before END_STREAM after {} DATA bytes: {text}",
                request.body_bytes
            )
        }
        _ => text,
    }
}

fn connection_ended_text(
    request: &RequestReport,
    tls_end: Option<TlsEnd>,
    timeout: Duration,
    linger: Duration,
) -> String {
    let after = match request.sent_ms {
        Some(_) => format!("{} after the request", ms(request.ms_to_end())),
        None => format!("{} after connecting", ms(request.end_ms)),
    };
    let received = request.received_bytes;
    if request.phase == Some(Phase::Handshake) {
        return match request.ended {
            End::PeerRst => format!("RST from server during the TLS handshake, {after}"),
            End::PeerFin => format!("FIN from server during the TLS handshake, {after}"),
            End::Timeout => format!("no TLS handshake within {}", duration(timeout)),
            End::Open => format!("the probe closed it, refusing the certificate, {after}"),
            _ => match tls_end {
                Some(TlsEnd::Alert(alert)) => {
                    format!(
                        "alert {} from server during the TLS handshake, {after}",
                        alert_name(alert)
                    )
                }
                _ => format!("error: {}", request.problem.as_deref().unwrap_or("unknown")),
            },
        };
    }
    let said = tls_end.map(tls_report::closing_prefix).unwrap_or_default();
    match request.ended {
        End::PeerFin if tls_end == Some(TlsEnd::NoCloseNotify) => {
            format!("FIN from server without close_notify after {received} B, {after}")
        }
        End::Open if !said.is_empty() => format!(
            "{}from server after {received} B, but no FIN within {}; the probe closed it",
            said.trim_end_matches("then "),
            duration(linger)
        ),
        End::PeerRst if !said.is_empty() && request.phase != Some(Phase::AfterClose) => {
            format!("{said}RST from server after {received} B, {after}")
        }
        End::PeerFin if !said.is_empty() && request.phase != Some(Phase::AfterClose) => {
            format!("{said}FIN from server after {received} B, {after}")
        }
        _ => plain_ended_text(request, timeout, linger, &after),
    }
}

/// How the connection ended, TLS aside.
fn plain_ended_text(request: &RequestReport, timeout: Duration, linger: Duration, after: &str) -> String {
    let received = request.received_bytes;
    match request.ended {
        _ if request.phase == Some(Phase::AfterClose) => format!(
            "the server had already closed the connection ({} while it was idle) when this request was sent",
            if request.ended == End::PeerRst { "RST" } else { "FIN" }
        ),
        End::PeerRst if request.phase == Some(Phase::AtConnect) => format!(
            "RST from server as the connection was set up, before the request was sent, {}",
            after
        ),
        End::PeerRst if request.sent_bytes < request.request_bytes => format!(
            "RST from server while sending, after {} of {} B sent, {} after the request started",
            request.sent_bytes,
            request.request_bytes,
            ms(request.end_ms - request.start_ms)
        ),
        End::PeerRst => format!("RST from server after {received} B, {after}"),
        End::PeerFin => format!("FIN from server after {received} B, {after}"),
        End::Open if request.stream.is_some() || request.outcome == Outcome::Error => {
            let what = match request.outcome {
                Outcome::Complete => "the response",
                Outcome::StreamReset => "the RST_STREAM",
                Outcome::GoAway => "the GOAWAY",
                Outcome::Error if request.stream.as_ref().is_some_and(|s| s.reset_by_probe) => "the probe's RST_STREAM",
                Outcome::Error if request.stream.is_some() => {
                    return format!("still open; the probe closed it {after}, as what came is not HTTP/2");
                }
                Outcome::Error if request.problem.as_deref().is_some_and(|p| p.contains("ALPN")) => {
                    return format!("still open; the probe closed it {after}, as ALPN did not choose h2");
                }
                _ => return format!("still open; the probe closed it {after}, as what came is not HTTP"),
            };
            format!("still open {} after {what}; the probe closed it", duration(linger))
        }
        End::Open => format!(
            "still open {} after the response; the probe closed it",
            duration(linger)
        ),
        End::Timeout => format!("nothing decisive within {}", duration(timeout)),
        End::Refused => "connection refused".to_string(),
        End::Error => format!("error: {}", request.problem.as_deref().unwrap_or("unknown")),
        // The probe itself neither resets nor closes before it stops watching.
        End::Fin | End::Rst => format!("closed by the probe after {received} B"),
    }
}

/// How the connection ended, as the probe's JSON names it: from the
/// client's side the server is the only peer, so its FIN and RST are plain
/// `fin` and `rst` (the names scripts have relied on since the first probe).
fn ended_name(end: End) -> &'static str {
    match end {
        End::PeerFin => "fin",
        End::PeerRst => "rst",
        other => other.name(),
    }
}

/// One JSON object with every field (documented in docs/probe.md).
pub fn json(report: &ProbeReport) -> String {
    let mut out = String::from("{\"target\":");
    push_json_string(&mut out, report.target.as_bytes());
    let last = report.last();
    let _ = write!(out, ",\"outcome\":\"{}\",\"phase\":", last.outcome.name());
    push_opt_str(&mut out, last.phase.map(|p| p.name()));
    out.push_str(",\"h2_error\":");
    push_opt_str(&mut out, last.h2_error.map(code_name).as_deref());
    out.push_str(",\"requests\":[");
    for (i, r) in report.requests.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        request_json(&mut out, r);
    }
    out.push_str("],\"not_sent\":");
    match &report.not_sent {
        Some((count, why)) => {
            let _ = write!(out, "{{\"count\":{count},\"why\":");
            push_json_string(&mut out, why.as_bytes());
            out.push('}');
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"not_shown\":{");
    for (i, (outcome, n)) in report.not_shown.iter().enumerate() {
        let comma = if i > 0 { "," } else { "" };
        let _ = write!(out, "{comma}\"{}\":{n}", outcome.name());
    }
    out.push_str("},\"tls\":");
    match &report.tls {
        Some(tls) => tls_report::json(&mut out, tls),
        None => out.push_str("null"),
    }
    out.push_str(",\"http2\":");
    match &report.http2 {
        Some(h2) => super::h2::report::json(&mut out, h2, last.stream.as_ref(), last.body_bytes),
        None => out.push_str("null"),
    }
    out.push_str(",\"timeline\":[");
    for (i, mark) in report.timeline.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"ms\":{},\"event\":", Fixed::new(mark.ms, 3));
        match &mark.what {
            MarkKind::Connected => out.push_str("\"connected\""),
            MarkKind::Refused => out.push_str("\"refused\""),
            MarkKind::TlsHello { bytes } => {
                let _ = write!(out, "\"tls-hello\",\"bytes\":{bytes}");
            }
            MarkKind::TlsHandshake { version, cipher } => {
                out.push_str("\"tls-handshake\",\"version\":");
                push_json_string(&mut out, version.as_bytes());
                out.push_str(",\"cipher\":");
                push_json_string(&mut out, cipher.as_bytes());
            }
            MarkKind::TlsRejected { verdict } => {
                let _ = write!(out, "\"tls-rejected\",\"verdict\":\"{verdict}\"");
            }
            MarkKind::TlsAlert { alert } => {
                out.push_str("\"tls-alert\",\"alert\":");
                push_json_string(&mut out, super::tls::alert_name(*alert).as_bytes());
                let _ = write!(out, ",\"number\":{alert}");
            }
            MarkKind::CloseNotify => out.push_str("\"close-notify\""),
            MarkKind::Sent { number, bytes, .. } => {
                let _ = write!(out, "\"sent\",\"request\":{number},\"bytes\":{bytes}");
            }
            MarkKind::SendFailed { sent, total } => {
                let _ = write!(out, "\"send-failed\",\"sent\":{sent},\"total\":{total}");
            }
            MarkKind::Head {
                version, status, bytes, ..
            } => {
                let _ = write!(
                    out,
                    "\"head\",\"version\":\"1.{version}\",\"status\":{status},\"bytes\":{bytes}"
                );
            }
            MarkKind::Partial { bytes } => {
                let _ = write!(out, "\"partial-head\",\"bytes\":{bytes}");
            }
            MarkKind::Body { bytes, expected } => {
                let _ = write!(out, "\"body\",\"bytes\":{bytes},\"expected\":");
                push_opt_num(&mut out, *expected);
            }
            MarkKind::MorePieces {
                pieces,
                since_ms,
                bytes,
                expected,
                head,
            } => {
                let of = if *head { "head" } else { "body" };
                let _ = write!(
                    out,
                    "\"more-pieces\",\"of\":\"{of}\",\"pieces\":{pieces},\"since_ms\":{},\"bytes\":{bytes},\"expected\":",
                    Fixed::new(*since_ms, 3)
                );
                push_opt_num(&mut out, *expected);
            }
            MarkKind::ServerFin => out.push_str("\"server-fin\""),
            MarkKind::ServerRst => out.push_str("\"server-rst\""),
            MarkKind::ClientClose => out.push_str("\"client-close\""),
            MarkKind::Timeout => out.push_str("\"timeout\""),
            MarkKind::Error(e) => {
                out.push_str("\"error\",\"error\":");
                push_json_string(&mut out, e.as_bytes());
            }
            MarkKind::Frame { from, frame } => frame.json(*from, &mut out),
            MarkKind::MoreFrames {
                from,
                frames,
                since_ms,
                data_bytes,
            } => {
                let _ = write!(
                    out,
                    "\"h2-more-frames\",\"from\":\"{}\",\"frames\":{frames},\"since_ms\":{},\"data_bytes\":{data_bytes}",
                    from.name(),
                    Fixed::new(*since_ms, 3)
                );
            }
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

fn request_json(out: &mut String, r: &RequestReport) {
    let _ = write!(
        out,
        "{{\"number\":{},\"reused\":{},\"outcome\":\"{}\",\"phase\":",
        r.number,
        r.reused,
        r.outcome.name()
    );
    push_opt_str(out, r.phase.map(|p| p.name()));
    out.push_str(",\"h2_error\":");
    push_opt_str(out, r.h2_error.map(code_name).as_deref());
    out.push_str(",\"request_line\":");
    push_json_string(out, r.request_line.as_bytes());
    let _ = write!(
        out,
        ",\"request_bytes\":{},\"sent_bytes\":{},\"received_bytes\":{},\"status\":",
        r.request_bytes, r.sent_bytes, r.received_bytes
    );
    push_opt_num(out, r.status().map(u64::from));
    out.push_str(",\"reason\":");
    push_opt_str(out, r.head.as_ref().map(|h| h.reason.as_str()));
    out.push_str(",\"head_bytes\":");
    push_opt_num(out, r.head.as_ref().map(|h| h.bytes as u64));
    let framing = r.head.as_ref().map(|h| match h.framing {
        Framing::None => "none",
        Framing::Length(_) => "length",
        Framing::Chunked => "chunked",
        Framing::UntilClose => "until-close",
    });
    let _ = write!(out, ",\"body_bytes\":{},\"body_expected\":", r.body_bytes);
    push_opt_num(out, r.body_expected());
    out.push_str(",\"framing\":");
    push_opt_str(out, framing);
    let _ = write!(
        out,
        ",\"ended\":\"{}\",\"start_ms\":{},\"sent_ms\":",
        ended_name(r.ended),
        Fixed::new(r.start_ms, 3)
    );
    match r.sent_ms {
        Some(v) => {
            let _ = write!(out, "{}", Fixed::new(v, 3));
        }
        None => out.push_str("null"),
    }
    let _ = write!(
        out,
        ",\"end_ms\":{},\"ms_to_end\":{},\"problem\":",
        Fixed::new(r.end_ms, 3),
        Fixed::new(r.ms_to_end(), 3)
    );
    push_opt_str(out, r.problem.as_deref());
    out.push_str(",\"violations\":[");
    for (i, violation) in r.violations.iter().enumerate() {
        let _ = write!(
            out,
            "{}{{\"offset\":{},\"what\":",
            if i > 0 { "," } else { "" },
            violation.offset
        );
        push_json_string(out, violation.what.as_bytes());
        out.push_str(",\"refused_by\":[");
        for (k, client) in violation.refused_by.iter().enumerate() {
            let _ = write!(out, "{}\"{client}\"", if k > 0 { "," } else { "" });
        }
        out.push_str("]}");
    }
    out.push_str("]}");
}

fn push_opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(s) => push_json_string(out, s.as_bytes()),
        None => out.push_str("null"),
    }
}

fn push_opt_num(out: &mut String, value: Option<u64>) {
    match value {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// Nearest-rank percentiles of a sorted slice.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Outcome counts and time-to-end percentiles of many probes.
pub struct Summary {
    pub probes: usize,
    pub concurrency: usize,
    pub elapsed: Duration,
    pub counts: Vec<(String, usize)>,
    /// Milliseconds from request sent to the end of its story, sorted.
    pub ms_to_end: Vec<f64>,
}

impl Summary {
    pub fn new(reports: &[ProbeReport], concurrency: usize, elapsed: Duration) -> Summary {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for report in reports {
            let name = outcome_text(report.last());
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => counts.push((name, 1)),
            }
        }
        crate::sort::sort_by(&mut counts, |a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut ms_to_end: Vec<f64> = reports.iter().map(|r| r.last().ms_to_end()).collect();
        crate::sort::sort_by(&mut ms_to_end, f64::total_cmp);
        Summary {
            probes: reports.len(),
            concurrency,
            elapsed,
            counts,
            ms_to_end,
        }
    }

    fn percentiles(&self) -> [(&'static str, f64); 5] {
        let t = &self.ms_to_end;
        [
            ("min", t.first().copied().unwrap_or(0.0)),
            ("p50", percentile(t, 50.0)),
            ("p90", percentile(t, 90.0)),
            ("p99", percentile(t, 99.0)),
            ("max", t.last().copied().unwrap_or(0.0)),
        ]
    }

    pub fn text(&self) -> String {
        let mut out = format!(
            "probes    {} ({} at a time) in {}\noutcomes ",
            self.probes,
            self.concurrency,
            duration(self.elapsed)
        );
        for (name, count) in &self.counts {
            let _ = write!(out, " {name}: {count}");
        }
        out.push_str("\nto end    ");
        for (name, value) in self.percentiles() {
            let _ = write!(out, "{name} {}  ", Fixed::new(value, 3));
        }
        out.truncate(out.trim_end().len());
        out.push_str(" ms after the request\n");
        out
    }

    pub fn json(&self) -> String {
        let mut out = format!(
            "{{\"probes\":{},\"concurrency\":{},\"elapsed_ms\":{},\"outcomes\":{{",
            self.probes,
            self.concurrency,
            Fixed::millis(self.elapsed, 3)
        );
        for (i, (name, count)) in self.counts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(&mut out, name.as_bytes());
            let _ = write!(out, ":{count}");
        }
        out.push_str("},\"ms_to_end\":{");
        for (i, (name, value)) in self.percentiles().iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":{}", Fixed::new(*value, 3));
        }
        out.push_str("}}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 90.0), 7.0);
    }
}
