//! The probe's timeline as a two-column sequence diagram, the picture a
//! teacher draws on a whiteboard:
//!
//! ```text
//!       ms  client                                                    server
//!    0.061  |------------------------ connect ------------------------->|
//!    0.097  |--- GET / HTTP/1.1 (78 B) -------------------------------->|
//!    0.391  |<-- HTTP/1.1 200 OK (62 B head) ---------------------------|
//!    0.391  |<-- body 6 of 13 B ----------------------------------------|
//!    1.052  |<========================= RST =============================|
//!           reset (mid-body)
//! ```
//!
//! A server that drips is drawn piece by piece, each at its time, up to
//! [`super::timeline::SHOWN_PIECES`] pieces of a response; the rest are
//! one line that counts them.
//!
//! Under TLS the handshake is drawn too (the ClientHello, then what was
//! agreed, or how it failed), and the server's close_notify or alert
//! before its FIN or RST. Over HTTP/2, every frame either side sent (the
//! probe's WINDOW_UPDATEs aside), bounded as pieces are.
//!
//! Plain ASCII, 72 columns. On a terminal the arrows are coloured (green
//! for the client, cyan for the server, yellow for FIN and close_notify,
//! red for RST and alerts) unless `NO_COLOR` is set.

use super::h2::marks::Sender;
use super::outcome::{MarkKind, ProbeReport};
use super::report::outcome_text;

/// Characters between the two `|` lifelines.
const INNER: usize = 58;

#[derive(Clone, Copy)]
enum Paint {
    Client,
    Server,
    Fin,
    Rst,
    Plain,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Client => "32",
            Paint::Server => "36",
            Paint::Fin => "33",
            Paint::Rst => "31",
            Paint::Plain => "0",
        }
    }
}

/// Whether stdout should get colours: a terminal, and no `NO_COLOR`.
pub fn color_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn render(report: &ProbeReport, color: bool) -> String {
    let mut out = format!("{:>9}  client{}server\n", "ms", " ".repeat(INNER - 4));
    // An established TLS connection the server ended without close_notify.
    let unnotified = report
        .tls
        .as_ref()
        .is_some_and(|tls| tls.agreed.is_some() && tls.end == super::tls::TlsEnd::NoCloseNotify);
    for mark in &report.timeline {
        let (arrow, paint) = match &mark.what {
            MarkKind::Connected => (to_server("connect", '-', Label::Centred), Paint::Client),
            MarkKind::Refused => (to_client("RST (connection refused)", '=', Label::Centred), Paint::Rst),
            MarkKind::TlsHello { bytes } => (
                to_server(&format!("TLS ClientHello ({bytes} B)"), '-', Label::Left),
                Paint::Client,
            ),
            MarkKind::TlsHandshake { version, cipher } => (
                to_client(&format!("TLS {version} {cipher}"), '-', Label::Left),
                Paint::Server,
            ),
            MarkKind::TlsRejected { verdict } => (
                to_server(&format!("alert: certificate refused ({verdict})"), '-', Label::Left),
                Paint::Rst,
            ),
            MarkKind::TlsAlert { alert } => (
                to_client(
                    &format!("alert {}", super::tls::alert_name(*alert)),
                    '=',
                    Label::Centred,
                ),
                Paint::Rst,
            ),
            MarkKind::CloseNotify => (to_client("close_notify", '-', Label::Centred), Paint::Fin),
            MarkKind::Sent { bytes, line, .. } => (
                to_server(&format!("{line} ({bytes} B)"), '-', Label::Left),
                Paint::Client,
            ),
            MarkKind::SendFailed { sent, total } => (
                to_server(&format!("send failed after {sent} of {total} B"), '-', Label::Left),
                Paint::Rst,
            ),
            MarkKind::Head {
                version,
                status,
                reason,
                bytes,
            } => (
                to_client(
                    &format!("HTTP/1.{version} {status} {reason} ({bytes} B head)"),
                    '-',
                    Label::Left,
                ),
                Paint::Server,
            ),
            MarkKind::Partial { bytes } => (
                to_client(&format!("{bytes} B, not a whole head"), '-', Label::Left),
                Paint::Server,
            ),
            MarkKind::Body { bytes, expected } => {
                let label = match expected {
                    Some(n) => format!("body {bytes} of {n} B"),
                    None => format!("body {bytes} B"),
                };
                (to_client(&label, '-', Label::Left), Paint::Server)
            }
            MarkKind::MorePieces {
                pieces,
                since_ms,
                bytes,
                expected,
                head,
            } => {
                let stood = match (head, expected) {
                    (true, _) => format!("{bytes} B of head"),
                    (false, Some(n)) => format!("body {bytes} of {n} B"),
                    (false, None) => format!("body {bytes} B"),
                };
                let since = crate::units::Fixed::new(*since_ms, 1);
                let label = format!("{pieces} more pieces since {since} ms, {stood}");
                (to_client(&label, '-', Label::Left), Paint::Server)
            }
            MarkKind::ServerFin if unnotified => (to_client("FIN, no close_notify", '-', Label::Centred), Paint::Fin),
            MarkKind::ServerFin => (to_client("FIN", '-', Label::Centred), Paint::Fin),
            MarkKind::ServerRst => (to_client("RST", '=', Label::Centred), Paint::Rst),
            MarkKind::ClientClose => (to_server("close (FIN)", '-', Label::Centred), Paint::Client),
            MarkKind::Timeout => (centered("(no answer: timeout)", ' '), Paint::Plain),
            MarkKind::Error(e) => (centered(&format!("error: {e}"), ' '), Paint::Rst),
            MarkKind::Frame { from, frame } => {
                let label = frame.label();
                match (from, frame.is_fault()) {
                    (Sender::Probe, false) => (to_server(&label, '-', Label::Left), Paint::Client),
                    (Sender::Probe, true) => (to_server(&label, '-', Label::Left), Paint::Rst),
                    (Sender::Server, false) => (to_client(&label, '-', Label::Left), Paint::Server),
                    (Sender::Server, true) => (to_client(&label, '=', Label::Left), Paint::Rst),
                }
            }
            MarkKind::MoreFrames {
                from,
                frames,
                since_ms,
                data_bytes,
            } => {
                let since = crate::units::Fixed::new(*since_ms, 1);
                let data = if *data_bytes > 0 {
                    format!(", {data_bytes} B of DATA")
                } else {
                    String::new()
                };
                let label = format!("{frames} more frames since {since} ms{data}");
                match from {
                    Sender::Probe => (to_server(&label, '-', Label::Left), Paint::Client),
                    Sender::Server => (to_client(&label, '-', Label::Left), Paint::Server),
                }
            }
        };
        let arrow = if color {
            format!("\x1b[{}m{arrow}\x1b[0m", paint.code())
        } else {
            arrow
        };
        out.push_str(&format!(
            "{:>9}  |{arrow}|\n",
            crate::units::Fixed::new(mark.ms, 3).to_string()
        ));
    }
    for request in &report.requests {
        let which = if report.requests.len() > 1 {
            format!("request {}: ", request.number)
        } else {
            String::new()
        };
        out.push_str(&format!("{:>9}  {which}{}\n", "", outcome_text(request)));
    }
    out
}

