//! TLS as far as a fault needs it without cryptography: the client's first
//! flight read and understood, and a plaintext alert to answer it with.
//!
//! Every fault that cuts a handshake before the server's first byte (RST
//! or FIN after the ClientHello, a stall, a fatal alert) needs no keys at
//! all: the ClientHello is plaintext, and so is an alert sent before any
//! ServerHello (RFC 8446 §5, §6). So this part is always built, with or
//! without the full TLS that rustls will bring (`--tls`).
//!
//! Like [`crate::http`], it is sans-I/O: it is handed bytes and answers
//! what they are, never touching a socket or a clock.
//!
//! - [`record`]: the record layer's framing (a 5-byte header, then at
//!   most 2^14 bytes of plaintext), one record at a time, borrowed.
//! - [`handshake`]: one handshake message put back together from the
//!   records it was cut into ([`HelloReader`]), bounded, and parsed.
//! - [`hello`]: the ClientHello's fields: SNI, ALPN, versions, suites.
//! - [`alert`]: the alert names and numbers of RFC 8446, and the 7-byte
//!   plaintext record that carries one.

pub mod alert;
pub mod handshake;
pub mod hello;
pub mod record;

pub use alert::Alert;
pub use handshake::{BadHello, HelloReader, HelloStatus};
pub use hello::ClientHello;

/// Real ClientHellos, as the clients on the machine sent them: see the
/// file's header for which client and flags produced each.
#[cfg(test)]
pub(crate) fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
    include_str!("client_hellos.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (name, hex) = line.split_once(' ').expect("NAME HEX");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
                .collect();
            (name, bytes)
        })
        .collect()
}

/// The fixture called `name`.
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    fixtures()
        .into_iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .1
}
