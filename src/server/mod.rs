//! The server: bind, announce the address, run the event loop.
//!
//! [`event_loop`] owns the poll, the listener and the connections;
//! [`conn`] carries out one connection's script on its socket. The poll and
//! the deadlines are the shared [`crate::reactor`].
//!
//! A scenario with `accept never` is served by not serving: the listener
//! has a backlog of 0, which Linux reads as "one connection may wait", and
//! [`fill_accept_queue`] puts one of our own there. From then on the accept
//! queue is full and the kernel drops every client's SYN (counted in
//! `TcpExtListenOverflows`) without an answer; the client retransmits and
//! its connect times out. SYN cookies do not change this: the kernel checks
//! the accept queue after deciding on a cookie and drops the SYN when the
//! queue is full. Nothing is ever accepted, so the loop only waits for a
//! stop signal.

pub mod catalog;
pub mod conn;
pub mod event_loop;
pub mod reload;
pub mod turn;

#[cfg(all(test, feature = "tls"))]
mod handshake_deadline;

use std::fmt;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::time::Duration;

use crate::log::{Field, Log};
use crate::scenario::Scenario;
use event_loop::Stopped;

/// Why serving stopped or could not start.
#[derive(Debug)]
pub enum ServeError {
    Bind {
        addr: SocketAddr,
        error: io::Error,
    },
    Io {
        doing: &'static str,
        error: io::Error,
    },
    /// `--upstream` is hangup's own listening address: every request would
    /// be forwarded to itself until no descriptor is left.
    UpstreamIsSelf {
        upstream: SocketAddr,
        listening: SocketAddr,
    },
    /// `--tls` could not be set up: a certificate or key that cannot be
    /// read or do not go together, a CA file that cannot be written.
    Tls(String),
}

impl ServeError {
    /// Whether the command line asked for it (a usage error), rather than
    /// the system refusing.
    pub fn is_usage(&self) -> bool {
        matches!(self, ServeError::UpstreamIsSelf { .. } | ServeError::Tls(_))
    }
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Bind { addr, error } if error.kind() == io::ErrorKind::AddrInUse => write!(
                f,
                "failed to listen on {addr}: {error}; another server (an earlier hangup?) has that port: \
                 stop it, or take any free port with --listen 127.0.0.1:0"
            ),
            ServeError::Bind { addr, error } => write!(f, "failed to listen on {addr}: {error}"),
            ServeError::Io { doing, error } => write!(f, "{doing}: {error}"),
            ServeError::Tls(why) => write!(f, "{why}"),
            ServeError::UpstreamIsSelf { upstream, listening } => write!(
                f,
                "--upstream {upstream} is hangup's own listening address ({listening}): every request \
                 would be forwarded back to hangup itself; give the address of the server to put hangup in front of"
            ),
        }
    }
}

impl std::error::Error for ServeError {}

/// What a server serves.
pub enum Serving<'a> {
    /// One scenario, run for every connection.
    Scenario(&'a Scenario),
    /// `--catalog`: every built-in, chosen by a connection's first path.
    Catalog(catalog::Catalog),
}

/// How a server serves, beyond what.
pub struct Options {
    /// Where the scenario's proxy steps connect, and how.
    pub upstream: Option<turn::UpstreamAddr>,
    /// With `upstream` too: every connection is written here as a scenario.
    pub record: Option<crate::record::Destination>,
    /// What a scenario that draws by chance draws from; the log's first
    /// line names it so that the run can be replayed.
    pub seed: u64,
    /// Where the scenario came from, to load it again on SIGHUP (the
    /// catalog's is the catalog).
    pub origin: Option<reload::Origin>,
    /// `--tls`: every connection over TLS.
    pub tls: Option<crate::tls::TlsSetup>,
}

impl Options {
    /// No upstream, no recording, draws from `seed`.
    pub fn new(seed: u64) -> Options {
        Options {
            upstream: None,
            record: None,
            seed,
            origin: None,
            tls: None,
        }
    }
}

