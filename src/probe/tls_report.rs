//! The TLS part of a probe's report ([`super::tls::TlsReport`]): its text
//! lines (what the handshake agreed on or how it failed, the certificate,
//! the verdict) and its JSON object.
//!
//! A certificate's text is the server's: [`crate::tls::x509`] escapes its
//! control characters, and JSON escapes the rest.

use std::fmt::Write as _;
use std::time::Duration;

use super::tls::{HandshakeFailure, TlsEnd, TlsReport, alert_name};
use crate::log::push_json_string;
use crate::tls::verdict::{Presented, Verdict};
use crate::tls::x509::Certificate;

/// Names of a certificate shown in the text report; the JSON has all.
const SHOWN_NAMES: usize = 10;

/// What a reader of OpenSSL 3 or GnuTLS makes of a FIN without
/// close_notify, and who does not mind (measured here: curl, python and
/// node accept it; `openssl s_client` and wget do not).
pub const NO_CLOSE_NOTIFY: &str = "OpenSSL 3 and GnuTLS readers fail on a FIN without close_notify \
     (`unexpected eof while reading`, `non-properly terminated`); curl, python and node accept it";

/// The report's TLS lines, each a label and its text: `tls`, then the
/// certificate's (`cert`, `names`, `valid`) and `verified` once one was
/// presented.
pub fn lines(tls: &TlsReport, timeout: Duration) -> Vec<(&'static str, String)> {
    let mut lines = vec![("tls", handshake_text(tls, timeout))];
    if let Some(presented) = &tls.presented {
        match &presented.leaf {
            Ok(cert) => {
                let chain = match presented.chain {
                    1 => String::new(),
                    n => format!(" (a chain of {n})"),
                };
                lines.push(("cert", format!("{}, issued by {}{chain}", cert.subject, cert.issuer)));
                lines.push(("names", names_text(cert)));
                lines.push(("valid", format!("{} to {}", cert.not_before, cert.not_after)));
            }
            Err(bad) => lines.push(("cert", bad.to_string())),
        }
        lines.push(("verified", verdict_text(tls, presented)));
    }
    lines
}

/// What the handshake agreed on, or how it failed.
fn handshake_text(tls: &TlsReport, timeout: Duration) -> String {
    if let Some(agreed) = &tls.agreed {
        let alpn = agreed
            .alpn
            .as_deref()
            .map_or("no ALPN".to_string(), |p| format!("ALPN {p}"));
        let sni = tls
            .sni
            .as_deref()
            .map_or("no SNI (an address)".to_string(), |s| format!("SNI {s}"));
        return format!("TLS {}, {}, {alpn}, {sni}", agreed.version, agreed.cipher);
    }
    let hello = tls
        .hello_bytes
        .map_or("before the ClientHello was sent".to_string(), |b| {
            format!("after the ClientHello ({b} B)")
        });
    let before_any = tls.handshake_received == 0;
    let after = if before_any {
        hello
    } else {
        format!("after {} B of the server's handshake", tls.handshake_received)
    };
    let why = match &tls.failure {
        None => return "the handshake did not finish".to_string(),
        Some(HandshakeFailure::Rst) => format!("RST from server {after}"),
        Some(HandshakeFailure::Fin) => format!("FIN from server {after}"),
        // An alert record is 7 bytes: nothing came before it.
        Some(HandshakeFailure::Alert(alert)) if tls.handshake_received <= 7 => {
            format!("alert {} from server instead of a ServerHello", alert_name(*alert))
        }
        Some(HandshakeFailure::Alert(alert)) => format!("alert {} from server {after}", alert_name(*alert)),
        Some(HandshakeFailure::Rejected) => {
            let verdict = tls.presented.as_ref().map_or("invalid", |p| p.verdict.name());
            format!("the probe refused the server's certificate ({verdict}; -k goes on whatever it is)")
        }
        Some(HandshakeFailure::Timeout) if before_any => format!(
            "no answer to the ClientHello{} within {}",
            tls.hello_bytes.map_or(String::new(), |b| format!(" ({b} B)")),
            super::report::duration(timeout)
        ),
        Some(HandshakeFailure::Timeout) => format!("not done within {}, {after}", super::report::duration(timeout)),
        Some(HandshakeFailure::NotTls) => {
            "the server's answer is not TLS (a plain HTTP server? its URL would be http://)".to_string()
        }
        Some(HandshakeFailure::Error(text)) => text.clone(),
    };
    format!("handshake failed: {why}")
}

/// `localhost, 127.0.0.1, ::1`, the first [`SHOWN_NAMES`] of them.
fn names_text(cert: &Certificate) -> String {
    if cert.names.is_empty() {
        return "none (no subjectAltName: clients check no name against the subject)".to_string();
    }
    let mut text = cert
        .names
        .iter()
        .take(SHOWN_NAMES)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if cert.names.len() > SHOWN_NAMES {
        let _ = write!(text, " and {} more", cert.names.len() - SHOWN_NAMES);
    }
    text
}

