//! Without the `tls` feature: a TLS layer no connection can have, so that
//! [`crate::transport`] is the same code in both builds and its TLS
//! branches compile away; and a probe's TLS client that cannot be made,
//! so that the probe is the same code too.

use super::verdict::Presented;
use super::{Handshake, TrustOptions};
use crate::stream::{Io, Stream};

/// No value of this type exists: a probe without TLS.
#[derive(Debug, Clone)]
pub enum TlsClient {}

impl TlsClient {
    /// Always an error: this build has no TLS.
    pub fn new(options: &TrustOptions) -> Result<TlsClient, String> {
        let _ = (&options.cacert, options.insecure, &options.ssl_cert_file);
        Err(
            "https:// needs TLS, and this hangup was built without it (cargo's --no-default-features): \
             build it with the default features"
                .into(),
        )
    }

    /// Always an error: this build has no TLS for an `https://` upstream.
    pub fn for_upstream(options: &TrustOptions) -> Result<TlsClient, String> {
        let _ = (&options.cacert, options.insecure, &options.ssl_cert_file);
        Err(
            "an https:// upstream needs TLS, and this hangup was built without TLS (cargo's \
             --no-default-features): build it with the default features"
                .into(),
        )
    }

    pub fn trust(&self) -> &str {
        match *self {}
    }

    pub fn insecure(&self) -> bool {
        match *self {}
    }

    pub fn offering_h2(self) -> TlsClient {
        match self {}
    }

    pub fn layer(&self, _: &str, _: std::time::Instant) -> Result<Layer, String> {
        match *self {}
    }
}

/// No value of this type exists.
#[derive(Debug)]
pub enum Layer {}

/// No value of this type exists either: a server without TLS.
pub enum TlsServer {}

impl TlsServer {
    pub fn layer(&mut self, _: &super::options::HandshakeOptions, _: std::time::Instant) -> Result<Layer, String> {
        match *self {}
    }
}

impl Layer {
    pub fn is_handshaking(&self) -> bool {
        match *self {}
    }

    pub fn alpn(&self) -> Option<&[u8]> {
        match *self {}
    }

    pub fn has_plaintext(&self) -> bool {
        match *self {}
    }

    pub fn unsent(&self) -> usize {
        match *self {}
    }

    pub fn buffered(&self) -> usize {
        match *self {}
    }

    pub fn pending(&self) -> bool {
        match *self {}
    }

    pub fn read(&mut self, _: &mut Stream, _: &mut [u8]) -> Io {
        match *self {}
    }

    pub fn write(&mut self, _: &mut Stream, _: &[u8]) -> Io {
        match *self {}
    }

    pub fn flush(&mut self, _: &mut Stream) -> Io {
        match *self {}
    }

    pub fn pump(&mut self, _: &mut Stream) -> Io {
        match *self {}
    }

    pub fn close_notify(&mut self, _: &mut Stream) -> bool {
        match *self {}
    }

    pub fn take_handshake(&mut self) -> Option<Handshake> {
        match *self {}
    }

    pub fn handshake_deadline(&self) -> Option<std::time::Instant> {
        match *self {}
    }

    pub fn already_read(&mut self, _: Vec<u8>) {
        match *self {}
    }

    pub fn stall(&mut self, _: super::options::Stall) {
        match *self {}
    }

    pub fn cut_after(&mut self, _: u64) {
        match *self {}
    }

    pub fn withheld(&self) -> bool {
        match *self {}
    }

    pub fn seal_alert(self, _: &mut Stream, _: [u8; 2]) -> Result<Vec<u8>, String> {
        match self {}
    }

    pub fn peer_notified(&self) -> bool {
        match *self {}
    }

    pub fn peer_alert(&self) -> Option<u8> {
        match *self {}
    }

    pub fn peer_not_tls(&self) -> bool {
        match *self {}
    }

    pub fn presented(&self) -> Option<&Presented> {
        match *self {}
    }
}
