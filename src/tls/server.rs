//! [`TlsServer`]: the certificates a server presents and the rustls
//! configuration its connections handshake with.
//!
//! The configuration lets the connection's keys be taken out after the
//! handshake (rustls's secret extraction), which is how `tls alert` will
//! seal an alert rustls would never send. It sends no TLS 1.3 session
//! tickets: they are bytes a fault test does not ask for, written after the
//! handshake, and resumption would only make two runs differ.

use std::sync::Arc;

use rustls::ServerConfig;

use super::certs::Certificates;

/// A server's certificates and the configuration made of them.
pub struct TlsServer {
    certs: Certificates,
    config: Arc<ServerConfig>,
}

impl TlsServer {
    /// The configuration for `certs`; an error when the certificate and
    /// key do not go together.
    pub fn new(certs: Certificates) -> Result<TlsServer, String> {
        let versions: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13, &rustls::version::TLS12];
        let identity = certs.good.clone();
        let mut config = ServerConfig::builder_with_provider(super::provider())
            .with_protocol_versions(versions)
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .map_err(|e| format!("TLS: the certificate and key do not go together: {e}"))?;
        config.enable_secret_extraction = true;
        config.send_tls13_tickets = 0;
        Ok(TlsServer {
            certs,
            config: Arc::new(config),
        })
    }

    /// The CA clients are to trust, as PEM (none for the user's own
    /// certificate).
    pub fn ca_pem(&self) -> Option<&str> {
        self.certs.ca_pem.as_deref()
    }

    /// The server's side of a connection accepted `now`.
    pub fn layer(&mut self, now: std::time::Instant) -> Result<super::Layer, String> {
        super::Layer::server(Arc::clone(&self.config), now + super::HANDSHAKE_TIMEOUT)
    }
}
