//! TLS: what hangup does at the TLS layer.
//!
//! Without cryptography, always built: every fault that cuts a handshake
//! before the server's first byte (RST or FIN after the ClientHello, a
//! stall, a fatal alert) needs no keys at all, since the ClientHello is
//! plaintext, and so is an alert sent before any ServerHello (RFC 8446 §5,
//! §6). Like [`crate::http`], this part is sans-I/O: it is handed bytes and
//! answers what they are, never touching a socket or a clock.
//!
//! - [`record`]: the record layer's framing (a 5-byte header, then at
//!   most 2^14 bytes of plaintext), one record at a time, borrowed.
//! - [`handshake`]: one handshake message put back together from the
//!   records it was cut into ([`HelloReader`]), bounded, and parsed.
//! - [`hello`]: the ClientHello's fields: SNI, ALPN, versions, suites.
//! - [`alert`]: the alert names and numbers of RFC 8446, and the 7-byte
//!   plaintext record that carries one.
//! - [`x509`]: what a certificate says of itself (subject, names,
//!   validity), for the probe to report.
//! - [`verdict`]: what a client made of a server's certificate.
//!
//! With the `tls` feature (on by default), on rustls and ring: `Layer`,
//! one connection's TLS between its socket and its script (or the
//! probe); `certs`, the certificates `serve` makes or loads; `server`,
//! the rustls configuration a server hands out; `client`, the probe's.
//! Without the feature, `Layer` and `TlsClient` are types with no
//! values, and everything else still builds.

pub mod alert;
pub mod handshake;
pub mod hello;
pub mod options;
pub mod record;
#[cfg(feature = "tls")]
mod seal;
pub mod x509;

pub use alert::Alert;
pub use handshake::{BadHello, HelloReader, HelloStatus};
pub use hello::ClientHello;

pub mod verdict;

#[cfg(feature = "tls")]
pub(crate) mod certs;
#[cfg(feature = "tls")]
pub(crate) mod client;
#[cfg(feature = "tls")]
mod layer;
#[cfg(not(feature = "tls"))]
mod no_layer;
#[cfg(feature = "tls")]
pub(crate) mod server;

#[cfg(feature = "tls")]
pub(crate) use client::TlsClient;
#[cfg(feature = "tls")]
pub(crate) use layer::Layer;
#[cfg(not(feature = "tls"))]
pub(crate) use no_layer::{Layer, TlsClient, TlsServer};
#[cfg(feature = "tls")]
pub(crate) use server::TlsServer;

use std::path::PathBuf;

/// How long a client has to finish a handshake: Node's `tls.Server`
/// `handshakeTimeout` (hangup answers as Node does where a scenario says
/// nothing). A scenario's own read deadlines are on top of it.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// What `serve --tls` was asked for.
#[derive(Debug, Clone, Default)]
pub struct TlsSetup {
    /// Names the certificate is for, besides localhost, 127.0.0.1 and ::1.
    pub names: Vec<String>,
    /// Where to write the CA clients are to trust (PEM).
    pub ca_out: Option<PathBuf>,
    /// The user's own certificate chain and key (PEM files), instead.
    pub own: Option<(PathBuf, PathBuf)>,
}

/// What `probe https://` was told to trust.
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// `--cacert FILE`.
    pub cacert: Option<PathBuf>,
    /// `-k`: go on whatever the verdict.
    pub insecure: bool,
    /// `SSL_CERT_FILE`, as the environment had it.
    pub ssl_cert_file: Option<PathBuf>,
}

/// The server's TLS: certificates made (or loaded) and the CA written,
/// before any connection. An error says what to fix.
#[cfg(feature = "tls")]
pub(crate) fn setup(setup: &TlsSetup) -> Result<TlsServer, String> {
    let certs = match &setup.own {
        Some((cert, key)) => certs::Certificates::from_files(cert, key)?,
        None => certs::Certificates::generate(&setup.names)?,
    };
    let server = TlsServer::new(certs)?;
    if let Some(path) = &setup.ca_out {
        let Some(pem) = server.ca_pem() else {
            return Err("--tls-ca-out: your own certificate (--tls-cert) comes with no CA of hangup's to write".into());
        };
        std::fs::write(path, pem).map_err(|e| format!("--tls-ca-out {}: cannot write it: {e}", path.display()))?;
    }
    Ok(server)
}

/// Without the `tls` feature there is no TLS to set up.
#[cfg(not(feature = "tls"))]
pub(crate) fn setup(setup: &TlsSetup) -> Result<TlsServer, String> {
    let _ = (&setup.names, &setup.ca_out, &setup.own);
    Err("this hangup was built without TLS (cargo's --no-default-features): build it with the default features for --tls or a scenario that says `tls handshake`".into())
}

/// What a finished handshake agreed on, for the log and the probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `1.2` or `1.3`.
    pub version: String,
    /// The cipher suite, by its IANA name.
    pub cipher: String,
    /// The application protocol ALPN chose, if any.
    pub alpn: Option<String>,
    /// The name the client asked for (SNI), on the server's side.
    pub sni: Option<String>,
}

/// rustls on ring. rustls 0.23.48 marks ring's provider deprecated because
/// it has no post-quantum key exchange; hangup takes it anyway, for the
/// size (aws-lc-rs adds 3.2 MiB and a cmake build) — a test server on
/// loopback has no secrets to keep from a future quantum computer, and
/// clients agree on X25519 with it.
#[cfg(feature = "tls")]
#[allow(deprecated)]
pub(crate) fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

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
