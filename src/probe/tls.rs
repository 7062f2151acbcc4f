//! The TLS part of a probe's story (`https://`): how the handshake went
//! or failed, what the server presented and the verdict on it, and how
//! the server ended the connection at the TLS layer.
//!
//! How a TLS connection ends matters to readers differently: a server that
//! sends close_notify before its FIN ends it well; a FIN without it is a
//! truncation to OpenSSL 3 (`unexpected eof while reading`) and GnuTLS
//! (`The TLS connection was non-properly terminated`), while curl,
//! Python and Node accept it; a fatal alert ends it with an error. The
//! exchange keeps which it was ([`TlsEnd`]), next to the TCP end every
//! probe reports.

use crate::end::End;
use crate::tls::Handshake;
use crate::tls::verdict::Presented;

/// How a handshake failed, seen from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// RST from the server.
    Rst,
    /// FIN from the server.
    Fin,
    /// A fatal alert from the server: its number.
    Alert(u8),
    /// The probe refused the server's certificate (the verdict says why).
    Rejected,
    /// No handshake within `--timeout`.
    Timeout,
    /// What the server sent is not TLS (a plain HTTP server, say).
    NotTls,
    /// Another TLS error, in rustls's words.
    Error(String),
}

/// What the server said at the TLS layer to end an established
/// connection, before (or instead of) its TCP end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// close_notify: no more data, well said.
    CloseNotify,
    /// A fatal alert: its number.
    Alert(u8),
}

/// How the server ended the TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsEnd {
    /// close_notify (then FIN, RST, or nothing: `ended` says).
    CloseNotify,
    /// FIN without close_notify.
    NoCloseNotify,
    /// A fatal alert (then whatever `ended` says).
    Alert(u8),
    /// RST without close_notify.
    Rst,
    /// The server had not ended it when the probe stopped watching.
    Open,
}

impl TlsEnd {
    /// Every end's name, for usage errors (`alert` may name its alert).
    pub const NAMES: [&'static str; 5] = ["close-notify", "no-close-notify", "alert", "rst", "open"];

    /// Its name, as `--json` and `--expect-tls-end` say it.
    pub fn name(self) -> &'static str {
        match self {
            TlsEnd::CloseNotify => "close-notify",
            TlsEnd::NoCloseNotify => "no-close-notify",
            TlsEnd::Alert(_) => "alert",
            TlsEnd::Rst => "rst",
            TlsEnd::Open => "open",
        }
    }

    /// The TLS end of a connection whose server said `closing` (if
    /// anything) and whose TCP end was `tcp`.
    pub fn of(closing: Option<Closing>, tcp: End) -> TlsEnd {
        match (closing, tcp) {
            (Some(Closing::CloseNotify), _) => TlsEnd::CloseNotify,
            (Some(Closing::Alert(alert)), _) => TlsEnd::Alert(alert),
            (None, End::PeerFin) => TlsEnd::NoCloseNotify,
            (None, End::PeerRst) => TlsEnd::Rst,
            (None, _) => TlsEnd::Open,
        }
    }
}

/// An alert's name: `internal_error`, or `alert 200` for a number RFC
/// 8446 does not name.
pub fn alert_name(number: u8) -> String {
    crate::tls::Alert::numbered(number).map_or_else(|| format!("alert {number}"), |alert| alert.name.to_string())
}

/// What a probe saw of TLS on its connection.
#[derive(Debug, Clone)]
pub struct TlsReport {
    /// The host the certificate is checked against.
    pub host: String,
    /// The name sent as SNI (none for an address).
    pub sni: Option<String>,
    /// What the certificate was verified against.
    pub trust: String,
    /// `-k`: the probe went on whatever the verdict.
    pub insecure: bool,
    /// Bytes of the probe's ClientHello, once written.
    pub hello_bytes: Option<u64>,
    /// Bytes the server sent during the handshake (records).
    pub handshake_received: u64,
    /// What the handshake agreed on, once done.
    pub agreed: Option<Handshake>,
    /// How it failed, if it did.
    pub failure: Option<HandshakeFailure>,
    /// What the server presented and the verdict, once seen.
    pub presented: Option<Presented>,
    /// The server's close_notify or alert (the alert may have ended the
    /// handshake).
    pub closing: Option<Closing>,
    /// How the server ended the TLS connection (when the story ended).
    pub end: TlsEnd,
}

impl TlsReport {
    /// A connection about to start its handshake.
    pub fn new(host: String, sni: Option<String>, trust: String, insecure: bool) -> TlsReport {
        TlsReport {
            host,
            sni,
            trust,
            insecure,
            hello_bytes: None,
            handshake_received: 0,
            agreed: None,
            failure: None,
            presented: None,
            closing: None,
            end: TlsEnd::Open,
        }
    }
}
