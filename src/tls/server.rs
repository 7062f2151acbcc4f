//! [`TlsServer`]: the certificates a server presents and the rustls
//! configurations its connections handshake with, one per set of
//! [`HandshakeOptions`] its scenarios ask for (versions, ALPN, a
//! certificate defect), each made when first asked for and kept: a
//! scenario has a few, so the server holds a few.
//!
//! Every configuration lets the connection's keys be taken out after the
//! handshake (rustls's secret extraction), which is how `tls alert` seals
//! an alert rustls would never send. None sends TLS 1.3 session tickets:
//! they are bytes a fault test does not ask for, written after the
//! handshake, and resumption would only make two runs differ.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rustls::ServerConfig;

use super::certs::{Certificates, Identity};
use super::options::{Defect, HandshakeOptions, Versions};
use super::{HANDSHAKE_TIMEOUT, Layer};

/// A server's certificates and the configurations made of them.
pub struct TlsServer {
    certs: Certificates,
    configs: Vec<(HandshakeOptions, Arc<ServerConfig>)>,
    /// Leaves with a defect, made when first asked for.
    defects: BTreeMap<Defect, Identity>,
}

impl TlsServer {
    /// A server presenting `certs`; an error when its certificate and key
    /// do not go together.
    pub fn new(certs: Certificates) -> Result<TlsServer, String> {
        let mut server = TlsServer {
            certs,
            configs: Vec::new(),
            defects: BTreeMap::new(),
        };
        server.config(&HandshakeOptions::default())?;
        Ok(server)
    }

    /// The CA clients are to trust, as PEM (none for the user's own
    /// certificate).
    pub fn ca_pem(&self) -> Option<&str> {
        self.certs.ca_pem.as_deref()
    }

    /// The server's side of a connection that handshakes as `options`
    /// say, from `now`.
    pub fn layer(&mut self, options: &HandshakeOptions, now: Instant) -> Result<Layer, String> {
        let config = self.config(options)?;
        Layer::server(config, now + HANDSHAKE_TIMEOUT)
    }

    /// The configuration for `options`, made now or kept from before.
    fn config(&mut self, options: &HandshakeOptions) -> Result<Arc<ServerConfig>, String> {
        if let Some((_, config)) = self.configs.iter().find(|(o, _)| o == options) {
            return Ok(Arc::clone(config));
        }
        let identity = match options.defect {
            None => self.certs.good.clone(),
            Some(defect) => match self.defects.get(&defect) {
                Some(identity) => identity.clone(),
                None => {
                    let identity = self.certs.with_defect(defect)?;
                    self.defects.insert(defect, identity.clone());
                    identity
                }
            },
        };
        let versions: &[&rustls::SupportedProtocolVersion] = match options.versions {
            Versions::Both => &[&rustls::version::TLS13, &rustls::version::TLS12],
            Versions::Only12 => &[&rustls::version::TLS12],
            Versions::Only13 => &[&rustls::version::TLS13],
        };
        let mut config = ServerConfig::builder_with_provider(super::provider())
            .with_protocol_versions(versions)
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .map_err(unusable)?;
        config.alpn_protocols = options.alpn.clone();
        config.enable_secret_extraction = true;
        config.send_tls13_tickets = 0;
        let config = Arc::new(config);
        self.configs.push((options.clone(), Arc::clone(&config)));
        Ok(config)
    }
}

/// Why a certificate and its key cannot be used, in words.
fn unusable(error: rustls::Error) -> String {
    match error {
        rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
            "the key is not the certificate's: the certificate holds another public key".into()
        }
        other => format!("the certificate and key cannot be used together: {other}"),
    }
}
