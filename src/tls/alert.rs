//! TLS alerts (RFC 8446 §6): the names and numbers, in one table, and the
//! plaintext record that carries one before the handshake.
//!
//! An alert is two bytes, a level and a description. Before any
//! ServerHello nothing is encrypted, so a server that refuses a
//! ClientHello sends the alert in a plaintext record: `15 03 03 00 02
//! LEVEL DESC`, 7 bytes, which every client reads as the end of the
//! handshake (curl: `tlsv1 alert internal error`; node: `alert number
//! 80`). After the handshake an alert is encrypted, which needs the keys:
//! that is the full TLS's business, not this module's.
//!
//! In TLS 1.3 the level is implied by the description and receivers
//! ignore it (§6: `close_notify` and `user_canceled` are warnings, the
//! rest fatal); TLS 1.2 receivers read it, and a warning may let the
//! handshake go on, so a scenario may say the level too.

use std::fmt;

use super::record::{ContentType, frame};

/// An alert's level (RFC 8446 §6's `AlertLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 1: the connection may go on (TLS 1.2); in TLS 1.3 only
    /// `close_notify` and `user_canceled` are warnings.
    Warning,
    /// 2: the connection ends at once.
    Fatal,
}

impl Level {
    /// Its byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Level::Warning => 1,
            Level::Fatal => 2,
        }
    }

    /// Its name: `warning` or `fatal`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Fatal => "fatal",
        }
    }
}

/// One alert of RFC 8446 §6: its name, number and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Its name as the RFC spells it (`internal_error`).
    pub name: &'static str,
    /// Its `AlertDescription` number.
    pub description: u8,
    /// The level TLS 1.3 gives it.
    pub level: Level,
}

const fn fatal(name: &'static str, description: u8) -> Alert {
    Alert {
        name,
        description,
        level: Level::Fatal,
    }
}

const fn warning(name: &'static str, description: u8) -> Alert {
    Alert {
        name,
        description,
        level: Level::Warning,
    }
}

/// Every alert of RFC 8446 §6, in its order.
pub const ALERTS: &[Alert] = &[
    warning("close_notify", 0),
    fatal("unexpected_message", 10),
    fatal("bad_record_mac", 20),
    fatal("record_overflow", 22),
    fatal("handshake_failure", 40),
    fatal("bad_certificate", 42),
    fatal("unsupported_certificate", 43),
    fatal("certificate_revoked", 44),
    fatal("certificate_expired", 45),
    fatal("certificate_unknown", 46),
    fatal("illegal_parameter", 47),
    fatal("unknown_ca", 48),
    fatal("access_denied", 49),
    fatal("decode_error", 50),
    fatal("decrypt_error", 51),
    fatal("protocol_version", 70),
    fatal("insufficient_security", 71),
    fatal("internal_error", 80),
    fatal("inappropriate_fallback", 86),
    warning("user_canceled", 90),
    fatal("missing_extension", 109),
    fatal("unsupported_extension", 110),
    fatal("unrecognized_name", 112),
    fatal("bad_certificate_status_response", 113),
    fatal("unknown_psk_identity", 115),
    fatal("certificate_required", 116),
    fatal("no_application_protocol", 120),
];

/// Bytes of the plaintext alert record: a 5-byte header and the alert.
pub const RECORD_LEN: usize = 7;

/// A name that is no alert of [`ALERTS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlert {
    /// The name as given.
    pub name: String,
    /// The alert name nearest to it, when one is close.
    pub suggestion: Option<&'static str>,
}

impl fmt::Display for UnknownAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is no TLS alert", self.name)?;
        match self.suggestion {
            Some(near) => write!(f, "; did you mean `{near}`?"),
            None => write!(
                f,
                "; the alerts are RFC 8446's: {}",
                ALERTS.iter().map(|a| a.name).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

impl Alert {
    /// The alert called `name`, or the nearest name to it.
    pub fn named(name: &str) -> Result<Alert, UnknownAlert> {
        ALERTS
            .iter()
            .find(|alert| alert.name == name)
            .copied()
            .ok_or_else(|| UnknownAlert {
                name: name.to_string(),
                suggestion: crate::scenario::suggest::nearest(name, ALERTS.iter().map(|a| a.name)),
            })
    }

    /// The alert numbered `description`, if RFC 8446 names it.
    pub fn numbered(description: u8) -> Option<Alert> {
        ALERTS.iter().find(|alert| alert.description == description).copied()
    }

    /// The record that sends it at `level` before any ServerHello, in
    /// plaintext: `15 03 03 00 02 LEVEL DESC`.
    ///
    /// Its `legacy_record_version` is 0x0303, as RFC 8446 §5.1 asks of
    /// every record but a client's first ClientHello. 0x0301 is not needed
    /// for older clients: a client reads the server's first record before
    /// any version is agreed and checks only that it is 3.x (OpenSSL lets
    /// the first record of a connection have any 0x03xx; `openssl
    /// s_client -tls1` and `-tls1_1` and Python limited to TLS 1.0 all
    /// report this record as `tlsv1 alert internal error`), and 0x0301 is
    /// there for middleboxes that choke on a client's first record, which
    /// a server never sends.
    pub fn record(self, level: Level) -> [u8; RECORD_LEN] {
        let bytes = frame(ContentType::Alert, &[level.byte(), self.description]);
        let mut record = [0; RECORD_LEN];
        record.copy_from_slice(&bytes);
        record
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_error_is_the_7_bytes_clients_know() {
        let alert = Alert::named("internal_error").unwrap();
        assert_eq!(alert.record(alert.level), [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50]);
        let close = Alert::named("close_notify").unwrap();
        assert_eq!(close.record(close.level), [0x15, 3, 3, 0, 2, 1, 0]);
        let name = Alert::named("unrecognized_name").unwrap();
        assert_eq!(name.record(Level::Warning)[5..], [1, 112]);
    }

    #[test]
    fn the_table_is_rfc_8446s() {
        assert_eq!(ALERTS.len(), 27);
        let warnings: Vec<&str> = ALERTS
            .iter()
            .filter(|a| a.level == Level::Warning)
            .map(|a| a.name)
            .collect();
        assert_eq!(warnings, ["close_notify", "user_canceled"]);
        // Names and numbers are each unique, and in ascending order.
        assert!(ALERTS.windows(2).all(|w| w[0].description < w[1].description));
        for alert in ALERTS {
            assert_eq!(Alert::named(alert.name), Ok(*alert));
            assert_eq!(Alert::numbered(alert.description), Some(*alert));
            assert!(alert.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert_eq!(Alert::named("no_application_protocol").unwrap().description, 120);
        assert_eq!(Alert::numbered(1), None);
    }

    #[test]
    fn a_mistyped_name_gets_the_nearest() {
        let unknown = Alert::named("internal_eror").unwrap_err();
        assert_eq!(unknown.suggestion, Some("internal_error"));
        assert_eq!(
            unknown.to_string(),
            "`internal_eror` is no TLS alert; did you mean `internal_error`?"
        );
        let far = Alert::named("boom").unwrap_err().to_string();
        assert!(far.starts_with("`boom` is no TLS alert; the alerts are RFC 8446's: close_notify, "));
        assert!(far.ends_with("no_application_protocol"));
    }
}