fn fit(label: &str) -> String {
    let max = INNER - 8;
    if label.chars().count() > max {
        let cut: String = label.chars().take(max - 3).collect();
        format!("{cut}...")
    } else {
        label.to_string()
    }
}

/// Where an arrow's label sits.
#[derive(Clone, Copy)]
enum Label {
    /// In the middle: an event of the connection (connect, FIN, RST).
    Centred,
    /// Near the tail: bytes that went across.
    Left,
}

/// `--- label ------->` or, centred, `----- label ----->`.
fn to_server(label: &str, line: char, at: Label) -> String {
    arrow(label, line, at, INNER - 1, '>')
}

/// `<-- label --------` or, centred, `<----- label -----`.
fn to_client(label: &str, line: char, at: Label) -> String {
    arrow(label, line, at, 0, '<')
}

/// A labelled line with its head at `head_at`.
fn arrow(label: &str, line: char, at: Label, head_at: usize, head: char) -> String {
    let body = match at {
        Label::Centred => centered(label, line),
        Label::Left => left(label, line),
    };
    let mut chars: Vec<char> = body.chars().collect();
    chars[head_at] = head;
    chars.into_iter().collect()
}

fn left(label: &str, line: char) -> String {
    let text = format!("{0}{0}{0} {1} ", line, fit(label));
    let pad = INNER.saturating_sub(text.chars().count());
    format!("{text}{}", line.to_string().repeat(pad))
}

fn centered(label: &str, line: char) -> String {
    let text = format!(" {} ", fit(label));
    let len = text.chars().count();
    let before = (INNER - len) / 2;
    let after = INNER - len - before;
    format!(
        "{}{text}{}",
        line.to_string().repeat(before),
        line.to_string().repeat(after)
    )
}