/// `ok, against ca.pem`; `expired (valid until …), against …`.
fn verdict_text(tls: &TlsReport, presented: &Presented) -> String {
    let cert = presented.leaf.as_ref().ok();
    let detail = match (&presented.verdict, cert) {
        (Verdict::Expired, Some(cert)) => format!(" (valid until {})", cert.not_after),
        (Verdict::NotYetValid, Some(cert)) => format!(" (valid from {})", cert.not_before),
        (Verdict::WrongName, _) => format!(" (not for {})", tls.host),
        (Verdict::UnknownIssuer, Some(cert)) => format!(" ({} is not among the CAs trusted)", cert.issuer),
        (Verdict::SelfSigned, _) => " (it issued itself, and is not among the CAs trusted)".to_string(),
        (Verdict::BadSignature, Some(cert)) => {
            format!(
                " ({} is the name of a CA trusted, but that CA did not sign it)",
                cert.issuer
            )
        }
        (Verdict::Invalid(why), _) => format!(" ({why})"),
        (Verdict::Unchecked, _) => " (no CA to check it against)".to_string(),
        _ => String::new(),
    };
    let went_on = if tls.insecure && presented.verdict != Verdict::Ok {
        "; -k: the probe went on"
    } else {
        ""
    };
    format!("{}{detail}, against {}{went_on}", presented.verdict.name(), tls.trust)
}

/// How the server's TLS end reads before its TCP end: `close_notify
/// then `, `alert internal_error then `, or nothing.
pub fn closing_prefix(end: TlsEnd) -> String {
    match end {
        TlsEnd::CloseNotify => "close_notify then ".to_string(),
        TlsEnd::Alert(alert) => format!("alert {} then ", alert_name(alert)),
        TlsEnd::NoCloseNotify | TlsEnd::Rst | TlsEnd::Open => String::new(),
    }
}

/// The handshake's outcome as one word: `done`, or how it failed.
fn handshake_name(tls: &TlsReport) -> &'static str {
    match (&tls.agreed, &tls.failure) {
        (Some(_), _) => "done",
        (None, Some(HandshakeFailure::Rst)) => "rst",
        (None, Some(HandshakeFailure::Fin)) => "fin",
        (None, Some(HandshakeFailure::Alert(_))) => "alert",
        (None, Some(HandshakeFailure::Rejected)) => "rejected",
        (None, Some(HandshakeFailure::Timeout)) => "timeout",
        (None, Some(HandshakeFailure::NotTls)) => "not-tls",
        (None, Some(HandshakeFailure::Error(_))) => "error",
        (None, None) => "unfinished",
    }
}

/// The `tls` object of the JSON report.
pub fn json(out: &mut String, tls: &TlsReport) {
    out.push_str("{\"host\":");
    push_json_string(out, tls.host.as_bytes());
    out.push_str(",\"sni\":");
    push_opt_str(out, tls.sni.as_deref());
    out.push_str(",\"hello_bytes\":");
    match tls.hello_bytes {
        Some(bytes) => {
            let _ = write!(out, "{bytes}");
        }
        None => out.push_str("null"),
    }
    let _ = write!(out, ",\"handshake\":\"{}\",\"version\":", handshake_name(tls));
    let agreed = tls.agreed.as_ref();
    push_opt_str(out, agreed.map(|a| a.version.as_str()));
    out.push_str(",\"cipher\":");
    push_opt_str(out, agreed.map(|a| a.cipher.as_str()));
    out.push_str(",\"alpn\":");
    push_opt_str(out, agreed.and_then(|a| a.alpn.as_deref()));
    out.push_str(",\"certificate\":");
    match tls.presented.as_ref().map(|p| (&p.leaf, p.chain)) {
        Some((Ok(cert), chain)) => certificate_json(out, cert, chain),
        Some((Err(bad), _)) => {
            out.push_str("{\"error\":");
            push_json_string(out, bad.to_string().as_bytes());
            out.push('}');
        }
        None => out.push_str("null"),
    }
    out.push_str(",\"verdict\":");
    let verdict = tls.presented.as_ref().map(|p| &p.verdict);
    push_opt_str(out, verdict.map(Verdict::name));
    out.push_str(",\"verified_against\":");
    push_json_string(out, tls.trust.as_bytes());
    let _ = write!(out, ",\"insecure\":{},\"error\":", tls.insecure);
    let error = match &tls.failure {
        Some(HandshakeFailure::Error(text)) => Some(text.as_str()),
        _ => match verdict {
            Some(Verdict::Invalid(why)) => Some(why.as_str()),
            _ => None,
        },
    };
    push_opt_str(out, error);
    let alert = match tls.end {
        TlsEnd::Alert(alert) => Some(alert_name(alert)),
        _ => None,
    };
    out.push_str(",\"alert\":");
    push_opt_str(out, alert.as_deref());
    let _ = write!(out, ",\"end\":\"{}\"}}", tls.end.name());
}

fn certificate_json(out: &mut String, cert: &Certificate, chain: usize) {
    out.push_str("{\"subject\":");
    push_json_string(out, cert.subject.as_bytes());
    out.push_str(",\"issuer\":");
    push_json_string(out, cert.issuer.as_bytes());
    let _ = write!(out, ",\"self_issued\":{},\"names\":[", cert.self_issued);
    for (i, name) in cert.names.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(out, name.to_string().as_bytes());
    }
    let _ = write!(
        out,
        "],\"not_before\":\"{}\",\"not_after\":\"{}\",\"chain\":{chain}}}",
        cert.not_before.rfc3339(),
        cert.not_after.rfc3339()
    );
}

fn push_opt_str(out: &mut String, value: Option<&str>) {
    match value {
        Some(s) => push_json_string(out, s.as_bytes()),
        None => out.push_str("null"),
    }
}
