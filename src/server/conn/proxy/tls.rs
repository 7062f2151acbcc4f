//! The upstream's TLS (`--upstream https://…`), in words: how its
//! handshake went or failed, and how the upstream ended TLS.
//!
//! The handshake is the probe's (the same [`crate::tls::TlsClient`] and
//! client layer), so its failures are told as the probe tells them, in a
//! line for the log: the certificate's verdict (`certificate expired
//! (valid until …)`), an alert by name, the RST or FIN that cut it, an
//! answer that is no TLS. Each is an upstream failure: the script's `on
//! upstream-error` handler runs, as for a refused connect.
//!
//! How the upstream ends TLS is what strict readers tell apart
//! ([`TlsEnd`]): close_notify then its TCP end; a FIN without
//! close_notify (a truncation to OpenSSL 3 and GnuTLS); a fatal alert.

use std::io;

use super::upstream::{Heard, Upstream};
use crate::end::End;
use crate::log::Field;
pub(super) use crate::probe::tls::TlsEnd;
use crate::probe::tls::{Closing, alert_name};
use crate::server::conn::Cx;
use crate::server::turn::UpstreamTls;
use crate::stream::Io;
use crate::tls::Layer;
use crate::tls::verdict::{Presented, Verdict};
use crate::transport::Transport;

/// What a read that ended (`Eof`, or an `error`) says at the TLS layer:
/// the upstream's close_notify, or its alert; `None` without TLS, or for
/// a FIN without close_notify, or another error.
pub(super) fn closing(stream: &Transport, error: Option<&io::Error>) -> Option<Closing> {
    let tls = stream.tls()?;
    match error {
        None => tls.peer_notified().then_some(Closing::CloseNotify),
        Some(_) => tls.peer_alert().map(Closing::Alert),
    }
}

/// How the upstream ended TLS, from its close_notify or alert and its TCP
/// end (`how`); `None` without TLS, and for a TLS error that was no end
/// of the upstream's (a record that does not open: the error says so).
pub(super) fn ended(up: &Upstream, how: End) -> Option<TlsEnd> {
    up.stream.tls()?;
    if matches!(up.heard, Some(Heard::Failed(_))) && up.closing.is_none() {
        return None;
    }
    Some(TlsEnd::of(up.closing, how))
}

/// The handshake is done: say what it agreed on and the verdict on the
/// certificate (not `ok` only with `--upstream-insecure`).
pub(super) fn say_handshake(stream: &mut Transport, cx: &mut Cx) {
    let Some(done) = stream.take_handshake() else {
        return;
    };
    let verdict = stream.tls().and_then(Layer::presented).map(|p| p.verdict.name());
    let mut fields = vec![
        ("version", Field::Str(&done.version)),
        ("cipher", Field::Str(&done.cipher)),
    ];
    if let Some(alpn) = &done.alpn {
        fields.push(("alpn", Field::Str(alpn)));
    }
    if let Some(verdict) = verdict {
        fields.push(("verdict", Field::Str(verdict)));
    }
    cx.say("upstream-tls-handshake", &fields);
}

/// Why the handshake failed, from how the socket or TLS did, for the
/// `upstream-failed` line.
pub(super) fn handshake_failure(io: Io, stream: &Transport, upstream: &UpstreamTls) -> String {
    let tls = stream.tls();
    let refused = tls
        .and_then(Layer::presented)
        .filter(|p| p.verdict != Verdict::Ok && !upstream.client.insecure());
    let why = match io {
        Io::Reset(_) => "RST from the upstream".to_string(),
        Io::Eof => "FIN from the upstream".to_string(),
        Io::Failed(e) => match (tls.and_then(Layer::peer_alert), refused) {
            (Some(alert), _) => format!("alert {} from the upstream", alert_name(alert)),
            (None, _) if tls.is_some_and(Layer::peer_not_tls) => {
                "the upstream's answer is not TLS (a plain HTTP server? --upstream HOST:PORT speaks plain HTTP to it)"
                    .to_string()
            }
            (None, Some(presented)) => format!(
                "{}, against {} (--upstream-insecure goes on whatever it is)",
                certificate(presented, &upstream.host),
                upstream.client.trust()
            ),
            (None, None) => e.to_string(),
        },
        // Not failures: `pump` does not give them as such.
        Io::Data(_) | Io::Blocked => "the handshake stopped".to_string(),
    };
    format!("TLS handshake failed: {why}")
}

/// The verdict on a certificate refused, in words.
fn certificate(presented: &Presented, host: &str) -> String {
    let cert = presented.leaf.as_ref().ok();
    match (&presented.verdict, cert) {
        (Verdict::Expired, Some(cert)) => format!("certificate expired (valid until {})", cert.not_after),
        (Verdict::Expired, None) => "certificate expired".to_string(),
        (Verdict::NotYetValid, Some(cert)) => format!("certificate not yet valid (valid from {})", cert.not_before),
        (Verdict::NotYetValid, None) => "certificate not yet valid".to_string(),
        (Verdict::WrongName, _) => format!("certificate not for {host}"),
        (Verdict::UnknownIssuer, Some(cert)) => {
            format!("certificate issued by {}, not a CA trusted", cert.issuer)
        }
        (Verdict::UnknownIssuer, None) => "certificate issued by no CA trusted".to_string(),
        (Verdict::SelfSigned, _) => "certificate self-signed, not a CA trusted".to_string(),
        (Verdict::BadSignature, _) => "certificate's signature does not verify".to_string(),
        (Verdict::Invalid(why), _) => format!("certificate invalid: {why}"),
        (Verdict::Ok | Verdict::Unchecked, _) => "certificate refused".to_string(),
    }
}
