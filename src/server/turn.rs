//! What the event loop lends a connection on every call: the time of the
//! turn, the event log, and what every connection of the server shares,
//! its counts among them.
//!
//! It sits between the loop ([`super::event_loop`]) and the connections
//! ([`super::conn`]) so that neither imports the other: the loop owns a
//! [`Shared`] and lends it in a [`Turn`]; a connection counts into its
//! [`Tally`] and reads the server's options from it.

use std::net::SocketAddr;
use std::time::Instant;

use mio::Registry;

use super::catalog::Catalog;
use crate::end::End;
use crate::log::Log;

/// What the event loop lends a connection on every call.
pub struct Turn<'l> {
    /// When the loop woke for this turn.
    pub now: Instant,
    /// The server's event log.
    pub log: &'l mut Log,
    /// What all connections of the server share.
    pub shared: &'l mut Shared,
}

/// What the connections of one server share, beyond the log.
pub struct Shared {
    /// The poll's registry, to register an upstream socket.
    pub registry: Registry,
    /// Where proxy steps connect, with `--upstream`.
    pub upstream: Option<UpstreamAddr>,
    /// With `--catalog`: the built-ins a request's path chooses from.
    pub catalog: Option<Catalog>,
    /// What scenarios' chance draws from (see `crate::chance`).
    pub seed: u64,
    /// With `--tls`: the certificates and configurations connections
    /// handshake with.
    pub tls: Option<crate::tls::TlsServer>,
    /// The server's counts: connections, requests, upstream ends.
    pub tally: Tally,
}

/// Where a proxying connection sends its upstream traffic, and whether it
/// speaks TLS there (`--upstream https://…`).
#[derive(Debug, Clone)]
pub struct UpstreamAddr {
    /// The address connected to: a name is resolved once, at start.
    pub addr: SocketAddr,
    /// With `https://`: the TLS each upstream connection starts with.
    pub tls: Option<UpstreamTls>,
}

/// How the upstream is spoken to over TLS: what its certificate is
/// verified against (`--upstream-cacert`, else the system's CAs, or not at
/// all with `--upstream-insecure`), and the name it is checked for.
#[derive(Debug, Clone)]
pub struct UpstreamTls {
    /// The client's configuration, shared by every upstream connection
    /// (the probe's, [`crate::tls::TlsClient`]).
    pub client: crate::tls::TlsClient,
    /// The host `--upstream` named: sent as SNI (an address is not, as
    /// curl does) and the name the certificate must be for.
    pub host: String,
}

impl std::fmt::Display for UpstreamAddr {
    /// `127.0.0.1:8080`, or `https://localhost:8443` (the host as given),
    /// as the log and a recording's header name the upstream.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.tls {
            None => write!(f, "{}", self.addr),
            Some(tls) if tls.host.parse::<std::net::Ipv6Addr>().is_ok() => {
                write!(f, "https://[{}]:{}", tls.host, self.addr.port())
            }
            Some(tls) => write!(f, "https://{}:{}", tls.host, self.addr.port()),
        }
    }
}

/// How the connections of one run ended, for the summary at the stop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub accepted: u64,
    pub fin: u64,
    pub rst: u64,
    pub peer_fin: u64,
    pub peer_rst: u64,
    pub error: u64,
    /// Requests read, across all connections (`server request`).
    pub requests: u64,
    /// Upstream connections opened, and those refused or not answered.
    pub upstream_connects: u64,
    pub upstream_failed: u64,
    /// Upstream connections the upstream ended: FIN, RST.
    pub upstream_fin: u64,
    pub upstream_rst: u64,
}

impl Tally {
    /// Count how a connection ended, and how its upstream side did if it
    /// had one.
    pub fn count(&mut self, end: Option<End>, upstream: Option<End>) {
        match end {
            Some(End::Fin) => self.fin += 1,
            Some(End::Rst) => self.rst += 1,
            Some(End::PeerFin) => self.peer_fin += 1,
            Some(End::PeerRst) => self.peer_rst += 1,
            // A served connection ends by one side's FIN or RST, or fails.
            Some(End::Error | End::Open | End::Timeout | End::Refused) | None => self.error += 1,
        }
        match upstream {
            Some(End::PeerFin) => self.upstream_fin += 1,
            Some(End::PeerRst) => self.upstream_rst += 1,
            _ => {}
        }
    }
}
