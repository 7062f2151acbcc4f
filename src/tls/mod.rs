//! TLS: what hangup does at the TLS layer.
//!
//! With the `tls` feature (on by default), on rustls and ring: [`Layer`],
//! one connection's TLS between its socket and its script; [`certs`], the
//! certificates `serve` makes (defects included) or loads; [`server`], the
//! rustls configurations a server hands out. Without the feature, [`Layer`]
//! is a type with no values, and everything else still builds.

#[cfg(feature = "tls")]
pub mod certs;
#[cfg(feature = "tls")]
mod layer;
#[cfg(not(feature = "tls"))]
mod no_layer;
#[cfg(feature = "tls")]
pub mod server;

#[cfg(feature = "tls")]
pub use layer::Layer;
#[cfg(not(feature = "tls"))]
pub use no_layer::{Layer, TlsServer};
#[cfg(feature = "tls")]
pub use server::TlsServer;

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

/// The server's TLS: certificates made (or loaded) and the CA written,
/// before any connection. An error says what to fix.
#[cfg(feature = "tls")]
pub fn setup(setup: &TlsSetup) -> Result<TlsServer, String> {
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
pub fn setup(setup: &TlsSetup) -> Result<TlsServer, String> {
    let _ = (&setup.names, &setup.ca_out, &setup.own);
    Err("this hangup was built without TLS (cargo's --no-default-features): build it with the default features for --tls".into())
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
pub fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