/// Listen on `addr` and run `serving`'s scenario for every connection. Prints
/// `listening on ADDR` to stdout once the socket is ready, then serves
/// until SIGINT or SIGTERM (then logs a one-line summary and returns), or
/// until the poll fails.
pub fn serve(addr: SocketAddr, serving: Serving, options: Options, log: &mut Log) -> Result<(), ServeError> {
    let Options {
        upstream,
        record,
        seed,
        origin,
        tls,
    } = options;
    // Certificates made (or read, and checked) before anything listens.
    let tls = tls
        .map(|setup| crate::tls::setup(&setup))
        .transpose()
        .map_err(ServeError::Tls)?;
    if !addr.ip().is_loopback() {
        // Said even with --quiet: it is about safety, not an event. An
        // unwritable stderr loses the warning, never the server.
        let _ = writeln!(
            std::io::stderr().lock(),
            "hangup: warning: {addr} is not a loopback address: anyone who can reach this port can make hangup misbehave"
        );
    }
    let (scenario, catalog) = match serving {
        Serving::Scenario(scenario) => (scenario, None),
        Serving::Catalog(catalog) => (catalog.placeholder(), Some(catalog)),
    };
    let may_draw = scenario.chance_sites > 0 || catalog.is_some();
    let backlog = if scenario.accept_never { 0 } else { crate::sock::BACKLOG };
    let listener = crate::sock::listen(addr, backlog).map_err(|error| ServeError::Bind { addr, error })?;
    let local = listener.local_addr().map_err(|error| ServeError::Io {
        doing: "failed to read the listening address",
        error,
    })?;
    if let Some(upstream) = upstream
        .as_ref()
        .filter(|upstream| reaches_itself(upstream.addr, local))
    {
        return Err(ServeError::UpstreamIsSelf {
            upstream: upstream.addr,
            listening: local,
        });
    }
    // Held until serving stops: closing it would free the queue's one place.
    let _queued = if scenario.accept_never {
        Some(fill_accept_queue(local)?)
    } else {
        None
    };
    let event_loop =
        event_loop::EventLoop::new(listener, scenario, upstream, record).map_err(|error| ServeError::Io {
            doing: "failed to set up the event loop",
            error,
        })?;
    let origin = match catalog {
        Some(_) => reload::Origin::Catalog,
        None => origin.unwrap_or_else(|| reload::Origin::Builtin(scenario.name.clone())),
    };
    let mut event_loop = event_loop
        .with_seed(seed)
        .with_catalog(catalog)
        .with_reloader(reload::Reloader::new(origin))
        .with_tls(tls);
    if may_draw {
        let replay = format!("--seed {seed}");
        log.server("seed", &[("seed", Field::Num(seed)), ("replay", Field::Str(&replay))]);
    }
    announce(local);
    let stopped = event_loop.run(log).map_err(|error| ServeError::Io {
        doing: "the event loop failed",
        error,
    })?;
    event_loop.finish_recordings(log);
    summarize(&stopped, scenario, log);
    Ok(())
}

/// Whether a connection to `upstream` would reach the listener bound to
/// `listening`: the same address, or, for a listener on every address
/// (`0.0.0.0`, `[::]`, which also takes IPv4 on Linux), any address of
/// this machine on its port. Checked after the bind, so that a port the
/// system chose (`--listen …:0`) is known.
fn reaches_itself(upstream: SocketAddr, listening: SocketAddr) -> bool {
    if upstream.port() != listening.port() {
        return false;
    }
    if upstream.ip() == listening.ip() {
        return true;
    }
    // A connect to 0.0.0.0 or [::] reaches this machine too; an address
    // hangup can bind is one of its own.
    let to_this_machine = upstream.ip().is_unspecified()
        || upstream.ip().is_loopback()
        || std::net::TcpListener::bind(SocketAddr::new(upstream.ip(), 0)).is_ok();
    to_this_machine && (listening.ip().is_unspecified() || upstream.ip().is_unspecified())
}

/// How long our own connect to the listener may take: on loopback the
/// handshake completes within the call.
const FILL_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Connect once to our own listener (backlog 0) and never accept it, so
/// that the accept queue is full before anyone else connects. The stream
/// is returned to be kept open for as long as the server runs.
fn fill_accept_queue(local: SocketAddr) -> Result<std::net::TcpStream, ServeError> {
    let mut target = local;
    if target.ip().is_unspecified() {
        // Listening on every address: ours is reachable on loopback.
        target.set_ip(match target {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    std::net::TcpStream::connect_timeout(&target, FILL_CONNECT_TIMEOUT).map_err(|error| ServeError::Io {
        doing: "failed to fill the accept queue (`accept never`) with a connection of our own",
        error,
    })
}

/// The one stdout line scripts wait for. A closed stdout is no reason to
/// stop serving, so its errors are ignored.
fn announce(local: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "listening on {local}");
    let _ = out.flush();
}

/// A stalled log reader gets this long to catch up before the summary is
/// counted, so that lines it takes in time are not called dropped...
const LOG_CATCH_UP: Duration = Duration::from_millis(100);
/// ...and this long to take the rest, summary included, before hangup
/// exits anyway: stopping must not wait on whoever reads the log.
const LOG_LAST_FLUSH: Duration = Duration::from_millis(500);

/// The last log line: how every connection of the run ended, and how many
/// log lines a stalled reader cost (see `crate::log`); the upstream's ends
/// too for a scenario that proxies.
fn summarize(stopped: &Stopped, scenario: &Scenario, log: &mut Log) {
    let tally = &stopped.tally;
    log.flush(LOG_CATCH_UP);
    let mut fields = vec![
        ("signal", Field::Str(stopped.signal)),
        ("accepted", Field::Num(tally.accepted)),
        ("fin", Field::Num(tally.fin)),
        ("rst", Field::Num(tally.rst)),
        ("peer_fin", Field::Num(tally.peer_fin)),
        ("peer_rst", Field::Num(tally.peer_rst)),
        ("error", Field::Num(tally.error)),
        ("still_open", Field::Num(stopped.open as u64)),
        ("log_dropped", Field::Num(log.dropped())),
    ];
    if scenario.proxies {
        fields.extend([
            ("upstream_connects", Field::Num(tally.upstream_connects)),
            ("upstream_failed", Field::Num(tally.upstream_failed)),
            ("upstream_fin", Field::Num(tally.upstream_fin)),
            ("upstream_rst", Field::Num(tally.upstream_rst)),
        ]);
    }
    log.server("stopped", &fields);
    log.finish(LOG_LAST_FLUSH);
}
